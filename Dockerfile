# syntax=docker/dockerfile:1

# ---- build: compile TypeScript to dist/ ------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY config ./config
COPY migrations ./migrations
COPY seeders ./seeders
RUN npm run build && test -f dist/src/main.js && test -f dist/config/currencies.json

# ---- runtime: production dependencies and the compiled app only ---------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/dist ./dist
# The checkout page's static files (HTML, JS, CSS) sit next to its compiled module.
COPY --from=build /app/src/modules/checkout/public ./dist/src/modules/checkout/public
# Applied at start-up by the migrator, which looks next to dist/ (and by `npx sequelize-cli` if you
# exec into the container); the currency seeder reads config/currencies.json.
COPY migrations ./migrations
COPY seeders ./seeders
COPY config ./config
COPY .sequelizerc ./
# The image's unprivileged `node` user runs the app. It owns only data/ (the embedded database's
# folder, used when DATABASE_URL is unset outside production); the code stays read-only to it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node itself is PID 1 and handles SIGTERM (drains HTTP, stops jobs, closes the pools).
CMD ["node", "dist/src/main.js"]
