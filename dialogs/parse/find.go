package parse

// Merchants answer in sentences ("我的新卡是 6222 0212 3456 7890 128", a pasted SMS
// "验证码是 123456"). The Find functions take a number out of such a sentence when exactly one
// number of the wanted shape is in it; with two the caller asks which one, with none it gives the
// specific reason (from CardNumber, MobilePhone, Code or MerchantNo on the whole text).
//
// How a sentence is read: digits (ASCII or full-width) form groups; groups joined by at most
// maxJoin separators (spaces, dashes, dots, slashes: digitRuns) form one run ("138.0000.0001", "6222 0212 3456 7890 128"). A run
// is cut at its joins into numbers of a known shape — card (16–19 digits), mainland mobile
// (11 digits 1[3-9]…, or with 86/0086 in front), merchant number (15), code (6) — using as few
// numbers as possible, and preferring cards that pass Luhn, so that a card is one card and never
// also a phone, a code or a merchant number, while "6222… 13800000001" is a card and a phone.
// A run that cannot be cut wholly into known shapes holds no candidate: taking a phone out of
// "138 0000 0001 2" would guess at a typo.

// FindCard returns the card number (16 to 19 digits, normalised to ASCII) in text and how many
// distinct card-shaped numbers text holds. digits is set only when candidates is 1. A number
// that fails Luhn is still a candidate: the caller decides (a 62… card may ask to double-check).
func FindCard(text string) (digits string, candidates int) {
	return find(text, shapeCard)
}

// FindPhone returns the mainland mobile number (11 digits, 1[3-9]…, without a +86 or 0086 in
// front) in text and how many distinct ones text holds. phone is set only when candidates is 1.
func FindPhone(text string) (phone string, candidates int) {
	return find(text, shapePhone)
}

// FindCode returns the 6-digit SMS code in text and how many distinct 6-digit numbers text
// holds. code is set only when candidates is 1.
func FindCode(text string) (code string, candidates int) {
	return find(text, shapeCode)
}

// FindMerchantNo returns the 15-digit merchant number (商户号) in text and how many distinct
// ones text holds. no is set only when candidates is 1.
func FindMerchantNo(text string) (no string, candidates int) {
	return find(text, shapeMerchantNo)
}

// shape is the kind of number a run of digits can be.
type shape int

const (
	shapeNone shape = iota
	shapeCard
	shapePhone
	shapeCode
	shapeMerchantNo
)

// maxJoin is how many separators may stand between two digit groups of one number
// (" - " in "6222 - 0212").
const maxJoin = 3

// maxNumber is the longest number of a known shape: a 19-digit card.
const maxNumber = 19

func find(text string, want shape) (string, int) {
	var first string
	var seen map[string]bool // allocated only when a second value turns up
	n := 0
	for _, run := range runs(text) {
		for _, num := range cut(run) {
			if num.shape != want {
				continue
			}
			switch {
			case n == 0:
				first, n = num.digits, 1
			case num.digits == first || seen[num.digits]:
			default:
				if seen == nil {
					seen = make(map[string]bool)
				}
				seen[num.digits] = true
				n++
			}
		}
	}
	if n != 1 {
		return "", n
	}
	return first, 1
}

// shaped is one number of a known shape found in a run.
type shaped struct {
	shape  shape
	digits string // normalised: ASCII, a phone without its country code
}

// runs splits text into runs of digit groups, each group ASCII digits, as
// Sensitive reads them (digitRuns) but with at most maxJoin separators
// between two groups. A run of 17 digits and an X is a resident ID number
// (身份证号), not a card: it holds no candidate.
func runs(text string) [][]string {
	var all [][]string
	for _, r := range digitRuns(text, maxJoin) {
		if r.x > 0 && r.digits() == 17 {
			continue
		}
		groups := make([]string, len(r.groups))
		for i, g := range r.groups {
			groups[i] = g.digits
		}
		all = append(all, groups)
	}
	return all
}

// cost ranks the ways to cut a run: fewer cards failing Luhn first, then fewer numbers.
type cost struct {
	ok        bool // the rest of the run can be cut wholly into known shapes
	luhnFails int
	numbers   int
	next      int    // the group the next number starts at
	num       shaped // the number starting here
}

func (c cost) less(d cost) bool {
	if c.luhnFails != d.luhnFails {
		return c.luhnFails < d.luhnFails
	}
	return c.numbers < d.numbers
}

// cut splits a run at its joins into numbers of known shapes, the best way by cost; a run
// that cannot be cut so yields nothing.
func cut(groups []string) []shaped {
	n := len(groups)
	best := make([]cost, n+1)
	best[n] = cost{ok: true}
	var buf []byte
	for i := n - 1; i >= 0; i-- {
		buf = buf[:0]
		for j := i + 1; j <= n; j++ {
			buf = append(buf, groups[j-1]...)
			if len(buf) > maxNumber {
				break
			}
			rest := best[j]
			if !rest.ok {
				continue
			}
			num, ok := classify(string(buf))
			if !ok {
				continue
			}
			c := cost{ok: true, luhnFails: rest.luhnFails, numbers: rest.numbers + 1, next: j, num: num}
			if num.shape == shapeCard && !Luhn(num.digits) {
				c.luhnFails++
			}
			if !best[i].ok || c.less(best[i]) {
				best[i] = c
			}
		}
	}
	if !best[0].ok {
		return nil
	}
	var nums []shaped
	for i := 0; i < n; i = best[i].next {
		nums = append(nums, best[i].num)
	}
	return nums
}

// classify tells the shape of d, ASCII digits.
func classify(d string) (shaped, bool) {
	switch l := len(d); {
	case l >= 16 && l <= 19:
		return shaped{shapeCard, d}, true
	case l == 11 && isMobile(d):
		return shaped{shapePhone, d}, true
	case l == 13 && d[:2] == "86" && isMobile(d[2:]):
		return shaped{shapePhone, d[2:]}, true
	case l == 15 && d[:4] == "0086" && isMobile(d[4:]):
		return shaped{shapePhone, d[4:]}, true
	case l == 15:
		return shaped{shapeMerchantNo, d}, true
	case l == 6:
		return shaped{shapeCode, d}, true
	}
	return shaped{}, false
}

// isMobile reports whether d, 11 ASCII digits, is a mainland mobile number.
func isMobile(d string) bool {
	return d[0] == '1' && d[1] >= '3'
}
