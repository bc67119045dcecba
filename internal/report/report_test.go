package report_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"
	gmssql "github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
	"github.com/iamsql/iamsql/provider"
)

const accountUsers = 1000

// expectFindings computes, independently of the report code, what each
// rule must flag in the emulator's state with the default thresholds:
// "rule user key" strings. skip leaves out users the report could not read.
func expectFindings(s emulator.State, skip ...string) []string {
	return expectFindingsWith(s, report.DefaultThresholds, skip...)
}

// expectFindingsWith is expectFindings with other thresholds.
func expectFindingsWith(s emulator.State, th report.Thresholds, skip ...string) []string {
	var out []string
	active := map[string]int{}
	for _, k := range s.Keys {
		if k.UserName != "root" && k.Status == "Active" && !slices.Contains(skip, k.UserName) {
			active[k.UserName]++
		}
	}
	for _, k := range s.Keys {
		if slices.Contains(skip, k.UserName) {
			continue
		}
		add := func(rule string) { out = append(out, rule+" "+k.UserName+" "+k.AccessKeyID) }
		if k.UserName == "root" {
			add("root-keys")
			continue
		}
		age := testNow.Sub(k.CreateDate)
		idle := age
		if k.LastUsed != nil {
			idle = testNow.Sub(k.LastUsed.Date)
		}
		switch k.Status {
		case "Active":
			if age > time.Duration(th.MaxKeyAge)*day {
				add("old-keys")
			}
			if idle > time.Duration(th.MaxUnused)*day {
				add("unused-keys")
			}
			if active[k.UserName] >= 2 {
				add("two-active-keys")
			}
		case "Inactive":
			if age > time.Duration(th.MaxInactiveAge)*day {
				add("inactive-keys")
			}
		}
	}
	sort.Strings(out)
	return out
}

func gotFindings(r *report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule+" "+f.Key.UserName+" "+f.Key.AccessKeyID)
	}
	sort.Strings(out)
	return out
}

// inventoryLine renders a key the same way from either side.
func inventoryLine(account, user, id, status string, created time.Time, lu *emulator.LastUsed) string {
	s := fmt.Sprintf("%s %s %s %s %s", account, user, id, status, created.Format(time.DateTime))
	if lu != nil {
		s += fmt.Sprintf(" %s %s %s", lu.Date.Format(time.DateTime), lu.ServiceName, lu.Region)
	}
	return s
}

func expectInventory(s emulator.State, skip ...string) []string {
	var out []string
	for _, k := range s.Keys {
		if !slices.Contains(skip, k.UserName) {
			out = append(out, inventoryLine(s.AccountID, k.UserName, k.AccessKeyID, k.Status, k.CreateDate, k.LastUsed))
		}
	}
	sort.Strings(out)
	return out
}

func gotInventory(r *report.Report) []string {
	var out []string
	for _, k := range r.Keys {
		var lu *emulator.LastUsed
		if k.LastUsedDate != nil {
			lu = &emulator.LastUsed{Date: *k.LastUsedDate, ServiceName: k.LastUsedService, Region: k.LastUsedRegion}
		}
		out = append(out, inventoryLine(k.Account, k.UserName, k.AccessKeyID, k.Status, k.CreateDate, lu))
	}
	sort.Strings(out)
	return out
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	t.Errorf("%s: got %d, want %d\nmissing: %v\nextra: %v", what, len(got), len(want), head(missing), head(extra))
}

func head(s []string) []string {
	if len(s) > 10 {
		return append(s[:10:10], fmt.Sprintf("... %d more", len(s)-10))
	}
	return s
}

func TestReportMatchesEmulatorStateForThousandUsers(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, accountUsers)
	r := w.run(t, report.Options{})
	s := w.emu.Snapshot() // after the run: signing with the root key marks it used

	diff(t, "inventory", gotInventory(r), expectInventory(s))
	diff(t, "findings", gotFindings(r), expectFindings(s))
	if len(r.Incomplete) != 0 {
		t.Errorf("incomplete entries in a readable account: %+v", r.Incomplete)
	}
	if r.Users != accountUsers || r.Account != emulator.DefaultAccountID || r.RootKeysPresent == nil || !*r.RootKeysPresent {
		t.Errorf("users %d, account %q, root keys present %v", r.Users, r.Account, r.RootKeysPresent)
	}
	// Every rule finds something in this account, and the boundary keys
	// (user0000-user0007) fall on the right side of each threshold.
	for _, ru := range report.Rules {
		if len(r.FindingsOf(ru.Name)) == 0 {
			t.Errorf("%s: no findings; the generated account should have some", ru.Name)
		}
	}
	flagged := map[string][]string{}
	for _, f := range r.Findings {
		flagged[f.Key.UserName] = append(flagged[f.Key.UserName], f.Rule)
	}
	for user, want := range map[string][]string{
		"user0000": nil, "user0001": {"old-keys"},
		"user0002": nil, "user0003": {"unused-keys"},
		"user0004": nil, "user0005": {"unused-keys"},
		"user0006": nil, "user0007": {"inactive-keys"},
	} {
		if !slices.Equal(flagged[user], want) {
			t.Errorf("%s: flagged %v, want %v", user, flagged[user], want)
		}
	}
}

// The report reads the account once: one GetAccountSummary, one
// ListAccessKeys for the root user, then the inventory join (ListUsers
// pages, one ListAccessKeys per user, one GetAccessKeyLastUsed per key),
// however many rules it applies.
func TestReportMakesTheMinimumIAMCalls(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, accountUsers)
	keys := len(w.emu.Snapshot().Keys)
	r := w.run(t, report.Options{})
	// The owners' context: for each IAM user with a finding, its name
	// checked once (GetUser) and one call per context table.
	owners := map[string]bool{}
	for _, f := range r.Findings {
		if f.Key.AccessKeyID != "" && !f.Key.Root() {
			owners[f.Key.UserName] = true
		}
	}
	if len(owners) == 0 || len(owners) == accountUsers {
		t.Fatalf("%d of %d users have findings: the account does not test that context is read for those only", len(owners), accountUsers)
	}
	want := map[string]int{
		"GetAccountSummary":    1,
		"ListUsers":            (accountUsers + 99) / 100,
		"ListAccessKeys":       accountUsers + 1,
		"GetAccessKeyLastUsed": keys,
		"GetUser":              1 + len(owners), // is the caller root (its keys are rows then)? then each owner's name
		"GetCallerIdentity":    1,               // the account_id of the rows
	}
	for _, op := range []string{"ListUserTags", "GetLoginProfile", "ListMFADevices", "ListGroupsForUser", "ListAttachedUserPolicies", "ListUserPolicies"} {
		want[op] = len(owners)
	}
	if got := w.emu.Calls(); !maps.Equal(got, want) {
		t.Errorf("emulator saw %v, want %v", got, want)
	}
	if !maps.Equal(r.Calls, want) {
		t.Errorf("report counted %v, want %v", r.Calls, want)
	}
}

// auditor is an IAM user key to run reports as someone other than root.
const auditorID, auditorSecret = "AKIAAUDITOR000000001", "auditor-secret-0000000000000000000000000"

func addAuditor(t *testing.T, emu *emulator.Emulator) {
	t.Helper()
	if err := emu.AddUser(emulator.User{UserName: "auditor", CreateDate: ago(10 * day)}); err != nil {
		t.Fatal(err)
	}
	if err := emu.AddAccessKey(emulator.AccessKey{UserName: "auditor", AccessKeyID: auditorID, SecretAccessKey: auditorSecret, CreateDate: ago(10 * day)}); err != nil {
		t.Fatal(err)
	}
}

// Run by an IAM user, the report cannot list the root user's keys (IAM
// lists the caller's own), so the account summary's answer stands as a
// root-keys finding that says why the keys are not listed.
func TestReportAsIAMUserFlagsRootKeysFromSummary(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 20)
	addAuditor(t, w.emu)
	eng := newEngine(w.url, worldOptions{signerID: auditorID, signerSecret: auditorSecret})
	r, err := report.Run(context.Background(), eng, eng.NewSession("t", ""), report.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	root := r.FindingsOf("root-keys")
	if len(root) != 1 || root[0].Key.AccessKeyID != "" || !strings.Contains(root[0].Detail, "ran as auditor, not as root") {
		t.Fatalf("root-keys findings: %+v", root)
	}
	for _, k := range r.Keys {
		if k.Root() {
			t.Errorf("a root key in the inventory of a non-root caller: %+v", k)
		}
	}
	if len(r.Incomplete) != 0 {
		t.Errorf("incomplete: %+v", r.Incomplete)
	}
}

// With no root keys (GetAccountSummary says so) the root-keys statement is
// not run at all: one ListAccessKeys per user and nothing more.
func TestReportSkipsRootKeysStatementWhenSummarySaysNone(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 20)
	addAuditor(t, w.emu)
	// The root user deletes its own keys.
	root := emutest.Client(t, w.url)
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == "root" {
			if _, err := root.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(k.AccessKeyID)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.emu.ResetCalls()
	eng := newEngine(w.url, worldOptions{signerID: auditorID, signerSecret: auditorSecret})
	r, err := report.Run(context.Background(), eng, eng.NewSession("t", ""), report.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.emu.Calls()["ListAccessKeys"]; got != 21 {
		t.Errorf("ListAccessKeys × %d, want 21 (one per user, none for the root user)", got)
	}
	if n := len(r.FindingsOf("root-keys")); n != 0 || r.RootKeysPresent == nil || *r.RootKeysPresent {
		t.Errorf("root-keys: %d findings, present %v", n, r.RootKeysPresent)
	}
}

// A refused GetAccountSummary leaves the report incomplete (user count and
// root keys unknown) but the rest stands, and the root user's keys are
// still listed when the caller is root.
func TestReportWithAccountSummaryDeniedIsIncomplete(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 20)
	w.emu.Deny("GetAccountSummary", "")
	r := w.run(t, report.Options{})
	if len(r.Incomplete) != 1 || r.Incomplete[0].Source != "account summary" || !strings.Contains(r.Incomplete[0].Reason, "AccessDenied") {
		t.Fatalf("incomplete: %+v", r.Incomplete)
	}
	if r.Users != -1 || r.RootKeysPresent != nil {
		t.Errorf("users %d, root keys present %v: should be unknown", r.Users, r.RootKeysPresent)
	}
	diff(t, "findings", gotFindings(r), expectFindings(w.emu.Snapshot()))
}

// A user whose keys cannot be listed (AccessDenied) is reported as
// incomplete, not dropped silently; one deleted after ListUsers named them
// (NoSuchEntity) has no keys left to report; the rest of the report
// stands.
func TestReportListsUsersDeniedOrDeletedMidQueryAsIncomplete(t *testing.T) {
	var w *world
	var once sync.Once
	removeAfterFirstUsersPage := func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("removeUserMidQuery",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if awsmiddleware.GetOperationName(ctx) == "ListUsers" {
						// user0050 is on the page just received: listed, not yet asked about.
						once.Do(func() {
							if err := w.emu.RemoveUser("user0050"); err != nil {
								panic(err)
							}
						})
					}
					return out, md, err
				}), middleware.After)
		})
	}
	w = newWorld(t, worldOptions{apiOptions: []func(*iam.Options){removeAfterFirstUsersPage}})
	seedAccount(t, w.emu, accountUsers)
	before := w.emu.Snapshot()
	w.emu.Deny("ListAccessKeys", "user0042")
	r := w.run(t, report.Options{NoContext: true}) // the inventory's calls are checked

	users := map[string]report.Incomplete{}
	for _, in := range r.Incomplete {
		users[in.UserName] = in
	}
	if in, ok := users["user0042"]; !ok || in.Source != "inventory" || in.Code != "AccessDenied" || !strings.Contains(in.Reason, "AccessDenied") {
		t.Errorf("user0042: not reported as incomplete with IAM's error (incomplete: %+v)", r.Incomplete)
	}
	if len(r.Incomplete) != 1 {
		t.Errorf("want exactly 1 incomplete entry, got %+v", r.Incomplete)
	}
	after := w.emu.Snapshot()
	diff(t, "inventory", gotInventory(r), expectInventory(after, "user0042"))
	diff(t, "findings", gotFindings(r), expectFindings(after, "user0042"))
	if len(before.Keys) == len(after.Keys) {
		t.Error("user0050 was not removed during the run")
	}
	if f, inc := r.Outstanding(report.SelectAll, ""); f == 0 || inc != 1 {
		t.Errorf("Outstanding = %d findings, %d incomplete", f, inc)
	}
	// The calls are still the minimum: the denied and the vanished user
	// each cost their one ListAccessKeys.
	calls := w.emu.Calls()
	if calls["ListAccessKeys"] != accountUsers+1 || calls["ListUsers"] != 10 || calls["GetAccountSummary"] != 1 || calls["GetUser"] != 1 {
		t.Errorf("calls %v", calls)
	}
}

// A key whose last use IAM refuses to tell is listed as incomplete and is
// not judged by unused-keys (its NULL last use would read as "never
// used"); the rules that do not read the last use still judge it.
func TestReportDoesNotJudgeUnusedKeysWhoseLastUseIsUnknown(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 20)
	w.emu.Deny("GetAccessKeyLastUsed", "user0003") // never used, just past 45 days: unused if known
	w.emu.Deny("GetAccessKeyLastUsed", "user0001") // just past 90 days: old either way
	r := w.run(t, report.Options{})

	s := w.emu.Snapshot()
	var want []string
	for _, f := range expectFindings(s) {
		if !strings.HasPrefix(f, "unused-keys user0003 ") {
			want = append(want, f)
		}
	}
	if len(want) == len(expectFindings(s)) {
		t.Fatal("user0003's key would not be unused: the test would prove nothing")
	}
	diff(t, "findings", gotFindings(r), want)
	var unknown []string
	for _, in := range r.Incomplete {
		if in.Source == "inventory" && in.Code == "AccessDenied" && in.AccessKeyID != "" {
			unknown = append(unknown, in.UserName)
		}
	}
	sort.Strings(unknown)
	if !slices.Equal(unknown, []string{"user0001", "user0003"}) || len(r.Incomplete) != 2 {
		t.Errorf("incomplete: %+v", r.Incomplete)
	}
	for _, k := range r.Keys {
		if k.LastUsedUnknown != (k.UserName == "user0001" || k.UserName == "user0003") {
			t.Errorf("%s: LastUsedUnknown %v", k.UserName, k.LastUsedUnknown)
		}
	}
}

// Each rule's stand-alone SQL (docs/reports.md), run on its own through
// the engine, lists exactly the findings the report lists for the rule,
// in the same order: as root, and as an IAM user, for whom the root keys
// are GetAccountSummary's word (a root-keys row without a key id).
func TestEachRuleSQLAgreesWithReport(t *testing.T) {
	for _, caller := range []struct {
		name  string
		users int
		as    worldOptions
	}{
		{"root", accountUsers, worldOptions{}},
		{"iam-user", 200, worldOptions{signerID: auditorID, signerSecret: auditorSecret}},
	} {
		t.Run(caller.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			seedAccount(t, w.emu, caller.users)
			addAuditor(t, w.emu)
			eng := newEngine(w.url, caller.as)
			r, err := report.Run(context.Background(), eng, eng.NewSession("report", ""), report.Options{Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			agreeWithSQL(t, eng, r, report.DefaultThresholds)
		})
	}
}

// agreeWithSQL runs each rule's SQL with the thresholds and checks it
// lists the report's findings of the rule, in order.
func agreeWithSQL(t *testing.T, eng *provider.Engine, r *report.Report, th report.Thresholds) {
	t.Helper()
	sess := eng.NewSession("sql", "")
	for _, ru := range report.Rules {
		var got, want []string
		for _, row := range query(t, eng, sess, ru.SQL("us-east-1", th)) { // UserName, AccessKeyId, ...
			got = append(got, row[0]+" "+row[1])
		}
		for _, f := range r.FindingsOf(ru.Name) {
			want = append(want, f.Key.UserName+" "+f.Key.AccessKeyID)
		}
		if len(want) == 0 {
			t.Errorf("%s: the report found nothing: the comparison would prove nothing", ru.Name)
		}
		if !slices.Equal(got, want) {
			diff(t, ru.Name, got, want)
			t.Errorf("%s: the rule's SQL lists\n%v\nthe report\n%v", ru.Name, head(got), head(want))
		}
	}
}

// Thresholds reach the report only through the rules' SQL: with other
// thresholds the report finds what they say in the emulator's state, and
// each rule's SQL with the same thresholds lists the same keys.
func TestThresholdsChangeTheReportAndItsSQLTogether(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 300)
	th := report.Thresholds{MaxKeyAge: 300, MaxUnused: 200, MaxInactiveAge: 400}
	r := w.run(t, report.Options{Thresholds: th})
	diff(t, "findings", gotFindings(r), expectFindingsWith(w.emu.Snapshot(), th))
	if slices.Equal(gotFindings(r), expectFindings(w.emu.Snapshot())) {
		t.Fatal("the thresholds changed nothing: the test would prove nothing")
	}
	agreeWithSQL(t, w.eng, r, th)
}

// A rule is decided by its SQL condition and nothing else: given another
// condition, the report flags exactly the keys it selects, and the rule's
// SQL shows that condition and lists the same keys.
func TestRuleConditionAloneDecides(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, 100)
	const cond = "UserName LIKE '%%7' AND CreateDate < %s - INTERVAL 200 DAY"
	restore := report.SetCondition("old-keys", func(_ report.Thresholds, now string) string { return fmt.Sprintf(cond, now) })
	defer restore()
	r := w.run(t, report.Options{})

	var want []string
	for _, k := range w.emu.Snapshot().Keys {
		if strings.HasSuffix(k.UserName, "7") && testNow.Sub(k.CreateDate) > 200*day {
			want = append(want, "old-keys "+k.UserName+" "+k.AccessKeyID)
		}
	}
	var got []string
	for _, f := range r.FindingsOf("old-keys") {
		got = append(got, "old-keys "+f.Key.UserName+" "+f.Key.AccessKeyID)
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || slices.Equal(want, expectFindings(w.emu.Snapshot())) {
		t.Fatal("the condition selects nothing new: the test would prove nothing")
	}
	diff(t, "old-keys by the new condition", got, want)
	ru, _ := report.LookupRule("old-keys")
	if sql := ru.SQL("us-east-1", report.DefaultThresholds); !strings.Contains(sql, "WHERE "+fmt.Sprintf(cond, "UTC_TIMESTAMP()")) {
		t.Errorf("the rule's SQL does not show its condition:\n%s", sql)
	}
	agreeWithSQL(t, w.eng, r, report.DefaultThresholds)
}

// query runs one statement with the SQL clock (UTC_TIMESTAMP()) at testNow.
func query(t *testing.T, eng *provider.Engine, sess *provider.Session, stmt string) [][]string {
	t.Helper()
	var rows [][]string
	err := gmssql.RunWithNowFunc(func() time.Time { return testNow }, func() error {
		res, err := eng.Query(context.Background(), sess, stmt)
		if err != nil {
			return err
		}
		defer res.Close()
		for {
			row, err := res.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			cells := make([]string, len(row))
			for i, v := range row {
				if v != nil { // NULL reads as "", like an absent key id
					cells[i] = output.Text(v)
				}
			}
			rows = append(rows, cells)
		}
	})
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return rows
}

// docs/reports.md shows each rule's SQL (default thresholds, us-east-1)
// and the inventory statement exactly as the code has them.
func TestDocsShowEachRuleSQL(t *testing.T) {
	b, err := os.ReadFile("../../docs/reports.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, ru := range report.Rules {
		sql := ru.SQL("us-east-1", report.DefaultThresholds) + ";"
		if !strings.Contains(doc, sql) {
			t.Errorf("docs/reports.md lacks the SQL of %s:\n%s", ru.Name, sql)
		}
		if !strings.Contains(doc, "`"+ru.Name+"`") {
			t.Errorf("docs/reports.md does not name %s", ru.Name)
		}
	}
}

// With a Progress writer, a report draws its steps there and finishes
// drawing before Run returns.
func TestReportDrawsProgress(t *testing.T) {
	w := newWorld(t, worldOptions{latency: time.Millisecond})
	seedAccount(t, w.emu, 300)
	var b strings.Builder
	r := w.run(t, report.Options{Progress: &b})
	out := b.String()
	for _, want := range []string{"Account summary", fmt.Sprintf("Users' keys (%d keys read)", len(r.Keys)), "done!"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}
