package dialogs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The FSM table is derived from the step definitions: every move leads to
// a defined step, every step can be reached from the menu, and each step
// has its question.
func TestStepDefinitionsMakeTheTable(t *testing.T) {
	defs := stepDefs()
	byName := map[string]stepDef{}
	for _, d := range defs {
		require.NotContains(t, byName, d.name, "step %q defined twice", d.name)
		byName[d.name] = d
		require.NotNil(t, d.prompt, "step %q has no question", d.name)
		require.NotZero(t, d.kind, "step %q has no kind", d.name)
	}
	reached := map[string]bool{}
	for _, ev := range transitions(defs) {
		require.Contains(t, byName, ev.Dst, "event %s leads to an undefined step", ev.Name)
		for _, src := range ev.Src {
			require.Contains(t, byName, src, "event %s from an undefined step", ev.Name)
		}
		if ev.Name != string(evBack) && !strings.HasPrefix(ev.Name, evResumePfx) {
			reached[ev.Dst] = true
		}
	}
	for _, d := range defs {
		if d.back != "" && d.back != backResume {
			assert.Contains(t, byName, d.back, "step %q goes back to an undefined step", d.name)
		}
		assert.True(t, reached[d.name] || d.name == StepMenu, "no move leads to step %q", d.name)
	}
	for _, step := range editableSteps(defs) {
		assert.Equal(t, StepSummary, byName[step].moves[evEdited], "step %q returns to the summary", step)
	}
	// Every step the engine can be in has a definition it dispatches to.
	e := NewEngine(nil, nil)
	for _, s := range Steps() {
		assert.Contains(t, e.steps, s)
	}
}
