// Package report builds the security inventory reports of `iamsql report`:
// every access key in the account with its age and last use, and the
// findings a security team acts on (old keys, unused keys, users with two
// active keys, inactive keys left behind, root access keys).
//
// A report reads the account through the same SQL engine users query,
// with two statements: GetAccountSummary (account_summary), then the
// inventory: every access key with its last use, and one boolean column
// per rule, the rule's SQL condition on the key (rules.go). The engine
// makes each IAM call once per statement, so a report costs the minimum
// of IAM calls however many rules it applies. A rule is decided there and
// nowhere else: Go only tells the findings; the same condition, wrapped
// as a stand-alone statement, is in docs/reports.md.
//
// For the owners of keys with findings, and them only, the report then
// reads their context (tags, key descriptions, console access, MFA,
// groups, policies; context.go). With SourceCredentialReport it reads
// IAM's credential report first and narrows the inventory statement to
// the users whose keys could match a finding (source.go).
//
// Nothing is dropped silently: users or keys the engine skipped (deleted
// or denied during the query) and parts of the account that could not be
// read are listed as incomplete entries.
package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/schema"
)

// DefaultRegion is the region a report asks IAM in when none is given.
const DefaultRegion = "us-east-1"

// RootUserName is how IAM names the account root user as a key's owner.
const RootUserName = "root"

// Thresholds are the day counts the rules compare key dates with.
type Thresholds struct {
	// MaxKeyAge: an active key created more than this many days ago is old.
	MaxKeyAge int
	// MaxUnused: an active key not used for this many days is unused (a key
	// never used counts from its creation, so a new key has that long to
	// be put to use).
	MaxUnused int
	// MaxInactiveAge: an inactive key created more than this many days ago
	// should have been deleted.
	MaxInactiveAge int
	// GraceDays: a key created less than this many days ago is in grace,
	// and so is a user's older active key while the newer one is (a
	// rotation under way): no finding but root-keys flags them. 0: none.
	GraceDays int
}

// DefaultThresholds are the command's defaults. 90 days of key age and 45
// days of non-use are the CIS AWS Foundations Benchmark's limits (1.14 and
// 1.12). An inactive key is flagged at 120 days: a key rotated out at 90
// days then has 30 days to be deleted once its replacement is known to
// work.
var DefaultThresholds = Thresholds{MaxKeyAge: 90, MaxUnused: 45, MaxInactiveAge: 120}

func (t Thresholds) withDefaults() Thresholds {
	if t.MaxKeyAge <= 0 {
		t.MaxKeyAge = DefaultThresholds.MaxKeyAge
	}
	if t.MaxUnused <= 0 {
		t.MaxUnused = DefaultThresholds.MaxUnused
	}
	if t.MaxInactiveAge <= 0 {
		t.MaxInactiveAge = DefaultThresholds.MaxInactiveAge
	}
	return t
}

// Options configures a report.
type Options struct {
	// Region is the region the IAM calls are made for (DefaultRegion when
	// empty); IAM is global per partition, so it picks the partition.
	Region string
	// Thresholds; zero fields take DefaultThresholds.
	Thresholds Thresholds
	// Now is the clock key ages are measured with; time.Now when nil.
	Now func() time.Time
	// Progress, when set, receives a progress display while the inventory
	// runs (a terminal: it redraws in place).
	Progress io.Writer
	// Org reports on every account the engine reads (its org mode): the
	// accounts' names are read too, and the report has a part per account.
	Org bool
	// Policy is the report policy: severities, exemptions, controls.
	Policy Policy
	// Baseline, when set, is an earlier report the findings are compared
	// with (new, still open, resolved).
	Baseline *Baseline
	// Source is where the keys are read from: SourceLive (the default,
	// when empty) or SourceCredentialReport (source.go).
	Source Source
	// NoContext leaves out the owners' context (tags, console access,
	// MFA, groups, policies), which costs about seven IAM calls per user
	// with a finding.
	NoContext bool
}

// AccountPart is one account's part of a report: its summary and what
// the inventory found there.
type AccountPart struct {
	ID, Name string
	// Users is GetAccountSummary's user count; -1 if unknown.
	Users int
	// RootKeysPresent is GetAccountSummary's AccountAccessKeysPresent.
	RootKeysPresent        *bool
	Keys, Active, Findings int
}

// Label names the account: its id, and its name when known.
func (a AccountPart) Label() string {
	if a.Name == "" {
		return a.ID
	}
	return a.ID + " (" + a.Name + ")"
}

// Key is one access key of the inventory, read from the inventory
// statement by column name.
type Key struct {
	Account     string    `sql:"account_id"` // the AWS account id
	AccountName string    `sql:"-"`          // its name in the organization, in org mode
	UserName    string    `sql:"UserName"`   // RootUserName for the root user's keys
	AccessKeyID string    `sql:"AccessKeyId"`
	Status      string    `sql:"Status"` // Active or Inactive
	CreateDate  time.Time `sql:"CreateDate"`
	// LastUsedDate is nil when the key was never used (or when its last
	// use could not be read: see LastUsedUnknown).
	LastUsedDate    *time.Time `sql:"LastUsedDate"`
	LastUsedService string     `sql:"LastUsedServiceName"`
	LastUsedRegion  string     `sql:"LastUsedRegion"`
	// LastUsedUnknown is set when GetAccessKeyLastUsed was refused for the
	// key; it is then not judged by rules that read the last use.
	LastUsedUnknown bool `sql:"-"`
	// Context is the owner's context (context.go), read only for keys
	// whose owner has a finding; nil otherwise.
	Context *Context `sql:"-"`
}

// AccountLabel names the key's account: its id, and its name when known.
func (k Key) AccountLabel() string {
	if k.AccountName == "" {
		return k.Account
	}
	return k.Account + " (" + k.AccountName + ")"
}

// Root reports whether the key belongs to the account root user.
func (k Key) Root() bool { return k.UserName == RootUserName }

// Active reports whether the key can sign requests.
func (k Key) Active() bool { return k.Status == "Active" }

// AgeDays is how many whole days old the key is at now.
func (k Key) AgeDays(now time.Time) int { return days(now.Sub(k.CreateDate)) }

func days(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}

// Finding is one thing a rule flags.
type Finding struct {
	Rule string // the rule's name, e.g. "old-keys"
	// Key is the key concerned. Its AccessKeyID is empty when the finding
	// is about an owner whose keys could not be listed (root keys reported
	// by the account summary to a caller that is not root).
	Key    Key
	Detail string
	// Severity is the rule's under the report's policy.
	Severity Severity
	// Controls are the compliance requirements the finding evidences.
	Controls []Control
	// Exemption is the policy's exemption in force that covers it, if any:
	// an exempted finding is reported but fails no --fail-on gate.
	Exemption *Exemption
	// Trend is "new" or "open" (still open) against a baseline; "" without.
	Trend string
}

// Incomplete is a part of the account the report could not read, so its
// findings may be missing.
type Incomplete struct {
	Source      string // "inventory" or "account summary"
	Code        string // IAM's error code, when the engine told it
	Account     string // the account concerned, in org mode
	UserName    string // the user concerned, when one is
	AccessKeyID string // the key concerned, when one is
	Reason      string
}

// Report is the outcome of Run.
type Report struct {
	GeneratedAt time.Time
	Region      string
	Account     string // empty when no key or user revealed it
	Thresholds  Thresholds
	// Users is the number of IAM users (GetAccountSummary); -1 if unknown.
	Users int
	// RootKeysPresent is GetAccountSummary's AccountAccessKeysPresent; nil
	// when the summary could not be read.
	RootKeysPresent *bool
	// Keys is the inventory: the root user's keys, then every user's, by
	// user name and creation date.
	Keys       []Key
	Findings   []Finding // grouped by rule in Rules order
	Incomplete []Incomplete
	// Accounts are the accounts read, by id (one outside org mode).
	Accounts []AccountPart
	// Org is set for a report across accounts (Options.Org).
	Org bool
	// Policy is the policy the findings were judged with.
	Policy Policy
	// Baseline is the comparison with an earlier report, if one was given.
	Baseline *BaselineComparison
	// Source is where the keys were read from; CredentialReport, in
	// SourceCredentialReport mode, what the credential report told.
	Source           Source
	CredentialReport *CredentialReportInfo
	// Calls counts the IAM calls the report made, by operation.
	Calls   map[string]int
	Elapsed time.Duration

	// rootNote says why root keys the account summary reports are not
	// listed (whether the caller is root).
	rootNote string
}

// FindingsOf returns the findings of one rule.
func (r *Report) FindingsOf(rule string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// KeyFindings maps each access key id to the names of the rules that flag it.
func (r *Report) KeyFindings() map[string][]string {
	out := map[string][]string{}
	for _, f := range r.Findings {
		if f.Key.AccessKeyID != "" && !slices.Contains(out[f.Key.AccessKeyID], f.Rule) {
			out[f.Key.AccessKeyID] = append(out[f.Key.AccessKeyID], f.Rule)
		}
	}
	return out
}

// SummarySQL is the statement a report reads the account summary with
// (a row per account in org mode).
func SummarySQL(region string) string {
	return fmt.Sprintf("SELECT account_id, AccountAccessKeysPresent, Users FROM account_summary WHERE region = '%s' ORDER BY account_id", region)
}

// accountNamesSQL names the accounts of an org-mode report.
const accountNamesSQL = "SELECT Id, Name FROM accounts"

// known is what the report hands the rules' SQL: the region, its clock
// and the account summary's answer, as literals.
func (r *Report) known() inputs {
	// The accounts whose summary reports root keys, as a relation.
	reported := "SELECT CAST(NULL AS CHAR(12)) AS account_id FROM DUAL WHERE FALSE"
	var ids []string
	for _, a := range r.Accounts {
		if a.RootKeysPresent != nil && *a.RootKeysPresent {
			ids = append(ids, "SELECT '"+a.ID+"' AS account_id")
		}
	}
	if len(ids) > 0 {
		reported = strings.Join(ids, " UNION ALL ")
	}
	return inputs{region: r.Region, now: "TIMESTAMP '" + r.GeneratedAt.Format(time.DateTime) + "'", rootKeysReported: reported}
}

// Run fetches the account's keys once through eng and judges them with
// every rule. It fails when the inventory statement fails; parts of the
// account that could not be read are reported in Incomplete instead.
func Run(ctx context.Context, eng *provider.Engine, sess *provider.Session, opts Options) (*Report, error) {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if err := schema.Validate("region", opts.Region); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Source == "" {
		opts.Source = SourceLive
	}
	if _, err := ParseSource(string(opts.Source)); err != nil {
		return nil, err
	}
	start := time.Now()
	r := &Report{
		GeneratedAt: opts.Now().UTC().Truncate(time.Second),
		Region:      opts.Region,
		Thresholds:  opts.Thresholds.withDefaults(),
		Users:       -1,
		Calls:       map[string]int{},
		Org:         opts.Org,
		Policy:      opts.Policy,
		Source:      opts.Source,
	}
	q := &querier{eng: eng, sess: sess, calls: r.Calls}
	prog := startProgress(opts.Progress)
	defer prog.stop()

	if err := r.readSummary(ctx, q, prog); err != nil {
		return nil, err
	}
	var picked map[string][]string
	if r.Source == SourceCredentialReport {
		var ok bool
		var err error
		if picked, ok, err = r.readCandidates(ctx, q, prog); err != nil {
			return nil, err
		}
		if !ok {
			picked = nil // too many: every key, live
		}
	}
	rows, err := r.readInventory(ctx, q, prog, picked)
	if err != nil {
		return nil, err
	}
	r.whoRan(ctx, eng)
	names := map[string]string{}
	for _, a := range r.Accounts {
		names[a.ID] = a.Name
	}
	for i := range rows {
		rows[i].AccountName = names[rows[i].Account]
		if rows[i].AccessKeyID != "" { // else not a key: root keys the summary reports
			r.Keys = append(r.Keys, rows[i].Key)
		}
	}
	if r.Findings, err = r.judge(rows); err != nil {
		return nil, err
	}
	// The owners' context first: exemptions by tag read its tags.
	if !opts.NoContext {
		r.readContext(ctx, q, prog)
	}
	if err := r.applyPolicy(ctx, q); err != nil {
		return nil, err
	}
	if opts.Baseline != nil {
		if err := r.compare(opts.Baseline); err != nil {
			return nil, err
		}
	}
	r.countByAccount()
	r.Elapsed = time.Since(start)
	return r, nil
}

func (r *Report) readSummary(ctx context.Context, q *querier, prog *progressDisplay) error {
	t := prog.step("Account summary", 1)
	type summaryRow struct {
		Account                         string `sql:"account_id"`
		AccountAccessKeysPresent, Users *int64
	}
	err := query(ctx, q, SummarySQL(r.Region), nil, func(row summaryRow) error {
		a := AccountPart{ID: row.Account, Users: -1}
		if row.AccountAccessKeysPresent != nil {
			present := *row.AccountAccessKeysPresent > 0
			a.RootKeysPresent = &present
			if r.RootKeysPresent == nil || present {
				r.RootKeysPresent = &present // any account's root keys
			}
		}
		if row.Users != nil {
			a.Users = int(*row.Users)
			r.Users = max(r.Users, 0) + a.Users
		}
		r.Accounts = append(r.Accounts, a)
		return nil
	})
	if err == nil && r.Org {
		type nameRow struct{ Id, Name string }
		names := map[string]string{}
		err = query(ctx, q, accountNamesSQL, nil, func(row nameRow) error {
			names[row.Id] = row.Name
			return nil
		})
		for i := range r.Accounts {
			r.Accounts[i].Name = names[r.Accounts[i].ID]
		}
	}
	t.done(err)
	if err != nil {
		if !isAccessDenied(err) {
			return fmt.Errorf("account summary: %w", err)
		}
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "account summary",
			Reason: "GetAccountSummary was refused, so the user count and whether the root user has access keys are unknown: " + err.Error()})
	}
	return nil
}

// whoRan names the caller, for the account id and, when no root key was
// listed, for why: the root user's keys are listed only to root.
func (r *Report) whoRan(ctx context.Context, eng *provider.Engine) {
	caller, root, err := eng.Caller(ctx, r.Region)
	if err != nil {
		r.rootNote = "whether the report ran as the root user is unknown (" + oneLine(err.Error()) + ")"
		return
	}
	parsed, perr := arn.Parse(caller)
	if perr == nil {
		r.Account = parsed.AccountID
	}
	switch {
	case root:
		r.rootNote = "the report ran as root, yet listed no root key"
	case perr == nil:
		r.rootNote = "the report ran as " + path.Base(parsed.Resource) + ", not as root; run it with root credentials to list the root user's keys"
	default:
		r.rootNote = "the root user's keys are listed only when the report runs with root credentials"
	}
}

// readInventory reads the inventory statement: every key, or the keys of
// the users picked (per account) from the credential report.
func (r *Report) readInventory(ctx context.Context, q *querier, prog *progressDisplay, picked map[string][]string) ([]inventoryRow, error) {
	stmt := inventoryStatement(r.known(), r.Thresholds)
	users := r.Users
	if picked != nil {
		var err error
		if stmt, err = restrictTo(stmt, r.Region, picked); err != nil {
			return nil, err
		}
		users = r.CredentialReport.Candidates
	}
	// The step counts users whose keys were asked for and shows the keys
	// read: while IAM is asked, those whose last use came back (the
	// statement sorts, so its rows come at the end), then its rows.
	if r.Org {
		return r.readOrgInventory(ctx, q, prog, stmt)
	}
	t := prog.step("Users' keys", users)
	var rows []inventoryRow
	var keysRead atomic.Int64
	err := query(ctx, q, stmt, func(res *provider.Result) {
		t.watch(func() int { return res.Stats.Snapshot()["ListAccessKeys"] }, func() string {
			n := keysRead.Load()
			if n == 0 {
				n = int64(res.Stats.Snapshot()["GetAccessKeyLastUsed"])
			}
			return fmt.Sprintf("Users' keys (%d keys read)", n)
		})
	}, func(row inventoryRow) error {
		rows = append(rows, row)
		if row.AccessKeyID != "" {
			keysRead.Add(1)
		}
		return nil
	})
	return r.inventoryRead(q, rows, err, t)
}

// readOrgInventory reads the inventory of every account; its progress is
// the accounts read of those to read, and the calls per second.
func (r *Report) readOrgInventory(ctx context.Context, q *querier, prog *progressDisplay, stmt string) ([]inventoryRow, error) {
	t := prog.step("Accounts", len(r.Accounts))
	var rows []inventoryRow
	start := time.Now()
	err := query(ctx, q, stmt, func(res *provider.Result) {
		t.watch(func() int { done, _ := res.Stats.Accounts(); return done }, func() string {
			done, total := res.Stats.Accounts()
			rate := float64(res.Stats.Total()) / max(time.Since(start).Seconds(), 0.001)
			return fmt.Sprintf("Accounts %d/%d (%.0f calls/s)", done, total, rate)
		})
	}, func(row inventoryRow) error {
		rows = append(rows, row)
		return nil
	})
	return r.inventoryRead(q, rows, err, t)
}

// inventoryRead completes a read inventory: what could not be read, and
// keys whose last use is unknown.
func (r *Report) inventoryRead(q *querier, rows []inventoryRow, err error, t *progressStep) ([]inventoryRow, error) {
	lastUseUnknown := map[string]bool{}
	for _, in := range q.sess.Incomplete() {
		if in.Operation == "GetAccessKeyLastUsed" {
			lastUseUnknown[in.AccessKeyID] = true
		}
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "inventory", Code: in.Code, Account: in.Account, UserName: in.UserName, AccessKeyID: in.AccessKeyID, Reason: in.Reason})
	}
	t.done(err)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	owners := map[string]string{}
	for i := range rows {
		if k := &rows[i].Key; k.AccessKeyID != "" {
			k.LastUsedUnknown = lastUseUnknown[k.AccessKeyID]
			owners[k.AccessKeyID] = k.UserName
		}
	}
	for i, in := range r.Incomplete {
		if in.UserName == "" && in.AccessKeyID != "" {
			r.Incomplete[i].UserName = owners[in.AccessKeyID]
		}
	}
	return rows, nil
}

func isAccessDenied(err error) bool {
	var se *mysql.SQLError
	return errors.As(err, &se) && se.Num == provider.ErrNumAccessDenied
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// countByAccount adds up each account's keys and findings.
func (r *Report) countByAccount() {
	at := map[string]int{}
	for i, a := range r.Accounts {
		at[a.ID] = i
	}
	part := func(id string) *AccountPart {
		i, ok := at[id]
		if !ok {
			// Keys of an account whose summary could not be read.
			r.Accounts = append(r.Accounts, AccountPart{ID: id, Users: -1})
			i = len(r.Accounts) - 1
			at[id] = i
		}
		return &r.Accounts[i]
	}
	for _, k := range r.Keys {
		a := part(k.Account)
		a.Keys++
		if k.Active() {
			a.Active++
		}
	}
	for _, f := range r.Findings {
		part(f.Key.Account).Findings++
	}
	slices.SortFunc(r.Accounts, func(a, b AccountPart) int { return strings.Compare(a.ID, b.ID) })
}

// rootNoteFor says why an account's root keys are not listed: for the
// signer's own account, whether it ran as root; for another account of
// an org-mode report, that it was read through a role.
func (r *Report) rootNoteFor(account string) string {
	if r.Org && account != "" && account != r.Account {
		return "the report read this account through a role; only the account's root user can list its root keys"
	}
	return r.rootNote
}
