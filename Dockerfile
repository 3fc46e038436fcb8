# scimd: the README's install steps in a build stage (npm ci compiles better-sqlite3 and runs
# `prepare`, which builds dist/), then a runtime stage with dist/, bin/ and the production
# dependencies only, run as the unprivileged `node` user. See README "Deploying".
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native addon with node-gyp when no prebuilt binary is fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY db db
COPY src src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=9000 \
    DATABASE_URL=sqlite:/data/scimd.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/bin bin
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 9000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/-/health/ready/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/scimd.js", "serve"]
