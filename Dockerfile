# syntax=docker/dockerfile:1
#
# Bidline's production image. The build stage runs the same build as the README's run
# command (scripts/setup --release, then cargo xtask build --release); the runtime
# stage holds only the binary and the built site, and runs as an unprivileged user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN scripts/setup --release && cargo xtask build --release

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bidline \
    && mkdir -p /app/data \
    && chown bidline:bidline /app/data
WORKDIR /app
COPY --from=build /src/target/release/bidline /usr/local/bin/bidline
COPY --from=build /src/site /app/site
USER bidline
# The site root defaults to ./site, which is /app/site here. SIP listens on every
# address, so `docker run` must say where peers reach it: -e BIDLINE_SIP_ADVERTISE=HOST[:PORT].
ENV BIDLINE_HTTP_ADDR=0.0.0.0:3000 \
    BIDLINE_SIP_ADDR=0.0.0.0:5060 \
    DATABASE_URL=sqlite://data/bidline.db \
    BIDLINE_LOG_FORMAT=json
VOLUME ["/app/data"]
EXPOSE 3000/tcp 5060/udp 5060/tcp
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["bidline"]
CMD ["serve"]
