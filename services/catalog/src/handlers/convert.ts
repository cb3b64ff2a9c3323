import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CategorySchema,
  FacetSchema,
  FacetValueSchema,
  ProductOrderBy,
  ProductSchema,
  SearchOrderBy,
  type Category,
  type Facet,
  type Product,
} from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import type { ListOrder } from "../domain/page-token.js";
import type { CategoryRecord, ProductPatch, ProductRecord } from "../domain/product.js";
import type { SearchOrder } from "../domain/search-query.js";
import type { FacetCounts } from "../search/product-search.js";

export function toProduct(record: ProductRecord): Product {
  return create(ProductSchema, {
    id: record.id,
    sku: record.sku,
    name: record.name,
    description: record.description,
    categoryId: record.categoryId,
    price: create(MoneySchema, { currency: record.currency, amountMinor: record.priceMinor }),
    attributes: record.attributes,
    imageUrl: record.imageUrl,
    active: record.active,
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
    version: BigInt(record.version),
  });
}

export function toCategory(record: CategoryRecord): Category {
  return create(CategorySchema, { id: record.id, slug: record.slug, name: record.name, description: record.description });
}

/** The client-settable fields of a Product message; output-only fields are not read. */
export function toPatch(product: Product): ProductPatch {
  return {
    sku: product.sku,
    name: product.name,
    description: product.description,
    categoryId: product.categoryId,
    price: product.price ? { currency: product.price.currency, amountMinor: product.price.amountMinor } : undefined,
    attributes: { ...product.attributes },
    imageUrl: product.imageUrl,
    active: product.active,
  };
}

export function toListOrder(orderBy: ProductOrderBy): ListOrder {
  switch (orderBy) {
    case ProductOrderBy.PRICE_ASC:
      return "price_asc";
    case ProductOrderBy.PRICE_DESC:
      return "price_desc";
    case ProductOrderBy.NAME:
      return "name";
    default:
      return "newest";
  }
}

export function toSearchOrder(orderBy: SearchOrderBy): SearchOrder {
  switch (orderBy) {
    case SearchOrderBy.PRICE_ASC:
      return "price_asc";
    case SearchOrderBy.PRICE_DESC:
      return "price_desc";
    case SearchOrderBy.NEWEST:
      return "newest";
    default:
      return "relevance";
  }
}

export function toFacet(facet: FacetCounts): Facet {
  return create(FacetSchema, {
    field: facet.field,
    values: facet.values.map(({ value, count }) => create(FacetValueSchema, { value, count: BigInt(count) })),
  });
}
