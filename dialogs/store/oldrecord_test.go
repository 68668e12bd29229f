package store_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// oldRecordKey is the data key the record in testdata was sealed with.
const oldRecordKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// oldRecordChat is the chat the record in testdata belongs to.
const oldRecordChat = 42

// oldRecordFile is a draft at the summary as the codec wrote it on
// 2026-12-04 (commit 55e10f1), before secret answers of added steps had a
// place in Secrets: card number, reserved phone and a pending card sealed.
var oldRecordFile = filepath.Join("testdata", "record_v1_2026-12-04.bin")

// oldRecordState is the state the record in testdata holds.
func oldRecordState() *dialogs.State {
	at := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	return &dialogs.State{
		Step: dialogs.StepSummary, Seq: 11, Lang: "zh-Hans",
		MerchantNo: "822100050110001", MerchantName: "张三", Bound: true, PhoneOnFile: "138****0001",
		ProvedAt: at, DraftID: "9f86d081884c7d659a2feaa0c55ad015", Consent: true,
		CardType: "DC", BankCode: "ICBC", BankName: "中国工商银行", Holder: "张三", Branch: "上海张江支行",
		Answers: "extra=one", Touched: at.Add(time.Minute),
		Secrets: dialogs.Secrets{CardNumber: "6222021234567890128", ReservedPhone: "13912345678",
			PendingCard: "6222021234567890124"},
	}
}

func oldRecordCipher(t *testing.T) *store.Cipher {
	t.Helper()
	key, err := hex.DecodeString(oldRecordKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A record the codec wrote before secret answers had their place in
// Secrets still decodes, to the same state.
func TestOldRecordDecodes(t *testing.T) {
	rec, err := os.ReadFile(oldRecordFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.DecodeState(oldRecordCipher(t), oldRecordChat, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := oldRecordState(); !reflect.DeepEqual(got, want) {
		t.Fatalf("old record\n got %+v\nwant %+v", got, want)
	}
}
