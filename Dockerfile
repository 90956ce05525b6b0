# syntax=docker/dockerfile:1
# Tianshu control plane image. The Helm chart in charts/tianshu depends on the facts below
# (test/chart-files.test.ts parses this file and checks them): the runtime user 10001, port 4000,
# ENTRYPOINT ["node", <the flags of bin/node-flags.ts>, "dist/bin/tianshu.js"], the config path /etc/tianshu/config.yaml, the data
# directory /var/lib/tianshu and WORKDIR /app.
#
#   docker build -t ghcr.io/tianshu/tianshu:0.1.0 .
#   docker run --rm -p 4000:4000 ghcr.io/tianshu/tianshu:0.1.0

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, then drop dev dependencies ---------------------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 is native: its prebuilt binary is used when one matches, otherwise node-gyp
# compiles it, which needs python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Sources: everything .dockerignore lets through (the folders tsconfig.build.json compiles).
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: only what `node dist/bin/tianshu.js` needs -----------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# A fixed numeric uid/gid so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 tianshu \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/tianshu --no-create-home --shell /usr/sbin/nologin tianshu \
 && mkdir -p /etc/tianshu /var/lib/tianshu \
 && chown 10001:10001 /var/lib/tianshu
# A default configuration for `docker run`; the Helm chart mounts its ConfigMap over /etc/tianshu.
RUN printf '%s\n' \
      'listen:' \
      '  host: 0.0.0.0' \
      '  port: 4000' \
      'dataDir: /var/lib/tianshu' \
      > /etc/tianshu/config.yaml
COPY --from=build --chown=0:0 /src/package.json ./package.json
COPY --from=build --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
USER 10001:10001
EXPOSE 4000
VOLUME ["/var/lib/tianshu"]
# The V8 flags of bin/node-flags.ts (a larger young generation, no allocation-site pretenuring: see there).
ENTRYPOINT ["node", "--max-semi-space-size=64", "--min-semi-space-size=64", "--no-allocation-site-pretenuring", "dist/bin/tianshu.js"]
CMD ["serve", "--config", "/etc/tianshu/config.yaml"]
