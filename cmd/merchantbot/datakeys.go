package main

import (
	"fmt"
	"strings"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

// dataKeys reads DATA_KEY, the key that seals, and DATA_KEY_OLD, the keys
// it replaced: what every command that opens sealed data reads, the same
// way. An unset DATA_KEY is a nil key and no error: whether one is
// required, and why, is the command's to say. Errors name the setting,
// never its value.
func dataKeys(getenv func(string) string) (key []byte, old [][]byte, err error) {
	if key, err = dataKey(getenv); err != nil {
		return nil, nil, err
	}
	if old, err = oldDataKeys(getenv); err != nil {
		return nil, nil, err
	}
	return key, old, nil
}

// dataKey reads DATA_KEY alone: nil when unset.
func dataKey(getenv func(string) string) ([]byte, error) {
	raw := strings.TrimSpace(getenv("DATA_KEY"))
	if raw == "" {
		return nil, nil
	}
	key, err := store.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("DATA_KEY: %w", err)
	}
	return key, nil
}

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
