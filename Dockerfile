# The k3s-daas service binaries (indexer, projector, master, worker, devnet, daas)
# in one image; docker-compose.yml picks the binary per service.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        cmake libcurl4-openssl-dev protobuf-compiler libprotobuf-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins \
    && mkdir /out \
    && cp target/release/indexer target/release/projector target/release/master \
          target/release/worker target/release/devnet target/release/daas /out/

FROM debian:bookworm-slim
# curl: the compose health checks call each service's /healthz.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libcurl4 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 daas \
    && install -d -o daas -g daas -m 0700 /var/lib/daas
COPY --from=build /out/ /usr/local/bin/
USER daas
