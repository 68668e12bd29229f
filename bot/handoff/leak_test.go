package handoff_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// leakyTexts are a merchant's messages during a hand-off with card, ID,
// phone and code numbers in the forms that slipped past the old masker:
// dotted, full-width and mixed, spaced, split, starred, bracketed.
var leakyTexts = []string{
	"my card 6228.4800.0012.3456.782",
	"卡号 ６２２８ ４８００-0012．3456／782",
	"6228_4800_0012_3456_782",
	"phone *13900000002, code 480913*",
	"code 480 913 (480913) and +86 139-0000-0002",
	"again 48-09-13, 139.0000.0002, ID 11010519491231002X",
}

// TestNothingReadableReachesTheGroupOrRedis: after a hand-off in which the
// merchant writes numbers in every form (texts, captions, an edit), an
// agent quotes one, and a second hand-off builds its context card from
// what was kept, the oracle (leaktest, which shares no code with the
// masker) reads no card, ID, phone or code digit string in anything the
// group received nor in any raw value the desk left in Redis.
func TestNothingReadableReachesTheGroupOrRedis(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)

	inputs := append([]string(nil), leakyTexts...)
	for _, s := range leakyTexts {
		f.merchantSays(d, m1, telegramtest.UserMessage{Text: s})
	}
	for _, c := range []string{"138.0000.0001 / 48.09.13", "code 480913*", "卡号 6228.4800.0012.3456.782"} {
		f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", Text: c})
		inputs = append(inputs, c)
	}
	plain := f.merchantSays(d, m1, telegramtest.UserMessage{Text: "ok"})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	edit := "ok 139 0000 0002 code 480 913"
	f.merchantEdits(d, m1, plain, edit)
	inputs = append(inputs, edit)
	agent := "is your code 480913 or 48-09-13?"
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: agent})
	inputs = append(inputs, agent)
	f.wire.settle(t)

	// A second hand-off: its context card is made from the kept lines.
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	f.openZhang(t, d)

	var seen []string
	for _, m := range f.srv.Sent(group) {
		seen = append(seen, m.Text, m.Caption)
	}
	all := strings.Join(seen, "\n")
	assert.Contains(t, all, "622848*********6782", "the card is shown masked")
	assert.Contains(t, all, "139****0002", "the phone is shown masked")
	assert.Contains(t, all, "Last messages", "the second context card lists the kept lines")
	stored, err := redistest.Dump(ctx, f.rdb, f.prefix)
	require.NoError(t, err)
	require.NotEmpty(t, stored)
	for _, in := range inputs {
		assert.Empty(t, leaktest.Leaks(in, seen...), "the group reads a number of %q:\n%s", in, all)
		assert.Empty(t, leaktest.Leaks(in, stored...), "Redis holds a number of %q:\n%s", in, strings.Join(stored, "\n"))
	}
	for _, s := range append(seen, stored...) {
		assert.False(t, leaktest.HasCard(s), "a card number in %q", s)
	}
	assert.Empty(t, f.wire.Lost())
}

// asRead is the group's texts as an agent reads them: one after the other,
// a line break or a comma read as the space inside a number.
func asRead(texts ...string) string {
	return strings.NewReplacer("\n", " ", ",", " ", "，", " ").Replace(strings.Join(texts, " "))
}

// TestSplitNumbersDoNotReachTheGroup: a card, an ID number or a code
// split over messages (in one batch, or in two, the second after the first
// reached the group), over a full-width comma or over a line break, cannot
// be read in the topic by the oracle, the pieces read together.
func TestSplitNumbersDoNotReachTheGroup(t *testing.T) {
	tests := []struct {
		name    string
		batches [][]string
	}{
		{"card over two messages", [][]string{{"6222021234", "567890128"}}},
		{"card over a full-width comma", [][]string{{"622202123，4567890128"}}},
		{"card over a line break", [][]string{{"622202123\n4567890128"}}},
		{"card over three messages", [][]string{{"622", "2021234567", "890128"}}},
		{"ID number over three messages", [][]string{{"110", "10519900101", "123X"}}},
		{"code over two messages", [][]string{{"123", "456"}}},
		{"card over two batches", [][]string{{"6222021234"}, {"567890128"}}},
		{"code over two batches", [][]string{{"123"}, {"456"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := f.desk()
			ctx := context.Background()
			th := f.openZhang(t, d)
			before := len(f.inThread(th))
			var said []string
			for _, b := range tt.batches {
				for _, s := range b {
					f.merchantSays(d, m1, telegramtest.UserMessage{Text: s})
					said = append(said, s)
				}
				require.NoError(t, d.Flush(ctx, m1))
				f.wire.settle(t)
			}
			var seen []string
			for _, m := range f.inThread(th)[before:] {
				seen = append(seen, m.Text)
			}
			assert.Empty(t, leaktest.Leaks(asRead(said...), asRead(seen...)), "the topic reads:\n%s", strings.Join(seen, "\n"))

			// Nor do the lines kept in Redis for the next context card.
			kept, err := f.rdb.LRange(ctx, f.prefix+"{ho}:recent:"+strconv.FormatInt(m1, 10), 0, -1).Result()
			require.NoError(t, err)
			slices.Reverse(kept)
			for i := range kept {
				kept[i] = strings.NewReplacer("👤 ", "", "🎧 ", "").Replace(kept[i])
			}
			assert.Empty(t, leaktest.Leaks(asRead(said...), asRead(kept...)), "Redis keeps:\n%s", strings.Join(kept, "\n"))

			// The next hand-off's context card lists the last messages.
			f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "/close"})
			f.wire.settle(t)
			f.openZhang(t, d)
			var cards []string
			for _, m := range f.srv.Sent(group) {
				if strings.Contains(m.Text, "Last messages") {
					cards = append(cards, strings.NewReplacer("👤 ", "", "🎧 ", "").Replace(m.Text))
				}
			}
			require.NotEmpty(t, cards)
			assert.Empty(t, leaktest.Leaks(asRead(said...), asRead(cards...)), "the card reads:\n%s", strings.Join(cards, "\n"))
			assert.Empty(t, f.wire.Lost())
		})
	}
}

// groupContent is everything a group message shows: text, caption, a
// document's file name, a poll, a contact.
func groupContent(m telegramtest.Message) []string {
	a := m.APIMessage
	out := []string{m.Text, m.Caption}
	if a.Document != nil {
		out = append(out, a.Document.FileName)
	}
	if a.Poll != nil {
		out = append(out, a.Poll.Question)
		for _, o := range a.Poll.Options {
			out = append(out, o.Text)
		}
	}
	if a.Contact != nil {
		out = append(out, a.Contact.PhoneNumber)
	}
	return out
}

// TestUncopiedContentReachesTheGroupMasked: a poll, a contact card and a
// document whose file name holds an ID number are not copied into the
// topic (a copy carries them as they are): the topic gets what they say,
// masked. A document with a plain name is still copied.
func TestUncopiedContentReachesTheGroupMasked(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)
	before := len(f.inThread(th))

	question, option := "my ID 110105199001011234?", "card 6222021234567890128"
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "poll", Poll: &models.Poll{Question: question,
		Options: []models.PollOption{{Text: option}, {Text: "no"}}}})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "document", FileName: "110105199001011234.pdf"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "document", FileName: "menu.pdf"})
	f.srv.ShareContact(m1, m1, "+86 139 0000 0002", 0)
	tr := f.srv.Transcript(m1)
	require.NoError(t, d.Relay(ctx, m1, f.message(m1, tr[len(tr)-1].ID), false))
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)

	var seen []string
	copied := false
	for _, m := range f.inThread(th)[before:] {
		seen = append(seen, groupContent(m)...)
		copied = copied || m.APIMessage.Document != nil && m.APIMessage.Document.FileName == "menu.pdf"
	}
	all := strings.Join(seen, "\n")
	for _, in := range []string{question, option, "110105199001011234.pdf", "+86 139 0000 0002"} {
		assert.Empty(t, leaktest.Leaks(in, seen...), "the group reads a number of %q:\n%s", in, all)
	}
	assert.Contains(t, all, "110105********1234", "the ID number is shown masked")
	assert.Contains(t, all, "139****0002", "the phone is shown masked")
	assert.True(t, copied, "a document with a plain name is copied:\n%s", all)
	assert.Empty(t, f.wire.Lost())
}

// TestEditedSplitNumbersDoNotReachTheGroup: a card split over two batches
// (the topic shows it masked) whose pieces the merchant then edits, each
// still a piece alone, is not put back in the topic in clear by the edits:
// each edit is read with the merchant's other last messages.
func TestEditedSplitNumbersDoNotReachTheGroup(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)
	before := len(f.inThread(th))
	var ids []int
	for _, s := range []string{"6222021234", "567890128"} {
		ids = append(ids, f.merchantSays(d, m1, telegramtest.UserMessage{Text: s}))
		require.NoError(t, d.Flush(ctx, m1))
		f.wire.settle(t)
	}
	edits := []string{"6222021234 ", "567890128 ok"}
	for i, s := range edits {
		f.merchantEdits(d, m1, ids[i], s)
		f.wire.settle(t)
	}
	var seen []string
	for _, m := range f.inThread(th)[before:] {
		seen = append(seen, m.Text)
	}
	assert.Len(t, seen, 2, "each piece is edited in place:\n%s", strings.Join(seen, "\n"))
	assert.Empty(t, leaktest.Leaks(asRead(edits...), asRead(seen...)), "the topic reads:\n%s", strings.Join(seen, "\n"))
	assert.Empty(t, f.wire.Lost())
}

// TestSplitNumberAfterAPollIsMaskedInThePoll: a poll is posted by value
// (not copied); a card split between its last option and the merchant's
// next message, relayed in the next batch, is hidden in the poll's text in
// the topic too, which is edited (as a text's piece is, maskAcross).
func TestSplitNumberAfterAPollIsMaskedInThePoll(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)
	before := len(f.inThread(th))
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "poll", Poll: &models.Poll{Question: "which?",
		Options: []models.PollOption{{Text: "no"}, {Text: "6222021234"}}}})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	f.merchantSays(d, m1, telegramtest.UserMessage{Text: "567890128"})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)

	var seen []string
	for _, m := range f.inThread(th)[before:] {
		seen = append(seen, m.Text)
	}
	all := strings.Join(seen, "\n")
	assert.Len(t, seen, 2, "the poll's text is edited in place:\n%s", all)
	assert.Empty(t, leaktest.Leaks(asRead("6222021234", "567890128"), asRead(seen...)), "the topic reads:\n%s", all)
	for _, piece := range []string{"6222021234", "567890128"} {
		assert.NotContains(t, all, piece, "a piece of the card is left in clear")
	}
	assert.Contains(t, all, "• **********", "the poll's option is masked")
	assert.Empty(t, f.wire.Lost())
}

// TestSplitNumberBatchRetried: a batch that completes a card split with
// the previous one, retried because the outbox could not take it (its
// relay, or the edit hiding the earlier piece), reads each piece once and
// hides both pieces in the topic.
func TestSplitNumberBatchRetried(t *testing.T) {
	for _, refused := range []string{"sendMessage", "editMessageText"} {
		t.Run(refused, func(t *testing.T) {
			f := newFixture(t)
			d := f.desk()
			ctx := context.Background()
			th := f.openZhang(t, d)
			before := len(f.inThread(th))
			f.merchantSays(d, m1, telegramtest.UserMessage{Text: "6222021234"})
			require.NoError(t, d.Flush(ctx, m1))
			f.wire.settle(t)
			f.merchantSays(d, m1, telegramtest.UserMessage{Text: "567890128"})
			f.wire.refuseNext(refused)
			require.Error(t, d.Flush(ctx, m1))
			require.NoError(t, d.Flush(ctx, m1))
			f.wire.settle(t)

			var seen []string
			for _, m := range f.inThread(th)[before:] {
				seen = append(seen, m.Text)
			}
			all := strings.Join(seen, "\n")
			assert.Len(t, seen, 2, "each piece once:\n%s", all)
			for _, piece := range []string{"6222021234", "567890128"} {
				assert.NotContains(t, all, piece, "a piece of the card is left in clear")
			}
			assert.Empty(t, f.wire.Lost())
		})
	}
}
