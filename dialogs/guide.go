package dialogs

// AnswerKind is the kind of typed (or shared) answer a step takes: what a
// simulated merchant (cmd/merchantbot-load) keeps one sample of.
type AnswerKind string

// Kinds of typed answer.
const (
	AnswerMerchantNo    AnswerKind = "merchant_no"    // the merchant number
	AnswerContact       AnswerKind = "contact"        // the phone on file, shared as a contact
	AnswerCode          AnswerKind = "code"           // the SMS code
	AnswerCard          AnswerKind = "card"           // the new card's number
	AnswerHolder        AnswerKind = "holder"         // the holder's name
	AnswerBank          AnswerKind = "bank"           // the bank's name
	AnswerBranch        AnswerKind = "branch"         // the branch's name
	AnswerReservedPhone AnswerKind = "reserved_phone" // the phone the bank has for the card
)

// guide is how a merchant who means to finish goes through a step: the
// messages its question is made of, the button that moves the change
// forward, or the kind of answer to type, and the messages it says on the
// way that ask nothing. A step on the way from the menu to the submission
// has one (TestForwardStepsHaveAGuide).
type guide struct {
	asks    []MsgID    // the messages the step's question renders from
	forward []MsgID    // the buttons (label ids) that move on, most wanted first
	answer  AnswerKind // the typed answer, when no forward button is shown
	notes   []MsgID    // messages the step says that ask nothing
}

// StepGuide is one step's guide as the load tool reads it.
type StepGuide struct {
	Step string
	// Asks are the message ids of the step's question.
	Asks []string
	// Forward are the label ids of the buttons that move the change on.
	Forward []string
	// Answer is the kind of typed answer the step takes ("": buttons only).
	Answer AnswerKind
	// Notes are the messages the step says that ask nothing.
	Notes []string
}

// Guide lists the guided steps in the order a merchant meets them.
func Guide() []StepGuide {
	var out []StepGuide
	for _, d := range dialog() {
		g := d.guide
		if g == nil {
			continue
		}
		out = append(out, StepGuide{Step: d.name, Asks: ids(g.asks), Forward: ids(g.forward),
			Answer: g.answer, Notes: ids(g.notes)})
	}
	return out
}

func ids(m []MsgID) []string {
	out := make([]string, len(m))
	for i, id := range m {
		out[i] = string(id)
	}
	return out
}
