package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSandboxLoadMerchantsSetting(t *testing.T) {
	for _, bad := range []string{"x", "-1", "1000001", "1e3"} {
		_, err := sandboxOptions(func(k string) string {
			if k == "SANDBOX_LOAD_MERCHANTS" {
				return bad
			}
			return ""
		}, io.Discard)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "SANDBOX_LOAD_MERCHANTS", "the error names the setting")
	}
	opts, err := sandboxOptions(func(k string) string {
		if k == "SANDBOX_LOAD_MERCHANTS" {
			return "300"
		}
		return ""
	}, io.Discard)
	require.NoError(t, err)
	assert.Len(t, opts, 2, "the code sink and the load merchants")
}
