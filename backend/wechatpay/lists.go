package wechatpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
)

// The bank, region and branch lists (/v3/capital/capitallhh/…). WeChat Pay
// says they are snapshots to cache and to search ourselves: each list is
// fetched whole (paged), kept in Redis for ListTTL, and searched here.

// Bank is a row of WeChat Pay's bank lists.
type Bank struct {
	Alias          string `json:"bank_alias"`      // for display and the branch search
	AliasCode      string `json:"bank_alias_code"` // for the branch search
	AccountBank    string `json:"account_bank"`    // what modify-settlement takes
	AccountBankNo  int    `json:"account_bank_code"`
	NeedBankBranch bool   `json:"need_bank_branch"`
}

type city struct {
	Code            string `json:"code"`
	Name            string `json:"name"`
	Province        string `json:"province"`
	BankAddressCode string `json:"bank_address_code,omitempty"`
}

type branchRow struct {
	Name string `json:"bank_branch_name"`
	ID   string `json:"bank_branch_id"`
}

const (
	pageSize   = 100
	maxEntries = 20000 // a list longer than this is refused, not fetched forever
	personal   = "personal-banking"
	corporate  = "corporate-banking"
)

// cached reads list name from Redis, or fetches it and keeps it ListTTL.
func cached[T any](ctx context.Context, b *Backend, name string, fetch func(context.Context) ([]T, error)) ([]T, error) {
	key := b.prefix + "wechatpay:list:" + name
	raw, err := b.rdb.Get(ctx, key).Bytes()
	if err == nil {
		var out []T
		if json.Unmarshal(raw, &out) == nil {
			return out, nil
		}
	} else if !errors.Is(err, redis.Nil) {
		b.log.Warn("wechatpay list cache unreadable: fetching", "list", name, "err", err)
	}
	out, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if raw, err := json.Marshal(out); err == nil {
		if err := b.rdb.Set(ctx, key, raw, b.ttl).Err(); err != nil {
			b.log.Warn("wechatpay list not cached", "list", name, "err", err)
		}
	}
	return out, nil
}

// pages fetches every page of a paged list at path into rows.
func pages[T any](ctx context.Context, b *Backend, path string, query url.Values) ([]T, error) {
	var all []T
	for offset := 0; ; {
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(pageSize)}}
		for k, v := range query {
			q[k] = v
		}
		var page struct {
			Total int `json:"total_count"`
			Count int `json:"count"`
			Data  []T `json:"data"`
		}
		if err := b.call(ctx, opLists, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, fmt.Errorf("list %s: %w", path, err)
		}
		all = append(all, page.Data...)
		offset += len(page.Data)
		if len(page.Data) == 0 || offset >= page.Total {
			return all, nil
		}
		if offset > maxEntries {
			return nil, fmt.Errorf("list %s: %w: more than %d rows", path, backend.ErrUnavailable, maxEntries)
		}
	}
}

// banks is WeChat Pay's list of banks for personal or corporate accounts.
func (b *Backend) banks(ctx context.Context, which string) ([]Bank, error) {
	return cached(ctx, b, "banks:"+which, func(ctx context.Context) ([]Bank, error) {
		return pages[Bank](ctx, b, "/v3/capital/capitallhh/banks/"+which, nil)
	})
}

// cities is every city of every province (WeChat Pay's lists leave out Hong
// Kong, Macao and Taiwan).
func (b *Backend) cities(ctx context.Context) ([]city, error) {
	return cached(ctx, b, "cities", func(ctx context.Context) ([]city, error) {
		var provinces struct {
			Data []struct {
				Name string `json:"province_name"`
				Code int    `json:"province_code"`
			} `json:"data"`
		}
		if err := b.call(ctx, opLists, http.MethodGet, "/v3/capital/capitallhh/areas/provinces", nil, nil, &provinces); err != nil {
			return nil, fmt.Errorf("list provinces: %w", err)
		}
		var all []city
		for _, p := range provinces.Data {
			var cities struct {
				Data []struct {
					Name            string `json:"city_name"`
					Code            int    `json:"city_code"`
					BankAddressCode string `json:"bank_address_code"`
				} `json:"data"`
			}
			path := "/v3/capital/capitallhh/areas/provinces/" + strconv.Itoa(p.Code) + "/cities"
			if err := b.call(ctx, opLists, http.MethodGet, path, nil, nil, &cities); err != nil {
				return nil, fmt.Errorf("list cities: %w", err)
			}
			for _, c := range cities.Data {
				all = append(all, city{Code: strconv.Itoa(c.Code), Name: c.Name, Province: p.Name, BankAddressCode: c.BankAddressCode})
			}
		}
		return all, nil
	})
}

// Cities lists the cities whose name (or province's name) contains word,
// at most limit (0: no limit).
func (b *Backend) Cities(ctx context.Context, word string, limit int) ([]backend.Area, error) {
	all, err := b.cities(ctx)
	if err != nil {
		return nil, fmt.Errorf("cities: %w", err)
	}
	word = strings.TrimSpace(word)
	out := []backend.Area{}
	for _, c := range all {
		if word != "" && !strings.Contains(c.Name, word) && !strings.Contains(c.Province, word) {
			continue
		}
		out = append(out, backend.Area{Code: c.Code, Name: c.Name, Province: c.Province})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// Branches lists the branches in city cityCode of the card's bank whose
// name contains word, at most limit (0: no limit). A bank that needs no
// branch in WeChat Pay's lists (personal and corporate: the kind is not
// known here) is backend.ErrNoBranchNeeded; a bank neither list knows is
// backend.ErrNoBranchList: WeChat Pay has no branches of it to offer, and
// Submit sends it as 其他银行 with the branch's full name typed
// (bank_name).
func (b *Backend) Branches(ctx context.Context, bankCode, bankName, cityCode, word string, limit int) ([]backend.Branch, error) {
	var bank Bank
	found, need := false, false
	for _, kind := range []backend.MerchantKind{backend.KindIndividual, backend.KindCompany} {
		bk, ok, err := b.findBank(ctx, kind, bankCode, bankName)
		if err != nil {
			return nil, fmt.Errorf("branches: %w", err)
		}
		if ok && (!found || bk.NeedBankBranch && !need) {
			bank = bk
		}
		found, need = found || ok, need || ok && bk.NeedBankBranch
	}
	out := []backend.Branch{}
	switch {
	case !found:
		return nil, fmt.Errorf("branches: %w", backend.ErrNoBranchList)
	case strings.TrimSpace(cityCode) == "":
		return out, nil
	case !need:
		return nil, fmt.Errorf("branches: %w", backend.ErrNoBranchNeeded)
	}
	rows, err := b.branches(ctx, bank.AliasCode, cityCode)
	if err != nil {
		return nil, fmt.Errorf("branches: %w", err)
	}
	word = strings.TrimSpace(word)
	for _, r := range rows {
		if word != "" && !strings.Contains(r.Name, word) {
			continue
		}
		out = append(out, backend.Branch{ID: r.ID, Name: r.Name})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

func (b *Backend) branches(ctx context.Context, aliasCode, cityCode string) ([]branchRow, error) {
	return cached(ctx, b, "branches:"+aliasCode+":"+cityCode, func(ctx context.Context) ([]branchRow, error) {
		return pages[branchRow](ctx, b, "/v3/capital/capitallhh/banks/"+url.PathEscape(aliasCode)+"/branches",
			url.Values{"city_code": {cityCode}})
	})
}

// findBank finds the card's bank (our BIN table's code and name) in WeChat
// Pay's list for kind: the alias equal to our name, or our name without
// "中国"/"股份有限公司" around it, or contained in it.
func (b *Backend) findBank(ctx context.Context, kind backend.MerchantKind, _, name string) (Bank, bool, error) {
	which := personal
	if kind == backend.KindCompany {
		which = corporate
	}
	list, err := b.banks(ctx, which)
	if err != nil {
		return Bank{}, false, err
	}
	bank, ok := matchBank(list, name)
	return bank, ok, nil
}

func matchBank(list []Bank, name string) (Bank, bool) {
	n := shortBank(name)
	if n == "" {
		return Bank{}, false
	}
	for _, bk := range list {
		if bk.Alias == name || shortBank(bk.Alias) == n || shortBank(bk.AccountBank) == n && bk.AccountBank != "其他银行" {
			return bk, true
		}
	}
	// The longest alias our name contains: 招商银行 in 招商银行股份有限公司.
	var best Bank
	for _, bk := range list {
		a := shortBank(bk.Alias)
		if len([]rune(a)) >= 4 && strings.Contains(n, a) && len(a) > len(best.Alias) {
			best = bk
		}
	}
	return best, best.Alias != ""
}

// shortBank drops what bank names differ by: 中国工商银行 and 工商银行 are one.
func shortBank(s string) string {
	s = strings.TrimSpace(s)
	for _, suf := range []string{"股份有限公司", "有限责任公司", "有限公司"} {
		s = strings.TrimSuffix(s, suf)
	}
	if s != "中国银行" {
		s = strings.TrimPrefix(s, "中国")
	}
	return s
}
