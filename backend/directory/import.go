package directory

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// Columns of the directory file. Every one is required in the header but
// business, whose cells may also be empty.
const (
	ColMerchantNo = "merchant_no"
	ColSubMchID   = "sub_mchid"
	ColName       = "name"
	ColBusiness   = "business"
	ColKind       = "kind"
	ColPhone      = "phone"
)

var required = []string{ColMerchantNo, ColSubMchID, ColName, ColKind, ColPhone}

// Header is a directory file's header line with every column.
const Header = ColMerchantNo + "," + ColSubMchID + "," + ColName + "," + ColBusiness + "," + ColKind + "," + ColPhone

// Limits of a directory file's cells.
const (
	MinSubMchID = 8   // digits of an acquirer's merchant id (WeChat Pay's sub_mchid: 10)
	MaxSubMchID = 20  //
	MaxName     = 100 // characters of a registered or shop name
)

// kinds are the words the kind column takes, once trimmed and lower-cased.
var kinds = map[string]backend.MerchantKind{
	"individual": backend.KindIndividual,
	"个体户":        backend.KindIndividual,
	"个体工商户":      backend.KindIndividual,
	"小微":         backend.KindIndividual,
	"小微商户":       backend.KindIndividual,
	"company":    backend.KindCompany,
	"企业":         backend.KindCompany,
}

// Problem is one thing wrong with a directory file: its line (1 is the
// header; 0 when it concerns the whole file), the column, and what is wrong.
// It never holds a phone in full.
type Problem struct {
	Line   int
	Column string
	Msg    string
}

func (p Problem) String() string {
	switch {
	case p.Line == 0:
		return p.Msg
	case p.Column == "":
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Msg)
}

// ImportError is a directory file refused: every problem found, in file
// order. Nothing was written.
type ImportError struct{ Problems []Problem }

// maxListed bounds the problems Error lists; Problems holds them all.
const maxListed = 50

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "directory: the file has %d problem(s), nothing was imported", len(e.Problems))
	for i, p := range e.Problems {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-maxListed)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Import reads a directory file (CSV, UTF-8, a header naming the columns in
// any order, see Col*) and makes it the whole directory, replacing the one
// in use at once: a look-up sees the old directory or the new one, never a
// mix, and merchants missing from the file are gone. Every row is checked
// first; when any is wrong Import returns an *ImportError listing them all
// and writes nothing.
//
// Cells are trimmed; a byte-order mark, CRLF line ends, full-width digits
// and the spaces and dashes people put inside numbers are accepted. The
// phone is an 11-digit mainland mobile (+86 allowed).
func (d *Directory) Import(ctx context.Context, r io.Reader) (Result, error) {
	entries, err := read(r)
	if err != nil {
		return Result{}, err
	}
	return d.replace(ctx, entries)
}

// read reads and checks a directory file: the entries, or an *ImportError.
func read(r io.Reader) ([]stored, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		_, _ = br.Discard(3) // Excel's "CSV UTF-8" starts with one
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counted here, so that every short row is reported
	var problems []Problem
	fail := func(line int, col, format string, args ...any) {
		problems = append(problems, Problem{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ImportError{Problems: []Problem{{Msg: "the file is empty: want a header line (" + Header + ") and a line per merchant"}}}
	}
	if err != nil {
		return nil, &ImportError{Problems: []Problem{csvProblem(err)}}
	}
	headerLine, _ := cr.FieldPos(0) // blank lines before it are skipped
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case ColMerchantNo, ColSubMchID, ColName, ColBusiness, ColKind, ColPhone:
			if _, dup := col[h]; dup {
				fail(headerLine, "", "column %s named twice", h)
			}
			col[h] = i
		default:
			fail(headerLine, "", "unknown column %q (the columns are %s, %s, %s, %s, %s, %s)", short(h),
				ColMerchantNo, ColSubMchID, ColName, ColBusiness, ColKind, ColPhone)
		}
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			fail(headerLine, "", "column %s is missing", c)
		}
	}
	if len(problems) > 0 {
		return nil, &ImportError{Problems: problems}
	}
	byNo := map[string]int{}  // merchant no → line
	bySub := map[string]int{} // sub_mchid → line
	var entries []stored
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			problems = append(problems, csvProblem(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue // the reader goes on with the next record
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			fail(line, "", "%d cells, the header has %d", len(rec), len(header))
			continue
		}
		e, bad := readRow(rec, col)
		for _, p := range bad {
			p.Line = line
			problems = append(problems, p)
		}
		if len(bad) > 0 {
			continue
		}
		if first, dup := byNo[e.MerchantNo]; dup {
			fail(line, ColMerchantNo, "merchant %s is already on line %d", e.MerchantNo, first)
			continue
		}
		if first, dup := bySub[e.SubMchID]; dup {
			fail(line, ColSubMchID, "%s is already on line %d (one acquirer merchant, one merchant number)", e.SubMchID, first)
			continue
		}
		byNo[e.MerchantNo], bySub[e.SubMchID] = line, line
		entries = append(entries, e)
	}
	if len(problems) == 0 && len(entries) == 0 {
		fail(0, "", "the file has a header but no merchant")
	}
	if len(problems) > 0 {
		return nil, &ImportError{Problems: problems}
	}
	return entries, nil
}

// readRow checks one row's cells; the problems have no line yet.
func readRow(rec []string, col map[string]int) (stored, []Problem) {
	var bad []Problem
	fail := func(c, format string, args ...any) {
		bad = append(bad, Problem{Column: c, Msg: fmt.Sprintf(format, args...)})
	}
	cell := func(c string) string {
		i, ok := col[c]
		if !ok {
			return ""
		}
		return strings.TrimFunc(rec[i], func(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' })
	}
	for _, c := range []string{ColMerchantNo, ColSubMchID, ColName, ColBusiness, ColKind, ColPhone} {
		if !utf8.ValidString(cell(c)) {
			fail(c, "not UTF-8 text (save the file as CSV UTF-8)")
			return stored{}, bad
		}
	}
	var e stored
	var err error
	if e.MerchantNo, err = parse.MerchantNo(cell(ColMerchantNo)); err != nil {
		fail(ColMerchantNo, "want the 15-digit merchant number (%s)", err)
	}
	e.SubMchID = parse.Digits(cell(ColSubMchID))
	switch n := len(e.SubMchID); {
	case n == 0:
		fail(ColSubMchID, "empty")
	case !parse.AllDigits(e.SubMchID):
		fail(ColSubMchID, "want digits only")
	case n < MinSubMchID || n > MaxSubMchID:
		fail(ColSubMchID, "%d digits, want %d to %d", n, MinSubMchID, MaxSubMchID)
	}
	if e.Name, err = name(cell(ColName), true); err != nil {
		fail(ColName, "%s", err)
	}
	if e.Business, err = name(cell(ColBusiness), false); err != nil {
		fail(ColBusiness, "%s", err)
	}
	kind := cell(ColKind)
	if e.Kind = kinds[strings.ToLower(kind)]; e.Kind == "" {
		fail(ColKind, "%q is not a kind: want individual (个体户, 小微) or company (企业)", short(kind))
	}
	raw := cell(ColPhone)
	if e.Phone, err = parse.MobilePhone(raw); err != nil {
		// The cell is shown masked, never in full: it may be a real phone
		// with a typo.
		fail(ColPhone, "%s is not an 11-digit mainland mobile number (%s)", maskBadPhone(raw), err)
	}
	return e, bad
}

// name reads a registered or shop name: trimmed, inner runs of spaces made
// one, no control characters, at most MaxName characters.
func name(s string, needed bool) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch n := utf8.RuneCountInString(s); {
	case n == 0 && needed:
		return "", errors.New("empty")
	case n > MaxName:
		return "", fmt.Errorf("%d characters, at most %d", n, MaxName)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "", errors.New("holds control or invisible characters")
	}
	return s, nil
}

// short keeps an echoed cell short and free of numbers that might be a
// phone: any run of digits is masked.
func short(s string) string {
	if r := []rune(s); len(r) > 20 {
		s = string(r[:20]) + "…"
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			r = '*'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maskBadPhone shows a phone cell that is not a mobile number without
// giving it away: masked as phones are (138****0001) when it has 11 digits,
// otherwise only its length and last two digits.
func maskBadPhone(raw string) string {
	d := parse.Digits(raw)
	var ds []byte
	for i := 0; i < len(d); i++ {
		if d[i] >= '0' && d[i] <= '9' {
			ds = append(ds, d[i])
		}
	}
	switch {
	case len(ds) == 0:
		return "the cell"
	case len(ds) == 11:
		return parse.MaskPhone(string(ds))
	case len(ds) < 4:
		return fmt.Sprintf("%d digit(s)", len(ds))
	}
	return fmt.Sprintf("%d digits ending %s", len(ds), ds[len(ds)-2:])
}

// csvProblem turns a CSV syntax error into a Problem on its line.
func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.Line, Msg: "CSV syntax: " + pe.Err.Error() + " at column " + strconv.Itoa(pe.Column)}
	}
	return Problem{Msg: "read the file: " + err.Error()}
}
