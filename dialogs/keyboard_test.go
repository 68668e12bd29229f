package dialogs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs"
)

// TestHideKeyboardAfterTheContactQuestion: the contact-sharing button is
// withdrawn once, by the first outcome after the chat left the question
// that offered it (and had a reply without buttons to carry it); not while
// the question stands, not where it was never offered (the console), and
// not again later.
func TestHideKeyboardAfterTheContactQuestion(t *testing.T) {
	cmd := func(name string) dialogs.Input {
		return dialogs.Input{Kind: dialogs.InCommand, Text: name, LanguageCode: "en"}
	}
	contact := dialogs.Input{Kind: dialogs.InContact, Contact: &dialogs.Contact{Phone: "+8613800000001", OwnedBySender: true}}
	toPhone := func(c *chat) {
		c.t.Helper()
		assert.False(t, c.send(cmd("start")).HideKeyboard)
		assert.False(t, c.press("m:change").HideKeyboard)
		out := c.text("822100050110001")
		assert.False(t, out.HideKeyboard)
		assert.True(t, hasContactButton(out), "the phone question offers the button")
	}

	t.Run("shared", func(t *testing.T) {
		c := &chat{t: t, f: newFixture(t, nil), id: 1}
		toPhone(c)
		assert.False(t, c.text("hello").HideKeyboard, "the question stands")
		assert.False(t, c.send(cmd("help")).HideKeyboard, "asked again")
		out := c.send(contact)
		assert.True(t, out.HideKeyboard, "bound: the question is behind")
		assert.Equal(t, []dialogs.MsgID{"bound", "checklist"}, keys(out))
		assert.False(t, c.press("ck:all").HideKeyboard, "withdrawn once")
		assert.False(t, c.press("cs:yes").HideKeyboard)
	})
	t.Run("typed", func(t *testing.T) {
		c := &chat{t: t, f: newFixture(t, nil), id: 2}
		toPhone(c)
		assert.True(t, c.text("13800000001").HideKeyboard, "the code step's question is no contact question")
		assert.False(t, c.text(code).HideKeyboard)
	})
	t.Run("owed until a reply can carry it", func(t *testing.T) {
		c := &chat{t: t, f: newFixture(t, nil), id: 3}
		toPhone(c)
		out := c.send(cmd("start"))
		assert.False(t, out.HideKeyboard, "the menu alone: every reply has buttons")
		assert.False(t, c.send(cmd("help")).HideKeyboard, "the menu's help has buttons too")
		out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "m:change", Seq: c.seq - 1})
		assert.True(t, out.Stale)
		assert.False(t, out.HideKeyboard, "a stale tap's note may be a toast")
		out = c.text("hello")
		assert.Equal(t, []dialogs.MsgID{"use_menu", "menu"}, keys(out))
		assert.True(t, out.HideKeyboard, "a note without buttons carries it")
		out = c.press("m:change")
		assert.Equal(t, []dialogs.MsgID{"ask_phone"}, keys(out), "the merchant number is kept")
		assert.False(t, out.HideKeyboard, "offered again")
	})
	t.Run("support and back", func(t *testing.T) {
		c := &chat{t: t, f: newFixture(t, nil), id: 5}
		toPhone(c)
		out := c.send(cmd("support"))
		assert.Equal(t, dialogs.StepSupport, mustLoad(t, c.f, 5).Step)
		assert.False(t, out.HideKeyboard, "the hand-off's only reply has a button: owed")
		out = c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventHandBack})
		assert.True(t, hasContactButton(out), "back at the phone question, offered again")
		assert.False(t, out.HideKeyboard)
		assert.True(t, c.send(contact).HideKeyboard)
	})
	t.Run("console", func(t *testing.T) {
		c := &chat{t: t, f: newFixture(t, nil), id: 4}
		in := func(in dialogs.Input) dialogs.Outcome { in.NoContact = true; return c.send(in) }
		in(cmd("start"))
		c.seq = c.last.Seq
		out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "m:change", Seq: c.seq, NoContact: true})
		assert.False(t, out.HideKeyboard)
		out = in(dialogs.Input{Kind: dialogs.InText, Text: "822100050110001"})
		assert.False(t, hasContactButton(out))
		assert.False(t, in(dialogs.Input{Kind: dialogs.InText, Text: "13800000001"}).HideKeyboard, "no button was offered")
	})
}

func hasContactButton(out dialogs.Outcome) bool {
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.RequestContact {
					return true
				}
			}
		}
	}
	return false
}
