package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

const directoryFile = "merchant_no,sub_mchid,name,business,kind,phone\n" +
	"822100050110001,1900000109,张三,张记早餐,个体户,13800000001\n" +
	"822100050110002,1900000110,上海某某科技有限公司,,企业,13900000002\n"

// TestDirectoryImport: `merchantbot directory import FILE` fills the
// directory serve reads, sealed with DATA_KEY, and says how many merchants
// it holds; a second import replaces the first.
func TestDirectoryImport(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	key := store.RandomKey()
	getenv := func(k string) string {
		return map[string]string{"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix, "DATA_KEY": hex.EncodeToString(key)}[k]
	}
	file := filepath.Join(t.TempDir(), "merchants.csv")
	require.NoError(t, os.WriteFile(file, []byte(directoryFile), 0o600))
	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"merchantbot", "directory", "import", file}, getenv, nil, &out, &errOut))
	assert.Contains(t, out.String(), "imported 2 merchants from "+file+" (replacing 0)")

	cipher, err := store.NewCipher(key)
	require.NoError(t, err)
	e, err := newDirectory(rdb, prefix, cipher).Lookup(ctx, "822100050110002")
	require.NoError(t, err)
	assert.Equal(t, backend.DirectoryEntry{MerchantNo: "822100050110002", SubMchID: "1900000110",
		Name: "上海某某科技有限公司", Kind: backend.KindCompany, Phone: "13900000002"}, e)

	out.Reset()
	one := strings.Join(strings.Split(directoryFile, "\n")[:2], "\n") + "\n"
	require.NoError(t, run(ctx, []string{"merchantbot", "directory", "import", "-"}, getenv, strings.NewReader(one), &out, &errOut))
	assert.Contains(t, out.String(), "imported 1 merchants from - (replacing 2)")
	_, err = newDirectory(rdb, prefix, cipher).Lookup(ctx, "822100050110002")
	assert.ErrorIs(t, err, backend.ErrUnknownMerchant)

	dump, err := redistest.Dump(ctx, rdb, prefix)
	require.NoError(t, err)
	assert.Empty(t, leaktest.Leaks("13800000001 13900000002", dump...))
}

// TestDirectoryImportBadFile: every bad row is named by its line, on
// stderr, without a phone in full, and nothing is imported.
func TestDirectoryImportBadFile(t *testing.T) {
	ctx := context.Background()
	_, prefix := redistest.New(t)
	getenv := func(k string) string {
		return map[string]string{"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix, "DATA_KEY": strings.Repeat("ab", 32)}[k]
	}
	bad := directoryFile + "822100050110003,1900000111,李四,,个体户,1390000000\n" +
		"822100050110001,1900000112,王五,,小微,13700000005\n"
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"merchantbot", "directory", "import", "-"}, getenv, strings.NewReader(bad), &out, &errOut)
	require.ErrorContains(t, err, "2 problem(s)")
	assert.Contains(t, err.Error(), "nothing was imported")
	assert.Contains(t, errOut.String(), "-: line 4: phone:")
	assert.Contains(t, errOut.String(), "-: line 5: merchant_no: merchant 822100050110001 is already on line 2")
	assert.Empty(t, leaktest.Leaks("1390000000 13700000005", errOut.String(), err.Error()))
	assert.Empty(t, out.String())
}

func TestDirectoryImportSettings(t *testing.T) {
	ctx := context.Background()
	var out, errOut bytes.Buffer
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"directory"}, nil, "want `merchantbot directory import FILE`"},
		{[]string{"directory", "export", "x"}, nil, "want `merchantbot directory import FILE`"},
		{[]string{"directory", "import", "-"}, map[string]string{"DATA_KEY": strings.Repeat("ab", 32)}, "REDIS_URL: required"},
		{[]string{"directory", "import", "-"}, map[string]string{"REDIS_URL": redistest.URL()}, "DATA_KEY: required"},
		{[]string{"directory", "import", "-"}, map[string]string{"REDIS_URL": redistest.URL(), "DATA_KEY": "short"}, "DATA_KEY:"},
		{[]string{"directory", "import", "-"}, map[string]string{"REDIS_URL": redistest.URL(), "DATA_KEY": strings.Repeat("ab", 32), "DATA_KEY_OLD": "x"}, "DATA_KEY_OLD:"},
		{[]string{"directory", "import", filepath.Join(t.TempDir(), "missing.csv")}, nil, "no such file"},
	} {
		err := run(ctx, append([]string{"merchantbot"}, tc.args...), func(k string) string { return tc.env[k] }, strings.NewReader(""), &out, &errOut)
		assert.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}
