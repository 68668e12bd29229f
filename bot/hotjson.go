package bot

import gojson "github.com/goccy/go-json"

// unmarshalHot decodes the JSON of the bot's hot paths — every update at
// intake (and when a turn must open a queue entry), every outbox call before
// it is sent — with goccy/go-json, which decodes Telegram's updates in about
// half the time of encoding/json (its decoding was ~15 % of serve's CPU under
// load, docs/PERFORMANCE.md). FuzzHotJSONMatchesStd holds it to
// encoding/json's result for both kinds of input.
func unmarshalHot(data []byte, v any) error { return gojson.Unmarshal(data, v) }
