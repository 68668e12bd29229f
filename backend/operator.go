package backend

import (
	"context"
	"errors"
)

// The parts an operator supplies when the acquirer does not know its
// merchants' phones or send its own codes (WeChat Pay): a directory of
// merchants and the bot's own SMS codes. Both are small interfaces so an
// acquirer adapter (backend/wechatpay) is built from them, and tests give
// their own.

// DirectoryEntry is one merchant in the operator's directory. Phone is the
// phone on file in full: it is sealed at rest and never logged.
type DirectoryEntry struct {
	MerchantNo string       // the operator's merchant number, what the merchant types
	SubMchID   string       // the acquirer's id for the merchant (WeChat Pay's sub_mchid)
	Name       string       // registered name (legal person or operator)
	Business   string       // shop name, may be empty
	Kind       MerchantKind // individual (个体户/小微) or company (企业)
	Phone      string       // phone on file, 11 digits
}

// Directory finds a merchant in the operator's directory.
type Directory interface {
	// Lookup returns merchant no's entry, or ErrUnknownMerchant.
	Lookup(ctx context.Context, no string) (DirectoryEntry, error)
}

// Codes sends and checks the bot's own SMS verification codes.
type Codes interface {
	// Send sends a new code to phone for merchant no: ErrCodeTooSoon when a
	// resend comes before the limits allow (wrapped with the wait).
	Send(ctx context.Context, no, phone string) error
	// Check checks a code sent for merchant no: ErrWrongCode, ErrCodeExpired,
	// or ErrCodeTooSoon when too many wrong codes locked it.
	Check(ctx context.Context, no, code string) error
}

// Area is a province or a city as the acquirer codes it (WeChat Pay's
// province_code / city_code; the city's code is the bank_address_code).
type Area struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Province string `json:"province,omitempty"` // a city's province name
}

// Branch is a bank branch (支行) with its id (联行号 for WeChat Pay's
// bank_branch_id).
type Branch struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Branches is the optional part of an acquirer that picks a card's branch
// from its own lists instead of taking a typed name: the dialog asks the
// city, then offers the matching branches as buttons.
type Branches interface {
	// Cities lists the cities whose name contains word (at most limit).
	Cities(ctx context.Context, word string, limit int) ([]Area, error)
	// Branches lists the branches of the bank (bankCode and bankName as the
	// card's BIN gives them) in city cityCode whose name contains word
	// ("" for any), at most limit.
	// ErrNoBranchNeeded when the acquirer takes the bank without a branch
	// (WeChat Pay's need_bank_branch false): the city is enough.
	// ErrNoBranchList when the acquirer has no list of the bank's branches
	// (a bank none of its bank lists knows): the branch's full name is
	// taken typed (Application.Branch), with the city's code (AreaCode)
	// and no BranchID.
	Branches(ctx context.Context, bankCode, bankName, cityCode, word string, limit int) ([]Branch, error)
}

// ErrNoBranchNeeded is Branches' answer for a bank the acquirer takes
// without a branch: the application carries the city's code alone.
var ErrNoBranchNeeded = errors.New("the bank needs no branch")

// ErrNoBranchList is Branches' answer for a bank whose branches the
// acquirer does not list: the application carries the branch's full name
// as typed (中国XX银行股份有限公司XX支行) and the city's code, no branch id.
var ErrNoBranchList = errors.New("the acquirer has no list of this bank's branches: take the branch's full name typed")
