package backend

import "time"

// Limits of SMS verification codes, one set wherever codes are made: the
// sandbox plays them, backend/smscode enforces them for the bot's own codes,
// and the dialog words its answers with them.
const (
	// CodeTTL is how long a code can be used.
	CodeTTL = 5 * time.Minute
	// CodeResendAfter is how soon after a code a new one may be sent.
	CodeResendAfter = 60 * time.Second
	// MaxCodeAttempts wrong codes (counted across resent codes, within an
	// hour of the last wrong one) burn the code and pause new ones for
	// CodeLockout, so a code cannot be guessed by resending.
	MaxCodeAttempts = 5
	CodeLockout     = 15 * time.Minute
	// MaxCodesPerHour bounds the codes sent to one merchant in any hour, so
	// nobody can flood a merchant's phone through the resend button.
	MaxCodesPerHour = 5
)
