package guidedtest

import (
	"testing"

	"github.com/merchantbot/merchantbot/locales"
)

func BenchmarkRecogniseMessage(b *testing.B) {
	rec, err := NewRecogniser()
	if err != nil {
		b.Fatal(err)
	}
	cat, _ := locales.Load()
	texts := []string{
		cat.Render("en", "welcome", nil),
		cat.Render("en", "card_accepted", map[string]any{"Card": "622202*********0128"}) + "\n" + cat.Render("en", "card_bank", map[string]any{"Bank": "ICBC"}),
		cat.Render("en", "summary", map[string]any{"MerchantNo": "822900000000007", "Card": "622202*********0128", "Type": "debit card", "Holder": "张三", "Bank": "ICBC", "Branch": "x", "Phone": "139****5678"}),
		cat.Render("en", "ask_branch", nil),
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			if _, err := rec.message(t); err != nil { // the reading itself, not the memo
				b.Fatal(err)
			}
		}
	}
}
