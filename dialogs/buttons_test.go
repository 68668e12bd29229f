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

// Every button the dialog writes has a kind buttonKinds lists (the
// engine's own or one a step declares), and every listed kind is written
// somewhere.
func TestButtonKindsAreListed(t *testing.T) {
	kinds := buttonKinds(stepDefs())
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
			assert.Contains(t, kinds, m[1], "%s writes a button of kind %q, which neither engineKinds nor a step's buttons list", f, m[1])
		}
	}
	for kind := range kinds {
		assert.True(t, written[kind], "buttonKinds lists %q, which no button has", kind)
	}
}

// A step declares the kinds its handler takes, and only those reach it:
// a step with a handler declares some, one without declares none, and no
// step claims a kind the engine reads before any step.
func TestStepsDeclareTheirButtonKinds(t *testing.T) {
	for _, d := range stepDefs() {
		assert.Equal(t, d.button != nil, len(d.buttons) > 0, "step %q: a button handler and its kinds go together", d.name)
		for _, k := range d.buttons {
			assert.NotContains(t, engineKinds, k, "step %q declares %q, which the engine reads first", d.name, k)
		}
	}
}
