import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { Counter } from "prom-client";
import {
  createRpcServer,
  createServiceMetrics,
  METRICS,
  registration,
  type ReadinessCheck,
  type RpcServer,
  type ServiceMetrics,
  type TokenVerifier,
  type MeshTlsFiles,
} from "@shopmesh/platform";
import { pingMysql } from "@shopmesh/platform/data";
import { type Redis } from "@shopmesh/platform/redis";
import { createCatalogCache } from "./cache/catalog-cache.js";
import { createCatalogService, type CatalogDeps } from "./handlers/catalog-service.js";
import { createProductWrites, type ProductWritesDeps } from "./products.js";

export interface CatalogServerDeps extends Omit<CatalogDeps, "cache" | "searchRequests" | "writes">, Omit<ProductWritesDeps, "cache"> {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  redis: Redis;
  verifier: TokenVerifier;
  productCacheTtlSeconds: number;
  listCacheTtlSeconds: number;
  metrics?: ServiceMetrics;
  extraReadiness?: ReadinessCheck[];
}

/**
 * The catalog's routes. Redis is deliberately not a readiness check: the catalog serves from
 * MySQL when the cache is away, so a Redis outage must not take replicas out of rotation.
 */
export function createCatalogServer(deps: CatalogServerDeps): RpcServer {
  const metrics = deps.metrics ?? createServiceMetrics("catalog");
  const cache = createCatalogCache({
    redis: deps.redis,
    logger: deps.logger,
    registry: metrics.registry,
    productTtlSeconds: deps.productCacheTtlSeconds,
    listTtlSeconds: deps.listCacheTtlSeconds,
  });
  const { name, help, labelNames } = METRICS.searchRequests;
  const searchRequests = new Counter({ name, help, labelNames, registers: [metrics.registry] });
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "catalog",
    logger: deps.logger,
    metrics,
    services: [registration(CatalogService, createCatalogService({ ...deps, cache, searchRequests, writes: createProductWrites({ ...deps, cache }) }))],
    verifier: deps.verifier,
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
