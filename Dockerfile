# spectrum-rs node image: a build stage (Rust + clang for RocksDB's bindings) and a small
# runtime stage (Debian slim, a non-root user, the datadir as a volume).
#
#   docker build -t spectrum --build-arg SPECTRUM_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -d --name spectrum -v spectrum-data:/data -p 60303:60303 \
#       -p 127.0.0.1:8545:8545 -p 127.0.0.1:6060:6060 spectrum --http --metrics
#
# Ports: 60303/tcp p2p (publish to the world), 8545 HTTP JSON-RPC and status page, 8546
# WebSocket JSON-RPC, 6060 Prometheus metrics (publish these on 127.0.0.1 or a private network
# only). See docs/operations.md.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No .git in the build context: `spectrum version` takes the commit from this argument.
ARG SPECTRUM_GIT_COMMIT=unknown
ENV SPECTRUM_GIT_COMMIT=${SPECTRUM_GIT_COMMIT}
RUN cargo build --release --locked --bin spectrum \
    && cp target/release/spectrum /usr/local/bin/spectrum

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 spectrum \
    && useradd --system --uid 10001 --gid spectrum --home-dir /data --shell /usr/sbin/nologin spectrum \
    && mkdir -p /data && chown spectrum:spectrum /data
COPY --from=build /usr/local/bin/spectrum /usr/local/bin/spectrum
COPY etc/docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER spectrum
VOLUME ["/data"]
EXPOSE 60303/tcp 8545/tcp 8546/tcp 6060/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
