# runcast: one image for every role. `serve` (the default command) is a gateway;
# `node bin/runcast.js worker` is an executor worker. Configured by the environment
# (README, "Configuration"); see docs/scale-out.md and docker-compose.yml.

# ---- build: install everything, compile TypeScript, drop dev dependencies
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Only needed when better-sqlite3 has no prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; better-sqlite3
# is the one dependency whose install script we need (its native binding).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code and production dependencies, as a non-root user
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    WORKFLOWS_DIR=/app/workflows \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY workflows ./workflows
# DATA_DIR (the `database` node's SQLite file) must be writable by the runtime user.
RUN mkdir -p /data && chown node:node /data
# `node` (uid 1000) comes with the official image.
USER node
EXPOSE 8080
CMD ["node", "bin/runcast.js", "serve"]
