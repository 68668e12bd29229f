package bot

import (
	"encoding/json"
	"errors"
)

// The reply markups the bot sends, as the Bot API documents them, holding
// only the fields the bot uses. go-telegram/bot v1.19.0's
// models.InlineKeyboardButton declares copy_text as a struct with omitempty,
// which encoding/json never omits: every button it marshals carries
// "copy_text":{"text":""} beside its callback_data, while the Bot API says
// exactly one of a button's optional fields is used. These types marshal
// nothing the bot did not set, so what is stored in the outbox and sent is
// what Telegram documents.

// InlineKeyboardMarkup is a keyboard attached to a message.
type InlineKeyboardMarkup struct {
	InlineKeyboard [][]InlineKeyboardButton `json:"inline_keyboard"`
}

// InlineKeyboardButton is one button of an inline keyboard: it sends
// CallbackData back to the bot, opens URL, or opens the Mini App at
// WebApp (private chats only), exactly one of them.
type InlineKeyboardButton struct {
	Text         string      `json:"text"`
	CallbackData string      `json:"callback_data,omitempty"`
	URL          string      `json:"url,omitempty"`
	WebApp       *WebAppInfo `json:"web_app,omitempty"`
}

// WebAppInfo is the HTTPS page a web_app button opens as a Mini App.
type WebAppInfo struct {
	URL string `json:"url"`
}

// errButtonAction is a button Telegram would refuse: "Exactly one of the
// optional fields must be used to specify type of the button."
var errButtonAction = errors.New("inline keyboard button: exactly one of callback_data, url and web_app must be set")

// MarshalJSON refuses a button Telegram would refuse, so that such a
// keyboard fails where it is built, not when the outbox sends it.
func (b InlineKeyboardButton) MarshalJSON() ([]byte, error) {
	set := 0
	for _, on := range []bool{b.CallbackData != "", b.URL != "", b.WebApp != nil && b.WebApp.URL != ""} {
		if on {
			set++
		}
	}
	if set != 1 || b.WebApp != nil && b.WebApp.URL == "" {
		return nil, errButtonAction
	}
	type plain InlineKeyboardButton // without this method
	return json.Marshal(plain(b))
}

// ReplyKeyboardMarkup replaces the phone's keyboard with buttons that send
// their text, or, with RequestContact, the user's own contact.
type ReplyKeyboardMarkup struct {
	Keyboard        [][]KeyboardButton `json:"keyboard"`
	ResizeKeyboard  bool               `json:"resize_keyboard,omitempty"`
	OneTimeKeyboard bool               `json:"one_time_keyboard,omitempty"`
}

// KeyboardButton is one button of a reply keyboard.
type KeyboardButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

// ReplyKeyboardRemove takes a reply keyboard off the screen. Its zero value
// is ready to send: remove_keyboard must be true, so it always is.
type ReplyKeyboardRemove struct{}

// MarshalJSON writes the one form Telegram accepts.
func (ReplyKeyboardRemove) MarshalJSON() ([]byte, error) {
	return []byte(`{"remove_keyboard":true}`), nil
}
