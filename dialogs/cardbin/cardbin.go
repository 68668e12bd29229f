// Package cardbin tells which bank issued a mainland Chinese card and whether it is a debit card,
// from the card's leading digits (its BIN, bank identification number).
//
// The table is the MIT-licensed data of hexindai/bcbc, embedded with its licence, with English
// names and common short names added by us (see data/README.md). It is dated: a miss means
// "unknown bank, ask the merchant", never "invalid card".
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

//go:embed data/bin.csv data/name.csv data/alias.csv data/LICENSE data/README.md
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

// Bank is one issuer.
type Bank struct {
	Code   string // e.g. "ICBC"
	Name   string // standard Chinese name, e.g. "中国工商银行"
	NameEN string // the bank's own English name, e.g. "Industrial and Commercial Bank of China"; "" when the table has none
}

// Table is the parsed BIN table. It is never changed after Load, so one Table may be shared by
// every goroutine.
type Table struct {
	bins    map[string][]Card // by BIN; several cards share a BIN and differ by Length
	lengths []int             // the BIN lengths present, longest first
	byCode  map[string]Bank   // every code of name.csv to its bank (a duplicate code to the bank it duplicates)
	banks   []Bank            // one per bank, in display order
	weight  map[string]int    // BIN rows per bank: how common its cards are, to rank suggestions
	names   bankNames         // what MatchBank recognises
}

// Load parses the embedded table.
func Load() (*Table, error) {
	banks, err := readNames()
	if err != nil {
		return nil, err
	}
	rows, err := readBINs(banks)
	if err != nil {
		return nil, err
	}
	t := &Table{bins: make(map[string][]Card), weight: make(map[string]int)}
	for _, c := range rows {
		t.weight[c.BankCode]++
	}
	t.byCode = mergeSameNames(banks, t.weight)
	t.weight = make(map[string]int)
	if err := t.addCards(rows); err != nil {
		return nil, err
	}
	t.banks = sortedBanks(t.byCode)
	aliases, err := readAliases(t.byCode)
	if err != nil {
		return nil, err
	}
	t.names = indexNames(t.banks, aliases)
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

// Banks lists every bank of the table once: the big national banks first, then the rest by code.
// The slice is a copy: callers may change it.
func (t *Table) Banks() []Bank {
	return slices.Clone(t.banks)
}

// BankByCode returns the bank with the given code. A code the source table gives twice for one
// bank (洛阳银行 is BOL and LYBANK) returns that one bank, under the code Lookup reports.
func (t *Table) BankByCode(code string) (Bank, bool) {
	b, ok := t.byCode[code]
	return b, ok
}

// BankName returns the standard Chinese name of the bank with the given code.
func (t *Table) BankName(code string) (string, bool) {
	b, ok := t.byCode[code]
	return b.Name, ok
}

// IsDebit reports whether typ is a debit card, the only kind a settlement may be paid to.
func IsDebit(typ string) bool {
	return typ == TypeDebit
}

// rawBank is a row of name.csv.
type rawBank struct {
	Bank
	order int // the row, for a stable choice between duplicates
}

func readNames() ([]rawBank, error) {
	rows, err := readCSV("data/name.csv", []string{"bank", "name", "name_en"})
	if err != nil {
		return nil, err
	}
	banks := make([]rawBank, 0, len(rows))
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		code, name, en := r[0], r[1], r[2]
		if code == "" || name == "" {
			return nil, fmt.Errorf("name.csv line %d: empty field", i+2)
		}
		if seen[code] {
			return nil, fmt.Errorf("name.csv line %d: duplicate bank %q", i+2, code)
		}
		seen[code] = true
		banks = append(banks, rawBank{Bank{Code: code, Name: name, NameEN: en}, i})
	}
	return banks, nil
}

// mergeSameNames maps every code to its bank. The source table lists some banks under two codes
// (星展银行 as DBS and DBSCN, 东亚银行 with and without 有限公司): they become one bank, under the
// code with the most BINs, so that a card's bank and a typed bank compare equal by code.
func mergeSameNames(banks []rawBank, weight map[string]int) map[string]Bank {
	groups := make(map[string][]rawBank)
	for _, b := range banks {
		k := nameKey(b.Name)
		groups[k] = append(groups[k], b)
	}
	byCode := make(map[string]Bank, len(banks))
	for _, g := range groups {
		slices.SortFunc(g, func(a, b rawBank) int {
			if c := cmp.Compare(weight[b.Code], weight[a.Code]); c != 0 {
				return c
			}
			return cmp.Compare(a.order, b.order)
		})
		bank := g[0].Bank
		for _, o := range g[1:] {
			if bank.NameEN == "" {
				bank.NameEN = o.NameEN
			}
			if len(o.Name) < len(bank.Name) { // the name without 有限公司 is the one people use
				bank.Name = o.Name
			}
		}
		for _, o := range g {
			byCode[o.Code] = bank
		}
	}
	return byCode
}

func readAliases(byCode map[string]Bank) ([]alias, error) {
	rows, err := readCSV("data/alias.csv", []string{"bank", "alias"})
	if err != nil {
		return nil, err
	}
	aliases := make([]alias, 0, len(rows))
	for i, r := range rows {
		b, ok := byCode[r[0]]
		if !ok {
			return nil, fmt.Errorf("alias.csv line %d: unknown bank %q", i+2, r[0])
		}
		if nameKey(r[1]) == "" {
			return nil, fmt.Errorf("alias.csv line %d: empty alias", i+2)
		}
		aliases = append(aliases, alias{code: b.Code, name: r[1]})
	}
	return aliases, nil
}

// readBINs reads bin.csv with the banks as name.csv codes them.
func readBINs(banks []rawBank) ([]Card, error) {
	rows, err := readCSV("data/bin.csv", []string{"bin", "bank", "type", "length"})
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(banks))
	for _, b := range banks {
		known[b.Code] = true
	}
	cards := make([]Card, 0, len(rows))
	for i, r := range rows {
		c, err := card(r, known)
		if err != nil {
			return nil, fmt.Errorf("bin.csv line %d: %w", i+2, err)
		}
		cards = append(cards, c)
	}
	return cards, nil
}

// addCards indexes the cards under their merged bank.
func (t *Table) addCards(cards []Card) error {
	seen := make(map[int]bool)
	for i, c := range cards {
		b := t.byCode[c.BankCode]
		c.BankCode, c.BankName = b.Code, b.Name
		for _, o := range t.bins[c.BIN] {
			if o.Length == c.Length {
				return fmt.Errorf("bin.csv line %d: duplicate bin %s for length %d", i+2, c.BIN, c.Length)
			}
		}
		t.bins[c.BIN] = append(t.bins[c.BIN], c)
		t.weight[c.BankCode]++
		if !seen[len(c.BIN)] {
			seen[len(c.BIN)] = true
			t.lengths = append(t.lengths, len(c.BIN))
		}
	}
	slices.SortFunc(t.lengths, func(a, b int) int { return cmp.Compare(b, a) })
	return nil
}

func card(r []string, known map[string]bool) (Card, error) {
	c := Card{BIN: r[0], BankCode: r[1], Type: r[2]}
	if c.BIN == "" || !allDigits(c.BIN) {
		return Card{}, fmt.Errorf("bad bin %q", c.BIN)
	}
	if !known[c.BankCode] {
		return Card{}, fmt.Errorf("unknown bank %q", c.BankCode)
	}
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

func sortedBanks(byCode map[string]Bank) []Bank {
	// The big national banks come first, in this order: most merchants settle to one of them.
	major := []string{"ICBC", "CCB", "ABC", "BOC", "COMM", "PSBC", "CMB"}
	rank := make(map[string]int, len(major))
	for i, code := range major {
		rank[code] = i + 1
	}
	banks := make([]Bank, 0, len(byCode))
	for code, b := range byCode {
		if code == b.Code { // once per bank
			banks = append(banks, b)
		}
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
