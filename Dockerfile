# The socket-mesh manager as a container: `socket-mesh manager` from the published package.
#   docker build -t socket-mesh-manager .
#   docker run -e MESH_PUBLIC_KEY -e MESH_PRIVATE_KEY -p 4000:4000 -p 3000:3000 socket-mesh-manager
# Keys come from the environment only. Extra flags (--schema /config/schema.json, --token-env
# MESH_HTTP_TOKEN) go after the image name; mount the schema file read-only.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY scripts/copy-assets.mjs scripts/bundle.mjs ./scripts/
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/socket-mesh-*.tgz /tmp/socket-mesh.tgz

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /tmp/socket-mesh.tgz /tmp/
RUN npm install --omit=dev --omit=peer --no-audit --no-fund /tmp/socket-mesh.tgz && rm /tmp/socket-mesh.tgz
USER node
EXPOSE 4000 3000
# node is PID 1 here: the CLI handles SIGTERM itself (closes, exits 0).
ENTRYPOINT ["node", "/app/node_modules/socket-mesh/dist/cli/main.js", "manager"]
CMD ["--port", "4000", "--http", "3000"]
