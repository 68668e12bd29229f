# Build: a static binary with the message files and the BIN table embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/merchantbot ./cmd/merchantbot

# Run: nothing but the binary and CA certificates, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/merchantbot /merchantbot
USER nonroot:nonroot
EXPOSE 8080
# The image has no shell or curl: the binary checks itself (GET /healthz on
# HTTP_ADDR's port). The sandbox listens elsewhere: see docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/merchantbot", "healthcheck"]
ENTRYPOINT ["/merchantbot"]
CMD ["serve"]
