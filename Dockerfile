# syntax=docker/dockerfile:1
#
# jq container image: one image, three apps (api, scheduler, health). See docs/deploy.md.
#
#   docker build -t jq:0.1.0 .
#   docker run --rm -e JQ_DATABASE_URL=postgres://… jq:0.1.0 api          # or scheduler / health
#   docker run --rm -e JQ_DATABASE_URL=postgres://… jq:0.1.0 api --dry-run
#
# The app is the first argument (api | scheduler | health), or APP in the environment when the
# first argument is an option. Not JQ_APP: jq refuses every JQ_* variable it does not know.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- deps: production dependencies only, for the runtime stage --------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed (package.json "allowScripts" disables them all).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# ---- build: all dependencies, proto generation, tsc into dist/ ----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The stamp is what scripts/run.sh compares with the lock file; writing it here keeps
# `npm run build` from running `npm ci` a second time. The image's node is 24, so
# scripts/ensure-node.sh uses it as is and installs nothing into .tools/.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
 && sha256sum package-lock.json | cut -d' ' -f1 > node_modules/.jq-lock-stamp
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY proto/ proto/
COPY libs/ libs/
COPY apps/ apps/
COPY migrations/ migrations/
RUN npm run build \
 && test -f libs/proto/gen/jq.binpb \
 && test -f dist/apps/api/main.js -a -f dist/apps/scheduler/main.js -a -f dist/apps/health/main.js

# ---- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    APP=api \
    APP_HOME=/app
WORKDIR /app
# Everything stays owned by root and read-only to the app user: the app writes nothing to disk
# (logs are JSON lines on stdout), so the container can run with a read-only root filesystem.
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
# Applied at start by every process (libs/postgres/migrations-dir.ts looks next to dist/).
COPY --from=build /src/migrations ./migrations
# gRPC reflection's descriptor set; DESCRIPTOR_SET_PATH (libs/proto/index.ts) finds it from
# dist/libs/proto/ at ../../../libs/proto/gen/jq.binpb.
COPY --from=build /src/libs/proto/gen/jq.binpb ./libs/proto/gen/jq.binpb
COPY deploy/docker/entrypoint.sh /usr/local/bin/jq-entrypoint

# gRPC (api), HTTP api / scheduler / health: /healthz, /readyz, /metrics (libs/config/settings.ts).
EXPOSE 50051 8080 8081 8082

# The image's `node` user, numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000

# node is PID 1 (the entrypoint execs it) and handles SIGTERM itself: graceful shutdown within
# JQ_SHUTDOWN_TIMEOUT_MS (15 s by default); give `docker stop` more, e.g. `-t 30`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "/usr/local/bin/jq-entrypoint"]
CMD ["api"]
