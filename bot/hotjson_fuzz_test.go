package bot

import (
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/outbox"
)

// hotJSONSeeds are updates of every kind the bot reads and outbox calls as
// the bot writes them.
func hotJSONSeeds(t testing.TB) [][]byte {
	seeds := []string{
		`{"update_id":1,"message":{"message_id":5,"date":1733300000,"chat":{"id":510,"type":"private","first_name":"张三"},"from":{"id":510,"is_bot":false,"first_name":"张三","language_code":"zh-hans"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		`{"update_id":2,"message":{"message_id":6,"date":1,"chat":{"id":510,"type":"private"},"from":{"id":510,"is_bot":false,"first_name":"M"},"text":"６２２２ ０２０２ \u0030\u0031 \"quoted\" \\ end"}}`,
		`{"update_id":3,"message":{"message_id":7,"date":1,"chat":{"id":510,"type":"private"},"from":{"id":510,"is_bot":false,"first_name":"M"},"contact":{"phone_number":"+8613800138000","first_name":"M","user_id":510}}}`,
		`{"update_id":4,"message":{"message_id":8,"date":1,"chat":{"id":510,"type":"private"},"photo":[{"file_id":"a","file_unique_id":"b","width":90,"height":90,"file_size":1234}],"caption":"card"}}`,
		`{"update_id":5,"edited_message":{"message_id":9,"date":1,"edit_date":2,"chat":{"id":510,"type":"private"},"text":"6222020200112233445"}}`,
		`{"update_id":6,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":510,"is_bot":false,"first_name":"M","language_code":"en"},"message":{"message_id":12,"date":1733300000,"chat":{"id":510,"type":"private"},"from":{"id":99,"is_bot":true,"first_name":"Bot"},"text":"Please check","reply_markup":{"inline_keyboard":[[{"text":"Confirm","callback_data":"abc:1:c"}],[{"text":"Form","web_app":{"url":"https://x/miniapp/"}}]]}},"chat_instance":"-1234","data":"abc:1:c"}}`,
		`{"update_id":7,"callback_query":{"id":"q","from":{"id":510,"is_bot":false,"first_name":"M"},"message":{"message_id":3,"date":0,"chat":{"id":510,"type":"private"}},"chat_instance":"1","data":"x"}}`,
		`{"update_id":8,"my_chat_member":{"chat":{"id":510,"type":"private"},"from":{"id":510,"is_bot":false,"first_name":"M"},"date":1,"old_chat_member":{"status":"member","user":{"id":99,"is_bot":true,"first_name":"Bot"}},"new_chat_member":{"status":"kicked","user":{"id":99,"is_bot":true,"first_name":"Bot"},"until_date":0}}}`,
		`{"update_id":9,"message":{"message_id":10,"message_thread_id":44,"is_topic_message":true,"date":1,"chat":{"id":-1001234567890,"type":"supergroup","title":"Desk","is_forum":true},"from":{"id":77,"is_bot":false,"first_name":"Agent"},"text":"hello","reply_to_message":{"message_id":4,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"}}}}`,
		`{"UPDATE_ID":10,"Message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x"},"update_id":11}`,
		`{"update_id":9007199254740993,"message":null}`,
		"{\n  \"update_id\": 12 ,\n \"message\": {\"message_id\": 1, \"date\": 1, \"chat\": {\"id\": 1, \"type\": \"private\"}, \"text\": \"\\ud83d\\ude00\"}\n}",
	}
	out := make([][]byte, 0, len(seeds)+4)
	for _, s := range seeds {
		out = append(out, []byte(s))
	}
	notice := outbox.MustCall("sendMessage", sendMessageParams{ChatID: 510, Text: "🔒 <b>deleted</b> & gone"}, outbox.Reply)
	del := outbox.MustCall("deleteMessage", deleteMessageParams{ChatID: 510, MessageID: 8}, outbox.Reply)
	del.Then, del.Else, del.Optional, del.Tag = &notice, &notice, true, "st:approved:1"
	answer := outbox.MustCall("answerCallbackQuery", answerCallbackParams{CallbackQueryID: "q", Text: "旧按钮"}, outbox.Notification)
	answer.Quiet = true
	for _, c := range []outbox.Call{notice, del, answer} {
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		out = append(out, raw)
	}
	return out
}

// FuzzHotJSONMatchesStd: whatever encoding/json reads as an update or an
// outbox call, unmarshalHot reads the same.
func FuzzHotJSONMatchesStd(f *testing.F) {
	for _, s := range hotJSONSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got models.Update
		if json.Unmarshal(data, &want) == nil {
			require.NoError(t, unmarshalHot(data, &got))
			require.Equal(t, want, got)
		}
		var wantCall, gotCall outbox.Call
		if json.Unmarshal(data, &wantCall) == nil {
			require.NoError(t, unmarshalHot(data, &gotCall))
			require.Equal(t, wantCall, gotCall)
		}
	})
}

// FuzzOutboxMarshalMatchesStd: outbox.Marshal writes, byte for byte, what
// encoding/json writes for the bot's parameter structs (texts and labels of
// any content, every kind of keyboard) and for the outbox calls made of
// them, or fails as it does (a button with no action).
func FuzzOutboxMarshalMatchesStd(f *testing.F) {
	f.Add("Card 622202******3445 noted <b>&</b>", "确认 ✅", "abc:1:c", "https://x.example/miniapp/?lang=en", int64(510), 12, true)
	f.Add("\u2028\u0000\"\\", "", "", "", int64(-1001234567890), 0, false)
	f.Add(string([]byte{0xff, 0xfe, 'a'}), "<script>", "d", "", int64(0), -5, true)
	f.Fuzz(func(t *testing.T, text, label, data, url string, chat int64, id int, contact bool) {
		var inline models.ReplyMarkup = &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{
			{{Text: label, CallbackData: data}},
			{{Text: text, WebApp: &WebAppInfo{URL: url}}},
			{{Text: label, URL: url, CallbackData: data}},
		}}
		var reply models.ReplyMarkup = &ReplyKeyboardMarkup{Keyboard: [][]KeyboardButton{{{Text: label, RequestContact: contact}}}, ResizeKeyboard: contact, OneTimeKeyboard: true}
		values := []any{
			sendMessageParams{ChatID: chat, MessageThreadID: id, Text: text, ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview, ReplyMarkup: inline},
			sendMessageParams{ChatID: chat, Text: text, ReplyMarkup: reply},
			sendMessageParams{ChatID: chat, Text: text, ReplyMarkup: &ReplyKeyboardRemove{}},
			editMessageTextParams{ChatID: chat, MessageID: id, Text: text, ReplyMarkup: inline},
			deleteMessageParams{ChatID: chat, MessageID: id},
			answerCallbackParams{CallbackQueryID: data, Text: text},
			map[string]any{"chat_id": chat, "text": text, "n": id},
		}
		for _, v := range values {
			want, wantErr := json.Marshal(v)
			got, gotErr := outbox.Marshal(v)
			require.Equal(t, wantErr == nil, gotErr == nil, "%#v: %v / %v", v, wantErr, gotErr)
			require.Equal(t, string(want), string(got))
			if wantErr != nil {
				continue
			}
			c := outbox.Call{Method: "sendMessage", Params: want, Priority: outbox.Notification, Tag: data, Optional: contact, Quiet: !contact}
			then := c
			c.Then, c.Else = &then, &then
			wantCall, err := json.Marshal(c)
			require.NoError(t, err)
			gotCall, err := outbox.Marshal(c)
			require.NoError(t, err)
			require.Equal(t, string(wantCall), string(gotCall))
		}
	})
}
