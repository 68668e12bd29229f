package dialogs

// lost answers a merchant whose chat the bot no longer knows although the
// update shows it talked with them before (Input.Returning): their record
// is gone (Redis restarted empty, or everything of the chat expired).
// Whatever they were answering cannot be read as the answer to a question
// the bot does not know it asked, and a bare menu would leave them
// guessing; they are told their earlier answers are gone and offered to
// start again. Commands keep their meaning (/start is the way back in),
// edits and events need no answer. It reports whether it answered.
func (t *turn) lost(before State) bool {
	if before != (State{}) || !t.in.Returning {
		return false
	}
	switch t.in.Kind {
	case InText, InButton, InContact, InMedia, InOther, InForm:
	default:
		return false
	}
	t.say(msgAnswersGone, nil, t.menuButtons()...)
	return true
}
