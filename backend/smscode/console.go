package smscode

import (
	"context"
	"fmt"
	"io"

	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// Console is the provider for demos (SMS=log): no SMS leaves, the code is
// printed to w — the console's SMS writer, serve's standard output — marked
// as a demo, as the sandbox prints its codes. Logs never hold the code.
type Console struct{ w io.Writer }

// NewConsole returns the demo provider printing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Send prints the code with the phone masked.
func (c *Console) Send(_ context.Context, phone, code string) error {
	_, err := fmt.Fprintf(c.w, "[demo SMS to %s] verification code %s\n", parse.MaskPhone(phone), code)
	return err
}
