package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBodyBytes bounds a request body; Telegram accepts uploads of up to 50 MB.
const maxBodyBytes = 50 << 20

// Params is a request's parameters as the Bot API sees them: every value is text, whether it
// came from a query string, a form, a multipart part or a JSON body. A nested object
// (reply_markup, scope, allowed_updates) is its JSON text, which is how go-telegram/bot sends it
// and how Telegram reads it. An uploaded file's value is "file:" followed by its file name.
type Params map[string]string

// Has reports whether the request carried key at all.
func (p Params) Has(key string) bool {
	_, ok := p[key]
	return ok
}

// String returns the value of key, or "" when it is absent.
func (p Params) String(key string) string { return p[key] }

// Int64 returns key as an integer; ok is false when it is absent or not an integer.
func (p Params) Int64(key string) (n int64, ok bool) {
	v, found := p[key]
	if !found {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Int is Int64 narrowed to int.
func (p Params) Int(key string) (int, bool) {
	n, ok := p.Int64(key)
	return int(n), ok
}

// Bool reads key the way Telegram does: "true" and "1" (any case) are true, anything else false.
func (p Params) Bool(key string) bool {
	switch strings.ToLower(strings.TrimSpace(p[key])) {
	case "true", "1":
		return true
	}
	return false
}

// JSON decodes the JSON text of key into dest.
func (p Params) JSON(key string, dest any) error {
	v, ok := p[key]
	if !ok {
		return fmt.Errorf("param %s: absent", key)
	}
	if err := json.Unmarshal([]byte(v), dest); err != nil {
		return fmt.Errorf("param %s: %w", key, err)
	}
	return nil
}

var errBadBody = errors.New("can't parse request body")

// readParams merges the query string with the body; a body value wins over a query value.
func readParams(r *http.Request) (Params, error) {
	p := Params{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p[k] = vs[len(vs)-1]
		}
	}
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("%w: body too large", errBadBody)
	}
	if err := readBody(p, body, r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return p, nil
}

// readBody adds the parameters in body, of contentType, to p.
func readBody(p Params, body []byte, contentType string) error {
	// go-telegram/bot sends a multipart content type with an empty body for methods without
	// parameters (getMe).
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var err error
	mediaType, mtParams, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "multipart/form-data":
		err = readMultipart(p, body, mtParams["boundary"])
	case "application/x-www-form-urlencoded":
		err = readURLEncoded(p, body)
	case "application/json":
		err = readJSON(p, body)
	default:
		// Telegram guesses too: a body that looks like JSON is JSON.
		if body[0] == '{' {
			err = readJSON(p, body)
		} else {
			err = readURLEncoded(p, body)
		}
	}
	return err
}

func readMultipart(p Params, body []byte, boundary string) error {
	if boundary == "" {
		return fmt.Errorf("%w: multipart without boundary", errBadBody)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errBadBody, err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return fmt.Errorf("%w: %v", errBadBody, err)
		}
		if name := part.FileName(); name != "" {
			p[part.FormName()] = "file:" + name
			continue
		}
		p[part.FormName()] = string(data)
	}
}

func readURLEncoded(p Params, body []byte) error {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadBody, err)
	}
	for k, vs := range values {
		if len(vs) > 0 {
			p[k] = vs[len(vs)-1]
		}
	}
	return nil
}

func readJSON(p Params, body []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("%w: %v", errBadBody, err)
	}
	for k, raw := range fields {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("%w: %v", errBadBody, err)
			}
			p[k] = s
		case string(raw) == "null":
			// Telegram treats a null field as an absent one.
		default:
			p[k] = string(raw)
		}
	}
	return nil
}
