package dialogs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every button the dialog writes has a kind buttonKinds lists, and every
// listed kind is written somewhere.
func TestButtonKindsAreListed(t *testing.T) {
	data := regexp.MustCompile(`(?:Data: |btn\([^,]+, )"([a-z]+)[:"]`)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	written := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range data.FindAllStringSubmatch(string(src), -1) {
			written[m[1]] = true
			assert.Contains(t, buttonKinds, m[1], "%s writes a button of kind %q, which buttonKinds does not list", f, m[1])
		}
	}
	for kind := range buttonKinds {
		assert.True(t, written[kind], "buttonKinds lists %q, which no button has", kind)
	}
}
