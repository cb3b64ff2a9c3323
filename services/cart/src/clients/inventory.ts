import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient, type GrpcClientOptions } from "@shopmesh/platform";
import { callDownstream } from "./downstream-errors.js";

/** What cart needs from inventory: units that can still be reserved. */
export interface InventoryClient {
  /** Available units of one product (0 for a product never stocked). */
  available(productId: string): Promise<number>;
  /** Available units per product, one BatchGetStock call. */
  availableMany(productIds: readonly string[]): Promise<Map<string, number>>;
  close(): void;
}

/** Inventory over gRPC with the platform's deadline, retry (idempotent reads), bulkhead and breaker. */
export function createInventoryClient(options: GrpcClientOptions): InventoryClient {
  const client = createGrpcClient(InventoryService, options);
  return {
    async available(productId) {
      const response = await callDownstream("inventory", () => client.getStock({ productId }));
      return response.stockLevel?.available ?? 0;
    },
    async availableMany(productIds) {
      if (productIds.length === 0) return new Map();
      const response = await callDownstream("inventory", () => client.batchGetStock({ productIds: [...productIds] }));
      return new Map(response.stockLevels.map((level) => [level.productId, level.available]));
    },
    close: () => client.close(),
  };
}
