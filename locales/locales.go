// Package locales holds the bot's message files (go-i18n TOML, one per
// language) embedded in the binary, and renders them.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages the bot speaks; the first is the default.
const (
	Chinese = "zh-Hans"
	English = "en"
)

//go:embed *.toml
var files embed.FS

// Catalog renders message ids in a language. It is safe for concurrent use.
type Catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
}

// Load parses the embedded message files.
func Load() (*Catalog, error) {
	return LoadFS(files)
}

// LoadFS parses every *.toml file of fsys (tests use it on broken files).
func LoadFS(fsys fs.FS) (*Catalog, error) {
	bundle := i18n.NewBundle(language.MustParse(Chinese))
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	for _, name := range names {
		if _, err := bundle.LoadMessageFileFS(fsys, name); err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
	}
	c := &Catalog{bundle: bundle, localizers: map[string]*i18n.Localizer{}}
	for _, lang := range []string{Chinese, English} {
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
	}
	// go-i18n parses templates on first use; a broken one must stop the
	// start, not a merchant's dialog.
	for _, name := range names {
		ids, err := IDs(fsys, name)
		if err != nil {
			return nil, err
		}
		lang := strings.TrimSuffix(name, ".toml")
		for _, id := range ids {
			if _, err := c.Localize(lang, id, nil); err != nil {
				return nil, fmt.Errorf("%s: message %q: %w", name, id, err)
			}
		}
	}
	return c, nil
}

// Render returns message id in lang (the default language when lang is not
// one of ours). A missing id or a template that does not render comes back
// as the id itself so a merchant never sees an empty message; tests make sure
// that never happens.
func (c *Catalog) Render(lang, id string, args map[string]any) string {
	s, err := c.Localize(lang, id, args)
	if err != nil {
		return id
	}
	return s
}

// Localize is Render with the error.
func (c *Catalog) Localize(lang, id string, args map[string]any) (string, error) {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Chinese]
	}
	return l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: args})
}

// IDs lists the message ids a language file defines, sorted.
func IDs(fsys fs.FS, file string) ([]string, error) {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := toml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// Files is the embedded message files.
func Files() fs.FS { return files }

// Normalize maps a client language code to one of ours: zh* is Chinese,
// any other code English; no code at all keeps the default, Chinese.
func Normalize(code string) string {
	if len(code) >= 2 && (code[:2] == "zh" || code[:2] == "ZH") {
		return Chinese
	}
	if code == "" {
		return Chinese
	}
	return English
}
