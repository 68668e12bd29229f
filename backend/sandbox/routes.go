package sandbox

import "net/http"

// HandlerOption configures Handler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	apiKey string
}

// RequireAPIKey makes every /v1 route demand "Authorization: Bearer key".
// An empty key leaves the API open, as by default.
func RequireAPIKey(key string) HandlerOption {
	return func(c *handlerConfig) { c.apiKey = key }
}

// Handler serves s as the acquirer API described in backend/openapi.yaml.
// This is the whole surface.
func Handler(s *Sandbox, opts ...HandlerOption) http.Handler {
	var c handlerConfig
	for _, o := range opts {
		o(&c)
	}
	auth := requireAPIKey(c.apiKey)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /v1/merchants/{no}", auth(handleMerchant(s)))
	mux.Handle("POST /v1/merchants/{no}/verify", auth(handleVerify(s)))
	mux.Handle("POST /v1/merchants/{no}/codes", auth(handleSendCode(s)))
	mux.Handle("POST /v1/merchants/{no}/codes/check", auth(handleCheckCode(s)))
	mux.Handle("GET /v1/merchants/{no}/applications", auth(handleApplications(s)))
	mux.Handle("POST /v1/applications", auth(handleSubmit(s)))
	mux.Handle("GET /v1/applications/{id}", auth(handleApplication(s)))
	return mux
}
