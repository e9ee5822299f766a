# syntax=docker/dockerfile:1
#
# otlp-log-processor container image.
#
#   docker build -t otlp-log-processor:0.1.0 .
#   docker run --rm --read-only -p 4317:4317 -p 8888:8888 otlp-log-processor:0.1.0
#
# Two stages: `build` compiles the TypeScript with the dev dependencies; the final stage holds
# only the production dependencies, the compiled dist/src and the .proto files (loaded at run
# time from <package root>/proto). The final image runs as UID/GID 1000 (the image's `node`
# user), owns none of its application files, and writes nothing outside /tmp, so it runs with a
# read-only root filesystem (`docker run --read-only`, Kubernetes readOnlyRootFilesystem: true).
# Checked by test/deploy/dockerfile.test.ts (hadolint-style checklist).

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first, for layer caching. --ignore-scripts: the package's `prepare` script runs
# tsc, and the sources are not copied yet; the build runs explicitly below.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
# The runtime user only needs to read these: make them world-readable whatever the
# permissions of the build context were, and writable by nobody but root.
RUN npm run build \
 && chmod -R a+rX,go-w dist/src proto

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="otlp-log-processor" \
      org.opencontainers.image.description="OTLP/gRPC log processing hop: receive, process, re-export OTLP logs" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# A smaller young generation than V8's default: RSS at saturation about 290 → 200 MiB for a few % throughput.
ENV NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
# Production dependencies only; no install scripts (none are needed at run time, and `prepare`
# would try to compile). npm, npx, corepack and yarn are then removed: nothing runs them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /root/.npm /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
# Owned by root, readable by all (see the chmod in the build stage): the service cannot modify itself.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/proto ./proto

# Custom processors: mount a folder (e.g. -v ./processors:/processors:ro) and name the file in
# OLP_PROCESSORS; `require('otlp-log-processor')` in it resolves to this package (see README).
# Nothing is written outside /tmp (Node's os.tmpdir()); give it a writable volume when the root
# filesystem is read-only (Kubernetes: an emptyDir mounted at /tmp).
VOLUME ["/tmp"]

# 4317: OTLP/gRPC receiver (+ grpc.health.v1.Health). 4318: OTLP/HTTP receiver. 8888: /metrics, /healthz, /readyz.
EXPOSE 4317 4318 8888

# Numeric UID:GID (the `node` user of the base image) so that runAsNonRoot can be verified.
USER 1000:1000

# No curl/wget in the slim image: probe /healthz with node itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:8888/healthz', { timeout: 4000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]

ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["run"]
