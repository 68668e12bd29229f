package sandbox

import (
	"fmt"

	"github.com/merchantbot/merchantbot/backend"
)

// MaxLoadMerchants bounds WithLoadMerchants: the index has 8 digits in the
// phone number, and a million merchants is far beyond any load run.
const MaxLoadMerchants = 1_000_000

// WithLoadMerchants adds n load-test merchants (see LoadMerchant) beside the
// demo merchants, so that a load run has one merchant per simulated chat and
// no two chats contend for one merchant's codes or 30-day rule. n is clamped
// to 0 … MaxLoadMerchants.
func WithLoadMerchants(n int) Option {
	return func(s *Sandbox) { s.loadMerchants = min(max(n, 0), MaxLoadMerchants) }
}

// LoadMerchant is load-test merchant i: merchant number 8229 followed by i in
// 11 digits, phone on file 139 followed by i in 8 digits, an individual named
// 张三 with a personal debit card on file and no recent change, so that the
// whole card change succeeds for each one.
func LoadMerchant(i int) DemoMerchant {
	return DemoMerchant{
		No:         fmt.Sprintf("8229%011d", i),
		Name:       "张三",
		Business:   "张三便利店",
		Kind:       backend.KindIndividual,
		Phone:      fmt.Sprintf("139%08d", i),
		Bank:       "中国工商银行",
		CardMasked: "622202******1234",
		Case:       "load test: the happy path, one merchant per simulated chat",
	}
}

// addLoadMerchants adds the WithLoadMerchants merchants; New calls it after
// the demo merchants, which keep their numbers (8221…) untouched.
func (s *Sandbox) addLoadMerchants() {
	for i := range s.loadMerchants {
		d := LoadMerchant(i)
		s.merchants[d.No] = &merchant{
			no:         d.No,
			name:       d.Name,
			business:   d.Business,
			kind:       d.Kind,
			phone:      d.Phone,
			cardMasked: d.CardMasked,
		}
	}
}
