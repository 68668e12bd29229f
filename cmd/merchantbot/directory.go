package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend/directory"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

const directoryUsage = `usage: merchantbot directory import FILE

  import   replace the operator's merchant directory with FILE (- for
           standard input): a CSV file, UTF-8, with the header
           ` + directory.Header + `
           (business may be empty; kind is individual, 个体户, 小微 or company,
           企业). Every row is checked first: any bad row is reported by its
           line and nothing is imported. The new directory takes the old
           one's place at once; merchants missing from FILE are gone.
           Entries are sealed with DATA_KEY. Reads REDIS_URL, REDIS_PREFIX,
           DATA_KEY and DATA_KEY_OLD as serve does (docs/ACQUIRERS.md).
`

// runDirectory is `merchantbot directory <subcommand>`: the operator's
// merchant directory, for an acquirer that does not know its merchants'
// phones (BACKEND_URL=wechatpay).
func runDirectory(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "import" {
		fmt.Fprint(stderr, directoryUsage)
		return errors.New("directory: want `merchantbot directory import FILE`")
	}
	name := args[1]
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("directory import: %w", err)
		}
		defer f.Close()
		in = f
	}
	rdb, prefix, cipher, err := openDirectoryStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	d := newDirectory(rdb, prefix, cipher)
	res, err := d.Import(ctx, in)
	var ie *directory.ImportError
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			fmt.Fprintf(stderr, "%s: %s\n", name, p)
		}
		return fmt.Errorf("directory import: %s has %d problem(s) (listed above); nothing was imported, the directory in use is unchanged", name, len(ie.Problems))
	}
	if err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	fmt.Fprintf(stdout, "imported %d merchants from %s (replacing %d), sealed with data key %s\n",
		res.Merchants, name, res.Replaced, cipher.KeyID())
	return nil
}

// openDirectoryStore reads REDIS_URL, REDIS_PREFIX, DATA_KEY and
// DATA_KEY_OLD as serve does and connects.
func openDirectoryStore(ctx context.Context, getenv func(string) string) (redis.UniversalClient, string, *store.Cipher, error) {
	url := getenv("REDIS_URL")
	if url == "" {
		return nil, "", nil, errors.New("REDIS_URL: required (the Redis serve uses)")
	}
	prefix := getenv("REDIS_PREFIX")
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	key, oldKeys, err := dataKeys(getenv)
	if err != nil {
		return nil, "", nil, err
	}
	if key == nil {
		return nil, "", nil, errors.New("DATA_KEY: required (the key serve uses; the directory's phones are sealed with it)")
	}
	cipher, err := store.NewCipher(key, oldKeys...)
	if err != nil {
		return nil, "", nil, fmt.Errorf("DATA_KEY: %w", err)
	}
	rdb, err := openRedis(ctx, url)
	if err != nil {
		return nil, "", nil, err
	}
	return rdb, prefix, cipher, nil
}

// newDirectory is the operator's merchant directory kept under prefix in
// rdb, sealed with the data key's cipher: what `directory import` writes and
// the WeChat Pay acquirer reads.
func newDirectory(rdb redis.UniversalClient, prefix string, cipher *store.Cipher) *directory.Directory {
	return directory.New(rdb, prefix, cipher)
}
