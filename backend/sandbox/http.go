package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// maxBody bounds a request body; the largest one, an application, is < 1 KiB.
const maxBody = 64 << 10

func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

func handleMerchant(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, err := s.Merchant(r.Context(), r.PathValue("no"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	}
}

func handleVerify(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone string `json:"phone"`
		}
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		m, err := s.VerifyMerchant(r.Context(), r.PathValue("no"), req.Phone)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	}
}

func handleSendCode(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.SendCode(r.Context(), r.PathValue("no")); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func handleCheckCode(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Code string `json:"code"`
		}
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := s.CheckCode(r.Context(), r.PathValue("no"), req.Code); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func handleApplications(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		apps, err := s.Applications(r.Context(), r.PathValue("no"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]backend.Receipt{"applications": apps})
	}
}

func handleApplication(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Application(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, a)
	}
}

// handleSubmit answers 201 for a new application and 200 with
// Idempotent-Replayed: true when the key was seen before.
func handleSubmit(s *Sandbox) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var app backend.Application
		if err := decode(w, r, &app); err != nil {
			writeError(w, err)
			return
		}
		receipt, created, err := s.submit(r.Context(), r.Header.Get("Idempotency-Key"), app)
		if err != nil {
			writeError(w, err)
			return
		}
		status := http.StatusCreated
		if !created {
			w.Header().Set("Idempotent-Replayed", "true")
			status = http.StatusOK
		}
		writeJSON(w, status, receipt)
	}
}

func requireAPIKey(key string) func(http.Handler) http.Handler {
	if key == "" {
		return func(next http.Handler) http.Handler { return next }
	}
	want := []byte("Bearer " + key)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="acquirer"`)
				writeError(w, backend.ErrUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// decode reads a JSON body. Its error never quotes the body: it may hold a
// card number.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return fmt.Errorf("%w: malformed JSON body", backend.ErrInvalidRequest)
	}
	return nil
}

// writeError is the one place an error becomes a response.
func writeError(w http.ResponseWriter, err error) {
	code, status := backend.ErrorCode(err)
	msg := err.Error()
	if code == backend.CodeInternal {
		msg = "internal error"
	}
	body := backend.APIError{Code: code, Message: msg}
	if wait, ok := backend.RetryAfter(err); ok {
		body.RetryAfter = int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(body.RetryAfter))
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone; nothing to tell it
}
