// Package report builds the security inventory reports of `iamsql report`:
// every access key in the account with its age and last use, and the
// findings a security team acts on (old keys, unused keys, users with two
// active keys, inactive keys left behind, root access keys).
//
// A report fetches the account once, through the same SQL engine users
// query, with three statements: GetAccountSummary (account_summary), the
// root user's keys (access_keys without UserName, run only when the summary
// says root keys exist) and the inventory join of users and access_keys
// with the last-used columns. Every finding is then derived from that one
// inventory, so a report costs the minimum of IAM calls however many
// findings it shows. Each rule also carries the stand-alone SQL that
// expresses it (docs/reports.md); tests run those statements and check
// they agree with the report.
//
// Nothing is dropped silently: users or keys the engine skipped (deleted
// or denied during the query) and parts of the account that could not be
// read are listed as incomplete entries.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
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

// Key is one access key of the inventory.
type Key struct {
	Account     string // the AWS account id, from the owner's ARN
	UserName    string // RootUserName for the root user's keys
	AccessKeyID string
	Status      string // Active or Inactive
	CreateDate  time.Time
	// LastUsedDate is nil when the key was never used (or when its last
	// use could not be read: see LastUsedUnknown).
	LastUsedDate    *time.Time
	LastUsedService string
	LastUsedRegion  string
	// LastUsedUnknown is set when GetAccessKeyLastUsed was refused for the
	// key; it is then not judged by the unused-keys rule.
	LastUsedUnknown bool
}

// Root reports whether the key belongs to the account root user.
func (k Key) Root() bool { return k.UserName == RootUserName }

// Active reports whether the key can sign requests.
func (k Key) Active() bool { return k.Status == "Active" }

// AgeDays is how many whole days old the key is at now.
func (k Key) AgeDays(now time.Time) int { return days(now.Sub(k.CreateDate)) }

// IdleDays is how many whole days ago the key was last used, or since it
// was created when it never was.
func (k Key) IdleDays(now time.Time) int {
	if k.LastUsedDate != nil {
		return days(now.Sub(*k.LastUsedDate))
	}
	return k.AgeDays(now)
}

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
	Source      string // "inventory", "account summary" or "root keys"
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

// The statements a report runs. %[1]s is the region (validated first).
// access_keys is every key of the account: the users' and, when the
// report runs as root, the root user's.
const (
	summarySQL   = "SELECT AccountAccessKeysPresent, Users FROM account_summary WHERE region = '%[1]s'"
	inventorySQL = "SELECT UserName, AccessKeyId, Status, CreateDate, LastUsedDate, LastUsedServiceName, LastUsedRegion FROM access_keys WHERE region = '%[1]s'"
)

// InventorySQL is the statement the inventory comes from.
func InventorySQL(region string) string { return fmt.Sprintf(inventorySQL, region) }

// Run fetches the account's keys once through eng and derives every
// finding from them. It fails when the inventory statement fails; parts of
// the account that could not be read are reported in Incomplete instead.
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
	if err := r.readInventory(ctx, q, prog); err != nil {
		return nil, err
	}
	rootNote := r.whoRan(ctx, eng)
	r.Findings = findAll(r, rootNote)
	r.Elapsed = time.Since(start)
	return r, nil
}

func (r *Report) readSummary(ctx context.Context, q *querier, prog *progressDisplay) error {
	t := prog.step("Account summary", 1)
	err := q.run(ctx, fmt.Sprintf(summarySQL, r.Region), nil, func(row gmssql.Row) error {
		if n, ok := asInt(row[0]); ok {
			present := n > 0
			r.RootKeysPresent = &present
		}
		if n, ok := asInt(row[1]); ok {
			r.Users = int(n)
		}
		return nil
	}, nil)
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
func (r *Report) whoRan(ctx context.Context, eng *provider.Engine) string {
	arn, root, err := eng.Caller(ctx, r.Region)
	if err != nil {
		return "whether the report ran as the root user is unknown (" + oneLine(err.Error()) + ")"
	}
	if r.Account == "" {
		r.Account = accountOf(arn)
		for i := range r.Keys {
			r.Keys[i].Account = r.Account
		}
	}
	switch {
	case root:
		return ""
	case arn != "":
		return "the report ran as " + arn[strings.LastIndex(arn, "/")+1:] + ", not as root; run it with root credentials to list the root user's keys"
	default:
		return "the root user's keys are listed only when the report runs with root credentials"
	}
}

func (r *Report) readInventory(ctx context.Context, q *querier, prog *progressDisplay) error {
	// The step counts users whose keys were asked for (the engine reads
	// ahead of the rows by a bounded window) and shows the keys read.
	t := prog.step("Users' keys", r.Users)
	lastUsedDenied := map[string]bool{}
	var keysRead atomic.Int64
	err := q.run(ctx, InventorySQL(r.Region), func(res *provider.Result) {
		t.watch(func() int { return res.Stats.Snapshot()["ListAccessKeys"] },
			func() string { return fmt.Sprintf("Users' keys (%d keys read)", keysRead.Load()) })
	}, func(row gmssql.Row) error {
		r.Keys = append(r.Keys, keyFromRow("", row))
		keysRead.Add(1)
		return nil
	}, nil)
	for _, in := range q.sess.Incomplete() {
		if in.Operation == "GetAccessKeyLastUsed" {
			lastUsedDenied[in.AccessKeyID] = true
		}
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "inventory", UserName: in.UserName, AccessKeyID: in.AccessKeyID, Reason: in.Reason})
	}
	t.done(err)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	owners := map[string]string{}
	for i, k := range r.Keys {
		owners[k.AccessKeyID] = k.UserName
		if lastUsedDenied[k.AccessKeyID] {
			r.Keys[i].LastUsedUnknown = true
		}
	}
	for i, in := range r.Incomplete {
		if in.UserName == "" && in.AccessKeyID != "" {
			r.Incomplete[i].UserName = owners[in.AccessKeyID]
		}
	}
	slices.SortFunc(r.Keys, func(a, b Key) int {
		return cmp.Or(
			cmp.Compare(strings.ToLower(a.UserName), strings.ToLower(b.UserName)),
			cmp.Compare(a.UserName, b.UserName),
			a.CreateDate.Compare(b.CreateDate),
			cmp.Compare(a.AccessKeyID, b.AccessKeyID))
	})
	return nil
}

func keyFromRow(account string, row gmssql.Row) Key {
	k := Key{
		Account:         account,
		UserName:        asString(row[0]),
		AccessKeyID:     asString(row[1]),
		Status:          asString(row[2]),
		LastUsedService: asString(row[5]),
		LastUsedRegion:  asString(row[6]),
	}
	if t, ok := asTime(row[3]); ok {
		k.CreateDate = t
	}
	if t, ok := asTime(row[4]); ok {
		k.LastUsedDate = &t
	}
	return k
}

// accountOf takes the account id out of an IAM ARN
// (arn:aws:iam::123456789012:user/alice).
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// querier runs the report's statements in one session, counting their IAM
// calls.
type querier struct {
	eng   *provider.Engine
	sess  *provider.Session
	calls map[string]int
}

// run executes one statement: started sees the running statement, each
// every row, warn every warning it left.
func (q *querier) run(ctx context.Context, stmt string, started func(*provider.Result), each func(gmssql.Row) error, warn func(*gmssql.Warning)) (err error) {
	q.sess.ClearWarnings()
	res, err := q.eng.Query(ctx, q.sess, stmt)
	defer func() {
		if res != nil && res.Stats != nil {
			for op, n := range res.Stats.Snapshot() {
				q.calls[op] += n
			}
		}
		if warn != nil {
			warnings := q.sess.Warnings() // newest first
			slices.Reverse(warnings)
			for _, w := range warnings {
				warn(w)
			}
		}
		q.sess.ClearWarnings()
	}()
	if err != nil {
		return err
	}
	if started != nil {
		started(res)
	}
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = each(row)
		}
		if err != nil {
			res.Close()
			return err
		}
	}
	return res.Close()
}

func isAccessDenied(err error) bool {
	var se *mysql.SQLError
	return errors.As(err, &se) && se.Num == provider.ErrNumAccessDenied
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func asString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	default:
		return fmt.Sprint(v)
	}
}

func asTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), true
	case *time.Time:
		if v != nil {
			return v.UTC(), true
		}
	case string:
		if t, err := time.Parse(time.DateTime, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	case uint64:
		return int64(v), true
	}
	return 0, false
}
