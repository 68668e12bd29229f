package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadHotline(t *testing.T) {
	tests := []struct {
		raw, want, err string
	}{
		{"", "", ""},
		{"95516", "95516", ""},
		{" 400-888-8888 ", "400-888-8888", ""},
		{"+86 (21) 1234 5678", "+86 (21) 1234 5678", ""},
		{"call us", "", "ACQUIRER_HOTLINE: \"call us\" is not a phone number"},
		{"1234", "", "5 to 20 digits"},
		{"<a href=x>95516</a>", "", "ACQUIRER_HOTLINE"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := loadHotline(func(k string) string {
				if k == "ACQUIRER_HOTLINE" {
					return tt.raw
				}
				return ""
			})
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
