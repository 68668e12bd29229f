package dialogs

// SubmissionKey is exported for the tests in package dialogs_test.
var SubmissionKey = submissionKey

// StepTest is the step WithTestStep adds.
const StepTest = "test_added"

const evTestOK move = "test_ok"

// WithTestStep adds to the engine a step as a file step_<name>.go would
// (issue 15): right after the holder (before the step the holder's answer
// leads to: the branch, or a step added there since), a typed answer kept
// with setAnswer, a field with no reopen. The tests of what such a step
// meets use it; the dialog of every other test is left as it is.
func WithTestStep() Option {
	return func(e *Engine) {
		defs := stepDefs()
		next := StepBranch
		for _, d := range defs {
			if d.name == StepHolder {
				next = d.moves[evHolderOK]
			}
		}
		e.use(splice(defs, testStep(next)))
	}
}

// ResubmitKeepsTheWay reports a dialog whose fields between the card and
// the reserved phone all come back from a rejected application
// (fieldSpec.reopen), so that its resubmission goes from the card straight
// on to the reserved phone (rejection.go); a step added there without
// reopen makes it ask the whole way from the card.
func ResubmitKeepsTheWay() bool {
	between := false
	for _, d := range dialog() {
		switch {
		case d.name == StepCard:
			between = true
		case d.name == StepPhone:
			between = false
		case between && d.field != nil && d.field.filled != nil && d.field.reopen == nil:
			return false
		}
	}
	return true
}

func testStep(next string) stepDef {
	return stepDef{
		name:   StepTest,
		kind:   draft,
		prompt: func(t *turn) { t.say(msgAskBranch, nil) },
		text: func(t *turn, text string) {
			t.st.setAnswer(StepTest, text)
			t.advance(evTestOK)
		},
		back:   StepHolder,
		moves:  edited(map[move]string{evTestOK: next}),
		after:  StepHolder,
		before: next,
		field: &fieldSpec{
			filled: func(st *State) bool { return st.answer(StepTest) != "" },
		},
	}
}

// When is what the merchant is told of the hours (SupportHours.when).
func (h SupportHours) When() Text { return h.when() }
