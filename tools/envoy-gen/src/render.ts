import type { EdgeMethod, EdgeService } from "./contracts.js";
import type { Json } from "./yaml.js";

/** Where one deployable listens. */
export interface Upstream {
  host: string;
  port: number;
}

export interface EnvoyConfigOptions {
  /** The contracts' services (see `describeService`). */
  services: EdgeService[];
  /**
   * Address of every deployable the config names: one per `EdgeService.upstream`, plus
   * `ratelimit` and `otel` (the OTLP/gRPC collector).
   */
  upstreams: Record<string, Upstream>;
  /** Address the edge and admin listeners bind (127.0.0.1 locally, 0.0.0.0 in a container). */
  listenAddress?: string;
  edgePort: number;
  adminPort: number;
  /** Browser origins allowed by CORS (exact match). */
  storefrontOrigins: string[];
  jwtIssuer?: string;
  jwtAudience?: string;
  /** The ratelimit service's domain; tests use their own so parallel files do not share buckets. */
  rateLimitDomain?: string;
  /** Deny requests when the ratelimit service cannot answer (default: fail open). */
  rateLimitFailureModeDeny?: boolean;
  /** How long the edge waits for a rate-limit decision before applying the failure mode. */
  rateLimitTimeoutMs?: number;
  /** Per-Envoy token bucket in front of everything: a backstop, far above the global limits. */
  localRateLimit?: { maxTokens: number; tokensPerFill: number; fillIntervalSeconds: number };
  /** Largest request body the edge accepts (default 1 MiB); larger ones get 413. */
  maxRequestBytes?: number;
  /**
   * Mutual TLS to the services' gRPC side: Envoy's own certificate and key, and the mesh CA.
   * Each upstream must present its own mesh identity (spiffe://shopmesh.local/service/<name>).
   */
  meshTls?: { caFile: string; certFile: string; keyFile: string };
  /** Route timeout for unary RPCs whose rule sets no `timeout_ms`. */
  defaultTimeoutMs?: number;
  healthCheckIntervalSeconds?: number;
  /** Percentage of requests the edge traces (it starts the trace when the caller sent none). */
  tracingSamplePercent?: number;
  /** Downstream connections one Envoy accepts at once. */
  maxConnections?: number;
  /** Hops in front of the edge whose X-Forwarded-For entries are trusted (0 locally). */
  trustedProxyHops?: number;
}

/** The header the edge sets from the token's `sub` claim; never taken from the client. */
export const USER_ID_HEADER = "x-shopmesh-user-id";
/** Every request header with this prefix is stripped on arrival, so none can be forged. */
export const INTERNAL_HEADER_PREFIX = "x-shopmesh-";
export const JWT_PROVIDER = "identity";
export const JWKS_PATH = "/.well-known/jwks.json";
const DEFAULT_TIMEOUT_MS = 10_000;
/** A cluster without hosts: where preflights from origins that are not allowed end. */
const PREFLIGHT_SINK = "preflight_sink";
const STREAM_IDLE_TIMEOUT = "3600s";

const ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "traceparent",
  "tracestate",
];
const EXPOSE_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

const seconds = (ms: number) => `${ms / 1000}s`;
const typed = (type: string, config: { [key: string]: Json } = {}): { [key: string]: Json } => ({ "@type": `type.googleapis.com/${type}`, ...config });

export const grpcCluster = (upstream: string) => `${upstream}_grpc`;
export const httpCluster = (upstream: string) => `${upstream}_http`;

function upstreamOf(options: EnvoyConfigOptions, name: string): Upstream {
  const upstream = options.upstreams[name];
  if (!upstream) throw new Error(`no upstream address for "${name}"`);
  return upstream;
}

function cluster(
  name: string,
  address: Upstream,
  protocol: "http2" | "http1",
  extra: { [key: string]: Json } = {},
  connectTimeout = "1s",
): { [key: string]: Json } {
  return {
    name,
    // STRICT_DNS everywhere: an IP literal locally, a compose name, or a headless Kubernetes
    // Service whose every pod address becomes an endpoint.
    type: "STRICT_DNS",
    dns_lookup_family: "V4_ONLY",
    connect_timeout: connectTimeout,
    lb_policy: "ROUND_ROBIN",
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": typed("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", {
        explicit_http_config: protocol === "http2" ? { http2_protocol_options: {} } : { http_protocol_options: {} },
      }),
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: address.host, port_value: address.port } } } }] }],
    },
    ...extra,
  };
}

function healthCheck(options: EnvoyConfigOptions, check: { [key: string]: Json }): Json[] {
  const interval = options.healthCheckIntervalSeconds ?? 5;
  return [
    {
      timeout: "1s",
      interval: `${interval}s`,
      // Hosts of a fresh cluster are probed at once, not after a full interval.
      initial_jitter: "0s",
      no_traffic_interval: `${interval}s`,
      unhealthy_threshold: 2,
      healthy_threshold: 1,
      ...check,
    },
  ];
}

const OUTLIER_DETECTION: Json = {
  consecutive_5xx: 5,
  consecutive_gateway_failure: 3,
  interval: "5s",
  base_ejection_time: "10s",
  max_ejection_percent: 50,
};

const MESH_TRUST_DOMAIN = "shopmesh.local";

/** With mesh TLS: Envoy presents its certificate and accepts only `upstream`'s, on HTTP/2 (gRPC) clusters. */
function meshTransport(options: EnvoyConfigOptions, upstream: string): { [key: string]: Json } {
  if (!options.meshTls) return {};
  const { caFile, certFile, keyFile } = options.meshTls;
  return {
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: typed("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", {
        common_tls_context: {
          alpn_protocols: ["h2"],
          tls_certificates: [{ certificate_chain: { filename: certFile }, private_key: { filename: keyFile } }],
          validation_context: {
            trusted_ca: { filename: caFile },
            match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: `spiffe://${MESH_TRUST_DOMAIN}/service/${upstream}` } }],
          },
        },
      }),
    },
  };
}

/** Two clusters per deployable on the same address: HTTP/2 reaches grpc-js, HTTP/1.1 reaches connect-node. */
function serviceClusters(options: EnvoyConfigOptions, service: EdgeService): Json[] {
  const address = upstreamOf(options, service.upstream);
  return [
    cluster(grpcCluster(service.upstream), address, "http2", {
      ...meshTransport(options, service.upstream),
      health_checks: healthCheck(options, { grpc_health_check: { service_name: service.typeName } }),
      outlier_detection: OUTLIER_DETECTION,
    }),
    cluster(httpCluster(service.upstream), address, "http1", {
      health_checks: healthCheck(options, { http_health_check: { path: "/readyz" } }),
      outlier_detection: OUTLIER_DETECTION,
    }),
  ];
}

/**
 * A user method: [("class", c), ("user", sub)] for signed-in callers, else [("class", c),
 * ("anonymous", "true"), ("remote_address", ip)]. A public method (sign-in, register, search)
 * is limited per client address whether or not a token comes with it, so sending any token
 * of one's own cannot move a guesser into a fresh budget.
 */
function rateLimitActions(method: EdgeMethod): Json[] {
  const klass = { generic_key: { descriptor_key: "class", descriptor_value: method.rateLimitClass } };
  if (method.auth === "public") return [{ actions: [klass, { remote_address: {} }] }];
  return [
    { actions: [klass, { request_headers: { header_name: USER_ID_HEADER, descriptor_key: "user" } }] },
    {
      actions: [
        klass,
        // Emitted only when the user header is absent (expect_match: false), so each request
        // produces exactly one of the two descriptors.
        {
          header_value_match: {
            descriptor_key: "anonymous",
            descriptor_value: "true",
            expect_match: false,
            headers: [{ name: USER_ID_HEADER, present_match: true }],
          },
        },
        { remote_address: {} },
      ],
    },
  ];
}

function retryPolicy(): Json {
  return {
    // gRPC UNAVAILABLE (grpc-status 14), Connect's 503, resets and refused connections; only
    // for methods whose rule says a repeat has no second effect.
    retry_on: "unavailable,reset,connect-failure,retriable-status-codes",
    retriable_status_codes: [503],
    num_retries: 2,
    retry_host_predicate: [
      { name: "envoy.retry_host_predicates.previous_hosts", typed_config: typed("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate") },
    ],
    host_selection_retry_max_attempts: 3,
  };
}

function methodRoutes(options: EnvoyConfigOptions, service: EdgeService, method: EdgeMethod): Json[] {
  const timeoutMs = method.timeoutMs || options.defaultTimeoutMs || DEFAULT_TIMEOUT_MS;
  const timing: { [key: string]: Json } = method.streaming
    ? // A healthy stream is not timed out; an idle one is, after an hour.
      { timeout: "0s", idle_timeout: STREAM_IDLE_TIMEOUT }
    : { timeout: seconds(timeoutMs) };
  const action = (clusterName: string, grpc: boolean): { [key: string]: Json } => ({
    cluster: clusterName,
    ...timing,
    // A gRPC caller's own grpc-timeout applies, capped by the route's budget.
    ...(grpc ? { max_stream_duration: { grpc_timeout_header_max: method.streaming ? "0s" : seconds(timeoutMs) } } : {}),
    ...(method.idempotent ? { retry_policy: retryPolicy() } : {}),
    rate_limits: rateLimitActions(method),
  });
  const perFilter = { "envoy.filters.http.jwt_authn": typed("envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig", { requirement_name: method.auth }) };
  return [
    {
      name: `${method.path}#grpc`,
      // `grpc: {}` matches content-type application/grpc[+proto] (not gRPC-Web).
      match: { path: method.path, grpc: {} },
      route: action(grpcCluster(service.upstream), true),
      typed_per_filter_config: perFilter,
    },
    {
      name: `${method.path}#http`,
      // Connect (JSON/binary, POST or GET) and gRPC-Web: connect-node speaks both natively.
      match: { path: method.path },
      route: action(httpCluster(service.upstream), false),
      typed_per_filter_config: perFilter,
    },
  ];
}

interface LocalReplyCode {
  status: number;
  connect: string;
  grpc: number;
}

// Envoy's own replies (JWT rejected, rate limited, no route, no upstream) in each protocol's
// terms. gRPC callers need nothing here: Envoy answers them trailers-only with a grpc-status.
const LOCAL_REPLY_CODES: LocalReplyCode[] = [
  { status: 401, connect: "unauthenticated", grpc: 16 },
  { status: 403, connect: "permission_denied", grpc: 7 },
  { status: 404, connect: "unimplemented", grpc: 12 },
  { status: 429, connect: "resource_exhausted", grpc: 8 },
  { status: 503, connect: "unavailable", grpc: 14 },
  { status: 504, connect: "deadline_exceeded", grpc: 4 },
];

function statusIs(status: number): Json {
  return { status_code_filter: { comparison: { op: "EQ", value: { default_value: status, runtime_key: `edge.local_reply.status_${status}` } } } };
}

// Envoy's safe_regex is a full match.
function contentTypeMatches(regex: string): Json {
  return { header_filter: { header: { name: "content-type", string_match: { safe_regex: { regex } } } } };
}

function localReplyConfig(): Json {
  const mappers: Json[] = [
    {
      filter: { and_filter: { filters: [statusIs(503), { header_filter: { header: { name: ":method", string_match: { exact: "OPTIONS" } } } }] } },
      status_code: 403,
      body: { inline_string: "origin not allowed" },
    },
  ];
  for (const code of LOCAL_REPLY_CODES) {
    // Connect unary: the HTTP status stays, the JSON body carries the code (429 alone would
    // read as UNAVAILABLE to a Connect client).
    mappers.push({
      filter: { and_filter: { filters: [statusIs(code.status), contentTypeMatches("application/(json|proto)(;.*)?")] } },
      body_format_override: { json_format: { code: code.connect, message: "%LOCAL_REPLY_BODY%" }, content_type: "application/json" },
    });
    // gRPC-Web: a trailers-only response (HTTP 200, grpc-status in the headers), as gRPC-Web
    // clients read any other HTTP status by the HTTP mapping.
    mappers.push({
      filter: { and_filter: { filters: [statusIs(code.status), contentTypeMatches("application/grpc-web.*")] } },
      status_code: 200,
      // The message travels in grpc-message; a body would be read as a (broken) message frame.
      body: { inline_string: "" },
      headers_to_add: [
        { header: { key: "grpc-status", value: String(code.grpc) }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
        { header: { key: "grpc-message", value: "%RESPONSE_CODE_DETAILS%" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
      ],
    });
  }
  return { mappers };
}

function accessLog(): Json[] {
  return [
    {
      name: "envoy.access_loggers.stdout",
      typed_config: typed("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", {
        log_format: {
          json_format: {
            time: "%START_TIME%",
            level: "info",
            msg: "edge request",
            method: "%REQ(:METHOD)%",
            path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
            protocol: "%PROTOCOL%",
            content_type: "%REQ(CONTENT-TYPE)%",
            status: "%RESPONSE_CODE%",
            grpc_status: "%GRPC_STATUS_NUMBER%",
            response_flags: "%RESPONSE_FLAGS%",
            details: "%RESPONSE_CODE_DETAILS%",
            duration_ms: "%DURATION%",
            upstream_cluster: "%UPSTREAM_CLUSTER%",
            upstream_host: "%UPSTREAM_HOST%",
            bytes_received: "%BYTES_RECEIVED%",
            bytes_sent: "%BYTES_SENT%",
            remote_address: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
            user_agent: "%REQ(USER-AGENT)%",
            request_id: "%REQ(X-REQUEST-ID)%",
            traceparent: "%REQ(TRACEPARENT)%",
          },
        },
      }),
    },
  ];
}

function httpFilters(options: EnvoyConfigOptions): Json[] {
  const jwks = upstreamOf(options, "identity");
  const local = options.localRateLimit ?? { maxTokens: 2000, tokensPerFill: 1000, fillIntervalSeconds: 1 };
  const always = (key: string) => ({ runtime_key: key, default_value: { numerator: 100, denominator: "HUNDRED" } });
  return [
    // First: preflights are answered here, before any check that would reject them.
    { name: "envoy.filters.http.cors", typed_config: typed("envoy.extensions.filters.http.cors.v3.Cors") },
    // Before the token check and the ratelimit round trip, so a flood costs as little as possible.
    {
      name: "envoy.filters.http.local_ratelimit",
      typed_config: typed("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", {
        stat_prefix: "edge_backstop",
        token_bucket: { max_tokens: local.maxTokens, tokens_per_fill: local.tokensPerFill, fill_interval: `${local.fillIntervalSeconds}s` },
        filter_enabled: always("edge.backstop.enabled"),
        filter_enforced: always("edge.backstop.enforced"),
        rate_limited_as_resource_exhausted: true,
      }),
    },
    // Every request of the contracts is one small message: a body past the cap is answered
    // 413 here, before it costs a token check, a ratelimit call or an upstream's memory.
    {
      name: "envoy.filters.http.buffer",
      typed_config: typed("envoy.extensions.filters.http.buffer.v3.Buffer", { max_request_bytes: options.maxRequestBytes ?? 1_048_576 }),
    },
    {
      name: "envoy.filters.http.jwt_authn",
      typed_config: typed("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication", {
        providers: {
          [JWT_PROVIDER]: {
            issuer: options.jwtIssuer ?? "shopmesh-identity",
            audiences: [options.jwtAudience ?? "shopmesh"],
            remote_jwks: {
              http_uri: { uri: `http://${jwks.host}:${jwks.port}${JWKS_PATH}`, cluster: httpCluster("identity"), timeout: "2s" },
              cache_duration: "300s",
              retry_policy: { num_retries: 2, retry_back_off: { base_interval: "0.2s", max_interval: "1s" } },
            },
            // The services verify the token again: the edge is the first wall, not the only one.
            forward: true,
            claim_to_headers: [{ header_name: USER_ID_HEADER, claim_name: "sub" }],
          },
        },
        requirement_map: {
          // A token is optional, but one that is sent must verify (allow_missing, not
          // allow_missing_or_failed: a forged token is rejected, not ignored).
          public: { requires_any: { requirements: [{ provider_name: JWT_PROVIDER }, { allow_missing: {} }] } },
          user: { provider_name: JWT_PROVIDER },
        },
        bypass_cors_preflight: true,
      }),
    },
    {
      name: "envoy.filters.http.ratelimit",
      typed_config: typed("envoy.extensions.filters.http.ratelimit.v3.RateLimit", {
        domain: options.rateLimitDomain ?? "shopmesh",
        failure_mode_deny: options.rateLimitFailureModeDeny ?? false,
        // With failure_mode_deny, an unreachable ratelimit service reads as UNAVAILABLE (retryable), not INTERNAL.
        status_on_error: { code: "ServiceUnavailable" },
        timeout: seconds(options.rateLimitTimeoutMs ?? 500),
        enable_x_ratelimit_headers: "DRAFT_VERSION_03",
        rate_limited_as_resource_exhausted: true,
        rate_limit_service: { transport_api_version: "V3", grpc_service: { envoy_grpc: { cluster_name: "ratelimit" } } },
      }),
    },
    { name: "envoy.filters.http.router", typed_config: typed("envoy.extensions.filters.http.router.v3.Router", { suppress_envoy_headers: true }) },
  ];
}

function corsPolicy(options: EnvoyConfigOptions): Json {
  return typed("envoy.extensions.filters.http.cors.v3.CorsPolicy", {
    allow_origin_string_match: options.storefrontOrigins.map((origin) => ({ exact: origin })),
    allow_methods: "GET, POST, OPTIONS",
    allow_headers: ALLOW_HEADERS.join(", "),
    expose_headers: EXPOSE_HEADERS.join(", "),
    max_age: "7200",
  });
}

function connectionManager(options: EnvoyConfigOptions): Json {
  const routes: Json[] = [
    {
      name: "preflight",
      // The CORS filter has already answered every preflight from an allowed origin; what is
      // left (another origin, a bare OPTIONS) stops here instead of reaching a service.
      // (A route to an empty cluster, not a direct_response: the CORS filter only answers
      // preflights on routes with a route entry. The 503 becomes a 403 in local_reply_config.)
      match: { prefix: "/", headers: [{ name: ":method", string_match: { exact: "OPTIONS" } }] },
      route: { cluster: PREFLIGHT_SINK },
      typed_per_filter_config: { "envoy.filters.http.jwt_authn": typed("envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig", { disabled: true }) },
    },
  ];
  for (const service of options.services) {
    for (const method of service.routable) routes.push(...methodRoutes(options, service, method));
  }
  routes.push({
    name: "not-routed",
    // Internal RPCs, unknown paths, and anything else: no upstream is ever reached.
    match: { prefix: "/" },
    direct_response: { status: 404, body: { inline_string: "no route" } },
    typed_per_filter_config: { "envoy.filters.http.jwt_authn": typed("envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig", { disabled: true }) },
  });
  return typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
    stat_prefix: "edge",
    // HTTP/1.1 (Connect, gRPC-Web, curl) and HTTP/2 incl. prior knowledge (grpcurl -plaintext).
    codec_type: "AUTO",
    use_remote_address: true,
    xff_num_trusted_hops: options.trustedProxyHops ?? 0,
    generate_request_id: true,
    normalize_path: true,
    merge_slashes: true,
    path_with_escaped_slashes_action: "REJECT_REQUEST",
    common_http_protocol_options: { headers_with_underscores_action: "REJECT_REQUEST", idle_timeout: "300s" },
    http2_protocol_options: { max_concurrent_streams: 100, initial_stream_window_size: 65536, initial_connection_window_size: 1048576 },
    stream_idle_timeout: "300s",
    request_headers_timeout: "10s",
    // Runs before routing and every filter: a client cannot send the headers the edge sets.
    early_header_mutation_extensions: [
      {
        name: "envoy.http.early_header_mutation.header_mutation",
        typed_config: typed("envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation", {
          mutations: [{ remove_on_match: { key_matcher: { prefix: INTERNAL_HEADER_PREFIX } } }],
        }),
      },
    ],
    tracing: {
      random_sampling: { value: options.tracingSamplePercent ?? 100 },
      provider: {
        name: "envoy.tracers.opentelemetry",
        typed_config: typed("envoy.config.trace.v3.OpenTelemetryConfig", {
          grpc_service: { envoy_grpc: { cluster_name: "otel" }, timeout: "1s" },
          service_name: "envoy",
        }),
      },
    },
    access_log: accessLog(),
    local_reply_config: localReplyConfig(),
    route_config: {
      name: "edge",
      virtual_hosts: [
        {
          name: "shopmesh",
          domains: ["*"],
          routes,
          typed_per_filter_config: { "envoy.filters.http.cors": corsPolicy(options) },
        },
      ],
    },
    http_filters: httpFilters(options),
  });
}

/**
 * The whole Envoy bootstrap for the edge, from the contracts' policy options. Every variant
 * (local, compose, Kubernetes, tests) comes from here; only the addresses differ.
 */
export function renderEnvoyConfig(options: EnvoyConfigOptions): { [key: string]: Json } {
  const listenAddress = options.listenAddress ?? "127.0.0.1";
  const upstreamNames = [...new Set(options.services.map((service) => service.upstream))];
  const byUpstream = (name: string) => options.services.filter((service) => service.upstream === name);
  const clusters: Json[] = [];
  for (const name of upstreamNames) {
    const services = byUpstream(name);
    if (services.length !== 1) throw new Error(`${name}: one service per deployable expected, found ${services.map((s) => s.typeName).join(", ")}`);
    clusters.push(...serviceClusters(options, services[0]!));
  }
  clusters.push(
    cluster("ratelimit", upstreamOf(options, "ratelimit"), "http2", {
      ...meshTransport(options, "ratelimit"),
      health_checks: healthCheck(options, { grpc_health_check: { service_name: "envoy.service.ratelimit.v3.RateLimitService" } }),
      outlier_detection: OUTLIER_DETECTION,
    }),
    cluster("otel", upstreamOf(options, "otel"), "http2"),
    { name: PREFLIGHT_SINK, type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: PREFLIGHT_SINK, endpoints: [] } },
  );
  return {
    node: { id: "shopmesh-edge", cluster: "shopmesh-edge" },
    admin: { address: { socket_address: { address: listenAddress, port_value: options.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: "edge",
          address: { socket_address: { address: listenAddress, port_value: options.edgePort } },
          filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: connectionManager(options) }] }],
        },
      ],
      clusters,
    },
    layered_runtime: { layers: [{ name: "static", static_layer: {} }] },
    overload_manager: {
      resource_monitors: [
        {
          name: "envoy.resource_monitors.global_downstream_max_connections",
          typed_config: typed("envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig", {
            max_active_downstream_connections: options.maxConnections ?? 10_000,
          }),
        },
      ],
    },
  };
}
