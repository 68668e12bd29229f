package sandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

func TestLoadMerchants(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.WithClock(func() time.Time { return start }), sandbox.WithLoadMerchants(3),
		sandbox.WithCodes(func() string { return "123456" }))

	for _, c := range []struct{ no, phone string }{
		{"822900000000000", "13900000000"},
		{"822900000000002", "+86 139 0000 0002"},
	} {
		m, err := sb.VerifyMerchant(ctx, c.no, c.phone)
		require.NoError(t, err, c.no)
		assert.Equal(t, "张三", m.Name)
		assert.Equal(t, backend.KindIndividual, m.Kind)
		assert.NotEmpty(t, m.CardMasked, "a card on file")
	}
	_, err := sb.Merchant(ctx, "822900000000003")
	assert.True(t, errors.Is(err, backend.ErrUnknownMerchant), "index 3 is beyond n=3: %v", err)
	_, err = sb.VerifyMerchant(ctx, "822900000000001", "13900000002")
	assert.True(t, errors.Is(err, backend.ErrPhoneMismatch), "each merchant has its own phone: %v", err)

	// The demo merchants are unchanged beside them.
	m, err := sb.VerifyMerchant(ctx, zhangSan, "13800000001")
	require.NoError(t, err)
	assert.Equal(t, "张三便利店", m.Business)

	// No recent change: a debit card in 张三's name is submitted for review.
	no := "822900000000001"
	require.NoError(t, sb.SendCode(ctx, no))
	require.NoError(t, sb.CheckCode(ctx, no, "123456"))
	r, err := sb.Submit(ctx, "load-1", app(no, "张三", "DC"))
	require.NoError(t, err)
	assert.Equal(t, no, r.MerchantNo)
	assert.Equal(t, backend.StatusSubmitted, r.Status)
}

func TestLoadMerchantNumbers(t *testing.T) {
	d := sandbox.LoadMerchant(12345678)
	assert.Equal(t, "822900012345678", d.No)
	assert.Equal(t, "13912345678", d.Phone)
	_, err := sandbox.New(sandbox.WithLoadMerchants(-5)).Merchant(context.Background(), "822900000000000")
	assert.True(t, errors.Is(err, backend.ErrUnknownMerchant), "a negative count adds none: %v", err)
}
