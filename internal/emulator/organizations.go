package emulator

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// An organization of emulated accounts (AWS Organizations): each account is
// an Emulator with its own users, keys, root user, limits and faults
// (SetLatency, SetThrottleRate, Deny, ...); they share a directory of
// roles and role sessions, so the management account can AssumeRole into
// a member's OrganizationAccountAccessRole and sign for it with the
// temporary credentials. Org serves them all on one endpoint, routing each
// request to the account whose credentials signed it, as AWS's global
// endpoints do. Calls are counted by the account that signed them: the
// management account's Calls() holds its ListAccounts and AssumeRole
// calls, a member's Calls() the IAM calls made with its role.

// Account statuses, as Organizations reports them.
const (
	AccountActive    = "ACTIVE"
	AccountSuspended = "SUSPENDED"
)

// DefaultOrgRole is the role AWS creates in every account created within
// an organization, trusting the management account.
const DefaultOrgRole = "OrganizationAccountAccessRole"

const (
	orgTargetPrefix    = "AWSOrganizationsV20161128."
	maxListAccounts    = 20
	defaultOrgPageSize = 20
)

var orgOperations = map[string]opFunc{
	"DescribeOrganization":             orgOp(opDescribeOrganization, false),
	"ListAccounts":                     orgOp(opListAccounts, true),
	"ListRoots":                        orgOp(opListRoots, true),
	"ListParents":                      orgOp(opListParents, true),
	"ListOrganizationalUnitsForParent": orgOp(opListOUsForParent, true),
}

// orgOp is an Organizations operation: it runs with the directory locked,
// for a caller in an organization — in its management account when
// management is set, as Organizations allows its listings only there.
func orgOp(op func(c *reqCtx, o *orgState) (result, *APIError), management bool) opFunc {
	return func(c *reqCtx) (result, *APIError) {
		d := c.e.dir
		d.mu.Lock()
		defer d.mu.Unlock()
		o, aerr := c.orgOf()
		if aerr != nil {
			return nil, aerr
		}
		if management {
			if aerr := c.managementOnly(o); aerr != nil {
				return nil, aerr
			}
		}
		return op(c, o)
	}
}

// AccountInfo is a member account as Organizations describes it. Parent
// is the id of its root or organizational unit.
type AccountInfo struct {
	ID, Name, Email, Status, JoinedMethod string
	Joined                                time.Time
	Parent                                string
}

// OU is an organizational unit.
type OU struct {
	ID, Name, Parent string
}

// orgState is the organization itself (in the directory).
type orgState struct {
	id, rootID, mgmt string
	accounts         map[string]*AccountInfo
	order            []string // account ids in joining order
	ous              map[string]*OU
}

func (o *orgState) arn(kind, id string) string {
	return "arn:aws:organizations::" + o.mgmt + ":" + kind + "/" + o.id + "/" + id
}

// OrgOptions configures an organization.
type OrgOptions struct {
	// Seed is "org:N" (N accounts, the first the management account,
	// each with UsersPerAccount users of one key) or "org:NxU" (U users
	// each), or "demo" or "org:demo" (the demo organization: see
	// seedDemoOrg).
	Seed string
	// UsersPerAccount is the users of each account for "org:N" (10 when 0).
	UsersPerAccount int
	// Latency, ThrottleRate apply to every account (each can be changed
	// on its own with Account(id).SetLatency and friends).
	Latency      time.Duration
	ThrottleRate float64
	Now          func() time.Time
	RandSeed     int64
	Logger       *slog.Logger
	// CallLog turns every account's call log on (off by default).
	CallLog bool
}

// Org is an emulated AWS Organization served over HTTP by ServeHTTP. All
// methods are safe for concurrent use.
type Org struct {
	opts OrgOptions
	dir  *directory

	mu       sync.Mutex
	accounts map[string]*Emulator
	order    []*Emulator
	keyOwner map[string]*Emulator // a cache of whose key an id is
}

// NewOrg makes an organization as opts.Seed says.
func NewOrg(opts OrgOptions) (*Org, error) {
	o := &Org{opts: opts, dir: newDirectory(), accounts: map[string]*Emulator{}, keyOwner: map[string]*Emulator{}}
	switch seed := opts.Seed; {
	case seed == "demo", seed == "org:demo":
		if err := o.seedDemoOrg(); err != nil {
			return nil, err
		}
	case strings.HasPrefix(seed, "org:"):
		n, users, err := ParseOrgSeed(seed)
		if err != nil {
			return nil, err
		}
		if users < 0 {
			users = opts.UsersPerAccount
			if users == 0 {
				users = 10
			}
		}
		if err := o.seedGenerated(n, users); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("emulator: unknown organization seed %q (want \"org:demo\", \"org:N\" or \"org:NxUSERS\")", seed)
	}
	return o, nil
}

// ParseOrgSeed reads "org:N" (users -1: the default) or "org:NxU".
func ParseOrgSeed(seed string) (accounts, users int, err error) {
	spec, ok := strings.CutPrefix(seed, "org:")
	if !ok {
		return 0, 0, fmt.Errorf("emulator: organization seed %q must start with org:", seed)
	}
	a, u, hasUsers := strings.Cut(spec, "x")
	accounts, err = strconv.Atoi(a)
	if err != nil || accounts < 1 || accounts > 10000 {
		return 0, 0, fmt.Errorf("emulator: seed %q: want org:N with 1 <= N <= 10000 accounts", seed)
	}
	users = -1
	if hasUsers {
		users, err = strconv.Atoi(u)
		if err != nil || users < 0 || users > usersQuota {
			return 0, 0, fmt.Errorf("emulator: seed %q: want org:NxU with 0 <= U <= %d users per account", seed, usersQuota)
		}
	}
	return accounts, users, nil
}

// AddAccount adds an account to the organization (the first added is the
// management account) with an emulator configured by opts, and, unless
// info.JoinedMethod is INVITED, the OrganizationAccountAccessRole trusting
// the management account. Empty info fields get defaults.
func (o *Org) AddAccount(info AccountInfo, opts Options) (*Emulator, error) {
	if opts.AccountID == "" {
		opts.AccountID = info.ID
	}
	if opts.Now == nil {
		opts.Now = o.opts.Now
	}
	if opts.Logger == nil {
		opts.Logger = o.opts.Logger
	}
	opts.CallLog = opts.CallLog || o.opts.CallLog
	if opts.Latency == 0 {
		opts.Latency = o.opts.Latency
	}
	if opts.ThrottleRate == 0 {
		opts.ThrottleRate = o.opts.ThrottleRate
	}
	if opts.RandSeed == 0 && o.opts.RandSeed != 0 {
		opts.RandSeed = o.opts.RandSeed + int64(len(o.order)) + 1
	}
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	e.dir = o.dir
	info.ID = e.accountID
	if info.Name == "" {
		info.Name = "account-" + info.ID
	}
	if info.Email == "" {
		info.Email = strings.ToLower(info.Name) + "@example.com"
	}
	if info.Status == "" {
		info.Status = AccountActive
	}
	if info.JoinedMethod == "" {
		info.JoinedMethod = "CREATED"
	}
	if info.Joined.IsZero() {
		info.Joined = e.rootCreated
	}
	info.Joined = info.Joined.UTC().Truncate(time.Second)

	o.mu.Lock()
	defer o.mu.Unlock()
	if _, dup := o.accounts[info.ID]; dup {
		return nil, fmt.Errorf("emulator: AddAccount: account %s is already in the organization", info.ID)
	}
	for _, other := range o.order {
		id, _ := other.RootCredentials()
		if id == e.rootKeyID {
			return nil, fmt.Errorf("emulator: AddAccount: root access key %s is already account %s's", id, other.AccountID())
		}
	}
	d := o.dir
	d.mu.Lock()
	if d.org == nil {
		d.org = &orgState{
			id:       "o-" + strings.ToLower(deterministicID("org:"+info.ID, 10)),
			rootID:   "r-" + strings.ToLower(deterministicID("root:"+info.ID, 4)),
			mgmt:     info.ID,
			accounts: map[string]*AccountInfo{},
			ous:      map[string]*OU{},
		}
	}
	if info.Parent == "" {
		info.Parent = d.org.rootID
	} else if _, ok := d.org.ous[info.Parent]; !ok && info.Parent != d.org.rootID {
		d.mu.Unlock()
		return nil, fmt.Errorf("emulator: AddAccount: no organizational unit %q", info.Parent)
	}
	c := info
	d.org.accounts[info.ID] = &c
	d.org.order = append(d.org.order, info.ID)
	mgmt := d.org.mgmt
	d.mu.Unlock()
	o.accounts[info.ID] = e
	o.order = append(o.order, e)
	if info.ID != mgmt && info.JoinedMethod != "INVITED" {
		if err := e.SetRole(Role{Name: DefaultOrgRole, Trusted: []string{mgmt}}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// AddOU adds an organizational unit under parent ("" for the root) and
// returns its id.
func (o *Org) AddOU(name, parent string) (string, error) {
	d := o.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.org == nil {
		return "", fmt.Errorf("emulator: AddOU: the organization has no management account yet")
	}
	if parent == "" {
		parent = d.org.rootID
	}
	if _, ok := d.org.ous[parent]; !ok && parent != d.org.rootID {
		return "", fmt.Errorf("emulator: AddOU: no parent %q", parent)
	}
	id := "ou-" + d.org.rootID[2:] + "-" + strings.ToLower(deterministicID("ou:"+parent+"/"+name, 8))
	if _, dup := d.org.ous[id]; dup {
		return "", fmt.Errorf("emulator: AddOU: %q already exists under %s", name, parent)
	}
	d.org.ous[id] = &OU{ID: id, Name: name, Parent: parent}
	return id, nil
}

// SetAccountStatus changes an account's status (AccountSuspended: it is
// listed so, AssumeRole into it is refused and its own credentials are
// refused).
func (o *Org) SetAccountStatus(id, status string) error {
	if status != AccountActive && status != AccountSuspended && status != "PENDING_CLOSURE" {
		return fmt.Errorf("emulator: SetAccountStatus: unknown status %q", status)
	}
	d := o.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.org == nil || d.org.accounts[id] == nil {
		return fmt.Errorf("emulator: SetAccountStatus: no account %s", id)
	}
	d.org.accounts[id].Status = status
	return nil
}

// ID is the organization's id (o-…).
func (o *Org) ID() string {
	o.dir.mu.Lock()
	defer o.dir.mu.Unlock()
	return o.dir.org.id
}

// Management is the management account.
func (o *Org) Management() *Emulator {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.order[0]
}

// Account is the account of that id, or nil.
func (o *Org) Account(id string) *Emulator {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.accounts[id]
}

// Accounts describes the accounts in joining order.
func (o *Org) Accounts() []AccountInfo {
	d := o.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]AccountInfo, 0, len(d.org.order))
	for _, id := range d.org.order {
		out = append(out, *d.org.accounts[id])
	}
	return out
}

// OUs lists the organizational units, sorted by id.
func (o *Org) OUs() []OU {
	d := o.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]OU, 0, len(d.org.ous))
	for _, ou := range d.org.ous {
		out = append(out, *ou)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TotalCalls is the calls counted by every account.
func (o *Org) TotalCalls() int {
	n := 0
	for _, e := range o.members() {
		n += e.TotalCalls()
	}
	return n
}

// ResetCalls clears every account's counters and call log.
func (o *Org) ResetCalls() {
	for _, e := range o.members() {
		e.ResetCalls()
	}
}

func (o *Org) members() []*Emulator {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*Emulator(nil), o.order...)
}

// ServeHTTP hands a request to the account whose credentials signed it
// (an unsigned request, or one signed with a key no account has, to the
// management account, which answers it as AWS would).
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.owner(signerKeyID(r)).ServeHTTP(w, r)
}

// signerKeyID is the access key id a request claims to be signed with
// ("" when none can be read).
func signerKeyID(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		id, _, _ := strings.Cut(after, "/")
		return strings.TrimSpace(id)
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	id, _, _ := strings.Cut(cred, "/")
	return id
}

func (o *Org) owner(keyID string) *Emulator {
	o.mu.Lock()
	defer o.mu.Unlock()
	if keyID != "" {
		if e, ok := o.keyOwner[keyID]; ok && e.hasCredential(keyID) {
			return e
		}
		o.dir.mu.Lock()
		s, ok := o.dir.sessions[keyID]
		o.dir.mu.Unlock()
		if ok {
			if e := o.accounts[s.account]; e != nil {
				return e
			}
		}
		for _, e := range o.order {
			if e.hasCredential(keyID) {
				if len(o.keyOwner) > 1<<20 {
					o.keyOwner = map[string]*Emulator{}
				}
				o.keyOwner[keyID] = e
				return e
			}
		}
	}
	return o.order[0]
}

// hasCredential reports whether the key id is one of this account's keys.
func (e *Emulator) hasCredential(keyID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.keys[keyID]
	return ok
}

// Listen serves the organization on addr, as Emulator.Listen does.
func (o *Org) Listen(addr string) (*Server, error) { return listen(o, addr) }

// Transport hands requests straight to the organization in this process,
// as Emulator.Transport does.
func (o *Org) Transport() http.RoundTripper { return transport{h: o} }

// suspendedLocked reports whether the account is a suspended member of
// an organization (the directory's lock held).
func (d *directory) suspendedLocked(account string) bool {
	if d.org == nil {
		return false
	}
	a, ok := d.org.accounts[account]
	return ok && a.Status != AccountActive
}

// ---- Organizations operations ----

// orgOf is the caller's organization; a standalone account has none.
func (c *reqCtx) orgOf() (*orgState, *APIError) {
	if c.e.dir.org == nil {
		return nil, newError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	return c.e.dir.org, nil
}

// managementOnly refuses a call from a member account, as Organizations
// does for its listing operations.
func (c *reqCtx) managementOnly(o *orgState) *APIError {
	if c.e.accountID != o.mgmt {
		return newError("AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return nil
}

// orgParams reads MaxResults and NextToken; the token is the index of the
// next item.
func orgPage(c *reqCtx, total int) (start, end int, aerr *APIError) {
	size := defaultOrgPageSize
	if s := c.params.Get("MaxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListAccounts {
			return 0, 0, newError("InvalidInputException", fmt.Sprintf("You provided a value that does not match the required pattern: MaxResults must be between 1 and %d.", maxListAccounts))
		}
		size = n
	}
	if t := c.params.Get("NextToken"); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "next:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "next:") || n < 0 || n > total {
			return 0, 0, newError("InvalidInputException", "The provided token is invalid.")
		}
		start = n
	}
	return start, min(start+size, total), nil
}

func nextToken(end, total int) string {
	if end >= total {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("next:" + strconv.Itoa(end)))
}

func opDescribeOrganization(c *reqCtx, o *orgState) (result, *APIError) {
	m := o.accounts[o.mgmt]
	return JSONAnswer{"Organization": map[string]any{
		"Id": o.id, "Arn": "arn:aws:organizations::" + o.mgmt + ":organization/" + o.id, "FeatureSet": "ALL",
		"MasterAccountArn": o.arn("account", o.mgmt), "MasterAccountId": o.mgmt, "MasterAccountEmail": m.Email,
		"AvailablePolicyTypes": []any{},
	}}, nil
}

func opListAccounts(c *reqCtx, o *orgState) (result, *APIError) {
	start, end, aerr := orgPage(c, len(o.order))
	if aerr != nil {
		return nil, aerr
	}
	accounts := make([]any, 0, end-start)
	for _, id := range o.order[start:end] {
		a := o.accounts[id]
		accounts = append(accounts, map[string]any{
			"Id": a.ID, "Arn": o.arn("account", a.ID), "Name": a.Name, "Email": a.Email,
			"Status": a.Status, "JoinedMethod": a.JoinedMethod, "JoinedTimestamp": a.Joined.Unix(),
		})
	}
	res := JSONAnswer{"Accounts": accounts}
	if t := nextToken(end, len(o.order)); t != "" {
		res["NextToken"] = t
	}
	return res, nil
}

func opListRoots(c *reqCtx, o *orgState) (result, *APIError) {
	return JSONAnswer{"Roots": []any{map[string]any{"Id": o.rootID, "Arn": o.arn("root", o.rootID), "Name": "Root", "PolicyTypes": []any{}}}}, nil
}

func opListParents(c *reqCtx, o *orgState) (result, *APIError) {
	child := c.params.Get("ChildId")
	var parent string
	if a, ok := o.accounts[child]; ok {
		parent = a.Parent
	} else if ou, ok := o.ous[child]; ok {
		parent = ou.Parent
	} else if child == "" {
		return nil, newError("InvalidInputException", "You must specify a value for ChildId.")
	} else {
		return nil, newError("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	typ := "ORGANIZATIONAL_UNIT"
	if parent == o.rootID {
		typ = "ROOT"
	}
	return JSONAnswer{"Parents": []any{map[string]any{"Id": parent, "Type": typ}}}, nil
}

func opListOUsForParent(c *reqCtx, o *orgState) (result, *APIError) {
	parent := c.params.Get("ParentId")
	if _, ok := o.ous[parent]; !ok && parent != o.rootID {
		return nil, newError("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	var ous []*OU
	for _, ou := range o.ous {
		if ou.Parent == parent {
			ous = append(ous, ou)
		}
	}
	sort.Slice(ous, func(i, j int) bool { return ous[i].ID < ous[j].ID })
	start, end, aerr := orgPage(c, len(ous))
	if aerr != nil {
		return nil, aerr
	}
	items := make([]any, 0, end-start)
	for _, ou := range ous[start:end] {
		items = append(items, map[string]any{"Id": ou.ID, "Arn": o.arn("ou", ou.ID), "Name": ou.Name})
	}
	res := JSONAnswer{"OrganizationalUnits": items}
	if t := nextToken(end, len(ous)); t != "" {
		res["NextToken"] = t
	}
	return res, nil
}

// JSONAnswer is an Organizations answer, marshalled as it is (Invoke
// returns it as it is).
type JSONAnswer map[string]any

func (a JSONAnswer) jsonValue() any        { return map[string]any(a) }
func (a JSONAnswer) writeXML(w *xmlWriter) {} // never: Organizations answers JSON

// deterministicID derives n characters of a stable id from s.
func deterministicID(s string, n int) string {
	return deterministicUserID(s)[4 : 4+n]
}

// Generated and demo organizations.

// orgAccountID is the id of the i-th generated account (0: management).
func orgAccountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// orgRootKeyID is the root access key id of a generated account: unique
// across the organization, so a request's key names its account.
func orgRootKeyID(account string) string { return "AKIAROOT" + account }

func orgRootSecret(account string) string {
	return "orgRootSecret" + account + "EXAMPLEKEY0000000" // 40 characters
}

// seedGenerated makes "org:NxU": n accounts named account-001…, the
// first the management account, spread over two OUs (Workloads, Sandbox)
// below the root; each member has users user-00001… with one key each, of
// ages spread over two years, every seventh Inactive, every fifth never
// used.
func (o *Org) seedGenerated(n, users int) error {
	var workloads, sandbox string
	for i := 0; i < n; i++ {
		id := orgAccountID(i)
		info := AccountInfo{ID: id, Name: fmt.Sprintf("account-%03d", i+1)}
		if i > 0 {
			if workloads == "" {
				var err error
				if workloads, err = o.AddOU("Workloads", ""); err != nil {
					return err
				}
				if sandbox, err = o.AddOU("Sandbox", ""); err != nil {
					return err
				}
			}
			info.Parent = workloads
			if i%4 == 0 {
				info.Parent = sandbox
			}
		}
		e, err := o.AddAccount(info, Options{RootAccessKeyID: orgRootKeyID(id), RootSecretAccessKey: orgRootSecret(id)})
		if err != nil {
			return err
		}
		if err := e.seedUsers(users); err != nil {
			return err
		}
	}
	return nil
}

// generatedUser is the i-th generated user with its context: owner and
// team tags (seven teams), a console password for every third user, MFA
// for every other one of those, a group, and a managed policy for every
// fourth user.
func generatedUser(account string, i int, name string, created time.Time) User {
	u := User{UserName: name, CreateDate: created,
		Tags:   []Tag{{"owner", name + "@example.com"}, {"team", fmt.Sprintf("team-%d", i%7)}},
		Groups: []string{fmt.Sprintf("group-%d", i%5)}}
	if i%3 == 0 {
		u.LoginProfile = &LoginProfile{CreateDate: created}
		if i%2 == 0 {
			u.MFADevices = []MFADevice{{SerialNumber: "arn:aws:iam::" + account + ":mfa/" + name, EnableDate: created}}
		}
	}
	if i%4 == 0 {
		u.AttachedPolicies = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	}
	return u
}

// seedUsers adds n generated users with one key each (and generatedUser's
// context).
func (e *Emulator) seedUsers(n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowUTC()
	day := 24 * time.Hour
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user-%05d", i)
		age := time.Duration(1+(i*37)%730) * day
		if err := e.addUserLocked(generatedUser(e.accountID, i, name, now.Add(-age-day))); err != nil {
			return err
		}
		k := AccessKey{UserName: name, CreateDate: now.Add(-age)}
		if i%7 == 0 {
			k.Status = statusInactive
		}
		if i%5 != 0 {
			k.LastUsed = &LastUsed{Date: now.Add(-time.Duration(i%90) * day), ServiceName: "s3", Region: "us-east-1"}
		}
		if err := e.addKeyLocked(k); err != nil {
			return err
		}
	}
	return e.saveLocked()
}

// seedDemoOrg makes the demo organization (--sandbox --org): the demo
// account (see seedDemo) as management account 123456789012, and
//
//	210987654321 dev      (Workloads)  ada: an active key 500 days old, never used;
//	                                   grace: two active keys
//	345678901234 prod     (Workloads)  svc-backup: a key 30 days old, used today;
//	                                   old-admin: an inactive key 900 days old
//	456789012345 sandbox  (Sandbox)    tester: a key 10 days old, never used
//	567890123456 archive  (Sandbox)    no users
//
// Members have OrganizationAccountAccessRole trusting the management
// account, and no root access key except dev's (AKIAROOT + its id), as
// accounts created in an organization start without one.
func (o *Org) seedDemoOrg() error {
	if _, err := o.AddAccount(AccountInfo{Name: "management", Email: "aws-management@example.com"}, Options{Seed: "demo"}); err != nil {
		return err
	}
	workloads, err := o.AddOU("Workloads", "")
	if err != nil {
		return err
	}
	sandbox, err := o.AddOU("Sandbox", "")
	if err != nil {
		return err
	}
	day := 24 * time.Hour
	type key struct {
		user, status string
		age, used    time.Duration // used 0: never
	}
	members := []struct {
		id, name, parent string
		users            []string
		keys             []key
	}{
		{"210987654321", "dev", workloads, []string{"ada", "grace"}, []key{
			{"ada", statusActive, 500 * day, 0}, {"grace", statusActive, 60 * day, 2 * day},
			{"grace", statusActive, 20 * day, day}}},
		{"345678901234", "prod", workloads, []string{"svc-backup", "old-admin"}, []key{
			{"svc-backup", statusActive, 30 * day, time.Hour}, {"old-admin", statusInactive, 900 * day, 400 * day}}},
		{"456789012345", "sandbox", sandbox, []string{"tester"}, []key{
			{"tester", statusActive, 10 * day, 0}}},
		{"567890123456", "archive", sandbox, nil, nil},
	}
	for _, m := range members {
		e, err := o.AddAccount(AccountInfo{ID: m.id, Name: m.name, Email: "aws-" + m.name + "@example.com", Parent: m.parent},
			Options{RootAccessKeyID: orgRootKeyID(m.id), RootSecretAccessKey: orgRootSecret(m.id)})
		if err != nil {
			return err
		}
		if m.name != "dev" {
			e.removeRootKey()
		}
		now := e.nowUTC()
		for _, u := range m.users {
			if err := e.AddUser(User{UserName: u, UserID: deterministicUserID(m.id + "/" + u), CreateDate: now.Add(-1000 * day)}); err != nil {
				return err
			}
		}
		for _, k := range m.keys {
			ak := AccessKey{UserName: k.user, Status: k.status, CreateDate: now.Add(-k.age)}
			if k.used > 0 {
				ak.LastUsed = &LastUsed{Date: now.Add(-k.used), ServiceName: "s3", Region: "us-east-1"}
			}
			if err := e.AddAccessKey(ak); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeRootKey deletes the root user's access key (the account is then
// reached only through roles).
func (e *Emulator) removeRootKey() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropKeyLocked(e.rootKeyID)
}
