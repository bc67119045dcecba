// Package emulator is an in-memory AWS IAM service that speaks the IAM Query
// protocol (form-encoded requests, XML responses, SigV4 authentication) the
// way AWS does, so the real aws-sdk-go-v2 client and the aws CLI talk to it
// unchanged. It backs iamsql's --sandbox mode, the `iamsql emulator`
// subcommand and the tests, which is why it also offers hooks to inject
// latency, throttling, dropped connections and errors, and counts every call.
//
// It also answers STS (AssumeRole, GetCallerIdentity; Query protocol) and,
// for an Org of several accounts (organizations.go), AWS Organizations
// (DescribeOrganization, ListAccounts, ListRoots, ListParents,
// ListOrganizationalUnitsForParent; JSON 1.1), each signed and verified
// like IAM with its own signing name.
//
// It models users and access keys (with the two-keys quota, last-used
// tracking and the caller's identity taken from the signing key), not
// policies: every authenticated caller may do everything unless a test
// denies it with Deny. Behaviours worth knowing when coding against it:
//
//   - Without UserName, key and user operations act on the signer: its IAM
//     user, or the root user for a root key. Root keys are reported with
//     UserName "root" (RootUserName); GetUser for the root user answers as
//     AWS does: UserId is the account id, Arn arn:aws:iam::ACCOUNT:root,
//     and there is no UserName or Path.
//   - GetAccessKeyLastUsed of a key id that does not exist is AccessDenied
//     (403), as AWS answers it, not NoSuchEntity.
//   - User names are unique and looked up case-insensitively, as in IAM.
//   - A dropped call (DropRate, DropNextAnswer) is carried out; only its
//     response is lost. An answer held by SetAnswerDelay is lost the same
//     way when the client gives up first: the change it made stands.
//   - The signature's date is not compared with Options.Now, so tests can
//     fake the clock while clients sign with the real one.
//   - aws-sdk-go-v2 clients should use NewHTTPClient over the network, or
//     Transport in-process: with the SDK's default client a call to a
//     server this fast is now and then sent twice.
package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults used when Options leaves the account or root credentials empty.
// They are AWS's documentation example values, so nothing real is implied.
const (
	DefaultAccountID           = "123456789012"
	DefaultRootAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	DefaultRootSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// RootUserName is the UserName the emulator reports for keys owned by the
// account's root user (ListAccessKeys, GetAccessKeyLastUsed, Snapshot). It is
// reserved: no IAM user of that name can be created.
const RootUserName = "root"

// Options configures an Emulator. The zero value is an empty account holding
// only the default root key.
type Options struct {
	// AccountID, RootAccessKeyID and RootSecretAccessKey default to the
	// Default* constants when empty.
	AccountID, RootAccessKeyID, RootSecretAccessKey string
	// Seed selects the initial state: "" is an empty account (root key
	// only), "demo" the demo account (see Seed docs in seed.go). Anything
	// else makes New fail.
	Seed string
	// StatePath, when set, persists the state: it is loaded from that file
	// when the file exists (Seed is then ignored) and written after every
	// mutation (atomic rename, mode 0600; the file holds secrets).
	StatePath string
	// Latency is added to every authenticated call (see SetLatency).
	Latency time.Duration
	// ThrottleRate and DropRate are fractions in [0,1] of authenticated
	// calls answered with Throttling (before acting), or whose connection
	// is closed without a response (after acting: the response is lost).
	ThrottleRate, DropRate float64
	// Now is the clock; default time.Now. Dates are UTC, truncated to
	// DatePrecision.
	Now func() time.Time
	// DatePrecision is how finely dates are kept and sent: 0 means whole
	// seconds, as AWS sends them; time.Microsecond is what moto sends.
	DatePrecision time.Duration
	// RandSeed seeds the generator of ids, secrets and injected faults;
	// 0 picks a random seed.
	RandSeed int64
	// Logger receives one record per request (operation, status, request
	// id); nil discards. Secrets are never logged.
	Logger *slog.Logger
	// CallLog records every counted call with its parameters and status,
	// for CallLog (see SetCallLog). It is off unless asked for: an
	// emulator that runs for long (serve --sandbox, a benchmark) would
	// hold its last maxCallLog calls for nothing. The counters (Calls,
	// TotalCalls) are always kept.
	CallLog bool
}

// User is an IAM user. The context a key audit reads (tags, console
// password, MFA devices, groups, policies; usercontext.go) is kept with
// the user; the emulator models no group or policy entity of its own.
type User struct {
	UserName, UserID, Path, Arn string
	CreateDate                  time.Time
	PasswordLastUsed            *time.Time
	// Tags are the user's tags (TagUser, ListUserTags), sorted by key.
	Tags []Tag `json:",omitempty"`
	// LoginProfile is the user's console password; nil when it has none.
	LoginProfile *LoginProfile `json:",omitempty"`
	// MFADevices are the user's MFA devices, sorted by serial number.
	MFADevices []MFADevice `json:",omitempty"`
	// Groups are the names of the groups the user is in.
	Groups []string `json:",omitempty"`
	// AttachedPolicies are the ARNs of the managed policies attached to
	// the user; InlinePolicies the names of its inline policies.
	AttachedPolicies []string `json:",omitempty"`
	InlinePolicies   []string `json:",omitempty"`
}

// AccessKey is an access key with its secret. UserName is RootUserName
// ("root") for keys of the account's root user.
type AccessKey struct {
	AccessKeyID, SecretAccessKey, UserName, Status string
	CreateDate                                     time.Time
	LastUsed                                       *LastUsed
}

// LastUsed is when, with which service and in which region a key was last
// used.
type LastUsed struct {
	Date                time.Time
	ServiceName, Region string
}

// State is a copy of the emulator's account.
type State struct {
	AccountID string
	// RootCreated is when the account's root user was created (GetUser
	// of the root user, the credential report's <root_account> line).
	RootCreated time.Time
	Users       []User      // sorted by name
	Keys        []AccessKey // sorted by user, create date, id
}

// Call records one counted request (see Calls).
type Call struct {
	Op     string
	Params url.Values // the request's parameters without Action, Version and SigV4 query auth
	// Status is the HTTP status answered, or 0 when no response reached
	// the client (dropped, or the client left during injected latency).
	Status      int
	AccessKeyID string // the signer
}

// Emulator is an in-memory IAM account served over HTTP by ServeHTTP. All
// methods are safe for concurrent use.
type Emulator struct {
	mu sync.Mutex

	accountID  string
	rootKeyID  string
	rootSecret string
	now        func() time.Time
	precision  time.Duration
	rng        *mrand.Rand
	logger     *slog.Logger
	statePath  string

	// state
	rootCreated time.Time
	users       map[string]*User                 // by lower-cased name: IAM names are case-insensitive
	keys        map[string]*AccessKey            // by id
	byOwner     map[string]map[string]*AccessKey // owner → id → key (see putKeyLocked)

	// hooks
	latency      time.Duration
	opLatency    map[string]time.Duration
	throttleRate float64
	dropRate     float64
	opDropRate   map[string]float64
	denies       map[denyRule]bool
	failNext     map[string][]string // op -> queued error codes
	answerDelay  map[string]time.Duration
	dropAnswers  map[string]int       // op -> answers still to drop
	propagation  time.Duration        // a new key signs nothing for this long (SetPropagationDelay)
	newKeys      map[string]time.Time // when CreateAccessKey made a key, while it propagates

	ops map[string]opFunc // the implemented Actions (a copy, so tests can add one)

	// dir holds the roles and role sessions, shared by the accounts of
	// an organization (sts.go, organizations.go).
	dir *directory

	secrets map[string]*secret // Secrets Manager, by region and name (secretsmanager.go)

	// credReport is the account's credential report (credreport.go).
	credReport      *credentialReport
	credReportDelay time.Duration

	// counters
	calls   map[string]int
	total   int
	logging bool // Options.CallLog, SetCallLog
	callLog []Call
	logBase int // calls dropped from the front of callLog (see maxCallLog)
	logSeq  int // sequence number of the next call
}

type denyRule struct{ op, user string }

// maxCallLog bounds the call log so a long benchmark against an in-process
// emulator does not grow without limit (a variable for tests).
var maxCallLog = 100_000

// New returns an emulator seeded as opts say.
func New(opts Options) (*Emulator, error) {
	e := &Emulator{
		accountID:   opts.AccountID,
		rootKeyID:   opts.RootAccessKeyID,
		rootSecret:  opts.RootSecretAccessKey,
		now:         opts.Now,
		precision:   opts.DatePrecision,
		logger:      opts.Logger,
		statePath:   opts.StatePath,
		users:       map[string]*User{},
		keys:        map[string]*AccessKey{},
		byOwner:     map[string]map[string]*AccessKey{},
		latency:     opts.Latency,
		opLatency:   map[string]time.Duration{},
		opDropRate:  map[string]float64{},
		denies:      map[denyRule]bool{},
		failNext:    map[string][]string{},
		answerDelay: map[string]time.Duration{},
		dropAnswers: map[string]int{},
		calls:       map[string]int{},
		logging:     opts.CallLog,
		ops:         maps.Clone(operations),
		dir:         newDirectory(),
	}
	e.throttleRate = clampRate(opts.ThrottleRate)
	e.dropRate = clampRate(opts.DropRate)
	if e.accountID == "" {
		e.accountID = DefaultAccountID
	}
	if e.rootKeyID == "" {
		e.rootKeyID = DefaultRootAccessKeyID
	}
	if e.rootSecret == "" {
		e.rootSecret = DefaultRootSecretAccessKey
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if !validAccountID(e.accountID) {
		return nil, fmt.Errorf("emulator: account id %q must be 12 digits", e.accountID)
	}
	if !accessKeyIDRe().MatchString(e.rootKeyID) || len(e.rootKeyID) < 16 || len(e.rootKeyID) > 128 {
		return nil, fmt.Errorf("emulator: root access key id must be 16-128 word characters")
	}
	if opts.Seed != "" && opts.Seed != "demo" {
		return nil, fmt.Errorf("emulator: unknown seed %q (want \"\" or \"demo\")", opts.Seed)
	}
	seed := opts.RandSeed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]))
	}
	e.rng = mrand.New(mrand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))

	loaded := false
	if e.statePath != "" {
		ok, err := e.loadState()
		if err != nil {
			return nil, err
		}
		loaded = ok
	}
	if !loaded {
		switch opts.Seed {
		case "":
			e.rootCreated = e.nowUTC()
			e.putKeyLocked(&AccessKey{
				AccessKeyID: e.rootKeyID, SecretAccessKey: e.rootSecret,
				UserName: RootUserName, Status: statusActive, CreateDate: e.nowUTC(),
			})
		case "demo":
			if err := e.seedDemo(); err != nil {
				return nil, err
			}
		}
		if e.statePath != "" {
			if err := e.saveLocked(); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func clampRate(f float64) float64 {
	if f != f || f < 0 { // NaN or negative
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (e *Emulator) nowUTC() time.Time { return e.date(e.now()) }

// date is t as the emulator keeps and sends it: UTC, to DatePrecision.
func (e *Emulator) date(t time.Time) time.Time {
	if e.precision <= 0 {
		return t.UTC().Truncate(time.Second)
	}
	return t.UTC().Truncate(e.precision)
}

// AccountID returns the emulated account's id.
func (e *Emulator) AccountID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accountID
}

// RootCredentials returns the root access key the emulator was configured
// with.
func (e *Emulator) RootCredentials() (id, secret string) {
	return e.rootKeyID, e.rootSecret
}

// ---- hooks ----

// SetLatency sets the delay added to every authenticated call (the sleep
// ends early when the request's context is cancelled).
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// SetOperationLatency overrides the latency for one Action; a negative d
// removes the override.
func (e *Emulator) SetOperationLatency(op string, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d < 0 {
		delete(e.opLatency, op)
		return
	}
	e.opLatency[op] = d
}

// SetThrottleRate sets the fraction of authenticated calls answered with
// Throttling (400, "Rate exceeded").
func (e *Emulator) SetThrottleRate(f float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.throttleRate = clampRate(f)
}

// SetDropRate sets the fraction of authenticated calls whose connection is
// closed without a response. A dropped call is still carried out (a
// dropped CreateAccessKey creates the key): only its response is lost, the
// ambiguous failure clients must not retry blindly.
func (e *Emulator) SetDropRate(f float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropRate = clampRate(f)
}

// SetOperationDropRate overrides the drop rate for one Action (e.g. drop only
// CreateAccessKey); a negative f removes the override.
func (e *Emulator) SetOperationDropRate(op string, f float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f < 0 {
		delete(e.opDropRate, op)
		return
	}
	e.opDropRate[op] = clampRate(f)
}

// Deny makes op answer AccessDenied (403) when it targets userName. An empty
// userName means the caller's own identity (no UserName parameter, and the
// account-level operations ListUsers and GetAccountSummary); "*" means any
// target, and op "*" any operation. RootUserName matches the root user.
func (e *Emulator) Deny(op, userName string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.denies[denyRule{op, userName}] = true
}

// Allow removes a rule added by Deny.
func (e *Emulator) Allow(op, userName string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.denies, denyRule{op, userName})
}

// FailNext makes the next n calls of op (after authentication) answer with
// the error code, with AWS's HTTP status for it and a plausible message.
// Calls queue up; n <= 0 clears what is queued for op.
func (e *Emulator) FailNext(op, code string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n <= 0 {
		delete(e.failNext, op)
		return
	}
	for i := 0; i < n; i++ {
		e.failNext[op] = append(e.failNext[op], code)
	}
}

// SetPropagationDelay makes a key made by CreateAccessKey from now on
// refuse to sign anything (InvalidClientTokenId, as AWS answers a key it
// does not know yet) until d has passed since the call, as IAM takes a few
// seconds to make a new key usable everywhere. d <= 0 turns it off.
func (e *Emulator) SetPropagationDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.propagation = max(d, 0)
}

// SetAnswerDelay holds every answer of op for d after the call was carried
// out: its change is committed (a CreateAccessKey's key exists) before the
// wait begins. A client that stays gets the answer after d; one that gives
// up during d (its connection closes, its context ends) never gets it, and
// the call log records the call with Status 0 while the change stands. A
// very large d models an answer that never comes. d <= 0 removes the
// delay. Errors are held too, and a dropped answer (DropNextAnswer,
// DropRate) is dropped when the delay ends.
func (e *Emulator) SetAnswerDelay(op string, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d <= 0 {
		delete(e.answerDelay, op)
		return
	}
	e.answerDelay[op] = d
}

// DropNextAnswer drops the answers of the next n calls of op: each is
// carried out (a CreateAccessKey creates its key), then its connection is
// closed without a response, as by DropRate but deterministically. Calls
// add up; n <= 0 clears what is queued for op.
func (e *Emulator) DropNextAnswer(op string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n <= 0 {
		delete(e.dropAnswers, op)
		return
	}
	e.dropAnswers[op] += n
}

// Calls returns a copy of the per-Action call counters. A call is counted
// when it named a valid Action and passed authentication, whatever it was
// answered (including injected throttling, errors and drops).
func (e *Emulator) Calls() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]int, len(e.calls))
	for k, v := range e.calls {
		m[k] = v
	}
	return m
}

// TotalCalls returns the number of counted calls.
func (e *Emulator) TotalCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total
}

// SetCallLog turns the call log on or off (Options.CallLog). Turning it
// off drops what it holds.
func (e *Emulator) SetCallLog(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logging = on
	if !on {
		e.callLog = nil
		e.logBase = e.logSeq
	}
}

// CallLog returns a copy of the counted calls in arrival order (the most
// recent maxCallLog of them; the counters are always exact) since the
// call log was turned on. It panics when the call log is off, so that a
// test reading it cannot pass on an empty log it forgot to ask for.
func (e *Emulator) CallLog() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.logging {
		panic("emulator: CallLog needs the call log on (Options.CallLog or SetCallLog(true))")
	}
	out := make([]Call, len(e.callLog))
	for i, c := range e.callLog {
		c.Params = cloneValues(c.Params)
		out[i] = c
	}
	return out
}

// ResetCalls clears the counters and the call log.
func (e *Emulator) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = map[string]int{}
	e.total = 0
	e.callLog = nil
	e.logBase = e.logSeq
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// ---- direct state access ----

// AddUser adds a user without going through HTTP (not counted). UserID
// ("AIDA" + 16 random characters), Arn, Path ("/") and CreateDate (now) are
// filled in when empty.
func (e *Emulator) AddUser(u User) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.addUserLocked(u); err != nil {
		return err
	}
	return e.saveLocked()
}

func (e *Emulator) addUserLocked(u User) error {
	if msg := checkUserName(u.UserName); msg != "" {
		return fmt.Errorf("emulator: AddUser: %s", msg)
	}
	if strings.EqualFold(u.UserName, RootUserName) {
		return fmt.Errorf("emulator: AddUser: the name %q is reserved for the root user", u.UserName)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if !pathRe().MatchString(u.Path) || len(u.Path) > 512 {
		return fmt.Errorf("emulator: AddUser: invalid path %q", u.Path)
	}
	if _, ok := e.users[strings.ToLower(u.UserName)]; ok {
		return fmt.Errorf("emulator: AddUser: user %q already exists", u.UserName)
	}
	if u.UserID == "" {
		u.UserID = "AIDA" + e.randString(16, idAlphabet)
	}
	if u.Arn == "" {
		u.Arn = e.userArn(u.Path, u.UserName)
	}
	if u.CreateDate.IsZero() {
		u.CreateDate = e.nowUTC()
	}
	u.CreateDate = e.date(u.CreateDate)
	if u.PasswordLastUsed != nil {
		t := e.date(*u.PasswordLastUsed)
		u.PasswordLastUsed = &t
	}
	if err := e.normalizeContextLocked(&u); err != nil {
		return fmt.Errorf("emulator: AddUser: %w", err)
	}
	e.users[strings.ToLower(u.UserName)] = &u
	return nil
}

// AddAccessKey adds a key without going through HTTP (not counted). It
// generates the id and secret when empty, defaults Status to Active and
// CreateDate to now, and checks only that the user exists (RootUserName is
// the root user); the two-keys quota is not enforced, so tests can build
// any state.
func (e *Emulator) AddAccessKey(k AccessKey) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.addKeyLocked(k); err != nil {
		return err
	}
	return e.saveLocked()
}

func (e *Emulator) addKeyLocked(k AccessKey) error {
	if k.UserName == RootUserName {
		k.UserName = RootUserName
	} else {
		u, ok := e.users[strings.ToLower(k.UserName)]
		if !ok {
			return fmt.Errorf("emulator: AddAccessKey: user %q does not exist", k.UserName)
		}
		k.UserName = u.UserName
	}
	if k.AccessKeyID == "" {
		k.AccessKeyID = e.newAccessKeyID()
	} else if !accessKeyIDRe().MatchString(k.AccessKeyID) || len(k.AccessKeyID) < 16 || len(k.AccessKeyID) > 128 {
		return fmt.Errorf("emulator: AddAccessKey: invalid access key id %q", k.AccessKeyID)
	}
	if _, ok := e.keys[k.AccessKeyID]; ok {
		return fmt.Errorf("emulator: AddAccessKey: access key %s already exists", k.AccessKeyID)
	}
	if k.SecretAccessKey == "" {
		k.SecretAccessKey = e.randString(40, secretAlphabet)
	}
	switch k.Status {
	case "":
		k.Status = statusActive
	case statusActive, statusInactive:
	default:
		return fmt.Errorf("emulator: AddAccessKey: status %q is not Active or Inactive", k.Status)
	}
	if k.CreateDate.IsZero() {
		k.CreateDate = e.nowUTC()
	}
	k.CreateDate = e.date(k.CreateDate)
	if k.LastUsed != nil {
		lu := *k.LastUsed
		lu.Date = e.date(lu.Date)
		k.LastUsed = &lu
	}
	e.putKeyLocked(&k)
	return nil
}

// RemoveUser removes a user and its keys without going through HTTP, e.g. to
// simulate a deletion in the middle of a query.
func (e *Emulator) RemoveUser(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("emulator: RemoveUser: user %q does not exist", name)
	}
	for id, k := range e.keys {
		if k.UserName == u.UserName {
			e.dropKeyLocked(id)
		}
	}
	delete(e.users, strings.ToLower(name))
	return e.saveLocked()
}

// Snapshot returns a copy of the account's users and keys.
func (e *Emulator) Snapshot() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snapshotLocked()
}

func (e *Emulator) snapshotLocked() State {
	s := State{AccountID: e.accountID, RootCreated: e.rootCreated}
	for _, u := range e.sortedUsers() {
		s.Users = append(s.Users, u.clone())
	}
	keys := make([]*AccessKey, 0, len(e.keys))
	for _, k := range e.keys {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.UserName != b.UserName {
			return a.UserName < b.UserName
		}
		return keyLess(a, b)
	})
	for _, k := range keys {
		c := *k
		if k.LastUsed != nil {
			lu := *k.LastUsed
			c.LastUsed = &lu
		}
		s.Keys = append(s.Keys, c)
	}
	return s
}

// sortedUsers returns the users ordered by name (case-insensitively, the
// order of the map's keys).
func (e *Emulator) sortedUsers() []*User {
	names := make([]string, 0, len(e.users))
	for n := range e.users {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*User, len(names))
	for i, n := range names {
		out[i] = e.users[n]
	}
	return out
}

// putKeyLocked adds a key, indexed by id and by owner (a user's keys are
// listed without going through every key of the account).
func (e *Emulator) putKeyLocked(k *AccessKey) {
	e.keys[k.AccessKeyID] = k
	m := e.byOwner[k.UserName]
	if m == nil {
		m = map[string]*AccessKey{}
		e.byOwner[k.UserName] = m
	}
	m[k.AccessKeyID] = k
}

// dropKeyLocked removes a key.
func (e *Emulator) dropKeyLocked(id string) {
	k, ok := e.keys[id]
	if !ok {
		return
	}
	delete(e.keys, id)
	if m := e.byOwner[k.UserName]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(e.byOwner, k.UserName)
		}
	}
}

// keysOf returns the keys of one owner ordered by create date, then id.
func (e *Emulator) keysOf(owner string) []*AccessKey {
	var out []*AccessKey
	for _, k := range e.byOwner[owner] {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i], out[j]) })
	return out
}

func keyLess(a, b *AccessKey) bool {
	if !a.CreateDate.Equal(b.CreateDate) {
		return a.CreateDate.Before(b.CreateDate)
	}
	return a.AccessKeyID < b.AccessKeyID
}

func (e *Emulator) userArn(path, name string) string {
	return "arn:aws:iam::" + e.accountID + ":user" + path + name
}

func (e *Emulator) rootArn() string { return "arn:aws:iam::" + e.accountID + ":root" }

const (
	statusActive   = "Active"
	statusInactive = "Inactive"

	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
)

func (e *Emulator) randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[e.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (e *Emulator) newAccessKeyID() string {
	for {
		id := "AKIA" + e.randString(16, idAlphabet)
		if _, taken := e.keys[id]; !taken {
			return id
		}
	}
}

// deterministicUserID derives a stable user id from a name, so the demo
// account's ids are the same on every machine and can appear in docs.
func deterministicUserID(name string) string {
	sum := sha256.Sum256([]byte("iamsql-demo-user:" + name))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:10])
}
