package guidedtest

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/merchantbot/merchantbot/locales"
)

// Recogniser tells which message ids of the bot's own catalog (locales/, in
// every language) a text the bot sent renders from, so that the simulated
// merchant reads the bot by id, as the dialog writes it, and a reworded
// message changes nothing. A message is its reply's id followed by lines of
// other ids (dialogs.Renderer.Reply), each a template whose {{.Args}} may be
// anything; a part of a message that no template matches is reported, never
// guessed at.
type Recogniser struct {
	byFirst  map[rune][]*idPattern // templates that start with literal text, by its first rune
	wildcard []*idPattern          // templates that start with an argument
	labels   []*idPattern          // every template, for button labels
	labelIDs sync.Map              // label → id: the same few labels come back all run long
	messages sync.Map              // text → ids read: a load run's merchants see the same questions
}

type idPattern struct {
	id      string
	prefix  string         // literal text before the first argument
	literal int            // bytes of literal text: the more, the surer the match
	after   string         // the literal text after the first argument: a cheap test first
	lits    []string       // the literal texts around the arguments (one more than there are arguments)
	label   *regexp.Regexp // a whole button label
}

var templateArg = regexp.MustCompile(`\{\{[^}]*\}\}`)

// NewRecogniser compiles every message of the embedded locale files.
func NewRecogniser() (*Recogniser, error) {
	r := &Recogniser{byFirst: map[rune][]*idPattern{}}
	files := locales.Files()
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		var messages map[string]any
		if err := toml.Unmarshal(raw, &messages); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for id, v := range messages {
			tmpl, ok := v.(string)
			if !ok {
				if m, isMap := v.(map[string]any); isMap {
					tmpl, ok = m["other"].(string)
				}
			}
			if !ok {
				return nil, fmt.Errorf("%s: message %q is not a string", name, id)
			}
			p := compileTemplate(id, tmpl)
			r.labels = append(r.labels, p)
			switch {
			case p.literal == 0: // "{{.Name}}" would match any line
			case p.prefix == "":
				r.wildcard = append(r.wildcard, p)
			default:
				first, _ := utf8.DecodeRuneInString(p.prefix)
				r.byFirst[first] = append(r.byFirst[first], p)
			}
		}
	}
	return r, nil
}

func compileTemplate(id, tmpl string) *idPattern {
	var body strings.Builder
	p := &idPattern{id: id}
	last := 0
	for i, loc := range templateArg.FindAllStringIndex(tmpl, -1) {
		lit := tmpl[last:loc[0]]
		if i == 0 {
			p.prefix = lit
		}
		if i == 1 {
			p.after = lit
		}
		p.literal += len(strings.TrimSpace(lit))
		p.lits = append(p.lits, lit)
		body.WriteString(regexp.QuoteMeta(lit))
		body.WriteString(`(?s:.*?)`)
		last = loc[1]
	}
	if last == 0 {
		p.prefix = tmpl
	} else if p.after == "" {
		p.after = tmpl[last:]
	}
	p.literal += len(strings.TrimSpace(tmpl[last:]))
	body.WriteString(regexp.QuoteMeta(tmpl[last:]))
	p.lits = append(p.lits, tmpl[last:])
	p.label = regexp.MustCompile(`^(?:` + body.String() + `)\z`)
	return p
}

// Message returns the ids text renders from, in order, or an error naming
// the first part of it no template matches.
func (r *Recogniser) Message(text string) ([]string, error) {
	if ids, ok := r.messages.Load(text); ok {
		return slices.Clip(ids.([]string)), nil
	}
	ids, err := r.message(text)
	if err == nil {
		r.messages.Store(text, ids)
	}
	return slices.Clip(ids), err
}

func (r *Recogniser) message(text string) ([]string, error) {
	var ids []string
	for pos := 0; pos < len(text); {
		rest := text[pos:]
		if rest[0] == '\n' { // an empty line between parts
			pos++
			continue
		}
		first, _ := utf8.DecodeRuneInString(rest)
		var best *idPattern
		bestEnd := 0
		try := func(p *idPattern) {
			if !strings.HasPrefix(rest, p.prefix) || !strings.Contains(rest, p.after) {
				return
			}
			end, ok := matchRest(rest, len(p.lits[0]), p.lits[1:])
			if !ok {
				return
			}
			if best == nil || p.literal > best.literal || (p.literal == best.literal && end > bestEnd) {
				best, bestEnd = p, end
			}
		}
		for _, p := range r.byFirst[first] {
			try(p)
		}
		for _, p := range r.wildcard {
			try(p)
		}
		if best == nil {
			line, _, _ := strings.Cut(rest, "\n")
			return ids, fmt.Errorf("no message id renders %q", clip(Normalise(line), 80))
		}
		ids = append(ids, best.id)
		pos += bestEnd
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("an empty message")
	}
	return ids, nil
}

// matchRest matches what follows a template's first literal text, from pos
// of s: each of lits preceded by an argument (any text, the shortest that
// lets the rest match, as a regexp's (?s:.*?) would), the last one ending at
// a line end or the end of s. It returns the end, past the line's '\n'.
// Plain string search: a load run reads every message several times, and
// the harness's CPU is taken from the bot's.
func matchRest(s string, pos int, lits []string) (int, bool) {
	if len(lits) == 0 {
		switch {
		case pos == len(s):
			return pos, true
		case s[pos] == '\n':
			return pos + 1, true
		}
		return 0, false
	}
	for from := pos; from <= len(s); {
		i := strings.Index(s[from:], lits[0])
		if i < 0 {
			return 0, false
		}
		at := from + i
		if end, ok := matchRest(s, at+len(lits[0]), lits[1:]); ok {
			return end, true
		}
		from = at + 1
	}
	return 0, false
}

// Label returns the id a button label renders from ("" when none does): the
// template with the most literal text that matches it whole.
func (r *Recogniser) Label(text string) string {
	if id, ok := r.labelIDs.Load(text); ok {
		return id.(string)
	}
	var best *idPattern
	for _, p := range r.labels {
		if (best == nil || p.literal > best.literal) && strings.HasPrefix(text, p.prefix) && p.label.MatchString(text) {
			best = p
		}
	}
	id := ""
	if best != nil {
		id = best.id
	}
	r.labelIDs.Store(text, id)
	return id
}

// IDs lists every id the Recogniser knows, sorted, once each.
func (r *Recogniser) IDs() []string {
	seen := map[string]bool{}
	var ids []string
	for _, p := range r.labels {
		if !seen[p.id] {
			seen[p.id] = true
			ids = append(ids, p.id)
		}
	}
	sort.Strings(ids)
	return ids
}
