import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { PaymentService } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { createGrpcClient, type GrpcClient, type Logger, type MeshTlsFiles, type ServiceMetrics } from "@shopmesh/platform";

/** Every service order calls during checkout, each behind its own breaker and bulkhead. */
export interface Downstreams {
  identity: GrpcClient<typeof IdentityService>;
  cart: GrpcClient<typeof CartService>;
  inventory: GrpcClient<typeof InventoryService>;
  payment: GrpcClient<typeof PaymentService>;
}

export function createDownstreams(
  addresses: { identity: string; cart: string; inventory: string; payment: string },
  logger: Logger,
  metrics?: ServiceMetrics,
  meshTls?: MeshTlsFiles,
): Downstreams {
  const options = (address: string, server: string) => ({
    address,
    logger,
    ...(metrics ? { metrics } : {}),
    ...(meshTls ? { meshTls: { ...meshTls, server } } : {}),
  });
  return {
    identity: createGrpcClient(IdentityService, options(addresses.identity, "identity")),
    cart: createGrpcClient(CartService, options(addresses.cart, "cart")),
    inventory: createGrpcClient(InventoryService, options(addresses.inventory, "inventory")),
    // Creating a payment intent calls the external provider: give it more time than the 2 s default.
    payment: createGrpcClient(PaymentService, { ...options(addresses.payment, "payment"), defaultTimeoutMs: 8_000 }),
  };
}

export function closeDownstreams(downstreams: Downstreams): void {
  Object.values(downstreams).forEach((client) => client.close());
}
