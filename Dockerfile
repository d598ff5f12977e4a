# Switchyard container image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t switchyard .
#   docker run --rm -p 7880:7880 -p 7881:7881 -p 7882:7882/udp \
#     -e SWITCHYARD_ICE_PUBLIC_IPS=203.0.113.7 -v switchyard-data:/var/lib/switchyard switchyard
#
# Settings come from /etc/switchyard/switchyard.yaml (every key at its
# default; mount your own over it), then SWITCHYARD_* variables, then flags
# given after the image name. The base images are build arguments so that
# scripts/docker-check.sh can build this file offline against local stand-ins.

ARG BUILDER_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
# Modules first, so that editing the source does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/switchyard ./cmd/switchyard
# The state directory, owned by the runtime user (distroless "nonroot").
RUN mkdir -p /out/state && chown 65532:65532 /out/state && chmod 0750 /out/state

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/switchyard /usr/local/bin/switchyard
COPY configs/switchyard.yaml /etc/switchyard/switchyard.yaml
COPY --from=build --chown=65532:65532 /out/state /var/lib/switchyard
WORKDIR /var/lib/switchyard
USER 65532:65532
# Keep sessions.jsonl across container restarts.
VOLUME /var/lib/switchyard
ENV SWITCHYARD_SESSION_LOG_PATH=/var/lib/switchyard/sessions.jsonl
# HTTP and signaling; ICE-TCP; all ICE UDP (one port, ice.udp_listen);
# TURN over TCP and UDP, used only when turn.enabled is true.
EXPOSE 7880/tcp 7881/tcp 7882/udp 3478/tcp 3478/udp
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["--config", "/etc/switchyard/switchyard.yaml"]
