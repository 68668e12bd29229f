package wechatpay

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// modifyRequest is modify-settlement's body; the tagged fields are
// encrypted in place by the SDK's cipher (RSA-OAEP with the key named in
// Wechatpay-Serial).
type modifyRequest struct {
	ModifyMode      string  `json:"modify_mode"`
	AccountType     string  `json:"account_type"`
	AccountBank     string  `json:"account_bank"`
	BankAddressCode string  `json:"bank_address_code"`
	BankName        string  `json:"bank_name,omitempty"`
	BankBranchID    string  `json:"bank_branch_id,omitempty"`
	AccountNumber   string  `json:"account_number" encryption:"EM_APIV3"`
	AccountName     *string `json:"account_name,omitempty" encryption:"EM_APIV3"`
}

// The states of a submission record.
const (
	stateSending = "sending" // sent, no answer yet
	stateLost    = "lost"    // sent, the answer lost: look before sending again
	stateSent    = "sent"    // WeChat Pay gave its application_no
	stateTaken   = "taken"   // WeChat Pay took it, its application_no is lost (see resolve)
)

// sendingFor is how long a record stays "sending" before a repeat treats
// its answer as lost (the process died while waiting).
const sendingFor = time.Minute

// record is one submission as Redis keeps it: no card number, no name, no
// phone; the content only as an HMAC.
type record struct {
	ID         string         `json:"id,omitempty"` // application_no, or ours for a taken one
	Key        string         `json:"key"`
	MerchantNo string         `json:"merchant_no"`
	SubMchID   string         `json:"sub_mchid"`
	Content    string         `json:"content"`
	AppNo      string         `json:"application_no,omitempty"`
	State      string         `json:"state"`
	StateAt    time.Time      `json:"state_at"`
	CardMasked string         `json:"card_masked"`
	BankName   string         `json:"bank_name"`
	BankCode   string         `json:"bank_code,omitempty"`
	Branch     string         `json:"branch,omitempty"`
	CardType   string         `json:"card_type,omitempty"`
	Status     backend.Status `json:"status,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	// ReasonText is WeChat Pay's words, kept sealed (ReasonSealed): they
	// may quote the holder's name.
	ReasonText   string                 `json:"-"`
	ReasonSealed string                 `json:"reason_sealed,omitempty"`
	SubmittedAt  time.Time              `json:"submitted_at"`
	UpdatedAt    time.Time              `json:"updated_at"`
	History      []backend.StatusChange `json:"history,omitempty"`
}

func (b *Backend) recKey(key string) string { return b.prefix + "wechatpay:sub:" + key }
func (b *Backend) idKey(id string) string   { return b.prefix + "wechatpay:id:" + id }
func (b *Backend) listKey(no string) string { return b.prefix + "wechatpay:merchant:" + no }
func contentKey(k *rsa.PrivateKey) []byte {
	return hmacOf([]byte("merchantbot wechatpay content"), k.D.Bytes())
}
func hmacOf(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:", len(p))
		m.Write(p)
	}
	return m.Sum(nil)
}

// content is the HMAC of what makes one application: the same content is
// one application, however often it is sent.
func (b *Backend) content(sub string, r modifyRequest, name string) string {
	var parts [][]byte
	for _, f := range []string{sub, r.AccountType, r.AccountBank, r.BankAddressCode, r.BankName, r.BankBranchID, r.AccountNumber, name} {
		parts = append(parts, []byte(f))
	}
	return hex.EncodeToString(hmacOf(b.hmacKey, parts...))
}

func (b *Backend) load(ctx context.Context, key string) (*record, error) {
	raw, err := b.rdb.Get(ctx, b.recKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backend.ErrUnavailable, err)
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%w: submission record unreadable", backend.ErrUnavailable)
	}
	if r.ReasonSealed != "" {
		if r.ReasonText, err = b.open(r.ReasonSealed); err != nil {
			b.log.Warn("rejection reason unreadable (the private key changed?)", "app", r.ID)
		}
	}
	return &r, nil
}

// encode is r as Redis keeps it, its rejection text sealed.
func (b *Backend) encode(r *record) ([]byte, error) {
	r.ReasonSealed = ""
	if r.ReasonText != "" {
		r.ReasonSealed = b.seal(r.ReasonText)
	}
	return json.Marshal(r)
}

func (b *Backend) save(ctx context.Context, r *record) error {
	raw, err := b.encode(r)
	if err != nil {
		return err
	}
	pipe := b.rdb.TxPipeline()
	pipe.Set(ctx, b.recKey(r.Key), raw, 0)
	if r.ID != "" {
		pipe.Set(ctx, b.idKey(r.ID), r.Key, 0)
		pipe.ZAdd(ctx, b.listKey(r.MerchantNo), redis.Z{Score: float64(r.SubmittedAt.UnixMilli()), Member: r.Key})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: save submission: %w", backend.ErrUnavailable, err)
	}
	return nil
}

// Submit sends app to WeChat Pay (modify-settlement, MODIFY_MODE_ASYNC).
// The same key is the same application: a repeat after a lost answer looks
// at the account in effect, then sends again only if the first did not
// arrive, and takes WeChat Pay's "one is under review" refusal as the first
// one having arrived.
func (b *Backend) Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	rc, err := b.submit(ctx, key, app)
	if err != nil {
		return backend.Receipt{}, fmt.Errorf("submit: %w", err)
	}
	return rc, nil
}

func (b *Backend) submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	if strings.TrimSpace(key) == "" {
		return backend.Receipt{}, fmt.Errorf("%w: no idempotency key", backend.ErrInvalidRequest)
	}
	e, err := b.dir.Lookup(ctx, app.MerchantNo)
	if err != nil {
		return backend.Receipt{}, err
	}
	req, err := b.modifyRequest(ctx, e, app)
	if err != nil {
		return backend.Receipt{}, err
	}
	name := strings.TrimSpace(app.HolderName)
	now := b.now()
	fresh := &record{
		Key: key, MerchantNo: e.MerchantNo, SubMchID: e.SubMchID, Content: b.content(e.SubMchID, req, name),
		State: stateSending, StateAt: now, CardMasked: parse.MaskPAN(req.AccountNumber),
		BankName: app.BankName, BankCode: app.BankCode, Branch: app.Branch, CardType: app.CardType,
		SubmittedAt: now, UpdatedAt: now,
	}
	raw, _ := json.Marshal(fresh)
	created, err := b.rdb.SetNX(ctx, b.recKey(key), raw, 0).Result()
	if err != nil {
		return backend.Receipt{}, fmt.Errorf("%w: %w", backend.ErrUnavailable, err)
	}
	if created {
		return b.send(ctx, fresh, req, name, false)
	}
	r, err := b.load(ctx, key)
	if err != nil {
		return backend.Receipt{}, err
	}
	if r == nil { // deleted since: a refusal of another call; try again
		return backend.Receipt{}, fmt.Errorf("%w: submission in flight", backend.ErrUnavailable)
	}
	if r.Content != fresh.Content {
		return backend.Receipt{}, fmt.Errorf("%w: key reused for another content", backend.ErrInvalidRequest)
	}
	switch r.State {
	case stateSent, stateTaken:
		return b.receipt(r), nil
	case stateSending:
		if now.Sub(r.StateAt) < sendingFor {
			return backend.Receipt{}, fmt.Errorf("%w: submission in flight", backend.ErrUnavailable)
		}
	}
	return b.resolve(ctx, r, req, name)
}

// resolve finds out what became of a submission whose answer was lost:
// the account in effect already the new one means it arrived and passed;
// otherwise it is sent again, and "one is under review" means it arrived.
func (b *Backend) resolve(ctx context.Context, r *record, req modifyRequest, name string) (backend.Receipt, error) {
	s, err := b.settlement(ctx, r.SubMchID)
	if err != nil {
		return backend.Receipt{}, err
	}
	if sameCard(s.AccountNumber, r.CardMasked) && (s.VerifyResult == "VERIFYING" || s.VerifyResult == "VERIFY_SUCCESS") {
		b.log.Info("lost submission found in effect", "merchant", r.MerchantNo)
		r.State, r.StateAt, r.ID = stateTaken, b.now(), b.takenID(r.Key)
		b.setStatus(r, backend.StatusApproved)
		if s.VerifyResult == "VERIFY_SUCCESS" {
			b.setStatus(r, backend.StatusEffective)
		}
		if err := b.save(ctx, r); err != nil {
			return backend.Receipt{}, err
		}
		return b.receipt(r), nil
	}
	r.State, r.StateAt = stateSending, b.now()
	if err := b.save(ctx, r); err != nil {
		return backend.Receipt{}, err
	}
	return b.send(ctx, r, req, name, true)
}

// takenID is the id of an application WeChat Pay took without our seeing
// its application_no: ours, stable for the key.
func (b *Backend) takenID(key string) string {
	return "WX" + strings.ToUpper(hex.EncodeToString(hmacOf(b.hmacKey, []byte("id"), []byte(key))[:8]))
}

// send posts the change. again: a first attempt's answer was lost.
func (b *Backend) send(ctx context.Context, r *record, req modifyRequest, name string, again bool) (backend.Receipt, error) {
	if name != "" {
		req.AccountName = &name
	}
	if _, err := b.client.EncryptRequest(ctx, &req); err != nil {
		_ = b.rdb.Del(ctx, b.recKey(r.Key)).Err()
		return backend.Receipt{}, fmt.Errorf("%w: encrypt: %w", backend.ErrUnauthorized, err)
	}
	var out struct {
		ApplicationNo string `json:"application_no"`
	}
	err := b.call(ctx, opModify, http.MethodPost, subPath(r.SubMchID, "/modify-settlement"), nil, req, &out)
	var we *Error
	switch {
	case err == nil && out.ApplicationNo != "":
		r.State, r.StateAt, r.AppNo, r.ID = stateSent, b.now(), out.ApplicationNo, out.ApplicationNo
		b.setStatus(r, backend.StatusSubmitted)
	case err == nil:
		err = &Error{Op: opModify, Status: http.StatusOK, Lost: true, err: fmt.Errorf("%w: no application_no", backend.ErrUnavailable)}
		fallthrough
	case errors.As(err, &we) && we.Lost:
		r.State, r.StateAt = stateLost, b.now()
		b.log.Warn("submission answer lost: the next try looks before sending again", "merchant", r.MerchantNo, "err", err)
		if serr := b.save(ctx, r); serr != nil {
			return backend.Receipt{}, serr
		}
		return backend.Receipt{}, err
	case again && errors.Is(err, backend.ErrChangePending):
		// The first attempt arrived and is under review; its number is lost.
		b.log.Warn("lost submission is under review at WeChat Pay: followed without its application_no", "merchant", r.MerchantNo)
		r.State, r.StateAt, r.ID = stateTaken, b.now(), b.takenID(r.Key)
		b.setStatus(r, backend.StatusReview)
	default:
		// Refused: nothing was made, the key is free for a corrected try.
		if derr := b.rdb.Del(ctx, b.recKey(r.Key)).Err(); derr != nil {
			b.log.Warn("refused submission's record not deleted", "err", derr)
		}
		return backend.Receipt{}, err
	}
	if err := b.save(ctx, r); err != nil {
		return backend.Receipt{}, err
	}
	return b.receipt(r), nil
}

// modifyRequest builds the change's body in clear (encrypted by send).
func (b *Backend) modifyRequest(ctx context.Context, e backend.DirectoryEntry, app backend.Application) (modifyRequest, error) {
	// parse.Digits keeps what it does not fold (dots, letters): only ASCII
	// digits go out, checked here rather than left to WeChat Pay.
	card := parse.Digits(app.CardNumber)
	if !parse.AllDigits(card) || len(card) < 12 || len(card) > 19 {
		return modifyRequest{}, fmt.Errorf("%w: card number not 12 to 19 digits", backend.ErrInvalidRequest)
	}
	r := modifyRequest{ModifyMode: "MODIFY_MODE_ASYNC", AccountNumber: card, AccountType: "ACCOUNT_TYPE_PRIVATE"}
	if e.Kind == backend.KindCompany {
		r.AccountType = "ACCOUNT_TYPE_BUSINESS"
	}
	bank, found, err := b.findBank(ctx, e.Kind, app.BankCode, app.BankName)
	if err != nil {
		return modifyRequest{}, err
	}
	// A bank neither of WeChat Pay's lists knows (Branches said
	// backend.ErrNoBranchList): 其他银行, with the branch's full name as
	// the merchant typed it (bank_name).
	r.AccountBank = "其他银行"
	need := true
	if found {
		r.AccountBank, need = bank.AccountBank, bank.NeedBankBranch || bank.AccountBank == "其他银行"
	}
	r.BankBranchID = strings.TrimSpace(app.BranchID)
	if need {
		r.BankName = strings.TrimSpace(app.Branch)
		if r.BankBranchID == "" && r.BankName == "" {
			return modifyRequest{}, fmt.Errorf("%w: the bank needs its branch", backend.ErrInvalidRequest)
		}
	}
	code, err := b.bankAddressCode(ctx, app.AreaCode)
	if err != nil {
		return modifyRequest{}, err
	}
	r.BankAddressCode = code
	return r, nil
}

// bankAddressCode is the code modify-settlement takes for the city picked:
// the city list's bank_address_code where WeChat Pay gives one, else the
// city's code itself (docs/ACQUIRERS.md).
func (b *Backend) bankAddressCode(ctx context.Context, area string) (string, error) {
	area = strings.TrimSpace(area)
	if area == "" {
		return "", fmt.Errorf("%w: no city for the bank", backend.ErrInvalidRequest)
	}
	all, err := b.cities(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range all {
		if c.Code == area && c.BankAddressCode != "" {
			return c.BankAddressCode, nil
		}
	}
	return area, nil
}

// setStatus moves r to st if st is later in an application's life.
func (b *Backend) setStatus(r *record, st backend.Status) {
	if st.Rank() <= r.Status.Rank() {
		return
	}
	now := b.now()
	r.Status, r.UpdatedAt = st, now
	r.History = append(r.History, backend.StatusChange{Status: st, At: now})
}

func (b *Backend) receipt(r *record) backend.Receipt {
	return backend.Receipt{
		ID: r.ID, MerchantNo: r.MerchantNo, CardMasked: r.CardMasked, BankName: r.BankName,
		Status: r.Status, Reason: r.Reason, ReasonText: r.ReasonText,
		SubmittedAt: r.SubmittedAt, UpdatedAt: r.UpdatedAt, ReviewBy: r.SubmittedAt.Add(b.review),
		History:  append([]backend.StatusChange(nil), r.History...),
		BankCode: r.BankCode, Branch: r.Branch, CardType: r.CardType,
	}
}

// seal encrypts s (AES-256-GCM, a key derived from the API private key).
func (b *Backend) seal(s string) string {
	aead := b.aead()
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(s), nil))
}

func (b *Backend) open(s string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	aead := b.aead()
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("sealed text malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	return string(plain), err
}

func (b *Backend) aead() cipher.AEAD {
	blk, err := aes.NewCipher(hmacOf(b.hmacKey, []byte("seal")))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		panic(err)
	}
	return aead
}
