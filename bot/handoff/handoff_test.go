package handoff_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

const (
	m1 = int64(7001)
	m2 = int64(7002)
)

func TestCheckNamesWhatToChange(t *testing.T) {
	catalog, err := locales.Load()
	require.NoError(t, err)
	rdb, prefix := testRedis(t)
	tests := []struct {
		name  string
		chat  int64
		setup func(*telegramtest.Server)
		want  string
	}{
		{"ok", group, func(s *telegramtest.Server) {
			s.SetForum(group, true)
			s.SetChatMember(group, s.BotUser(), models.ChatMemberTypeAdministrator, true)
		}, ""},
		{"topics off", group, func(s *telegramtest.Server) {
			s.SetForum(group, false)
			s.SetChatMember(group, s.BotUser(), models.ChatMemberTypeAdministrator, true)
		}, "turn on Topics"},
		{"basic group", -4242, func(*telegramtest.Server) {}, "not a supergroup"},
		{"plain member", group, func(s *telegramtest.Server) { s.SetForum(group, true) }, "make it an administrator"},
		{"admin without topics", group, func(s *telegramtest.Server) {
			s.SetForum(group, true)
			s.SetChatMember(group, s.BotUser(), models.ChatMemberTypeAdministrator, false)
		}, "Manage topics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New()
			defer srv.Close()
			tt.setup(srv)
			api, err := tg.New(srv.Token(), tg.WithServerURL(srv.URL()), tg.WithSkipGetMe())
			require.NoError(t, err)
			err = handoff.New(api, nil, nil, rdb, tt.chat, catalog, handoff.WithPrefix(prefix)).Check(context.Background())
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "SUPPORT_CHAT_ID")
		})
	}
}

func TestTwoMerchantsRelayBothWaysWithMediaAndEdits(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepSummary)))
	require.NoError(t, d.Open(ctx, m2, info("822100050110002", "Li Si Noodles", locales.English, dialogs.StepCard)))
	f.wire.settle(t)
	t1, t2 := f.topic(m1, "Zhang San Store"), f.topic(m2, "Li Si Noodles")
	assert.NotEqual(t, t1.ThreadID, t2.ThreadID)
	assert.Equal(t, "Zhang San Store · 0001 · open", t1.Name)
	for _, tp := range []telegramtest.Topic{t1, t2} {
		msgs := f.inThread(tp.ThreadID)
		require.NotEmpty(t, msgs)
		card := msgs[0]
		assert.Contains(t, card.Text, "Support request", "the context card comes first")
		_, claim := card.Button("🙋 Claim")
		_, back := card.Button("↩️ Hand back")
		assert.True(t, claim && back, "the card has Claim and Hand back")
	}
	assert.Contains(t, f.inThread(t1.ThreadID)[0].Text, "Left at: summary")

	// Merchant 1: a text, a photo, an album of two, a voice note, a document.
	hello := f.merchantSays(d, m1, telegramtest.UserMessage{Text: "hello, I need help"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", Text: "the card front"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", MediaGroup: "alb1"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", MediaGroup: "alb1"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "voice"})
	last := f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "document", Text: "licence.pdf"})
	// Merchant 2: three short texts in a row become one group message.
	f.merchantSays(d, m2, telegramtest.UserMessage{Text: "a"})
	b := f.merchantSays(d, m2, telegramtest.UserMessage{Text: "b"})
	f.merchantSays(d, m2, telegramtest.UserMessage{Text: "c"})
	require.NoError(t, d.Flush(ctx, m1))
	require.NoError(t, d.Flush(ctx, m2))
	f.wire.settle(t)

	g1 := f.inThread(t1.ThreadID)[1:]
	require.Len(t, g1, 6, describe(g1))
	kinds := []string{}
	for _, m := range g1 {
		kinds = append(kinds, m.Kind)
	}
	assert.Equal(t, []string{"text", "photo", "photo", "photo", "voice", "document"}, kinds)
	assert.Equal(t, "hello, I need help", g1[0].Text)
	assert.Equal(t, "the card front", g1[1].Caption)
	// An album's photos are copied one by one, each with its caption
	// replaced (copyMessages cannot replace captions).
	assert.Empty(t, f.srv.CallsTo("copyMessages"))
	assert.Equal(t, []string{"👀"}, f.srv.Reactions(m1, last), "the merchant sees their messages reached support")

	g2 := f.inThread(t2.ThreadID)[1:]
	require.Len(t, g2, 1, describe(g2))
	assert.Equal(t, "a\nb\nc", g2[0].Text)

	// Edits are followed: a copied text, and one part of a combined relay.
	f.merchantEdits(d, m1, hello, "hello, I need help with my card")
	f.merchantEdits(d, m2, b, "B!")
	f.wire.settle(t)
	assert.Equal(t, "hello, I need help with my card", f.inThread(t1.ThreadID)[1].Text)
	assert.Equal(t, "a\nB!\nc", f.inThread(t2.ThreadID)[1].Text)

	// Agents answer: the merchant sees the bot's messages, text and media.
	reply := f.agentSays(d, alice, t1.ThreadID, telegramtest.UserMessage{Text: "Hi, Alice here. Which step?"})
	f.agentSays(d, alice, t1.ThreadID, telegramtest.UserMessage{Kind: "photo", Text: "like this"})
	f.agentSays(d, bob, t2.ThreadID, telegramtest.UserMessage{Kind: "sticker"})
	f.wire.settle(t)
	s1 := f.srv.Sent(m1)
	require.Len(t, s1, 2)
	assert.True(t, s1[0].FromBot)
	assert.Equal(t, "Hi, Alice here. Which step?", s1[0].Text)
	assert.Equal(t, "photo", s1[1].Kind)
	assert.Equal(t, "like this", s1[1].Caption)
	s2 := f.srv.Sent(m2)
	require.Len(t, s2, 1)
	assert.Equal(t, "sticker", s2[0].Kind)

	// An agent's edit follows to the merchant's copy.
	f.agentEdits(d, reply, "Hi, Alice here. Which step are you at?")
	f.wire.settle(t)
	assert.Equal(t, "Hi, Alice here. Which step are you at?", f.srv.Sent(m1)[0].Text)
	assert.Empty(t, f.wire.Lost())
}

func TestAgentAlbumGoesAsOneAndSignature(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)
	f.agentSays(d, alice, th, telegramtest.UserMessage{Kind: "photo", MediaGroup: "g1"})
	f.agentSays(d, alice, th, telegramtest.UserMessage{Kind: "photo", MediaGroup: "g1"})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	sent := f.srv.Sent(m1)
	require.Len(t, sent, 2)
	assert.NotEmpty(t, sent[0].APIMessage.MediaGroupID)
	assert.Equal(t, sent[0].APIMessage.MediaGroupID, sent[1].APIMessage.MediaGroupID)

	signed := f.desk(handoff.WithSignature(true))
	f.agentSays(signed, alice, th, telegramtest.UserMessage{Text: "Please send the letter."})
	f.wire.settle(t)
	last, _ := f.srv.LastSent(m1)
	assert.Equal(t, "Please send the letter.\n\n— Alice, support", last.Text)
	assert.Empty(t, f.wire.Lost())
}

func TestClaimConflict(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID

	f.press(d, alice, th, "🙋 Claim")
	f.wire.settle(t)
	assert.Equal(t, "Zhang San Store · 0001 · claimed", f.topic(m1, "Zhang San Store").Name)

	// Bob's message is not delivered; he is told who owns it.
	bobsMsg := f.agentSays(d, bob, th, telegramtest.UserMessage{Text: "I can help too"})
	f.press(d, bob, th, "🙋 Claim")
	f.wire.settle(t)
	assert.Empty(t, f.srv.Sent(m1), "another agent's message is not delivered")
	msgs := f.inThread(th)
	lastMsg := msgs[len(msgs)-1]
	assert.Contains(t, lastMsg.Text, "belongs to Alice")
	require.NotNil(t, lastMsg.APIMessage.ReplyToMessage)
	assert.Equal(t, bobsMsg, lastMsg.APIMessage.ReplyToMessage.ID)
	answers := f.srv.CallbackAnswers()
	require.NotEmpty(t, answers)
	assert.Contains(t, answers[len(answers)-1].Text, "belongs to Alice")

	// Someone who is not in the support group is no agent.
	f.srv.SetChatMember(group, eve, models.ChatMemberTypeLeft, false)
	f.agentSays(d, eve, th, telegramtest.UserMessage{Text: "hi from outside"})
	f.wire.settle(t)
	assert.Empty(t, f.srv.Sent(m1))

	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "Alice here"})
	f.wire.settle(t)
	require.Len(t, f.srv.Sent(m1), 1)

	// Only the owner hands back.
	f.agentSays(d, bob, th, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	assert.Empty(t, f.wire.Posts())
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	posts := f.wire.Posts()
	require.Len(t, posts, 1)
	assert.Equal(t, m1, posts[0].Chat)
	assert.Equal(t, dialogs.EventHandBack, posts[0].Event)
	assert.Equal(t, "Alice", posts[0].Arg)
	tp := f.topic(m1, "Zhang San Store")
	assert.True(t, tp.Closed, "the topic is closed")
	assert.Equal(t, "Zhang San Store · 0001 · closed", tp.Name)

	require.NoError(t, d.Rated(ctx, m1, 5))
	f.wire.settle(t)
	assert.Equal(t, "Zhang San Store · 0001 · closed ⭐5", f.topic(m1, "Zhang San Store").Name)
	assert.Empty(t, f.wire.Lost())
}

func TestUnclaimedHandOffIsAnnouncedAgain(t *testing.T) {
	f := newFixture(t)
	d := f.desk(handoff.WithReannounce(3*time.Minute), handoff.WithTick(5*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	f.clock.Advance(3*time.Minute + time.Second)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, f.srv.WaitFor(wctx, func(v *telegramtest.Snapshot) bool {
		for _, m := range v.Sent(group) {
			if m.ThreadID == th && strings.Contains(m.Text, "Nobody has taken this conversation for 3 min") {
				return true
			}
		}
		return false
	}))
	// Once claimed, no more announcements. Run looks at announcements
	// right after relays in each round, so once a relay made after the
	// clock moved is in the topic, a due announcement would be too.
	f.press(d, alice, th, "🙋 Claim")
	f.wire.settle(t)
	f.clock.Advance(10 * time.Minute)
	f.merchantSays(d, m1, telegramtest.UserMessage{Text: "ping"})
	f.clock.Advance(time.Minute)
	require.NoError(t, f.srv.WaitFor(wctx, func(v *telegramtest.Snapshot) bool {
		for _, m := range v.Sent(group) {
			if m.ThreadID == th && m.Text == "ping" {
				return true
			}
		}
		return false
	}))
	f.wire.settle(t)
	announced := 0
	for _, m := range f.inThread(th) {
		if strings.Contains(m.Text, "Nobody has taken") {
			announced++
		}
	}
	assert.Equal(t, 1, announced)
}

func TestDeletedTopicIsRecreated(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	old := f.topic(m1, "Zhang San Store").ThreadID

	// An agent deletes the topic during the hand-off: the next relay is
	// refused ("message thread not found"), and lands in a new topic.
	require.True(t, f.srv.DeleteTopic(group, old))
	f.merchantSays(d, m1, telegramtest.UserMessage{Text: "are you there?"})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	refused := false
	for _, c := range f.srv.CallsTo("sendMessage") {
		refused = refused || strings.Contains(c.Description, "message thread not found")
	}
	assert.True(t, refused, "the fake answers as Telegram does")
	topics := f.srv.Topics(group)
	require.Len(t, topics, 1)
	fresh := topics[0].ThreadID
	assert.NotEqual(t, old, fresh)
	msgs := f.inThread(fresh)
	require.Len(t, msgs, 2, describe(msgs))
	assert.Contains(t, msgs[0].Text, "was deleted")
	assert.Contains(t, msgs[0].Text, "Support request")
	assert.Equal(t, "are you there?", msgs[1].Text)

	// Agent replies in the new topic reach the merchant.
	f.agentSays(d, alice, fresh, telegramtest.UserMessage{Text: "yes"})
	f.wire.settle(t)
	require.Len(t, f.srv.Sent(m1), 1)

	// Deleted between hand-offs: the next hand-off makes a new one at once.
	require.NoError(t, d.Left(ctx, m1))
	f.wire.settle(t)
	require.True(t, f.srv.DeleteTopic(group, fresh))
	f.clock.Advance(time.Minute) // another hand-off
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	topics = f.srv.Topics(group)
	require.Len(t, topics, 1)
	assert.NotEqual(t, fresh, topics[0].ThreadID)
	assert.False(t, topics[0].Closed)
	assert.Empty(t, f.wire.Lost())
}

func TestClosedTopicIsReopenedAndReused(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	require.True(t, f.topic(m1, "Zhang San Store").Closed)

	f.clock.Advance(time.Minute) // another hand-off
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepPhone)))
	f.wire.settle(t)
	tp := f.topic(m1, "Zhang San Store")
	assert.Equal(t, th, tp.ThreadID, "one topic per merchant, reused")
	assert.False(t, tp.Closed)
	assert.Equal(t, "Zhang San Store · 0001 · open", tp.Name)
	assert.Equal(t, 1, f.srv.CallCount("createForumTopic"))
	msgs := f.inThread(th)
	assert.Contains(t, msgs[len(msgs)-1].Text, "Left at: reserved phone")
	assert.Empty(t, f.wire.Lost())
}

func TestCardNumberIsMaskedOnItsWayToTheGroup(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, dialogs.HandOffInfo{MerchantNo: "822100050110001", MerchantName: "Zhang San Store",
		Lang: locales.Chinese, Step: dialogs.StepSummary, Answers: []dialogs.Answer{
			{Step: dialogs.StepCard, Value: "622202*********0128"}, {Step: dialogs.StepPhone, Value: "139****5678"}}}))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID

	f.merchantSays(d, m1, telegramtest.UserMessage{Text: "my card is ６２２２ ０２１２ 3456-7890-128, code 123456, phone 13912345678"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", Text: "卡号6222021234567890128"})
	f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "document", Text: "SMS 654321"})
	plain := f.merchantSays(d, m1, telegramtest.UserMessage{Text: "ok"})
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	// Then an edit that puts a card number into a relayed text.
	f.merchantEdits(d, m1, plain, "ok 6222021234567890128")
	f.wire.settle(t)

	msgs := f.inThread(th)
	all := describe(msgs)
	for _, secret := range []string{"6222021234567890128", "3456-7890-128", "123456", "654321", "13912345678", "1234567890"} {
		assert.NotContains(t, all, secret)
	}
	assert.Contains(t, all, "622202*********0128")
	assert.Contains(t, all, "139****5678")
	assert.Contains(t, all, "sent a photo whose caption held card data", "the deleted photo is described, not copied")
	for _, m := range f.srv.Sent(group) {
		assert.False(t, leaktest.HasCard(m.Text) || leaktest.HasCard(m.Caption), "card data in the group: %q", m.Text+m.Caption)
	}
	// A masked text is our own copy, never copyMessage of the original.
	for _, c := range f.srv.CallsTo("copyMessage") {
		assert.NotEqual(t, "1", c.Params.String("message_id"), "the card message was copied")
	}
	// The code in a document caption: the document is copied, its caption masked.
	var doc telegramtest.Message
	for _, m := range msgs {
		if m.Kind == "document" {
			doc = m
		}
	}
	assert.Equal(t, "document", doc.Kind)
	assert.Contains(t, doc.Caption, "******")
	assert.Empty(t, f.wire.Lost())
}

func TestRestartDuringHandOff(t *testing.T) {
	f := newFixture(t)
	first := f.desk()
	ctx := context.Background()
	require.NoError(t, first.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.English, dialogs.StepHolder)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	f.agentSays(first, alice, th, telegramtest.UserMessage{Text: "/claim"})
	f.merchantSays(first, m1, telegramtest.UserMessage{Text: "written just before the restart"})
	f.wire.settle(t)

	// The process dies before the batch went out; a new one carries on.
	second := f.desk(handoff.WithTick(5 * time.Millisecond))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = second.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	f.clock.Advance(5 * time.Second)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, f.srv.WaitFor(wctx, func(v *telegramtest.Snapshot) bool {
		for _, m := range v.Sent(group) {
			if m.ThreadID == th && m.Text == "written just before the restart" {
				return true
			}
		}
		return false
	}))
	// The claim survived: Bob is still refused, Alice gets through, and she
	// can hand back.
	f.agentSays(second, bob, th, telegramtest.UserMessage{Text: "me?"})
	f.agentSays(second, alice, th, telegramtest.UserMessage{Text: "Thanks, all done."})
	f.agentSays(second, alice, th, telegramtest.UserMessage{Text: "/t 30days"})
	f.wire.settle(t)
	sent := f.srv.Sent(m1)
	require.Len(t, sent, 2)
	assert.Equal(t, "Thanks, all done.", sent[0].Text)
	assert.Contains(t, sent[1].Text, "at most one every 30 days", "the template in the merchant's language")
	f.press(second, alice, th, "↩️ Hand back")
	f.wire.settle(t)
	posts := f.wire.Posts()
	require.Len(t, posts, 1)
	assert.Equal(t, dialogs.EventHandBack, posts[0].Event)
	assert.Empty(t, f.wire.Lost())
}

func TestTwoReplicasRaceToCreateOneTopic(t *testing.T) {
	f := newFixture(t)
	replicas := []*handoff.Desk{f.desk(), f.desk()}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- replicas[i%2].Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	f.wire.settle(t)
	assert.Equal(t, 1, f.srv.CallCount("createForumTopic"), "never two topics for one merchant")
	assert.Len(t, f.srv.Topics(group), 1)
}

func TestBlockedMerchantIsReported(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	f.srv.SetBlocked(m1, true)
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "hello?"})
	f.wire.settle(t)
	msgs := f.inThread(th)
	assert.Contains(t, msgs[len(msgs)-1].Text, "blocked the bot")
	assert.Empty(t, f.wire.Lost())
}

func TestAgentOpensAConversationByMerchantNumber(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, f.rdb.Set(ctx, chatq.MerchantKeyOf(f.prefix, chatq.ShardOf(m2), "822100050110009"), m2, 0).Err())
	f.agentSays(d, alice, 0, telegramtest.UserMessage{Text: "/open 822100050110009"})
	f.agentSays(d, alice, 0, telegramtest.UserMessage{Text: "/open 822100050110008"})
	f.wire.settle(t)
	posts := f.wire.Posts()
	require.Len(t, posts, 1)
	assert.Equal(t, m2, posts[0].Chat)
	assert.Equal(t, handoff.EventAgentOpen, posts[0].Event)
	general := f.inThread(0)
	assert.Contains(t, general[len(general)-1].Text, "No chat is bound to merchant 822100050110008")

	// The dialog hands off (its HandOff effect): the agent who opened owns it.
	require.NoError(t, d.Open(ctx, m2, info("822100050110009", "Wang Wu", locales.Chinese, dialogs.StepMenu)))
	f.wire.settle(t)
	tp := f.topic(m2, "Wang Wu")
	assert.Equal(t, "Wang Wu · 0009 · claimed", tp.Name)
	f.agentSays(d, bob, tp.ThreadID, telegramtest.UserMessage{Text: "mine?"})
	f.wire.settle(t)
	assert.Empty(t, f.srv.Sent(m2))
}

func TestWritingInAClosedTopicOpensAConversation(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepBank)))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	f.agentSays(d, alice, th, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	require.True(t, f.topic(m1, "Zhang San Store").Closed)

	f.agentSays(d, bob, th, telegramtest.UserMessage{Text: "One more thing: your letter arrived."})
	f.wire.settle(t)
	posts := f.wire.Posts()
	require.Len(t, posts, 2)
	assert.Equal(t, handoff.EventAgentOpen, posts[1].Event)
	assert.Equal(t, "Bob", posts[1].Arg)
	assert.False(t, f.topic(m1, "Zhang San Store").Closed, "the topic is open again")
	assert.Equal(t, "Zhang San Store · 0001 · claimed", f.topic(m1, "Zhang San Store").Name)
	sent := f.srv.Sent(m1)
	require.Len(t, sent, 1)
	assert.Equal(t, "One more thing: your letter arrived.", sent[0].Text)
	msgs := f.inThread(th)
	assert.Contains(t, describe(msgs), "Bob opened a conversation")
	assert.Empty(t, f.wire.Lost())
}

func TestApplyCarriesOutTheDialogsEffects(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	in := &dialogs.HandOffInfo{MerchantNo: "822100050110001", MerchantName: "Zhang San Store", Lang: locales.Chinese, Step: dialogs.StepCard}
	require.NoError(t, d.Apply(ctx, m1, []dialogs.Effect{{Kind: dialogs.HandOff, Step: dialogs.StepCard, Info: in}}, nil, false))
	f.wire.settle(t) // the topic is made: relays wait for it
	_, id := f.srv.Send(m1, m1, telegramtest.UserMessage{Text: "hi"})
	require.NoError(t, d.Apply(ctx, m1, []dialogs.Effect{{Kind: dialogs.Relay, MessageID: id}}, f.message(m1, id), false))
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	msgs := f.inThread(th)
	require.Len(t, msgs, 2)
	assert.Equal(t, "hi", msgs[1].Text)
	require.NoError(t, d.Apply(ctx, m1, []dialogs.Effect{{Kind: dialogs.HandOffEnd}}, nil, false))
	require.NoError(t, d.Apply(ctx, m1, []dialogs.Effect{{Kind: dialogs.Rated, Rating: 3}}, nil, false))
	f.wire.settle(t)
	tp := f.topic(m1, "Zhang San Store")
	assert.True(t, tp.Closed)
	assert.Equal(t, "Zhang San Store · 0001 · closed ⭐3", tp.Name)
	assert.Contains(t, describe(f.inThread(th)), "went back to the bot on their own")
	assert.Empty(t, f.wire.Lost())
}

func TestOddGroupUpdatesAreIgnored(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	odd := []*models.Update{
		{},
		{Message: &models.Message{Chat: models.Chat{ID: group}}},
		{Message: &models.Message{Chat: models.Chat{ID: group}, From: &alice, Text: "/", IsTopicMessage: true, MessageThreadID: 999}},
		{Message: &models.Message{Chat: models.Chat{ID: group}, From: &alice, Text: "/open", IsTopicMessage: false}},
		{Message: &models.Message{Chat: models.Chat{ID: 42}, From: &alice, Text: "not the group"}},
		{EditedMessage: &models.Message{Chat: models.Chat{ID: group}, From: &alice, Text: "x", IsTopicMessage: true, MessageThreadID: 999}},
		{CallbackQuery: &models.CallbackQuery{ID: "1", From: alice, Data: "ho:claim:notanumber"}},
		{CallbackQuery: &models.CallbackQuery{ID: "2", From: alice, Data: "ho:back:7001",
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{Chat: models.Chat{ID: group}}}}},
	}
	for i, u := range odd {
		assert.NoError(t, d.HandleGroup(ctx, u), "update %d", i)
	}
	f.wire.settle(t)
	assert.Empty(t, f.wire.Posts())
	assert.Empty(t, f.srv.Sent(m1))
}

func TestARelayAppliedTwiceGoesOnce(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	require.NoError(t, d.Open(ctx, m1, info("822100050110001", "Zhang San Store", locales.Chinese, dialogs.StepCard)))
	f.wire.settle(t)
	id := f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo"})
	require.NoError(t, d.Relay(ctx, m1, f.message(m1, id), false)) // the update redelivered
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)
	msgs := f.inThread(f.topic(m1, "Zhang San Store").ThreadID)
	assert.Len(t, msgs, 2, describe(msgs))
}

// TestRelayIsByValueNotByReference: a merchant's text edited (to add a
// phone and a code) before its batch leaves reaches the group only as the
// masked text the bot read; no text is ever copied with copyMessage (which
// copies the message as it is at copy time), and a medium's caption is
// replaced by the masked one.
func TestRelayIsByValueNotByReference(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)

	id := f.merchantSays(d, m1, telegramtest.UserMessage{Text: "please call me"})
	photo := f.merchantSays(d, m1, telegramtest.UserMessage{Kind: "photo", Text: "front"})
	// Edited before the batch is flushed: Telegram's copy would carry this.
	f.merchantEdits(d, m1, id, "please call me 13912345678, code 246810")
	_, err := f.srv.Edit(m1, photo, "front 13912345678")
	require.NoError(t, err)
	require.NoError(t, d.Flush(ctx, m1))
	f.wire.settle(t)

	all := describe(f.inThread(th))
	for _, secret := range []string{"13912345678", "246810"} {
		assert.NotContains(t, all, secret)
	}
	assert.Contains(t, all, "please call me")
	assert.Contains(t, all, "139****5678", "the edit is relayed, masked")
	for _, c := range f.srv.CallsTo("copyMessage") {
		assert.Equal(t, strconv.Itoa(photo), c.Params.String("message_id"), "only the photo is copied")
		assert.Equal(t, "front", c.Params.String("caption"), "with the caption the bot read")
	}
	require.Len(t, f.srv.CallsTo("copyMessage"), 1)
	assert.Empty(t, f.srv.CallsTo("copyMessages"))
	assert.Empty(t, f.wire.Lost())
}

// TestOnlyAgentsActInTheGroup: a plain member who taps Claim, or writes
// /close or /claim in the topic, is told only agents can, and nothing
// changes; a button whose data was not signed by the bot (forged, or signed
// with another key) changes nothing either; a card of an earlier hand-off
// is stale.
func TestOnlyAgentsActInTheGroup(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	th := f.openZhang(t, d)
	before := f.topic(m1, "Zhang San Store").Name

	f.press(d, eve, th, "🙋 Claim")
	f.agentSays(d, eve, th, telegramtest.UserMessage{Text: "/close"})
	f.agentSays(d, eve, th, telegramtest.UserMessage{Text: "/claim"})
	f.agentSays(d, eve, th, telegramtest.UserMessage{Text: "hello merchant"})
	f.wire.settle(t)
	answers := f.srv.CallbackAnswers()
	require.NotEmpty(t, answers)
	assert.Contains(t, answers[len(answers)-1].Text, "Only agents can do this")
	assert.Equal(t, 2, strings.Count(describe(f.inThread(th)), "Only agents can do this"), describe(f.inThread(th)))
	assert.Equal(t, before, f.topic(m1, "Zhang San Store").Name, "nobody claimed it")
	assert.Empty(t, f.wire.Posts(), "nobody handed back")
	assert.Empty(t, f.srv.Sent(m1), "nothing reached the merchant")

	// Forged data, or data signed with another key, from an agent.
	card := f.inThread(th)[0]
	other := bot.NewButtonCodec([]byte("another key"))
	since := ""
	for _, m := range f.srv.Sent(group) {
		if b, ok := m.Button("🙋 Claim"); ok {
			data, ok := bot.NewButtonCodec([]byte("desk test key")).Verify(group, b.CallbackData)
			require.True(t, ok)
			since = data[strings.LastIndex(data, ":")+1:]
		}
	}
	forgedByKey, err := other.Sign(group, "ho:claim:"+strconv.FormatInt(m1, 10)+":"+since)
	require.NoError(t, err)
	for _, data := range []string{"ho:claim:7001", "ho:back:7001:" + since, forgedByKey} {
		f.pressData(d, alice, card, data)
	}
	f.wire.settle(t)
	answers = f.srv.CallbackAnswers()
	assert.Contains(t, answers[len(answers)-1].Text, "Nothing was changed")
	assert.Equal(t, before, f.topic(m1, "Zhang San Store").Name, "a forged button claimed nothing")
	assert.Empty(t, f.wire.Posts(), "a forged button handed nothing back")

	// An agent's tap works.
	f.press(d, alice, th, "🙋 Claim")
	f.wire.settle(t)
	assert.Contains(t, f.topic(m1, "Zhang San Store").Name, "claimed")

	// The card of this hand-off is stale once it ended and another began.
	require.NoError(t, d.Left(ctx, m1))
	f.clock.Advance(time.Minute)
	f.openZhang(t, d)
	b, _ := card.Button("↩️ Hand back")
	f.pressData(d, alice, card, b.CallbackData)
	f.wire.settle(t)
	answers = f.srv.CallbackAnswers()
	assert.Contains(t, answers[len(answers)-1].Text, "earlier conversation")
	assert.Empty(t, f.wire.Posts(), "the old card handed nothing back")
}

// TestAgentsListedInSupportAgents: a plain member listed with WithAgents
// (SUPPORT_AGENTS) is an agent.
func TestAgentsListedInSupportAgents(t *testing.T) {
	f := newFixture(t)
	d := f.desk(handoff.WithAgents(eve.ID))
	th := f.openZhang(t, d)
	f.agentSays(d, eve, th, telegramtest.UserMessage{Text: "hi, Eve here"})
	f.wire.settle(t)
	m, ok := f.srv.LastSent(m1)
	require.True(t, ok)
	assert.Equal(t, "hi, Eve here", m.Text)
}

// TestOpenTwicePostsOneCard: Open applied twice for one hand-off (a turn
// tried again, an agent's /open then the dialog's hand-off) posts one card,
// whether the topic exists yet or not.
func TestOpenTwicePostsOneCard(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	in := info("822100050110001", "Zhang San Store", locales.English, dialogs.StepCard)
	require.NoError(t, d.Open(ctx, m1, in))
	require.NoError(t, d.Open(ctx, m1, in)) // before the topic is made
	f.wire.settle(t)
	require.NoError(t, d.Open(ctx, m1, in)) // and after
	f.wire.settle(t)
	th := f.topic(m1, "Zhang San Store").ThreadID
	assert.Equal(t, 1, strings.Count(describe(f.inThread(th)), "Support request"), describe(f.inThread(th)))
	assert.Equal(t, 1, f.srv.CallCount("createForumTopic"))

	// A second hand-off gets its own card.
	require.NoError(t, d.Left(ctx, m1))
	f.clock.Advance(time.Minute)
	require.NoError(t, d.Open(ctx, m1, in))
	require.NoError(t, d.Open(ctx, m1, in))
	f.wire.settle(t)
	assert.Equal(t, 2, strings.Count(describe(f.inThread(th)), "Support request"))
}

// TestCloseLeavesANewerHandOffOpen: a close of an earlier hand-off (read
// before the merchant left and handed off again) does not mark the newer
// one closed.
func TestCloseLeavesANewerHandOffOpen(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	ctx := context.Background()
	in := info("822100050110001", "Zhang San Store", locales.English, dialogs.StepCard)
	require.NoError(t, d.Open(ctx, m1, in))
	f.wire.settle(t)
	_, first, err := d.OpenSince(ctx, m1)
	require.NoError(t, err)
	require.NoError(t, d.Left(ctx, m1))
	f.clock.Advance(time.Minute)
	require.NoError(t, d.Open(ctx, m1, in))
	f.wire.settle(t)

	require.NoError(t, d.CloseStale(ctx, m1, first))
	open, since, err := d.OpenSince(ctx, m1)
	require.NoError(t, err)
	assert.True(t, open, "the newer hand-off stays open")
	assert.Greater(t, since, first)
}
