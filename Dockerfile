# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on a distroless base as a
# non-root user. Migrations, templates and static files are embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/atrium ./cmd/atrium

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/atrium /usr/local/bin/atrium
USER nonroot:nonroot
ENV ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/atrium"]
CMD ["serve"]
