package telegramtest_test

import (
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

func TestForumTopicsAnswerAsTelegram(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())
	const group = -1001234567890

	// A plain member may not manage topics; a group without topics has none.
	srv.SetForum(group, false)
	chat, err := b.GetChat(ctx, &bot.GetChatParams{ChatID: group})
	require.NoError(t, err)
	assert.Equal(t, models.ChatTypeSupergroup, chat.Type)
	assert.False(t, chat.IsForum)
	_, err = b.CreateForumTopic(ctx, &bot.CreateForumTopicParams{ChatID: group, Name: "x"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "the chat is not a forum")
	srv.SetForum(group, true)
	me, err := b.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: group, UserID: srv.BotUser().ID})
	require.NoError(t, err)
	assert.Equal(t, models.ChatMemberTypeMember, me.Type)
	srv.SetChatMember(group, srv.BotUser(), models.ChatMemberTypeAdministrator, false)
	_, err = b.CreateForumTopic(ctx, &bot.CreateForumTopicParams{ChatID: group, Name: "x"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "not enough rights")
	srv.SetChatMember(group, srv.BotUser(), models.ChatMemberTypeAdministrator, true)
	me, err = b.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: group, UserID: srv.BotUser().ID})
	require.NoError(t, err)
	require.NotNil(t, me.Administrator)
	assert.True(t, me.Administrator.CanManageTopics)
	stranger, err := b.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: group, UserID: 999})
	require.NoError(t, err)
	assert.Equal(t, models.ChatMemberTypeLeft, stranger.Type)

	topic, err := b.CreateForumTopic(ctx, &bot.CreateForumTopicParams{ChatID: group, Name: "Shop · 0001 · open"})
	require.NoError(t, err)
	th := topic.MessageThreadID
	_, err = b.EditForumTopic(ctx, &bot.EditForumTopicParams{ChatID: group, MessageThreadID: th, Name: "Shop · 0001 · open"})
	assert.ErrorContains(t, err, "TOPIC_NOT_MODIFIED")
	_, err = b.EditForumTopic(ctx, &bot.EditForumTopicParams{ChatID: group, MessageThreadID: th, Name: "Shop · 0001 · closed"})
	require.NoError(t, err)

	// copyMessages keeps an album together and answers the new ids.
	srv.Send(9, 9, telegramtest.UserMessage{Text: "look"})
	_, p1 := srv.Send(9, 9, telegramtest.UserMessage{Kind: "photo", MediaGroup: "a"})
	_, p2 := srv.Send(9, 9, telegramtest.UserMessage{Kind: "photo", MediaGroup: "a"})
	_, v := srv.Send(9, 9, telegramtest.UserMessage{Kind: "voice"})
	ids, err := b.CopyMessages(ctx, &bot.CopyMessagesParams{ChatID: group, MessageThreadID: th, FromChatID: 9, MessageIDs: []int{p1, p2, v}})
	require.NoError(t, err)
	require.Len(t, ids, 3)
	sent := srv.Sent(group)
	require.Len(t, sent, 3)
	assert.Equal(t, th, sent[0].ThreadID)
	assert.NotEmpty(t, sent[0].APIMessage.MediaGroupID)
	assert.Equal(t, sent[0].APIMessage.MediaGroupID, sent[1].APIMessage.MediaGroupID)
	assert.Equal(t, "voice", sent[2].Kind)
	_, err = b.CopyMessages(ctx, &bot.CopyMessagesParams{ChatID: group, FromChatID: 9, MessageIDs: []int{p2, p1}})
	assert.ErrorContains(t, err, "strictly increasing")

	// Reactions: Telegram's emoji only.
	ok, err := b.SetMessageReaction(ctx, &bot.SetMessageReactionParams{ChatID: 9, MessageID: v,
		Reaction: []models.ReactionType{{Type: models.ReactionTypeTypeEmoji, ReactionTypeEmoji: &models.ReactionTypeEmoji{Emoji: "👀"}}}})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []string{"👀"}, srv.Reactions(9, v))
	_, err = b.SetMessageReaction(ctx, &bot.SetMessageReactionParams{ChatID: 9, MessageID: v,
		Reaction: []models.ReactionType{{Type: models.ReactionTypeTypeEmoji, ReactionTypeEmoji: &models.ReactionTypeEmoji{Emoji: "🦄"}}}})
	assert.ErrorContains(t, err, "REACTION_INVALID")

	// A user's edit comes as edited_message and the message changes.
	_, text := srv.Send(9, 9, telegramtest.UserMessage{Text: "helo"})
	_, err = srv.Edit(9, text, "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello", srv.Transcript(9)[len(srv.Transcript(9))-1].Text)

	// A deleted topic: its messages go, sends into it are refused forever.
	_, err = b.DeleteForumTopic(ctx, &bot.DeleteForumTopicParams{ChatID: group, MessageThreadID: th})
	require.NoError(t, err)
	assert.Empty(t, srv.Sent(group))
	assert.Empty(t, srv.Topics(group))
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, MessageThreadID: th, Text: "x"})
	assert.ErrorContains(t, err, "message thread not found")
	_, err = b.CopyMessage(ctx, &bot.CopyMessageParams{ChatID: group, MessageThreadID: th, FromChatID: 9, MessageID: text})
	assert.ErrorContains(t, err, "message thread not found")
	_, err = b.ReopenForumTopic(ctx, &bot.ReopenForumTopicParams{ChatID: group, MessageThreadID: th})
	assert.ErrorContains(t, err, "TOPIC_ID_INVALID")
}
