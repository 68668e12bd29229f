package dialogs

// event applies something that happened outside the chat (Input.Kind
// InEvent). Each event's handling lives beside the feature that posts it;
// an event this version does not know changes nothing.
func (t *turn) event(name, arg string) {
	switch name {
	case EventStatus:
		t.statusEvent(arg)
	case EventWake:
		t.wake()
	case EventRemindLater:
		t.remindLater()
	case EventHandBack:
		t.handBack()
	case EventAgentOpen:
		t.agentOpened()
	case EventResume:
		if t.st.Step != "" && t.st.Step != StepMenu {
			t.say(msgResumed, nil)
			t.prompt()
		}
	default:
		t.log.Warn("unknown dialog event ignored", "event", name)
	}
}
