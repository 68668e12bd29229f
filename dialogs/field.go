package dialogs

import (
	"github.com/merchantbot/merchantbot/backend"
)

// fieldSpec is what a step collects into the draft, told once: how the
// summary, the draft wipe, the hand-off context and the application read
// and clear it. Each is optional; the step's name names the field (the
// summary's Edit button is "sum:edit.<step>", its label "btn_edit_<step>",
// its summary line "sum_<step>").
type fieldSpec struct {
	// secret: the value is card data, kept in State.Secrets (sealed by the
	// record codec) and shown masked wherever it is shown. A step that
	// keeps its answer with setAnswer gets it sealed by this flag alone.
	secret bool
	// editable: the summary has an Edit button that opens the step.
	editable bool
	// filled reports the answer is given (the summary's Confirm needs
	// every field that has it).
	filled func(st *State) bool
	// summary is the value on the summary line sum_<step> ({{.Value}},
	// plus extra args); nil: the field has no summary line.
	summary func(t *turn) Arg
	// handoff is what the agent's hand-off card shows for this step (masked;
	// "" shows nothing); at is the step the chat was handed off from.
	handoff func(st *State, at string) string
	// clear wipes the field with the draft.
	clear func(st *State)
	// apply puts the field into the application sent to the acquirer.
	apply func(st *State, app *backend.Application)
	// reopen takes the field back from a rejected application that is
	// being fixed (nil: the merchant answers it again).
	reopen func(st *State, app backend.Receipt)
	// keep moves on with the answer given before (the Keep button; nil:
	// the step has none).
	keep func(t *turn)
}

// fields lists the steps that hold a field, in the order of the dialog.
func fields(defs []stepDef) []*stepDef {
	var out []*stepDef
	for i := range defs {
		if defs[i].field != nil {
			out = append(out, &defs[i])
		}
	}
	return out
}

// editableSteps lists the steps the summary's Edit buttons open.
func editableSteps(defs []stepDef) []string {
	var out []string
	for _, d := range fields(defs) {
		if d.field.editable {
			out = append(out, d.name)
		}
	}
	return out
}
