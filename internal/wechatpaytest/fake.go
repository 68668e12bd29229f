// Package wechatpaytest is a fake WeChat Pay (APIv3, service provider)
// for tests, written from WeChat Pay's public documentation
// (docs/ACQUIRERS.md): it checks every request's signature and serial,
// decrypts the sensitive fields with its own key, signs its answers with
// the key whose public half the bot is configured with, answers the
// documented errors and walks applications through their review on a
// clock the test drives. Only tests import it.
package wechatpaytest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

// Mode is how WeChat Pay signs its answers and which key encrypts the
// sensitive fields.
type Mode int

const (
	PublicKeyMode   Mode = iota // 微信支付公钥: Wechatpay-Serial is PUB_KEY_ID_…
	CertificateMode             // 平台证书: Wechatpay-Serial is the certificate's serial
)

// Ops name the fake's endpoints for Inject and Calls.
const (
	OpModify      = "modify"
	OpApplication = "application"
	OpSettlement  = "settlement"
	OpProvinces   = "provinces"
	OpCities      = "cities"
	OpBanks       = "banks"
	OpBranches    = "branches"
)

// Fault is what the next call of an op gets instead of its answer.
type Fault struct {
	Status  int    // an error answer: 400 PARAM_ERROR, 401 SIGN_ERROR, 429 FREQUENCY_LIMITED, 500…
	Code    string // its code
	Message string
	// Lost: the call is carried out (an application is made), then the
	// connection is closed without an answer.
	Lost bool
	// Tamper: the answer is sent with a signature that does not verify.
	Tamper bool
}

// Account is a settlement account as the fake keeps it (in clear: it is
// WeChat Pay).
type Account struct {
	Type, Bank, BankName, BranchID, Number, Name string
	AddressCode                                  string // bank_address_code
	VerifyResult                                 string // VERIFY_SUCCESS, VERIFYING, VERIFY_FAIL
}

// Decrypted is what the fake decrypted of one modify-settlement.
type Decrypted struct {
	SubMchID, AccountNumber, AccountName string
}

// Application is a change as the fake keeps it.
type Application struct {
	No, SubMchID string
	Account      Account
	Result       string // AUDITING, AUDIT_SUCCESS, AUDIT_FAIL
	FailReason   string
	Due          time.Time
	Finished     time.Time
}

// Keys are the fake's keys and the merchant's: the test configures the bot
// with MerchantKey, MerchantSerial and WeChat Pay's public half.
type Keys struct {
	MerchantKey    *rsa.PrivateKey
	MerchantSerial string
	WeChatKey      *rsa.PrivateKey
	PublicKeyID    string            // public-key mode
	PlatformCert   *x509.Certificate // certificate mode
}

var (
	keysOnce sync.Once
	keys     Keys
	keysErr  error
)

// newKeys makes the RSA keys, once per test process (2048-bit keys are slow
// to make).
func newKeys() (Keys, error) {
	keysOnce.Do(func() {
		var k Keys
		if k.MerchantKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if k.WeChatKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		k.MerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
		k.PublicKeyID = "PUB_KEY_ID_0114232134912410000000000000001"
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(0x3775B6A45ACD5888),
			Subject:      pkix.Name{CommonName: "Tenpay.com Root CA fake", Organization: []string{"wechatpaytest"}},
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.WeChatKey.PublicKey, k.WeChatKey)
		if err != nil {
			keysErr = err
			return
		}
		k.PlatformCert, keysErr = x509.ParseCertificate(der)
		keys = k
	})
	return keys, keysErr
}

// Fake is a running fake WeChat Pay.
type Fake struct {
	URL   string
	MchID string
	Keys  Keys
	Mode  Mode
	// ReviewTime is how long an application stays AUDITING on the fake's
	// clock (default an hour).
	ReviewTime time.Duration

	srv *httptest.Server

	mu        sync.Mutex
	now       time.Time
	subs      map[string]*Account
	apps      []*Application
	today     map[string]int
	fail      map[string]string // sub → reason for its next application
	faults    map[string][]Fault
	calls     map[string]int
	decrypted []Decrypted
	refused   []string // why requests were refused (signature, serial)
	seq       int

	Provinces []Province
	Cities    map[int][]City
	Personal  []BankRow
	Corporate []BankRow
	Branches  map[string][]BranchRow // by bank_alias_code + "/" + city_code
}

// Province, City, BankRow and BranchRow are the list fixtures, as WeChat
// Pay's capitallhh APIs spell them.
type Province struct {
	Name string `json:"province_name"`
	Code int    `json:"province_code"`
}
type City struct {
	Name string `json:"city_name"`
	Code int    `json:"city_code"`
}
type BankRow struct {
	Alias          string `json:"bank_alias"`
	AliasCode      string `json:"bank_alias_code"`
	AccountBank    string `json:"account_bank"`
	AccountBankNo  int    `json:"account_bank_code"`
	NeedBankBranch bool   `json:"need_bank_branch"`
}
type BranchRow struct {
	Name string `json:"bank_branch_name"`
	ID   string `json:"bank_branch_id"`
}

// New starts a fake in mode, closed when the test ends, with the list
// fixtures filled (Fixtures).
func New(tb testing.TB, mode Mode) *Fake {
	tb.Helper()
	k, err := newKeys()
	if err != nil {
		tb.Fatalf("wechatpaytest: keys: %v", err)
	}
	f := &Fake{
		MchID: "1900000100", Keys: k, Mode: mode, ReviewTime: time.Hour,
		now:  time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC),
		subs: map[string]*Account{}, today: map[string]int{}, fail: map[string]string{},
		faults: map[string][]Fault{}, calls: map[string]int{},
	}
	f.fixtures()
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *Fake) fixtures() {
	f.Provinces = []Province{{"北京市", 1}, {"广东省", 19}}
	f.Cities = map[int][]City{1: {{"北京市", 10}}, 19: {{"广州市", 581}, {"深圳市", 584}}}
	f.Personal = []BankRow{
		{"工商银行", "1000009561", "工商银行", 1002, false},
		{"招商银行", "1000009501", "招商银行", 1001, false},
		{"广发银行", "1000009528", "广发银行", 1027, false},
		{"宁波银行", "1000009447", "宁波银行", 1056, true},
		{"广州农商银行", "1000009777", "其他银行", 1099, true},
	}
	f.Corporate = []BankRow{
		{"工商银行", "1000009561", "工商银行", 1002, true},
		{"招商银行", "1000009501", "招商银行", 1001, true},
		{"广发银行", "1000009528", "广发银行", 1027, false},
	}
	f.Branches = map[string][]BranchRow{
		"1000009447/584": {{"宁波银行股份有限公司深圳分行", "313584099990"}, {"宁波银行股份有限公司深圳南山支行", "313584000012"}},
		"1000009777/581": {{"广州农村商业银行股份有限公司天河支行", "314581000011"}},
		"1000009561/10":  {{"中国工商银行股份有限公司北京西单支行", "102100000458"}},
		"1000009501/10":  {{"招商银行股份有限公司北京分行", "308100005019"}},
	}
}

// AddSubMerchant makes sub a sub-merchant of the service provider with
// account acc in effect.
func (f *Fake) AddSubMerchant(sub string, acc Account) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if acc.VerifyResult == "" {
		acc.VerifyResult = "VERIFY_SUCCESS"
	}
	f.subs[sub] = &acc
}

// Inject queues a fault for the next call of op.
func (f *Fake) Inject(op string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], fault)
}

// FailNext makes sub's next application end AUDIT_FAIL with reason.
func (f *Fake) FailNext(sub, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[sub] = reason
}

// Advance moves the review clock (answers are always signed with the real
// time: the SDK checks it).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.tick()
}

// SetVerifyResult sets the verify_result of sub's account in effect.
func (f *Fake) SetVerifyResult(sub, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[sub].VerifyResult = result
}

// Calls is how many requests op got (refused ones included).
func (f *Fake) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Applications returns a copy of every application made.
func (f *Fake) Applications() []Application {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Application, 0, len(f.apps))
	for _, a := range f.apps {
		out = append(out, *a)
	}
	return out
}

// Decrypted is what the fake decrypted, one per modify-settlement.
func (f *Fake) Decrypted() []Decrypted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Decrypted(nil), f.decrypted...)
}

// Refused lists why requests were refused before reaching their endpoint.
func (f *Fake) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

// Account returns sub's account in effect.
func (f *Fake) Account(sub string) Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.subs[sub]
}

// tick ends the reviews that are due.
func (f *Fake) tick() {
	for _, a := range f.apps {
		if a.Result != "AUDITING" || f.now.Before(a.Due) {
			continue
		}
		a.Finished = f.now
		if a.FailReason != "" {
			a.Result = "AUDIT_FAIL"
			continue
		}
		a.Result = "AUDIT_SUCCESS"
		acc := a.Account
		acc.VerifyResult = "VERIFY_SUCCESS"
		*f.subs[a.SubMchID] = acc
	}
}

var (
	routeSub  = regexp.MustCompile(`^/v3/apply4sub/sub_merchants/([^/]+)/(settlement|modify-settlement|application/([^/]+))$`)
	routeCity = regexp.MustCompile(`^/v3/capital/capitallhh/areas/provinces/([0-9]+)/cities$`)
	routeBank = regexp.MustCompile(`^/v3/capital/capitallhh/banks/(personal-banking|corporate-banking)$`)
	routeBr   = regexp.MustCompile(`^/v3/capital/capitallhh/banks/([0-9]+)/branches$`)
	authParam = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// answer is one reply before it is signed.
type answer struct {
	status int
	body   any
}

func errAnswer(status int, code, msg string) answer {
	return answer{status, map[string]string{"code": code, "message": msg}}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	op, m := f.route(r)
	f.mu.Lock()
	f.calls[op]++
	var fault *Fault
	if q := f.faults[op]; len(q) > 0 {
		fault, f.faults[op] = &q[0], q[1:]
	}
	f.tick()
	var a answer
	if why := f.checkRequest(r, body); why != "" {
		f.refused = append(f.refused, why)
		a = errAnswer(http.StatusUnauthorized, "SIGN_ERROR", "签名错误")
		if strings.HasPrefix(why, "serial") {
			a = errAnswer(http.StatusBadRequest, "PARAM_ERROR", "Wechatpay-Serial 错误")
		}
	} else if fault != nil && fault.Status != 0 {
		a = errAnswer(fault.Status, fault.Code, fault.Message)
	} else {
		a = f.handle(op, m, r, body)
	}
	f.mu.Unlock()
	if fault != nil && fault.Lost {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	f.write(w, a, fault != nil && fault.Tamper)
}

func (f *Fake) route(r *http.Request) (string, []string) {
	p := r.URL.Path
	if m := routeSub.FindStringSubmatch(p); m != nil {
		switch {
		case m[2] == "settlement" && r.Method == http.MethodGet:
			return OpSettlement, m
		case m[2] == "modify-settlement" && r.Method == http.MethodPost:
			return OpModify, m
		case m[3] != "" && r.Method == http.MethodGet:
			return OpApplication, m
		}
	}
	if r.Method != http.MethodGet {
		return "", nil
	}
	if p == "/v3/capital/capitallhh/areas/provinces" {
		return OpProvinces, nil
	}
	if m := routeCity.FindStringSubmatch(p); m != nil {
		return OpCities, m
	}
	if m := routeBank.FindStringSubmatch(p); m != nil {
		return OpBanks, m
	}
	if m := routeBr.FindStringSubmatch(p); m != nil {
		return OpBranches, m
	}
	return "", nil
}

// checkRequest checks the Authorization (WECHATPAY2-SHA256-RSA2048 over
// method\nurl\ntimestamp\nnonce\nbody\n with the merchant certificate's
// key, its serial, our mchid, a timestamp within 5 minutes) and the
// Wechatpay-Serial header; "" when all is right.
func (f *Fake) checkRequest(r *http.Request, body []byte) string {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "WECHATPAY2-SHA256-RSA2048 ")
	if !ok {
		return "authorization: not WECHATPAY2-SHA256-RSA2048"
	}
	p := map[string]string{}
	for _, m := range authParam.FindAllStringSubmatch(auth, -1) {
		p[m[1]] = m[2]
	}
	switch {
	case p["mchid"] != f.MchID:
		return "authorization: mchid"
	case p["serial_no"] != f.Keys.MerchantSerial:
		return "authorization: serial_no"
	case p["nonce_str"] == "":
		return "authorization: nonce_str"
	}
	ts, err := strconv.ParseInt(p["timestamp"], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return "authorization: timestamp"
	}
	msg := r.Method + "\n" + r.URL.RequestURI() + "\n" + p["timestamp"] + "\n" + p["nonce_str"] + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(p["signature"])
	sum := sha256.Sum256([]byte(msg))
	if err != nil || rsa.VerifyPKCS1v15(&f.Keys.MerchantKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "authorization: signature"
	}
	if r.Header.Get("Wechatpay-Serial") != f.serial() {
		return "serial: Wechatpay-Serial " + r.Header.Get("Wechatpay-Serial")
	}
	return ""
}

func (f *Fake) serial() string {
	if f.Mode == PublicKeyMode {
		return f.Keys.PublicKeyID
	}
	return utils.GetCertificateSerialNumber(*f.Keys.PlatformCert)
}

// write signs and sends a: Wechatpay-Serial, -Timestamp (the real time),
// -Nonce, -Signature over timestamp\nnonce\nbody\n.
func (f *Fake) write(w http.ResponseWriter, a answer, tamper bool) {
	raw, _ := json.Marshal(a.body)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strings.ToUpper(rand.Text())
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(raw) + "\n"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, f.Keys.WeChatKey, crypto.SHA256, sum[:])
	if tamper {
		sig[0] ^= 0xff
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Request-Id", "08F0"+nonce[:12])
	h.Set("Wechatpay-Serial", f.serial())
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	w.WriteHeader(a.status)
	_, _ = w.Write(raw)
}

// handle answers a checked request; f.mu is held.
func (f *Fake) handle(op string, m []string, r *http.Request, body []byte) answer {
	switch op {
	case OpSettlement:
		acc, ok := f.subs[m[1]]
		if !ok {
			return errAnswer(http.StatusForbidden, "NO_AUTH", "商户无权限")
		}
		return answer{200, f.accountJSON(*acc, r, nil)}
	case OpApplication:
		if _, ok := f.subs[m[1]]; !ok {
			return errAnswer(http.StatusForbidden, "NO_AUTH", "商户无权限")
		}
		for _, a := range f.apps {
			if a.No == m[3] && a.SubMchID == m[1] {
				return answer{200, f.accountJSON(a.Account, r, a)}
			}
		}
		return errAnswer(http.StatusNotFound, "NOT_FOUND", "申请单不存在")
	case OpModify:
		return f.modify(m[1], body)
	case OpProvinces:
		return answer{200, map[string]any{"data": f.Provinces, "total_count": len(f.Provinces)}}
	case OpCities:
		code, _ := strconv.Atoi(m[1])
		c, ok := f.Cities[code]
		if !ok {
			return errAnswer(http.StatusNotFound, "NOT_FOUND", "省份不存在")
		}
		return answer{200, map[string]any{"data": c, "total_count": len(c)}}
	case OpBanks:
		rows := f.Personal
		if m[1] == "corporate-banking" {
			rows = f.Corporate
		}
		return page(r, rows, nil)
	case OpBranches:
		city := r.URL.Query().Get("city_code")
		rows, ok := f.Branches[m[1]+"/"+city]
		if !ok && city == "" {
			return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "city_code 不能为空")
		}
		var bank BankRow
		for _, b := range append(append([]BankRow(nil), f.Personal...), f.Corporate...) {
			if b.AliasCode == m[1] {
				bank = b
			}
		}
		if bank.AliasCode == "" {
			return errAnswer(http.StatusNotFound, "NOT_FOUND", "银行不存在")
		}
		return page(r, rows, map[string]any{"account_bank": bank.AccountBank, "account_bank_code": bank.AccountBankNo,
			"bank_alias": bank.Alias, "bank_alias_code": bank.AliasCode})
	}
	return errAnswer(http.StatusNotFound, "NOT_FOUND", "no such API in the fake")
}

// page answers one page (offset, limit ≤ 200) of rows.
func page[T any](r *http.Request, rows []T, extra map[string]any) answer {
	off, err1 := strconv.Atoi(r.URL.Query().Get("offset"))
	lim, err2 := strconv.Atoi(r.URL.Query().Get("limit"))
	if err1 != nil || err2 != nil || off < 0 || lim < 1 || lim > 200 {
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "offset/limit 参数错误")
	}
	end := min(off+lim, len(rows))
	data := []T{}
	if off < len(rows) {
		data = rows[off:end]
	}
	out := map[string]any{"total_count": len(rows), "count": len(data), "offset": off, "data": data}
	for k, v := range extra {
		out[k] = v
	}
	return answer{200, out}
}

// accountJSON is an account as settlement and application answer it, the
// number masked by account_number_rule.
func (f *Fake) accountJSON(acc Account, r *http.Request, a *Application) map[string]any {
	out := map[string]any{
		"account_type": acc.Type, "account_bank": acc.Bank,
		"account_number": maskNumber(acc.Number, r.URL.Query().Get("account_number_rule")),
	}
	if acc.BankName != "" {
		out["bank_name"] = acc.BankName
	}
	if acc.BranchID != "" {
		out["bank_branch_id"] = acc.BranchID
	}
	if a == nil {
		out["verify_result"] = acc.VerifyResult
		return out
	}
	out["account_name"] = maskName(acc.Name)
	out["verify_result"] = a.Result
	if a.Result == "AUDIT_FAIL" {
		out["verify_fail_reason"] = a.FailReason
	}
	if !a.Finished.IsZero() {
		out["verify_finish_time"] = a.Finished.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	}
	return out
}

func maskNumber(n, rule string) string {
	head, tail := 2, 2 // ACCOUNT_NUMBER_RULE_MASK_V1, the default
	if rule == "ACCOUNT_NUMBER_RULE_MASK_V2" {
		head, tail = 6, 4
	}
	if len(n) <= head+tail {
		return strings.Repeat("*", len(n))
	}
	return n[:head] + strings.Repeat("*", len(n)-head-tail) + n[len(n)-tail:]
}

func maskName(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return "*" + string(r[len(r)-1:])
}

var digitsOnly = regexp.MustCompile(`^[0-9]{8,30}$`)

// modify is POST …/modify-settlement.
func (f *Fake) modify(sub string, body []byte) answer {
	cur, ok := f.subs[sub]
	if !ok {
		return errAnswer(http.StatusForbidden, "NO_AUTH", "商户无权限")
	}
	var req struct {
		ModifyMode      string `json:"modify_mode"`
		AccountType     string `json:"account_type"`
		AccountBank     string `json:"account_bank"`
		BankAddressCode string `json:"bank_address_code"`
		BankName        string `json:"bank_name"`
		BankBranchID    string `json:"bank_branch_id"`
		AccountNumber   string `json:"account_number"`
		AccountName     string `json:"account_name"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的JSON")
	}
	number, err := utils.DecryptOAEP(req.AccountNumber, f.Keys.WeChatKey)
	if err != nil || !digitsOnly.MatchString(number) {
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "account_number 解密失败")
	}
	var name string
	if req.AccountName != "" {
		if name, err = utils.DecryptOAEP(req.AccountName, f.Keys.WeChatKey); err != nil {
			return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "account_name 解密失败")
		}
	}
	f.decrypted = append(f.decrypted, Decrypted{SubMchID: sub, AccountNumber: number, AccountName: name})
	switch {
	case req.ModifyMode != "" && req.ModifyMode != "MODIFY_MODE_ASYNC":
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "modify_mode 参数错误")
	case req.AccountType != "ACCOUNT_TYPE_PRIVATE" && req.AccountType != "ACCOUNT_TYPE_BUSINESS":
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "account_type 参数错误")
	case req.BankAddressCode == "":
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "bank_address_code 不能为空")
	}
	list := f.Personal
	if req.AccountType == "ACCOUNT_TYPE_BUSINESS" {
		list = f.Corporate
	}
	need, known := false, req.AccountBank == "其他银行"
	for _, b := range list {
		if b.AccountBank == req.AccountBank {
			known, need = true, need || b.NeedBankBranch
		}
	}
	switch {
	case !known:
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "account_bank 不在银行列表中")
	case (need || req.AccountBank == "其他银行") && req.BankName == "" && req.BankBranchID == "":
		return errAnswer(http.StatusBadRequest, "PARAM_ERROR", "开户银行需填写支行全称或联行号")
	}
	for _, a := range f.apps {
		if a.SubMchID == sub && a.Result == "AUDITING" {
			// The page: "在此期间无法再次提交修改申请". Its code is not
			// published; this is the fake's choice (docs/ACQUIRERS.md).
			return errAnswer(http.StatusBadRequest, "INVALID_REQUEST", "存在审核中的修改申请，审核期间无法再次提交")
		}
	}
	day := sub + f.now.Format("2006-01-02")
	if f.today[day] >= 5 {
		return errAnswer(http.StatusTooManyRequests, "FREQUENCY_LIMITED", "当日修改次数已达上限，请明日再试")
	}
	f.today[day]++
	f.seq++
	if name == "" {
		name = cur.Name
	}
	a := &Application{
		No: fmt.Sprintf("%d%06d", 10000000000+f.now.Unix()%1e9, f.seq), SubMchID: sub, Result: "AUDITING",
		Account: Account{Type: req.AccountType, Bank: req.AccountBank, BankName: req.BankName,
			BranchID: req.BankBranchID, Number: number, Name: name, AddressCode: req.BankAddressCode},
		Due: f.now.Add(f.ReviewTime), FailReason: f.fail[sub],
	}
	delete(f.fail, sub)
	f.apps = append(f.apps, a)
	return answer{200, map[string]string{"application_no": a.No}}
}

// WriteFiles writes the keys as an operator gets them into dir:
// apiclient_key.pem (the merchant's private key), pub_key.pem (WeChat Pay's
// public key) and wechatpay_cert.pem (the platform certificate).
func (f *Fake) WriteFiles(tb testing.TB, dir string) (privateKey, publicKey, platformCert string) {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(f.Keys.MerchantKey)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&f.Keys.WeChatKey.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	return write("apiclient_key.pem", "PRIVATE KEY", der), write("pub_key.pem", "PUBLIC KEY", pub),
		write("wechatpay_cert.pem", "CERTIFICATE", f.Keys.PlatformCert.Raw)
}
