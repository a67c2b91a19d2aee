# Parley, built and run as an installed package runs: `node dist/server/cli.js serve`.
# docker build -t parley .   (docker-compose.yml builds it for the three-node example)
FROM node:20-bookworm-slim AS build
WORKDIR /parley
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /parley
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 PARLEY_DATA_DIR=/data
COPY --from=build /parley/package.json ./
COPY --from=build /parley/node_modules ./node_modules
COPY --from=build /parley/dist ./dist
# Named volumes take the ownership of the image's directory at their first mount: made here for
# the user the server runs as (the data directory, and the attachment directory compose shares).
RUN mkdir -p /data /blobs && chown node:node /data /blobs
VOLUME /data
EXPOSE 8787
USER node
CMD ["node", "dist/server/cli.js", "serve"]
