package directory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/directory"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/redis/go-redis/v9"
)

func newCipher(t *testing.T) *store.Cipher {
	t.Helper()
	c, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	return c
}

func newDirectory(t *testing.T, opts ...directory.Option) (*directory.Directory, *redis.Client, string) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	return directory.New(rdb, prefix, newCipher(t), opts...), rdb, prefix
}

// row is merchant i of a generated directory, named by version.
func row(i int, version string) string {
	return fmt.Sprintf("8221000501%05d,19%08d,%s商户%d,,个体户,139%08d\n", i, i, version, i, i)
}

func merchantNo(i int) string { return fmt.Sprintf("8221000501%05d", i) }

func generated(version string, from, to int) string {
	var b strings.Builder
	b.WriteString(directory.Header + "\n")
	for i := from; i < to; i++ {
		b.WriteString(row(i, version))
	}
	return b.String()
}

const sample = "\ufeff\"Merchant_No\", sub_mchid ,name,business,kind,phone\r\n" +
	"822100050110001,1900000109,张三,张记早餐,个体户,13800000001\r\n" +
	"８２２１０００５０１１０００２,1900 0001 10,李四,,小微,+86 139-0000-0002\r\n" +
	"822100050110003,1900000111,\"上海某某科技有限公司\",某某科技,企业,（+86）１３７００００００03\r\n" +
	"822100050110004,1900000112,Wang Wu,,Company,8613600000004\r\n"

func TestImportAndLookup(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	d, _, _ := newDirectory(t, directory.WithClock(func() time.Time { return now }))

	_, err := d.Lookup(ctx, "822100050110001")
	require.ErrorIs(t, err, backend.ErrUnknownMerchant, "an empty directory knows nobody")

	res, err := d.Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, directory.Result{Merchants: 4, Replaced: 0}, res)

	want := map[string]backend.DirectoryEntry{
		"822100050110001": {MerchantNo: "822100050110001", SubMchID: "1900000109", Name: "张三", Business: "张记早餐", Kind: backend.KindIndividual, Phone: "13800000001"},
		"822100050110002": {MerchantNo: "822100050110002", SubMchID: "1900000110", Name: "李四", Kind: backend.KindIndividual, Phone: "13900000002"},
		"822100050110003": {MerchantNo: "822100050110003", SubMchID: "1900000111", Name: "上海某某科技有限公司", Business: "某某科技", Kind: backend.KindCompany, Phone: "13700000003"},
		"822100050110004": {MerchantNo: "822100050110004", SubMchID: "1900000112", Name: "Wang Wu", Kind: backend.KindCompany, Phone: "13600000004"},
	}
	for no, w := range want {
		got, err := d.Lookup(ctx, no)
		require.NoError(t, err, no)
		assert.Equal(t, w, got)
	}
	got, err := d.Lookup(ctx, "８２２１ ０００５ ０１１０ ００１")
	require.NoError(t, err, "the number as a merchant types it")
	assert.Equal(t, "1900000109", got.SubMchID)
	for _, no := range []string{"822100050119999", "", "82210005011000", "not a number"} {
		_, err := d.Lookup(ctx, no)
		assert.ErrorIs(t, err, backend.ErrUnknownMerchant, "%q", no)
	}
	st, err := d.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.Merchants)
	assert.True(t, st.ImportedAt.Equal(now), "imported at %v", st.ImportedAt)
}

func TestReplaceDropsTheOldDirectory(t *testing.T) {
	ctx := context.Background()
	d, rdb, prefix := newDirectory(t, directory.WithBatch(7))
	_, err := d.Import(ctx, strings.NewReader(generated("old", 0, 30)))
	require.NoError(t, err)
	res, err := d.Import(ctx, strings.NewReader(generated("new", 20, 45)))
	require.NoError(t, err)
	assert.Equal(t, directory.Result{Merchants: 25, Replaced: 30}, res)

	for i := 0; i < 20; i++ {
		_, err := d.Lookup(ctx, merchantNo(i))
		assert.ErrorIs(t, err, backend.ErrUnknownMerchant, "merchant %d is not in the new file", i)
	}
	for i := 20; i < 45; i++ {
		e, err := d.Lookup(ctx, merchantNo(i))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("new商户%d", i), e.Name)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{prefix + "{directory}:entries", prefix + "{directory}:meta"}, keys,
		"the old generation is deleted, nothing half-written is left")
	ttl, err := rdb.TTL(ctx, prefix+"{directory}:entries").Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "the directory in use does not expire")
}

// TestReplaceIsAtomic: readers looking merchants up while a new directory
// is imported see the old directory, then the new one, never a mix. Every
// reader looks up merchants spread over the whole file, in file order, over
// and over; once it has seen anything of the new directory, it must never
// see the old one again (an entry with the old name, or a merchant the new
// file dropped), and a merchant in both files is never missing. A
// replacement written into the live hash batch by batch, or one that
// deletes and then writes, fails this.
func TestReplaceIsAtomic(t *testing.T) {
	ctx := context.Background()
	const n = 3000
	d, _, _ := newDirectory(t, directory.WithBatch(100))
	_, err := d.Import(ctx, strings.NewReader(generated("old", 0, n)))
	require.NoError(t, err)

	// The new file keeps merchants 0..n-1 but the last 500, renamed.
	newFile := generated("new", 0, n-500)
	var stop atomic.Bool
	var sawOld, sawNew, mixed atomic.Int64
	var wg sync.WaitGroup
	var failure atomic.Value
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seenNew := false
			for !stop.Load() {
				for i := r * 13; i < n; i += 97 {
					e, err := d.Lookup(ctx, merchantNo(i))
					isNew := false
					switch {
					case errors.Is(err, backend.ErrUnknownMerchant) && i >= n-500:
						isNew = true
					case err != nil:
						failure.Store(fmt.Sprintf("merchant %d: %v", i, err))
						return
					case e.Name == fmt.Sprintf("new商户%d", i):
						isNew = true
					case e.Name != fmt.Sprintf("old商户%d", i):
						failure.Store(fmt.Sprintf("merchant %d: name %q", i, e.Name))
						return
					}
					if isNew {
						seenNew = true
						sawNew.Add(1)
					} else {
						sawOld.Add(1)
						if seenNew {
							mixed.Add(1)
						}
					}
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	_, err = d.Import(ctx, strings.NewReader(newFile))
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if f := failure.Load(); f != nil {
		t.Fatal(f)
	}
	require.Positive(t, sawOld.Load(), "the readers saw the old directory")
	require.Positive(t, sawNew.Load(), "the readers saw the new directory")
	assert.Zero(t, mixed.Load(), "look-ups saw the old directory after seeing the new one")
}

func TestBadRowsAreAllReportedAndNothingIsWritten(t *testing.T) {
	ctx := context.Background()
	d, _, _ := newDirectory(t)
	_, err := d.Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)

	file := directory.Header + "\n" +
		"822100050110001,1900000109,张三,,个体户,13800000001\n" + // 2: fine
		"82210005011000,1900000110,李四,,个体户,13800000002\n" + // 3: merchant no short
		"822100050110003,19000001x1,王五,,个体户,13800000003\n" + // 4: sub_mchid letters
		"822100050110004,1900000112,,,个体户,13800000004\n" + // 5: name empty
		"822100050110005,1900000113,赵六,,合伙,13800000005\n" + // 6: kind
		"822100050110006,1900000114,钱七,,企业,1380000000\n" + // 7: phone short
		"822100050110007,1900000115,孙八,,企业,+1 415 555 0100\n" + // 8: phone foreign
		"822100050110001,1900000116,周九,,企业,13800000009\n" + // 9: merchant twice
		"822100050110010,1900000109,吴十,,企业,13800000010\n" + // 10: sub_mchid twice
		"822100050110011,1900000117,郑十一,,企业\n" + // 11: a cell short
		"822100050110012,1900000118,冯,十二,,企业,13800000012\n" // 12: a cell too many
	_, err = d.Import(ctx, strings.NewReader(file))
	var ie *directory.ImportError
	require.ErrorAs(t, err, &ie)
	var lines []int
	for _, p := range ie.Problems {
		lines = append(lines, p.Line)
	}
	assert.Equal(t, []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, lines, "%v", err)
	for _, want := range []string{"line 3: merchant_no", "line 4: sub_mchid", "line 5: name: empty", "line 6: kind",
		"line 7: phone: 10 digits ending 00", "line 8: phone", "line 9: merchant_no: merchant 822100050110001 is already on line 2",
		"line 10: sub_mchid: 1900000109 is already on line 2", "line 11: 5 cells", "line 12: 7 cells"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, leaktest.Leaks(phonesOf(file), err.Error()), "the error shows no phone in full: %v", err)

	e, err := d.Lookup(ctx, "822100050110003")
	require.NoError(t, err, "the directory in use is untouched")
	assert.Equal(t, "上海某某科技有限公司", e.Name)
	st, err := d.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.Merchants)
}

func TestBadFiles(t *testing.T) {
	for name, tc := range map[string]struct{ file, want string }{
		"empty":          {"", "the file is empty"},
		"header only":    {directory.Header + "\r\n", "no merchant"},
		"missing column": {"merchant_no,sub_mchid,name,kind\n822100050110001,1900000109,张三,个体户\n", "column phone is missing"},
		"unknown column": {directory.Header + ",id_card\n", `unknown column "id_card"`},
		"twice":          {directory.Header + ",phone\n", "column phone named twice"},
		"header late":    {"\n\n" + directory.Header + ",id\n", "line 3: unknown column \"id\""},
		"bare quote":     {directory.Header + "\n822100050110001,19000\"00109,张三,,个体户,13800000001\n", "line 2: CSV syntax"},
		"not utf-8":      {directory.Header + "\n822100050110001,1900000109,\xd5\xc5\xc8\xfd,,个体户,13800000001\n", "line 2: name: not UTF-8"},
		"long name":      {directory.Header + "\n822100050110001,1900000109," + strings.Repeat("名", 101) + ",,个体户,13800000001\n", "101 characters"},
	} {
		t.Run(name, func(t *testing.T) {
			d, rdb, prefix := newDirectory(t)
			_, err := d.Import(context.Background(), strings.NewReader(tc.file))
			var ie *directory.ImportError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, err.Error(), tc.want)
			keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
			require.NoError(t, err)
			assert.Empty(t, keys, "nothing written")
		})
	}
}

func phonesOf(file string) string {
	var phones []string
	for _, line := range strings.Split(file, "\n") {
		if cells := strings.Split(line, ","); len(cells) >= 6 {
			phones = append(phones, cells[len(cells)-1])
		}
	}
	return strings.Join(phones, "\n")
}

// TestNothingInClear: no phone and no name is readable in Redis.
func TestNothingInClear(t *testing.T) {
	ctx := context.Background()
	d, rdb, prefix := newDirectory(t, directory.WithBatch(3))
	_, err := d.Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)
	_, err = d.Import(ctx, strings.NewReader(generated("x", 0, 10)))
	require.NoError(t, err)
	_, err = d.Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)
	dump, err := redistest.Dump(ctx, rdb, prefix)
	require.NoError(t, err)
	require.NotEmpty(t, dump)
	assert.Empty(t, leaktest.Leaks(phonesOf(sample)+"\n"+phonesOf(generated("x", 0, 10)), dump...))
	all := strings.Join(dump, "\n")
	for _, clear := range []string{"张三", "张记早餐", "上海某某科技", "Wang Wu", "1900000109"} {
		assert.NotContains(t, all, clear)
	}
}

func TestSealedEntries(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)

	// After a rotation, the old key (DATA_KEY_OLD) still opens the entries.
	oldKey, newKey := store.RandomKey(), store.RandomKey()
	before, err := store.NewCipher(oldKey)
	require.NoError(t, err)
	after, err := store.NewCipher(newKey, oldKey)
	require.NoError(t, err)
	_, err = directory.New(rdb, prefix, before).Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)
	_, err = directory.New(rdb, prefix, after).Lookup(ctx, "822100050110001")
	require.NoError(t, err, "entries sealed before the rotation open with DATA_KEY_OLD")

	other := directory.New(rdb, prefix, newCipher(t))
	_, err = other.Lookup(ctx, "822100050110001")
	require.Error(t, err, "another key cannot open the directory")
	assert.NotErrorIs(t, err, backend.ErrUnknownMerchant)
	assert.Contains(t, err.Error(), "DATA_KEY")

	// An entry copied under another merchant's number is refused.
	entries := prefix + "{directory}:entries"
	v, err := rdb.HGet(ctx, entries, "822100050110001").Result()
	require.NoError(t, err)
	require.NoError(t, rdb.HSet(ctx, entries, "822100050110002", v).Err())
	_, err = directory.New(rdb, prefix, after).Lookup(ctx, "822100050110002")
	require.Error(t, err)
	assert.NotErrorIs(t, err, backend.ErrUnknownMerchant)
	assert.Empty(t, leaktest.Leaks(phonesOf(sample), err.Error()))
}

// failingSealer fails at its nth Seal, after calling at (so a test can look
// at Redis half-way through an import).
type failingSealer struct {
	*store.Cipher
	n, calls int
	at       func()
}

func (s *failingSealer) Seal(p []byte) ([]byte, error) {
	s.calls++
	if s.calls == s.n {
		s.at()
		return nil, errors.New("sealer broke")
	}
	return s.Cipher.Seal(p)
}

// TestFailedImportLeavesNothing: a half-written import expires on its own
// (its key has a TTL while written) and is deleted when the import fails;
// the directory in use is untouched.
func TestFailedImportLeavesNothing(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	c := newCipher(t)
	_, err := directory.New(rdb, prefix, c).Import(ctx, strings.NewReader(sample))
	require.NoError(t, err)

	var halfway []string
	s := &failingSealer{Cipher: c, n: 25, at: func() {
		keys, err := rdb.Keys(ctx, prefix+"{directory}:new:*").Result()
		require.NoError(t, err)
		for _, k := range keys {
			ttl, err := rdb.TTL(ctx, k).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "%s expires if the import dies", k)
		}
		halfway = keys
	}}
	_, err = directory.New(rdb, prefix, s, directory.WithBatch(10)).Import(ctx, strings.NewReader(generated("x", 0, 40)))
	require.ErrorContains(t, err, "sealer broke")
	require.Len(t, halfway, 1, "the import was half-written when it failed")
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{prefix + "{directory}:entries", prefix + "{directory}:meta"}, keys)
	e, err := directory.New(rdb, prefix, c).Lookup(ctx, "822100050110001")
	require.NoError(t, err)
	assert.Equal(t, "张三", e.Name)
}
