// Package cardbin tells which bank issued a mainland Chinese card and whether it is a debit card,
// from the card's leading digits (its BIN, bank identification number).
//
// The table is the MIT-licensed data of hexindai/bcbc, embedded with its licence (see data/).
// It is dated: a miss means "unknown bank, ask the merchant", never "invalid card".
package cardbin

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

//go:embed data/bin.csv data/name.csv data/LICENSE data/README.md
var data embed.FS

// Card types as the table spells them.
const (
	TypeDebit      = "DC"  // 借记卡
	TypeCredit     = "CC"  // 贷记卡
	TypeSemiCredit = "SCC" // 准贷记卡
	TypePrepaid    = "PC"  // 预付费卡
)

// Card is what the table knows about the cards that start with BIN.
type Card struct {
	BIN      string
	BankCode string // e.g. "ICBC"
	BankName string // e.g. "中国工商银行"
	Type     string // TypeDebit, TypeCredit, TypeSemiCredit or TypePrepaid
	Length   int    // length of the whole card number
}

// Bank is one issuer, for a "choose your bank" list.
type Bank struct {
	Code string
	Name string
}

// Table is the parsed BIN table. It is never changed after Load, so one Table may be shared by
// every goroutine.
type Table struct {
	bins    map[string][]Card // by BIN; several cards share a BIN and differ by Length
	lengths []int             // the BIN lengths present, longest first
	names   map[string]string // bank code to name
	banks   []Bank            // in display order
}

// Load parses the embedded table.
func Load() (*Table, error) {
	names, err := readNames()
	if err != nil {
		return nil, err
	}
	t := &Table{bins: make(map[string][]Card), names: names}
	if err := t.readBINs(); err != nil {
		return nil, err
	}
	t.banks = sortedBanks(names)
	return t, nil
}

// Lookup finds the card that digits (a card number or its first digits, ASCII only) starts with.
// The longest matching BIN wins. A few BINs are shared by cards of different lengths (and even
// banks); then the one whose Length equals len(digits) is chosen, else the first in the table.
func (t *Table) Lookup(digits string) (Card, bool) {
	for _, n := range t.lengths {
		if n > len(digits) {
			continue
		}
		cards, ok := t.bins[digits[:n]]
		if !ok {
			continue
		}
		for _, c := range cards {
			if c.Length == len(digits) {
				return c, true
			}
		}
		return cards[0], true
	}
	return Card{}, false
}

// Banks lists every bank of the table: the big national banks first, then the rest by code.
// The slice is a copy: callers may change it.
func (t *Table) Banks() []Bank {
	return slices.Clone(t.banks)
}

// BankName returns the Chinese name of the bank with the given code.
func (t *Table) BankName(code string) (string, bool) {
	name, ok := t.names[code]
	return name, ok
}

// IsDebit reports whether typ is a debit card, the only kind a settlement may be paid to.
func IsDebit(typ string) bool {
	return typ == TypeDebit
}

func readNames() (map[string]string, error) {
	rows, err := readCSV("data/name.csv", []string{"bank", "name"})
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(rows))
	for i, r := range rows {
		code, name := r[0], r[1]
		if code == "" || name == "" {
			return nil, fmt.Errorf("name.csv line %d: empty field", i+2)
		}
		if _, dup := names[code]; dup {
			return nil, fmt.Errorf("name.csv line %d: duplicate bank %q", i+2, code)
		}
		names[code] = name
	}
	return names, nil
}

func (t *Table) readBINs() error {
	rows, err := readCSV("data/bin.csv", []string{"bin", "bank", "type", "length"})
	if err != nil {
		return err
	}
	seen := make(map[int]bool)
	for i, r := range rows {
		c, err := t.card(r)
		if err != nil {
			return fmt.Errorf("bin.csv line %d: %w", i+2, err)
		}
		for _, o := range t.bins[c.BIN] {
			if o.Length == c.Length {
				return fmt.Errorf("bin.csv line %d: duplicate bin %s for length %d", i+2, c.BIN, c.Length)
			}
		}
		t.bins[c.BIN] = append(t.bins[c.BIN], c)
		if !seen[len(c.BIN)] {
			seen[len(c.BIN)] = true
			t.lengths = append(t.lengths, len(c.BIN))
		}
	}
	slices.SortFunc(t.lengths, func(a, b int) int { return cmp.Compare(b, a) })
	return nil
}

func (t *Table) card(r []string) (Card, error) {
	c := Card{BIN: r[0], BankCode: r[1], Type: r[2]}
	if c.BIN == "" || !allDigits(c.BIN) {
		return Card{}, fmt.Errorf("bad bin %q", c.BIN)
	}
	name, ok := t.names[c.BankCode]
	if !ok {
		return Card{}, fmt.Errorf("unknown bank %q", c.BankCode)
	}
	c.BankName = name
	switch c.Type {
	case TypeDebit, TypeCredit, TypeSemiCredit, TypePrepaid:
	default:
		return Card{}, fmt.Errorf("unknown card type %q", c.Type)
	}
	n, err := strconv.Atoi(r[3])
	if err != nil || n <= len(c.BIN) || n > 19 {
		return Card{}, fmt.Errorf("bad length %q", r[3])
	}
	c.Length = n
	return c, nil
}

func readCSV(name string, header []string) ([][]string, error) {
	b, err := data.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(header)
	got, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", name, err)
	}
	if !slices.Equal(got, header) {
		return nil, fmt.Errorf("%s: header %v, want %v", name, got, header)
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		rows = append(rows, rec)
	}
}

func sortedBanks(names map[string]string) []Bank {
	// The big national banks come first, in this order: most merchants settle to one of them.
	major := []string{"ICBC", "CCB", "ABC", "BOC", "COMM", "PSBC", "CMB"}
	rank := make(map[string]int, len(major))
	for i, code := range major {
		rank[code] = i + 1
	}
	banks := make([]Bank, 0, len(names))
	for code, name := range names {
		banks = append(banks, Bank{Code: code, Name: name})
	}
	slices.SortFunc(banks, func(a, b Bank) int {
		ra, rb := rank[a.Code], rank[b.Code]
		switch {
		case ra != 0 && rb != 0:
			return cmp.Compare(ra, rb)
		case ra != 0:
			return -1
		case rb != 0:
			return 1
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return banks
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
