// Package directory is the operator's merchant directory, kept in Redis: who
// merchant number N is at the acquirer (WeChat Pay's sub_mchid), their
// registered name, kind and phone on file. It implements backend.Directory.
//
// The operator gives the directory as a CSV file (Import); the whole
// directory is replaced at once. Each entry is stored sealed (the phone and
// the registered name are card data's kin: never in Redis in clear), in one
// Redis hash whose fields are the merchant numbers. A merchant number is not
// secret — it is printed on the merchant's receipts and travels in the
// acquirer's events — so it is the field name in clear, which lets an
// operator check that a merchant is present (HEXISTS) without the key.
//
// Keys, all in one hash slot ({directory}) so the replacing script runs on a
// Redis Cluster too:
//
//	<prefix>{directory}:entries     hash merchant no → sealed entry (the directory in use)
//	<prefix>{directory}:meta        hash count, generation, imported_at
//	<prefix>{directory}:new:<gen>   an import being written (expires if the import dies)
//	<prefix>{directory}:old:<gen>   the replaced directory, deleted right after the switch
package directory

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// Sealer seals and opens the stored entries. cmd/merchantbot passes
// dialogs/store's *Cipher (DATA_KEY, with its rotation).
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// Directory is the operator's merchant directory in Redis.
type Directory struct {
	rdb    redis.UniversalClient
	prefix string
	sealer Sealer
	now    func() time.Time
	batch  int // entries per HSET while importing
}

// Option configures a Directory.
type Option func(*Directory)

// WithClock sets the clock that stamps an import (default time.Now).
func WithClock(now func() time.Time) Option { return func(d *Directory) { d.now = now } }

// New returns the directory kept under prefix in rdb, its entries sealed
// with s.
func New(rdb redis.UniversalClient, prefix string, s Sealer, opts ...Option) *Directory {
	d := &Directory{rdb: rdb, prefix: prefix, sealer: s, now: time.Now, batch: 500}
	for _, o := range opts {
		o(d)
	}
	return d
}

var _ backend.Directory = (*Directory)(nil)

func (d *Directory) key(kind string) string { return d.prefix + "{directory}:" + kind }

// stored is an entry as sealed in Redis. MerchantNo is sealed with the rest
// so that an entry copied under another merchant's field is refused.
type stored struct {
	MerchantNo string               `json:"no"`
	SubMchID   string               `json:"sub_mchid"`
	Name       string               `json:"name"`
	Business   string               `json:"business,omitempty"`
	Kind       backend.MerchantKind `json:"kind"`
	Phone      string               `json:"phone"`
}

// Lookup returns merchant no's entry, or backend.ErrUnknownMerchant. no is
// read as the dialog reads it (full-width digits, spaces and dashes allowed).
// It is one HGET: a look-up during an import sees the old directory or the
// new one, never a mix.
func (d *Directory) Lookup(ctx context.Context, no string) (backend.DirectoryEntry, error) {
	n, err := parse.MerchantNo(no)
	if err != nil {
		return backend.DirectoryEntry{}, backend.ErrUnknownMerchant
	}
	raw, err := d.rdb.HGet(ctx, d.key("entries"), n).Bytes()
	if errors.Is(err, redis.Nil) {
		return backend.DirectoryEntry{}, backend.ErrUnknownMerchant
	}
	if err != nil {
		return backend.DirectoryEntry{}, fmt.Errorf("directory: look up: %w", err)
	}
	plain, err := d.sealer.Open(raw)
	if err != nil {
		return backend.DirectoryEntry{}, fmt.Errorf("directory: open the entry of merchant %s (was it imported with another DATA_KEY?): %w", n, err)
	}
	var s stored
	if err := json.Unmarshal(plain, &s); err != nil {
		return backend.DirectoryEntry{}, fmt.Errorf("directory: entry of merchant %s is malformed", n)
	}
	if s.MerchantNo != n {
		return backend.DirectoryEntry{}, fmt.Errorf("directory: entry stored for merchant %s belongs to another merchant", n)
	}
	return backend.DirectoryEntry{
		MerchantNo: s.MerchantNo, SubMchID: s.SubMchID, Name: s.Name,
		Business: s.Business, Kind: s.Kind, Phone: s.Phone,
	}, nil
}

// Stats describes the directory in use.
type Stats struct {
	Merchants  int
	ImportedAt time.Time // zero when nothing was imported
}

// Stats returns how many merchants the directory holds and when it was
// imported.
func (d *Directory) Stats(ctx context.Context) (Stats, error) {
	m, err := d.rdb.HMGet(ctx, d.key("meta"), "count", "imported_at").Result()
	if err != nil {
		return Stats{}, fmt.Errorf("directory: stats: %w", err)
	}
	var st Stats
	if s, ok := m[0].(string); ok {
		st.Merchants, _ = strconv.Atoi(s)
	}
	if s, ok := m[1].(string); ok {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			st.ImportedAt = time.UnixMilli(ms)
		}
	}
	return st, nil
}

// Result is what an import did.
type Result struct {
	Merchants int // merchants in the new directory
	Replaced  int // merchants in the directory it replaced (0 for the first import)
}

// writeTTL bounds how long a half-written import may stay in Redis when the
// importing process dies: it is renewed with every batch.
const writeTTL = time.Hour

// switchScript puts a fully written generation (KEYS[2]) in place of the
// directory in use (KEYS[1]) in one step: the old one is renamed aside
// (KEYS[3], expiring) for the caller to delete, the new one takes the name readers
// use, and the meta (KEYS[4]) is updated. It returns how many merchants the
// old directory held.
var switchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.error_reply('directory: the new directory is gone (the import took longer than its TTL)')
end
local old = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  old = redis.call('HLEN', KEYS[1])
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('EXPIRE', KEYS[3], ARGV[4]) -- gone even if the caller never deletes it
end
redis.call('RENAME', KEYS[2], KEYS[1])
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[4], 'count', ARGV[1], 'generation', ARGV[2], 'imported_at', ARGV[3])
return old
`)

// replace writes entries as a new generation and switches to it.
func (d *Directory) replace(ctx context.Context, entries []stored) (res Result, err error) {
	gen := rand.Text()[:16]
	newKey, oldKey := d.key("new:"+gen), d.key("old:"+gen)
	switched := false
	defer func() {
		if !switched {
			// Whatever was written of the new generation goes (it would
			// expire after writeTTL anyway).
			d.rdb.Unlink(context.WithoutCancel(ctx), newKey)
		}
	}()
	for from := 0; from < len(entries); from += d.batch {
		to := min(from+d.batch, len(entries))
		args := make([]any, 0, 2*(to-from))
		for _, e := range entries[from:to] {
			plain, err := json.Marshal(e)
			if err != nil {
				return Result{}, fmt.Errorf("directory: encode: %w", err)
			}
			sealed, err := d.sealer.Seal(plain)
			if err != nil {
				return Result{}, fmt.Errorf("directory: seal: %w", err)
			}
			args = append(args, e.MerchantNo, sealed)
		}
		pipe := d.rdb.TxPipeline()
		pipe.HSet(ctx, newKey, args...)
		pipe.Expire(ctx, newKey, writeTTL)
		if _, err := pipe.Exec(ctx); err != nil {
			return Result{}, fmt.Errorf("directory: write: %w", err)
		}
	}
	old, err := switchScript.Run(ctx, d.rdb,
		[]string{d.key("entries"), newKey, oldKey, d.key("meta")},
		len(entries), gen, d.now().UnixMilli(), int(writeTTL.Seconds())).Int()
	if err != nil {
		return Result{}, fmt.Errorf("directory: switch: %w", err)
	}
	switched = true
	// The old generation is no longer read by anyone; UNLINK frees it in
	// the background. Should this fail, it holds only sealed entries.
	if err := d.rdb.Unlink(context.WithoutCancel(ctx), oldKey).Err(); err != nil {
		return Result{Merchants: len(entries), Replaced: old}, fmt.Errorf("directory: imported, but the old directory (%s) was not deleted: %w", oldKey, err)
	}
	return Result{Merchants: len(entries), Replaced: old}, nil
}
