package telegramtest

import (
	"context"
	"strings"
)

// route is one Bot API method. sends marks the methods Telegram's flood limits apply to.
type route struct {
	name   string
	handle func(ctx context.Context, p Params) (any, *apiError)
	sends  bool
}

// buildRoutes lists every method the fake answers; anything else is 404 "method not found".
// Telegram matches method names case-insensitively, and so does the fake.
func (s *Server) buildRoutes() map[string]route {
	list := []route{
		{name: "getMe", handle: s.getMe},
		{name: "getUpdates", handle: s.getUpdates},
		{name: "setWebhook", handle: s.setWebhook},
		{name: "deleteWebhook", handle: s.deleteWebhook},

		{name: "sendMessage", handle: s.sendMessage, sends: true},
		{name: "copyMessage", handle: s.copyMessage, sends: true},
		{name: "editMessageText", handle: s.editMessageText},
		{name: "editMessageCaption", handle: s.editMessageCaption},
		{name: "deleteMessage", handle: s.deleteMessage},
		{name: "answerCallbackQuery", handle: s.answerCallbackQuery},

		{name: "setMyCommands", handle: s.setMyCommands},

		{name: "createForumTopic", handle: s.createForumTopic},
		{name: "closeForumTopic", handle: s.closeForumTopic},
		{name: "reopenForumTopic", handle: s.reopenForumTopic},
		{name: "editForumTopic", handle: s.editForumTopic},
		{name: "deleteForumTopic", handle: s.deleteForumTopic},
		{name: "getChat", handle: s.getChat},
		{name: "getChatMember", handle: s.getChatMember},
		{name: "copyMessages", handle: s.copyMessages, sends: true},
		{name: "setMessageReaction", handle: s.setMessageReaction},
	}
	routes := make(map[string]route, len(list))
	for _, rt := range list {
		routes[strings.ToLower(rt.name)] = rt
	}
	return routes
}

func (s *Server) getMe(context.Context, Params) (any, *apiError) {
	return s.BotUser(), nil
}
