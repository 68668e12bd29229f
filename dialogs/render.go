package dialogs

import (
	"strings"

	"github.com/merchantbot/merchantbot/locales"
)

// Renderer turns Replies into text in the merchant's language.
type Renderer struct {
	catalog *locales.Catalog
	escape  func(string) string
}

// NewRenderer renders with c. escape is applied to every argument that is
// not our own text (merchant input, names from the backend); nil leaves them
// as they are. Telegram's HTML mode passes html.EscapeString.
func NewRenderer(c *locales.Catalog, escape func(string) string) *Renderer {
	if escape == nil {
		escape = func(s string) string { return s }
	}
	return &Renderer{catalog: c, escape: escape}
}

// Text renders one message id.
func (r *Renderer) Text(lang string, key MsgID, args Arg) string {
	if len(args) == 0 {
		return r.catalog.Render(lang, string(key), nil)
	}
	data := make(map[string]any, len(args))
	for k, v := range args {
		switch v := v.(type) {
		case Text:
			data[k] = r.Text(lang, v.Key, v.Args)
		case string:
			data[k] = r.escape(v)
		default:
			data[k] = v
		}
	}
	return r.catalog.Render(lang, string(key), data)
}

// Reply renders a reply's text: its message, then each line.
func (r *Renderer) Reply(lang string, rep Reply) string {
	if len(rep.Lines) == 0 {
		return r.Text(lang, rep.Key, rep.Args)
	}
	var b strings.Builder
	b.WriteString(r.Text(lang, rep.Key, rep.Args))
	for _, l := range rep.Lines {
		b.WriteByte('\n')
		b.WriteString(r.Text(lang, l.Key, l.Args))
	}
	return b.String()
}

// Button renders a button's label.
func (r *Renderer) Button(lang string, b Button) string { return r.Text(lang, b.Key, b.Args) }
