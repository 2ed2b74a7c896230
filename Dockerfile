# syntax=docker/dockerfile:1
# onboardbot image: HTTP mode (Slack's request URLs on :3000), non-root,
# nothing in the runtime image but the static binary.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t onboardbot .

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# .git is not in the build context, so the Makefile cannot `git describe`:
# the version comes in as a build argument.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make build VERSION="${VERSION}"

# static-debian12 has CA certificates (Slack, Webex over TLS) and no shell;
# time zones are embedded in the binary (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="onboardbot" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /src/bin/onboardbot /usr/local/bin/onboardbot
ENV ONBOARDBOT_MODE=http \
    HTTP_ADDR=:3000
EXPOSE 3000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/onboardbot"]
