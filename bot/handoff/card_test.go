package handoff_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/locales"
)

func TestContextCardNamesTheShopAndListsApplications(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sb := sandbox.New(sandbox.WithClock(f.clock.Now))
	rc, err := sb.Submit(ctx, "k1", backend.Application{MerchantNo: "822100050110001", CardNumber: "6222021234567890128",
		HolderName: "张三", BankName: "中国工商银行", Branch: "上海张江支行", ReservedPhone: "13912345678"})
	require.NoError(t, err)
	require.Equal(t, backend.StatusSubmitted, rc.Status, "a new application waits for a reviewer")
	d := f.desk(handoff.WithBackend(sb))
	require.NoError(t, d.Open(ctx, m1, dialogs.HandOffInfo{MerchantNo: "822100050110001", MerchantName: "张三",
		Lang: locales.English, Step: dialogs.StepBranch, Stuck: true,
		Answers: []dialogs.Answer{{Step: dialogs.StepCard, Value: "622202*********0128"}, {Step: dialogs.StepHolder, Value: "张三"}}}))
	f.wire.settle(t)
	tp := f.topic(m1, "张三便利店")
	assert.Equal(t, "张三便利店 · 0001 · open", tp.Name)
	card := f.inThread(tp.ThreadID)[0].Text
	for _, want := range []string{"张三便利店 (张三)", "Merchant no: 822100050110001", "Language: English", "Left at: branch",
		"three failed answers", "• new card number: 622202*********0128", "• holder name: 张三", "Applications:",
		"• " + rc.ID + ": submitted, waiting for a reviewer · 622202*********0128"} {
		assert.Contains(t, card, want)
	}
	assert.False(t, leaktest.HasCard(card))
	assert.NotContains(t, card, "13912345678")
}
