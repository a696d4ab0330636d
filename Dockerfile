# Build: the crate compiles without a database thanks to the committed .sqlx/ metadata.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY . .
RUN cargo build --locked --release && strip target/release/exambank

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 exambank
WORKDIR /app
COPY --from=build /src/target/release/exambank /usr/local/bin/exambank
COPY seed ./seed
USER exambank
ENV EXAMBANK_ADDR=0.0.0.0:8080 EXAMBANK_SEED_DIR=/app/seed EXAMBANK_LOG_FORMAT=json
EXPOSE 8080
CMD ["exambank", "serve"]
