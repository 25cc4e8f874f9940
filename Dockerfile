# heartbeat as a standalone container: a static musl binary on an empty image, run as a non-root user.
#   docker build -t heartbeat .
#   docker run --rm -e SERVICE_URL -e API_KEY -e MTLS_CERT -e MTLS_KEY heartbeat
# The Mozilla roots are compiled in, so the image needs no CA bundle, no shell and no libc.

FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
RUN cargo build --release --locked \
    && cp "target/release/heartbeat" /heartbeat

FROM scratch
COPY --from=build /heartbeat /usr/local/bin/heartbeat
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["heartbeat"]
CMD ["check"]
