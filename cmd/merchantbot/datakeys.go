package main

import (
	"fmt"
	"strings"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

// oldDataKeys reads DATA_KEY_OLD: the keys DATA_KEY replaced, comma
// separated, newest first. Drafts and buttons sealed with them still open;
// every commit re-seals with DATA_KEY, so an old key can be dropped once
// DraftTTL (24 h) has passed since the rotation (docs/OPERATIONS.md).
func oldDataKeys(getenv func(string) string) ([][]byte, error) {
	raw := strings.TrimSpace(getenv("DATA_KEY_OLD"))
	if raw == "" {
		return nil, nil
	}
	var keys [][]byte
	for i, part := range strings.Split(raw, ",") {
		k, err := store.ParseKey(part)
		if err != nil {
			return nil, fmt.Errorf("DATA_KEY_OLD: key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
