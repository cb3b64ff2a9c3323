import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ProductCreatedSchema, ProductDeletedSchema, ProductUpdatedSchema } from "@shopmesh/gen/shopmesh/events/v1/catalog_events_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { appendToOutbox, type PoolConnection } from "@shopmesh/platform/data";
import type { ProductRecord } from "../domain/product.js";
import { toProduct } from "../handlers/convert.js";

/** Outbox writes for product events; call inside the transaction that changed the product. Key = product id. */
export const productEvents = {
  created(connection: PoolConnection, product: ProductRecord) {
    return appendToOutbox(connection, {
      topic: TOPICS.catalog,
      key: product.id,
      schema: ProductCreatedSchema,
      event: create(ProductCreatedSchema, { productId: product.id, occurredTime: timestampFromDate(product.createdAt), product: toProduct(product) }),
    });
  },
  updated(connection: PoolConnection, product: ProductRecord, changedFields: readonly string[]) {
    return appendToOutbox(connection, {
      topic: TOPICS.catalog,
      key: product.id,
      schema: ProductUpdatedSchema,
      event: create(ProductUpdatedSchema, {
        productId: product.id,
        occurredTime: timestampFromDate(product.updatedAt),
        product: toProduct(product),
        changedFields: [...changedFields],
      }),
    });
  },
  deleted(connection: PoolConnection, product: ProductRecord) {
    return appendToOutbox(connection, {
      topic: TOPICS.catalog,
      key: product.id,
      schema: ProductDeletedSchema,
      event: create(ProductDeletedSchema, {
        productId: product.id,
        occurredTime: timestampFromDate(product.updatedAt),
        sku: product.sku,
        version: BigInt(product.version),
      }),
    });
  },
};
