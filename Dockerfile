FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json openapi.yaml ./
COPY src ./src
COPY migrations ./migrations
RUN npx tsc -p tsconfig.json && npm prune --omit=dev
USER node
EXPOSE 8080
CMD ["node", "dist/server.js"]
