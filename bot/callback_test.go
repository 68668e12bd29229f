package bot

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/locales"
)

func TestCallbackRoundTrip(t *testing.T) {
	c := newCallbackCodec([]byte("a key"))
	for _, tt := range []struct {
		seq  int
		data string
	}{{0, "m:change"}, {1, "ck:ok.0"}, {35, "keep"}, {math.MaxInt32, "sum:edit.branch"}, {7, "odd|data"}} {
		s, err := c.encode(42, tt.seq, tt.data)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(s), maxCallbackData)
		seq, data, ok := c.decode(42, s)
		assert.True(t, ok, s)
		assert.Equal(t, tt.seq, seq)
		assert.Equal(t, tt.data, data)
	}
}

func TestCallbackForged(t *testing.T) {
	c := newCallbackCodec([]byte("a key"))
	good, err := c.encode(42, 3, "cs:yes")
	require.NoError(t, err)
	other, err := newCallbackCodec([]byte("another key")).encode(42, 3, "cs:yes")
	require.NoError(t, err)
	seq, mac := good[:strings.IndexByte(good, '|')], good[strings.LastIndexByte(good, '|'):]
	for name, s := range map[string]string{
		"empty":                   "",
		"plain dialog data":       "cs:yes",
		"data changed":            seq + "|cs:no" + mac,
		"seq changed":             "4" + good[len(seq):],
		"truncated mac":           good[:len(good)-1],
		"truncated to payload":    good[:strings.LastIndexByte(good, '|')],
		"mac only":                mac,
		"signed with another key": other,
		"too long":                good + strings.Repeat("x", maxCallbackData),
		"negative seq":            "-1|cs:yes" + mac,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, ok := c.decode(42, s)
			assert.False(t, ok)
		})
	}
	t.Run("other chat", func(t *testing.T) {
		_, _, ok := c.decode(43, good)
		assert.False(t, ok)
	})
}

func TestCallbackTooLong(t *testing.T) {
	c := newCallbackCodec([]byte("k"))
	_, err := c.encode(1, 1, strings.Repeat("x", 60))
	assert.ErrorIs(t, err, errCallbackTooLong)
}

// TestDialogButtonDataFits signs every button data the dialog writes (found
// in its source, dynamic parts at their longest) at the largest seq: each
// must fit Telegram's 64 bytes.
func TestDialogButtonDataFits(t *testing.T) {
	files, err := filepath.Glob("../dialogs/*.go")
	require.NoError(t, err)
	literal := regexp.MustCompile(`(?:btn\(\w+, |Data: )"([^"]+)"(\+\w+(?:\.\w+)?)?`)
	longest := ""
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			data := m[1]
			if m[2] != "" { // "lang:"+locales.Chinese, "ck:ok."+n
				data += strings.Repeat("x", max(len(locales.Chinese), len(locales.English), 2))
			}
			found++
			if len(data) > len(longest) {
				longest = data
			}
		}
	}
	require.Greater(t, found, 20, "the dialog's buttons were not found in its source")
	c := newCallbackCodec([]byte("k"))
	s, err := c.encode(-1_000_000_000_000, math.MaxInt32, longest)
	require.NoError(t, err, "longest button data %q", longest)
	t.Logf("longest button data %q signs to %d of %d bytes", longest, len(s), maxCallbackData)
}
