import { CatalogService, type Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { createGrpcClient, type GrpcClientOptions } from "@shopmesh/platform";
import type { CurrentProduct } from "../domain/cart.js";
import { callDownstream } from "./downstream-errors.js";

/** What cart needs from the catalog. */
export interface CatalogClient {
  /**
   * The current products for `ids`, active or not; unknown ids are absent from the map.
   * Uses BatchGetProducts, which (unlike GetProduct) tells "no longer sold" from "unknown".
   */
  findProducts(ids: readonly string[]): Promise<Map<string, CurrentProduct>>;
  close(): void;
}

function toCurrentProduct(product: Product): CurrentProduct {
  return {
    id: product.id,
    name: product.name,
    imageUrl: product.imageUrl,
    active: product.active,
    price: { currency: product.price?.currency ?? "", amountMinor: product.price?.amountMinor ?? 0n },
  };
}

/** Catalog over gRPC with the platform's deadline, retry (idempotent reads), bulkhead and breaker. */
export function createCatalogClient(options: GrpcClientOptions): CatalogClient {
  const client = createGrpcClient(CatalogService, options);
  return {
    async findProducts(ids) {
      if (ids.length === 0) return new Map();
      const response = await callDownstream("catalog", () => client.batchGetProducts({ ids: [...ids] }));
      return new Map(response.products.map((product) => [product.id, toCurrentProduct(product)]));
    },
    close: () => client.close(),
  };
}
