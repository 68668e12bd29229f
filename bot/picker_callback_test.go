package bot

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// The branch picker's buttons carry a city's code or a branch's id
// (dialogs.MaxListID at most): signed at the largest seq they fit
// Telegram's 64 bytes, and come back as they were.
func TestPickerButtonDataFits(t *testing.T) {
	c := newCallbackCodec([]byte("k"))
	id := strings.Repeat("9", dialogs.MaxListID)
	for _, data := range []string{"city:p." + id, "br:p." + id} {
		s, err := c.encode(-1_000_000_000_000, math.MaxInt32, data)
		require.NoError(t, err, data)
		seq, got, ok := c.decode(-1_000_000_000_000, s)
		require.True(t, ok)
		require.Equal(t, math.MaxInt32, seq)
		require.Equal(t, data, got)
	}
}
