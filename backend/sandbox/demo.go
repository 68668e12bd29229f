package sandbox

import (
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// DemoMerchant is one merchant the sandbox knows, with the case it exercises.
type DemoMerchant struct {
	No            string
	Name          string // registered name: the holder name a card must carry
	Business      string
	Kind          backend.MerchantKind
	Phone         string // phone on file
	Bank          string // bank of the current card
	CardMasked    string // current settlement card
	LastChangeAgo time.Duration
	Case          string
}

// Demo lists the demo merchants (README documents the same table).
func Demo() []DemoMerchant {
	const day = 24 * time.Hour
	return []DemoMerchant{
		{
			No: "822100050110001", Name: "张三", Business: "张三便利店", Kind: backend.KindIndividual,
			Phone: "13800000001", Bank: "中国工商银行", CardMasked: "622202******1234",
			LastChangeAgo: 400 * day,
			Case:          "happy path: a debit card in 张三's name is approved, then effective",
		},
		{
			No: "822100050110002", Name: "上海小鹿餐饮有限公司", Business: "小鹿餐厅", Kind: backend.KindCompany,
			Phone: "13800000002", Bank: "中国工商银行", CardMasked: "100120*********0123",
			Case: "company: settles to the company account, holder must be the company name",
		},
		{
			No: "822100050110003", Name: "阿依古丽·买买提", Business: "阿依古丽干果店", Kind: backend.KindIndividual,
			Phone: "13800000003", Bank: "中国农业银行", CardMasked: "622848******5678",
			Case: "minority name: spaces and ·・•‧ variants of the middle dot are accepted",
		},
		{
			No: "822100050110004", Name: "王五", Business: "王五水果店", Kind: backend.KindIndividual,
			Phone: "13800000004", Bank: "中国银行", CardMasked: "621785******4321",
			LastChangeAgo: 10 * day,
			Case:          "changed 10 days ago: a new change is rejected (change_within_30_days)",
		},
	}
}
