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
  // With mesh TLS each stub expects the mesh identity of the service its contract belongs to.
  const options = (address: string) => ({ address, logger, meshTls, ...(metrics ? { metrics } : {}) });
  return {
    identity: createGrpcClient(IdentityService, options(addresses.identity)),
    cart: createGrpcClient(CartService, options(addresses.cart)),
    inventory: createGrpcClient(InventoryService, options(addresses.inventory)),
    // Creating a payment intent calls the external provider: give it more time than the 2 s default.
    payment: createGrpcClient(PaymentService, { ...options(addresses.payment), defaultTimeoutMs: 8_000 }),
  };
}

export function closeDownstreams(downstreams: Downstreams): void {
  Object.values(downstreams).forEach((client) => client.close());
}
