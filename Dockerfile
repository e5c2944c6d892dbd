# Build a static broom, then ship it alone on distroless: no shell, no
# package manager, CA certificates only.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/broom-dev/broom/internal/cli.Version=${VERSION}" \
    -o /out/broom ./cmd/broom

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/broom /broom
# No USER: GitHub requires Docker actions to run as the image's default
# user, or they cannot write GITHUB_WORKSPACE, GITHUB_OUTPUT and the step
# summary. The image holds nothing but the static binary.
#
# Exec form, never through a shell: the runner passes inputs as
# INPUT_<NAME> with hyphens kept (INPUT_GITHUB-TOKEN), which sh drops.
# The entrypoint is broom itself, so the image is the CLI too
# (`docker run … ghcr.io/broom-dev/broom plan`); action.yml passes the
# `action` command as args.
ENTRYPOINT ["/broom"]
