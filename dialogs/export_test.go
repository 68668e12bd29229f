package dialogs

// SubmissionKey is exported for the tests in package dialogs_test.
var SubmissionKey = submissionKey

// StepTest is the step WithTestStep adds.
const StepTest = "test_added"

const evTestOK move = "test_ok"

// WithTestStep adds to the engine a step as a file step_<name>.go would
// (issue 15): between the holder and the branch, a typed answer kept with
// setAnswer, a field with no reopen. The tests of what such a step meets
// use it; the dialog of every other test is left as it is.
func WithTestStep() Option {
	return func(e *Engine) { e.use(splice(stepDefs(), testStep())) }
}

func testStep() stepDef {
	return stepDef{
		name:   StepTest,
		kind:   draft,
		prompt: func(t *turn) { t.say(msgAskBranch, nil) },
		text: func(t *turn, text string) {
			t.st.setAnswer(StepTest, text)
			t.advance(evTestOK)
		},
		back:   StepHolder,
		moves:  edited(map[move]string{evTestOK: StepBranch}),
		after:  StepHolder,
		before: StepBranch,
		field: &fieldSpec{
			filled: func(st *State) bool { return st.answer(StepTest) != "" },
		},
	}
}
