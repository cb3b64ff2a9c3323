# syntax=docker/dockerfile:1.20
# One image per service, from one file:
#   docker build --build-arg SERVICE=catalog -t shopmesh/catalog:dev .
# Stage 1 installs and compiles the workspace with dev tools; stage 2 reinstalls only the
# service's production dependencies; the final image is distroless (no shell, no npm, no
# compiler, no sources), runs as uid 65532 and holds dist/, migrations and node_modules.
# Base images are pinned by digest (refresh: docker buildx imagetools inspect <tag>).
ARG NODE_BUILD_IMAGE=node:24.19.0-bookworm-slim@sha256:3638d9a6fe4030bd716be989438248074489337ba3275657f93595428be4fc03
ARG NODE_RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a

FROM ${NODE_BUILD_IMAGE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<name of a folder in services/>" >&2; exit 1; }
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Manifests first, sources after: the npm ci layer is rebuilt only when a manifest or the lock
# changes. --parents keeps each manifest at its path (Dockerfile syntax 1.20). npm's download
# cache is a BuildKit cache mount: kept between builds, never in a layer.
# test/deploy/build-context.test.ts proves every input is in the build context.
COPY --parents package.json package-lock.json gen/package.json platform/package.json services/*/package.json tools/*/package.json web/package.json ./
RUN test -f "services/${SERVICE}/package.json" || { echo "no service ${SERVICE} in services/" >&2; exit 1; }
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
# Compiles the service and what it references (platform); gen/ ships as committed JavaScript.
RUN npx tsc -b "services/${SERVICE}"

FROM build AS prod-deps
ARG SERVICE
RUN --mount=type=cache,target=/root/.npm rm -rf node_modules gen/node_modules platform/node_modules services/*/node_modules \
 && npm ci --omit=dev --workspace "services/${SERVICE}"
# Assemble exactly what runs: manifests, compiled code, migrations, data files, prod node_modules.
RUN set -e; mkdir -p /out/gen /out/platform "/out/services/${SERVICE}"; \
    cp -a package.json node_modules /out/; \
    cp -a gen/package.json gen/src /out/gen/; \
    cp -a platform/package.json platform/dist platform/migrations /out/platform/; \
    [ ! -d platform/node_modules ] || cp -a platform/node_modules /out/platform/; \
    cd "services/${SERVICE}"; \
    tar -cf - --exclude=./src --exclude=./test --exclude='./tsconfig*.json' --exclude='./*.tsbuildinfo' . | tar -xf - -C "/out/services/${SERVICE}"; \
    find /out -path '*/node_modules' -prune -o \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' \) -print | xargs -r rm -f

FROM ${NODE_RUNTIME_IMAGE}
ARG SERVICE
ENV NODE_ENV=production HOST=0.0.0.0
COPY --from=prod-deps /out /app
WORKDIR /app/services/${SERVICE}
USER 65532:65532
# No HEALTHCHECK: there is no shell. Kubernetes probes use grpc.health.v1 and /healthz;
# compose runs `node -e "fetch('http://127.0.0.1:<port>/readyz')..."`.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "--import", "@shopmesh/platform/telemetry", "dist/main.js"]
