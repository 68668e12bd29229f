package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// Test data. The card and phone are fake but shaped like real ones.
const (
	cardNumber    = "6222021234567890123"
	reservedPhone = "13812345678"
)

// fullDraft returns a state with every field filled as long as a real
// dialog fills it: the largest record a store keeps. It fills fields by
// reflection so that a field added to dialogs.State is counted too.
func fullDraft() *dialogs.State {
	st := &dialogs.State{}
	fill(reflect.ValueOf(st).Elem())
	return st
}

// draftAt is fullDraft's time: nanoseconds make the longest JSON time.
var draftAt = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// realistic holds the longest plausible value of each field by name; names
// that State no longer has are skipped.
var realistic = map[string]any{
	"Step":         "confirm_summary",
	"Lang":         "zh-Hans",
	"MerchantNo":   "898310048161234",
	"MerchantName": "上海市浦东新区张江镇老王家常菜馆（个体工商户）",
	"PendingNo":    "898310048165678",
	"PhoneOnFile":  "138****5678",
	"CardBIN":      "622202",
	"CardLast":     "0123",
	"CardType":     "debit",
	"BankCode":     "0102",
	"BankName":     "中国工商银行",
	"Holder":       "欧阳王小明",
	"Branch":       "中国工商银行股份有限公司上海市分行张江高科技园区支行营业部",
	"BranchID":     "102290012345", // 联行号: 12 digits
	"AreaCode":     "653000",       // a city's code: 6 digits
	"CityName":     "克孜勒苏柯尔克孜自治州",  // the longest city names
	"PickWord":     "张江高科技园区支行营业部", // dialogs.maxWordRunes
	"Ret":          "enter_branch",
	"DraftID":      "9f86d081884c7d659a2feaa0c55ad015", // randomKey: 16 bytes in hex
	"LastApp":      "APP-20250314-000123456",
	// No step of today keeps its answer in Answers (each has a field of
	// State); a step added with setAnswer adds its answer's bytes here.
	"Answers":    dialogs.Answers(""),
	"CodeSentAt": draftAt,
	"Touched":    draftAt.Add(3 * time.Minute),

	"CardNumber":    cardNumber,
	"ReservedPhone": reservedPhone,
	"PendingCard":   "6222021234567890124",
}

var timeType = reflect.TypeFor[time.Time]()

func fill(v reflect.Value) {
	for i := range v.NumField() {
		f, field := v.Field(i), v.Type().Field(i)
		if !field.IsExported() {
			continue
		}
		if val, ok := realistic[field.Name]; ok && reflect.TypeOf(val).AssignableTo(f.Type()) {
			f.Set(reflect.ValueOf(val))
			continue
		}
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(draftAt))
		case f.Kind() == reflect.Struct:
			fill(f)
		case f.Kind() == reflect.String:
			f.SetString("unknown-field-of-24-chars")
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(1234)
		case f.CanUint():
			f.SetUint(0x7f)
		}
	}
}

func newCipher(t testing.TB) *store.Cipher {
	t.Helper()
	c, err := store.NewCipher(store.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
