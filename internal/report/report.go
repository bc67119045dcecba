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
	"strconv"
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
}

// Key is one access key of the inventory, read from the inventory
// statement by column name.
type Key struct {
	Account     string    `sql:"-"`        // the AWS account id, from the caller's ARN
	UserName    string    `sql:"UserName"` // RootUserName for the root user's keys
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
}

// Incomplete is a part of the account the report could not read, so its
// findings may be missing.
type Incomplete struct {
	Source      string // "inventory" or "account summary"
	Code        string // IAM's error code, when the engine told it
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

// SummarySQL is the statement a report reads the account summary with.
func SummarySQL(region string) string {
	return fmt.Sprintf("SELECT AccountAccessKeysPresent, Users FROM account_summary WHERE region = '%s'", region)
}

// known is what the report hands the rules' SQL: the region, its clock
// and the account summary's answer, as literals.
func (r *Report) known() inputs {
	reported := "NULL"
	if r.RootKeysPresent != nil {
		reported = strings.ToUpper(strconv.FormatBool(*r.RootKeysPresent))
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
	start := time.Now()
	r := &Report{
		GeneratedAt: opts.Now().UTC().Truncate(time.Second),
		Region:      opts.Region,
		Thresholds:  opts.Thresholds.withDefaults(),
		Users:       -1,
		Calls:       map[string]int{},
	}
	q := &querier{eng: eng, sess: sess, calls: r.Calls}
	prog := startProgress(opts.Progress)
	defer prog.stop()

	if err := r.readSummary(ctx, q, prog); err != nil {
		return nil, err
	}
	rows, err := r.readInventory(ctx, q, prog)
	if err != nil {
		return nil, err
	}
	r.whoRan(ctx, eng)
	for i := range rows {
		rows[i].Account = r.Account
		if rows[i].AccessKeyID != "" { // else not a key: root keys the summary reports
			r.Keys = append(r.Keys, rows[i].Key)
		}
	}
	if r.Findings, err = r.judge(rows); err != nil {
		return nil, err
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

func (r *Report) readSummary(ctx context.Context, q *querier, prog *progressDisplay) error {
	t := prog.step("Account summary", 1)
	type summaryRow struct{ AccountAccessKeysPresent, Users *int64 }
	err := query(ctx, q, SummarySQL(r.Region), nil, func(row summaryRow) error {
		if row.AccountAccessKeysPresent != nil {
			present := *row.AccountAccessKeysPresent > 0
			r.RootKeysPresent = &present
		}
		if row.Users != nil {
			r.Users = int(*row.Users)
		}
		return nil
	})
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

func (r *Report) readInventory(ctx context.Context, q *querier, prog *progressDisplay) ([]inventoryRow, error) {
	// The step counts users whose keys were asked for and shows the keys
	// read: while IAM is asked, those whose last use came back (the
	// statement sorts, so its rows come at the end), then its rows.
	t := prog.step("Users' keys", r.Users)
	var rows []inventoryRow
	var keysRead atomic.Int64
	err := query(ctx, q, inventoryStatement(r.known(), r.Thresholds), func(res *provider.Result) {
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
	lastUseUnknown := map[string]bool{}
	for _, in := range q.sess.Incomplete() {
		if in.Operation == "GetAccessKeyLastUsed" {
			lastUseUnknown[in.AccessKeyID] = true
		}
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "inventory", Code: in.Code, UserName: in.UserName, AccessKeyID: in.AccessKeyID, Reason: in.Reason})
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
