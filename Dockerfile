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
ENTRYPOINT ["/merchantbot"]
CMD ["serve"]
