package cardbin

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// MatchBank recognises the bank a merchant typed: its standard name, a common short name
// (工行, 建行, 招行, ICBC, BOCOM …), its full legal name (…股份有限公司, … Co., Ltd.), its English
// name, traditional characters, with or without a few words around it ("开户行是工行",
// "中国银行上海分行"). Width, case, spaces and punctuation do not matter.
//
// ok is true only for one bank. Otherwise closest holds up to three banks the text looks like
// (a typo, a part of a name, a name two banks share), the likeliest first, for the merchant to
// choose from; it is empty for text that looks like no bank ("是的", "yes", "xx", "-1", a phone
// number).
func (t *Table) MatchBank(text string) (b Bank, ok bool, closest []Bank) {
	q := nameKey(text)
	if !strings.ContainsFunc(q, unicode.IsLetter) || len(q) > maxQuery {
		return Bank{}, false, nil
	}
	for _, k := range unwrap(q) {
		if codes := t.names.lookup(k); len(codes) == 1 {
			return t.byCode[codes[0]], true, nil
		} else if len(codes) > 1 {
			return Bank{}, false, t.ranked(codes)
		}
	}
	if codes := t.names.branchOf(q); len(codes) == 1 {
		return t.byCode[codes[0]], true, nil
	} else if len(codes) > 1 {
		return Bank{}, false, t.ranked(codes)
	}
	return Bank{}, false, t.nearest(q)
}

// maxQuery bounds the text MatchBank reads, in bytes after nameKey: a bank's full legal name with
// a branch fits easily; a pasted essay is not a bank name.
const maxQuery = 240

// maxClosest is how many suggestions MatchBank gives.
const maxClosest = 3

// alias is a short name of a bank, from alias.csv.
type alias struct {
	code, name string
}

// bankNames holds the keys (see nameKey) banks are known by. exact keys are names, English names
// and aliases; variant keys are derived spellings (农商行 for 农村商业银行, 湖州银行 for
// 湖州市商业银行), used only where no exact key matches.
type bankNames struct {
	exact, variant map[string][]string // key to bank codes
	fuzzy          []fuzzyKey          // every key, for near misses
}

type fuzzyKey struct {
	key  []rune
	code string
}

func indexNames(banks []Bank, aliases []alias) bankNames {
	n := bankNames{exact: make(map[string][]string), variant: make(map[string][]string)}
	add := func(m map[string][]string, key, code string) {
		if key != "" && !slices.Contains(m[key], code) {
			m[key] = append(m[key], code)
		}
	}
	for _, b := range banks {
		add(n.exact, nameKey(b.Name), b.Code)
		add(n.exact, nameKey(b.NameEN), b.Code)
		for _, v := range variants(b.Name) {
			add(n.variant, v, b.Code)
		}
	}
	for _, a := range aliases {
		add(n.exact, nameKey(a.name), a.code)
	}
	for k := range n.variant {
		if _, ok := n.exact[k]; ok {
			delete(n.variant, k) // an exact name wins: 郑州银行 is ZZBANK, not 郑州商业银行
		}
	}
	for _, m := range []map[string][]string{n.exact, n.variant} {
		for k, codes := range m {
			for _, code := range codes {
				n.fuzzy = append(n.fuzzy, fuzzyKey{[]rune(k), code})
			}
		}
	}
	slices.SortFunc(n.fuzzy, func(a, b fuzzyKey) int { // map order must not reach the result
		if c := slices.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.code, b.code)
	})
	return n
}

func (n bankNames) lookup(key string) []string {
	if codes, ok := n.exact[key]; ok {
		return codes
	}
	return n.variant[key]
}

// branchSuffix ends the name of a branch, typed after its bank ("工行上海分行").
var branchSuffix = regexp.MustCompile(`(分行|支行|营业部|分理处|储蓄所|营业所|分社)$`)

// branchOf finds the bank of a branch: the longest bank key that q starts with, the rest naming
// a branch.
func (n bankNames) branchOf(q string) []string {
	if !branchSuffix.MatchString(q) {
		return nil
	}
	r := []rune(q)
	for i := len(r) - 1; i >= 2; i-- {
		if codes := n.lookup(string(r[:i])); len(codes) > 0 {
			return codes
		}
	}
	return nil
}

// ranked returns the banks of codes, the most common first, at most maxClosest.
func (t *Table) ranked(codes []string) []Bank {
	codes = slices.Clone(codes)
	slices.SortFunc(codes, func(a, b string) int {
		if c := cmp.Compare(t.weight[b], t.weight[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var banks []Bank
	for _, c := range codes {
		b := t.byCode[c]
		if !slices.Contains(banks, b) {
			banks = append(banks, b)
		}
		if len(banks) == maxClosest {
			break
		}
	}
	return banks
}

// nearest suggests the banks whose keys q is close to: within a small edit distance, or one
// holding the other ("工商" and 工商银行, "不是工行" and 工行). Two-letter junk ("xx", "是的")
// is close to nothing.
func (t *Table) nearest(q string) []Bank {
	qr := []rune(q)
	limit := 0
	switch {
	case len(qr) >= 6:
		limit = 2
	case len(qr) >= 3:
		limit = 1
	}
	score := make(map[string]int) // bank code to its best score, lower is closer
	for _, k := range t.names.fuzzy {
		s, ok := closeness(qr, k.key, limit)
		if !ok {
			continue
		}
		if old, seen := score[k.code]; !seen || s < old {
			score[k.code] = s
		}
	}
	codes := make([]string, 0, len(score))
	for c := range score {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if c := cmp.Compare(score[a], score[b]); c != 0 {
			return c
		}
		if c := cmp.Compare(t.weight[b], t.weight[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(codes) > maxClosest {
		codes = codes[:maxClosest]
	}
	banks := make([]Bank, 0, len(codes))
	for _, c := range codes {
		banks = append(banks, t.byCode[c])
	}
	if len(banks) == 0 {
		return nil
	}
	return banks
}

// closeness scores how close q is to key: 2d-1 for an edit distance d within limit, 2 when one
// holds the other (the shorter having at least two letters, or four in Latin script).
func closeness(q, key []rune, limit int) (int, bool) {
	if d := editDistance(q, key, limit); d <= limit && d > 0 {
		return 2*d - 1, true
	}
	short, long := q, key
	if len(short) > len(long) {
		short, long = long, short
	}
	min := 2
	if !slices.ContainsFunc(short, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		min = 4
	}
	if len(short) >= min && strings.Contains(string(long), string(short)) {
		return 2, true
	}
	return 0, false
}

// editDistance is the Levenshtein distance of a and b, or limit+1 when it exceeds limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nameKey is the form names are compared in: full-width folded, traditional characters of bank
// names simplified, lower case, letters and digits only, without a leading "the" and without
// the legal form (股份有限公司, Co., Ltd.).
func nameKey(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if t, ok := simplified[r]; ok {
			r = t
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	k := strings.TrimPrefix(b.String(), "the")
	return trimLegalSuffix(k)
}

// legalSuffixes are the legal forms a bank's full name ends with, longest first.
var legalSuffixes = []string{
	"股份有限公司", "有限责任公司", "有限公司", "股份公司", "公司",
	"companylimited", "colimited", "coltd", "limited", "ltd", "corporation", "corp", "plc",
}

// trimLegalSuffix removes the legal forms s, a key in the making, ends with.
func trimLegalSuffix(s string) string {
	for {
		cut := false
		for _, suf := range legalSuffixes {
			if rest, ok := strings.CutSuffix(s, suf); ok && rest != "" {
				s, cut = rest, true
			}
		}
		if !cut {
			return s
		}
	}
}

// fillers are words around a bank name in an answer ("开户行是工行", "建行的卡").
var (
	leadFillers  = []string{"我的", "开户银行", "开户行", "开户", "银行是", "卡是", "应该是", "就是", "是", "在", "为"}
	trailFillers = []string{"银行卡", "借记卡", "储蓄卡", "的卡", "卡", "的", "吧", "啊", "呀", "哦", "啦", "呢"}
)

// unwrap returns q, then q without the filler words around it, each step on its own.
func unwrap(q string) []string {
	keys := []string{q}
	for {
		k := keys[len(keys)-1]
		for _, f := range leadFillers {
			if rest, ok := strings.CutPrefix(k, f); ok && rest != "" {
				k = rest
				break
			}
		}
		for _, f := range trailFillers {
			if rest, ok := strings.CutSuffix(k, f); ok && rest != "" {
				k = rest
				break
			}
		}
		if k == keys[len(keys)-1] {
			return keys
		}
		keys = append(keys, k)
	}
}

// variants are the other ways people write name: without the bracketed country
// (花旗银行（中国）), 农商银行/农商行 for 农村商业银行, without 省 or 市, and XX银行 for the
// old XX市商业银行 form most city banks have since been renamed from.
func variants(name string) []string {
	if i := strings.IndexAny(name, "（("); i > 0 {
		name = name[:i]
	}
	k := nameKey(name)
	set := []string{k}
	rules := []struct{ old, new string }{
		{"农村商业银行", "农商银行"},
		{"农村商业银行", "农商行"},
		{"农村信用社", "农信社"},
		{"省", ""},
		{"市商业银行", "银行"},
		{"市", ""},
	}
	for _, r := range rules {
		for _, v := range set {
			if w := strings.Replace(v, r.old, r.new, 1); w != v && w != "" && !slices.Contains(set, w) {
				set = append(set, w)
			}
		}
	}
	return set
}

// simplified maps the traditional characters found in bank names to their simplified forms, for
// merchants who type traditional Chinese (中國銀行).
var simplified = map[rune]rune{
	'銀': '银', '國': '国', '農': '农', '業': '业', '設': '设', '華': '华', '廣': '广', '發': '发',
	'興': '兴', '郵': '邮', '儲': '储', '東': '东', '門': '门', '蘇': '苏', '寧': '宁', '濟': '济',
	'連': '连', '慶': '庆', '豐': '丰', '匯': '汇', '滙': '汇', '灣': '湾', '陽': '阳', '漢': '汉',
	'廈': '厦', '長': '长', '實': '实', '眾': '众', '雲': '云', '鄉': '乡', '鎮': '镇', '務': '务',
	'區': '区', '開': '开', '貿': '贸', '會': '会', '龍': '龙', '齊': '齐', '魯': '鲁', '晉': '晋',
	'陝': '陕', '遼': '辽', '黃': '黄', '臺': '台', '鄭': '郑', '蘭': '兰', '烏': '乌', '爾': '尔',
	'吳': '吴', '錦': '锦', '溫': '温', '紹': '绍', '臨': '临', '萊': '莱', '內': '内', '崑': '昆',
	'崙': '仑', '號': '号', '涼': '凉', '瀘': '泸', '貴': '贵', '贛': '赣', '湯': '汤', '亞': '亚',
	'邊': '边', '沖': '冲', '灘': '滩', '莊': '庄', '幹': '干', '嶺': '岭', '島': '岛', '衛': '卫',
	'營': '营', '屬': '属', '聯': '联', '託': '托', '貸': '贷', '記': '记', '彙': '汇', '綿': '绵',
}
