package dialogs

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every step a merchant can meet on the way from the menu to the
// submission (the steps' own moves, not /back, the summary's edits or the
// global commands) has a guide, so the load tool's merchant can answer it
// without an edit of its own; a step added without one fails here, named.
func TestForwardStepsHaveAGuide(t *testing.T) {
	defs := stepDefs()
	byName := map[string]*stepDef{}
	for i := range defs {
		byName[defs[i].name] = &defs[i]
	}
	seen := map[string]bool{StepMenu: true}
	queue := []string{StepMenu}
	for len(queue) > 0 {
		d := byName[queue[0]]
		queue = queue[1:]
		require.NotNil(t, d)
		if d.guide == nil {
			t.Errorf("step %q is on the way to the submission but has no guide (stepDef.guide)", d.name)
			continue
		}
		for _, dst := range d.moves {
			if !seen[dst] {
				seen[dst] = true
				queue = append(queue, dst)
			}
		}
	}
	for _, s := range []string{StepMerchant, StepChecklist, StepCard, StepHolder, StepBranch, StepPhone, StepSummary, StepVerify} {
		assert.True(t, seen[s], "the walk reaches %q", s)
	}
	var guided []string
	for _, g := range Guide() {
		guided = append(guided, g.Step)
	}
	for s := range seen {
		assert.Contains(t, guided, s, "Guide() lists step %q", s)
	}
}

// A guide says what the step's question really is: asked in the state of a
// merchant going through the change (bound, registered name known, card
// told its bank, a code sent), the prompt renders from the guide's asks
// (and notes) and shows a forward button of the guide, if it has one; a
// step with a typed answer reads text.
func TestGuideMatchesThePrompts(t *testing.T) {
	e := NewEngine(nil, nil)
	for _, d := range e.steps {
		g := d.guide
		if g == nil {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			require.NotEmpty(t, g.asks, "a guide names its question")
			require.True(t, len(g.forward) > 0 || g.answer != "", "a guide has a forward button or a typed answer")
			if g.answer != "" {
				assert.NotNil(t, d.text, "a step with a typed answer reads text")
			}
			st := &State{Step: d.name, Lang: "en", Bound: true, MerchantNo: "822900000000007", MerchantName: "张三",
				PhoneOnFile: "139****0007", BankName: "中国工商银行", CardType: "debit", CodePending: true}
			st.Secrets.PendingCard = "6222021234567890128"
			tu := &turn{Engine: e, ctx: context.Background(), st: st}
			d.prompt(tu)
			require.NotEmpty(t, tu.out.Replies, "the prompt says something")
			said := map[MsgID]bool{}
			var buttons []MsgID
			for _, r := range tu.out.Replies {
				said[r.Key] = true
				assert.True(t, slices.Contains(g.asks, r.Key) || slices.Contains(g.notes, r.Key),
					"the prompt says %q, which the guide neither asks nor notes", r.Key)
				for _, l := range r.Lines {
					if !slices.Contains(g.notes, l.Key) && !slices.Contains(g.asks, l.Key) {
						said[l.Key] = true
					}
				}
				for _, row := range r.Buttons {
					for _, b := range row {
						buttons = append(buttons, b.Key)
					}
				}
			}
			asked := slices.ContainsFunc(g.asks, func(id MsgID) bool { return said[id] })
			assert.True(t, asked, "the prompt renders from one of the guide's asks %v", g.asks)
			if len(g.forward) > 0 {
				forward := slices.ContainsFunc(g.forward, func(id MsgID) bool { return slices.Contains(buttons, id) })
				assert.True(t, forward, "the prompt shows a forward button %v (has %v)", g.forward, buttons)
			}
		})
	}
}
