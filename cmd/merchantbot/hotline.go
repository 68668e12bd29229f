package main

import (
	"fmt"
	"strings"
)

// loadHotline reads ACQUIRER_HOTLINE: the acquirer's customer service
// number ("95516", "400-888-8888", "+86 21 1234 5678") that a merchant is
// given when no support desk reads the bot (no SUPPORT_CHAT_ID, the
// console). Unset, the merchant is told to use the number on their POS
// terminal or merchant contract: the bot never names a number it was not
// given.
func loadHotline(getenv func(string) string) (string, error) {
	raw := strings.TrimSpace(getenv("ACQUIRER_HOTLINE"))
	if raw == "" {
		return "", nil
	}
	digits := 0
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ', r == '-', r == '+', r == '(', r == ')':
		default:
			return "", fmt.Errorf("ACQUIRER_HOTLINE: %q is not a phone number (digits, spaces, +, -, parentheses)", raw)
		}
	}
	if digits < 5 || digits > 20 {
		return "", fmt.Errorf("ACQUIRER_HOTLINE: %q is not a phone number (5 to 20 digits)", raw)
	}
	return raw, nil
}
