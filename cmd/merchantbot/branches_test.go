package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
)

// listingAcquirer is an acquirer that also lists cities and branches.
type listingAcquirer struct {
	dialogs.Backend
	cities atomic.Int32
}

func (a *listingAcquirer) Cities(_ context.Context, word string, _ int) ([]backend.Area, error) {
	a.cities.Add(1)
	return []backend.Area{{Code: "440300", Name: "深圳市", Province: "广东省"}}, nil
}

func (a *listingAcquirer) Branches(context.Context, string, string, string, string, int) ([]backend.Branch, error) {
	return []backend.Branch{{ID: "102584002000", Name: "中国工商银行股份有限公司深圳南山支行"}}, nil
}

// The wiring: an acquirer that lists branches has them picked; the
// sandbox (and the generic API's client) keeps the typed branch.
func TestAcquirerThatListsBranchesHasThemPicked(t *testing.T) {
	sb, err := newAcquirer(backendConfig{}, func(string) string { return "" }, io.Discard, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	assert.Empty(t, acquirerOptions(sb), "the sandbox: typed")
	client, err := backend.NewClient("http://127.0.0.1:1")
	require.NoError(t, err)
	assert.Empty(t, acquirerOptions(client), "the generic API: typed")

	bins, err := cardbin.Load()
	require.NoError(t, err)
	branchAt := func(a dialogs.Backend) (*dialogs.State, dialogs.Outcome) {
		st := &dialogs.State{Step: dialogs.StepBranch, Lang: "zh-Hans", Bound: true, MerchantNo: "822100050110001",
			BankCode: "ICBC", BankName: "中国工商银行", CardType: "DC", Holder: "张三", DraftID: "d1"}
		e := dialogs.NewEngine(a, bins, acquirerOptions(a)...)
		return st, e.Handle(context.Background(), st, dialogs.Input{Kind: dialogs.InText, Text: "深圳"})
	}
	listing := &listingAcquirer{Backend: sandbox.New()}
	st, out := branchAt(listing)
	assert.Equal(t, int32(1), listing.cities.Load(), "the city is looked up in the acquirer's list")
	assert.Equal(t, "440300", st.AreaCode)
	assert.Equal(t, dialogs.StepBranch, st.Step)
	require.NotEmpty(t, out.Replies)
	assert.Equal(t, dialogs.MsgID("city_taken"), out.Replies[0].Key)

	st, _ = branchAt(sb)
	assert.Equal(t, dialogs.StepPhone, st.Step, "typed: 深圳 is taken as the branch's name")
	assert.Equal(t, "深圳", st.Branch)
}
