package dialogs

// MsgID is a message id in locales/*.toml. Every id the code uses is a
// constant in messages.go; a test checks both locale files against them.
type MsgID string
