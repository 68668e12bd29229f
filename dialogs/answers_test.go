package dialogs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A step's answer kept with setAnswer is sealed when the step's field is
// secret (the card step's is) and kept in the clear part otherwise (the
// holder's is not): the field spec alone decides. A sealed answer keeps
// the record as long as a draft, and the draft's wipe clears both.
func TestSecretAnswersGoToSecrets(t *testing.T) {
	const secret = "6222021234567890128"
	st := &State{Step: StepSummary}
	st.setAnswer(StepCard, secret)
	st.setAnswer(StepHolder, "张三")
	assert.Equal(t, secret, st.answer(StepCard))
	assert.Equal(t, secret, st.Secrets.Answers.Get(StepCard))
	assert.NotContains(t, string(st.Answers), secret, "a secret answer in the clear part")
	assert.Equal(t, "张三", st.answer(StepHolder))
	assert.Equal(t, "张三", st.Answers.Get(StepHolder))
	assert.Empty(t, st.Secrets.Answers.Get(StepHolder))

	sealedOnly := &State{Secrets: Secrets{Answers: st.Secrets.Answers}}
	assert.Equal(t, DraftKeep, sealedOnly.TTL())

	(&turn{Engine: NewEngine(nil, nil), st: st}).wipeDraft()
	assert.True(t, st.Secrets.Empty())
	assert.Empty(t, st.Answers)
}
