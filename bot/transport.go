package bot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// wholeBody sends each request body in one piece with a Content-Length.
// go-telegram/bot streams every call's multipart form through an io.Pipe, so
// net/http sent it chunked, in many small writes: a load profile showed
// 16-20 % of serve's CPU in those writes' syscalls (docs/PERFORMANCE.md). A
// Bot API body is a few KiB, so holding it whole costs nothing.
type wholeBody struct{ next http.RoundTripper }

func (t wholeBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return t.next.RoundTrip(req)
	}
	var buf bytes.Buffer
	buf.Grow(4 << 10) // most calls fit: one allocation, no regrowth
	_, err := buf.ReadFrom(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	body := buf.Bytes()
	// A RoundTripper must not change the caller's request; a shallow copy
	// whose headers it leaves alone is enough.
	r := *req
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.TransferEncoding = nil
	return t.next.RoundTrip(&r)
}
