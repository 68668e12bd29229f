package bot

import (
	"encoding/json"
	"testing"

	"github.com/merchantbot/merchantbot/bot/outbox"
)

// The shortcut for chat_id agrees with decoding the parameters, and gives
// way to it for any shape it does not know.
func TestLeadingChatID(t *testing.T) {
	for _, params := range []string{
		`{"chat_id":42,"text":"hi"}`,
		`{"chat_id":-1001234567890,"text":"group"}`,
		`{"chat_id":7}`,
		`{"text":"hi","chat_id":42}`,
		`{"chat_id": 42,"text":"spaced"}`,
		`{"chat_id":"@channel","text":"hi"}`,
		`{"chat_id":0,"text":"zero"}`,
		`{"chat_id":4.2e1}`,
		`{"chat_id":`,
		`{}`,
		``,
	} {
		id, ok := leadingChatID([]byte(params))
		var to struct {
			ChatID int64 `json:"chat_id"`
		}
		err := json.Unmarshal([]byte(params), &to)
		if ok && (err != nil || to.ChatID != id) {
			t.Errorf("leadingChatID(%s) = %d, decoding gives %d (%v)", params, id, to.ChatID, err)
		}
		if params == `{"chat_id":42,"text":"hi"}` && (!ok || id != 42) {
			t.Errorf("leadingChatID(%s) = %d, %v; want the shortcut to read 42", params, id, ok)
		}
	}
}

// A call is charged to the send budgets for every message it posts.
func TestMessagesPosted(t *testing.T) {
	for _, tt := range []struct {
		method, params string
		want           int
	}{
		{"sendMessage", `{"chat_id":1,"text":"hi"}`, 1},
		{"copyMessages", `{"chat_id":-100,"from_chat_id":1,"message_ids":[1,2,3,4,5]}`, 5},
		{"forwardMessages", `{"chat_id":-100,"from_chat_id":1,"message_ids":[7,8]}`, 2},
		{"sendMediaGroup", `{"chat_id":-100,"media":[{"type":"photo"},{"type":"photo"},{"type":"photo"}]}`, 3},
		{"copyMessages", `{"chat_id":-100,"message_ids":[]}`, 1},
		{"copyMessages", `not json`, 1},
	} {
		if got := messagesPosted(outbox.Call{Method: tt.method, Params: []byte(tt.params)}); got != tt.want {
			t.Errorf("messagesPosted(%s %s) = %d, want %d", tt.method, tt.params, got, tt.want)
		}
	}
}
