# heartbeat as a container: one static musl binary on an empty image, run as a numeric non-root user.
#
#   docker build -t heartbeat .                      # from a clone: builds the binary from source
#   docker run --rm -e SERVICE_URL -e API_KEY -e MTLS_CERT -e MTLS_KEY heartbeat
#
# The release image carries the very binary the release archives carry (one build, one checksum): the release
# lays the binaries out as CONTEXT/bin/<arch>/heartbeat and builds with `--build-arg BINARY=prebuilt`, which
# skips the source stages (scripts/image.sh). The Mozilla roots are compiled in, so the image needs no CA
# bundle, no shell and no libc.
ARG BINARY=build

# Exactly what the engine sends (the .dockerignore applies), so every path Cargo.toml names is there.
FROM scratch AS source
COPY . /src

FROM docker.io/library/rust:1-alpine AS build
RUN apk add --no-cache musl-dev
COPY --from=source /src /src
WORKDIR /src
RUN cargo build --release --locked \
    && cp target/release/heartbeat /heartbeat

FROM scratch AS prebuilt
# Set by docker buildx for each platform; podman 4 needs it given (--build-arg TARGETARCH=amd64).
ARG TARGETARCH
COPY bin/${TARGETARCH}/heartbeat /heartbeat

FROM ${BINARY} AS binary

FROM scratch
COPY --from=binary /heartbeat /usr/local/bin/heartbeat
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["heartbeat"]
CMD ["check"]
