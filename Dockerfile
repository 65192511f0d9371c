# Switchyard api / worker image for the scale-out deployment (docker-compose.yml).
# The embedded Temporal CLI is not needed here: the image talks to an external Temporal.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production SWITCHYARD_SKIP_TEMPORAL_CLI=1
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall only provisions the Temporal CLI for the embedded dev server
# (not used here, and scripts/ is not copied yet). scripts/check-docker-install.sh dry-runs this step.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
