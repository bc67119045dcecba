package oracle

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/schema"
)

var (
	flagQueries  = flag.Int("oracle.queries", 0, "TestDifferentialCampaign: queries to run (0 skips the campaign)")
	flagSeed     = flag.Uint64("oracle.seed", 1, "TestDifferentialCampaign: seed of the accounts and the generators")
	flagAccounts = flag.Int("oracle.accounts", 12, "TestDifferentialCampaign: accounts (the demo account and random ones)")
	flagShrink   = flag.Bool("oracle.shrink", true, "TestDifferentialCampaign: shrink the differences it prints")
	flagKeep     = flag.Int("oracle.keep", 3, "TestDifferentialCampaign: differences printed in full per category")
	flagReport   = flag.String("oracle.report", "", "TestDifferentialCampaign: also write the report to this file")
	flagOrg      = flag.Bool("oracle.org", false, "TestDifferentialCampaign: run in org mode, each account an emulated organization (see newOrgTarget)")
)

// fixedAccounts are the accounts of the fixed-seed test: the demo account,
// a random account, one whose listings all paginate, one whose caller
// is an IAM user (no root keys among the rows) reached over HTTP, and an
// organization in org mode (newOrgTarget).
func fixedAccounts() []AccountSpec {
	return []AccountSpec{
		{Demo: true},
		{Seed: 7},
		{Seed: 12, PageSize: 2},
		{Seed: 23, CallerUser: true},
		{Org: true, Seed: 5},
	}
}

// TestDifferentialFixedSeed runs 3,000 generated queries through iamsql
// and the oracle and fails listing every kind of difference found.
func TestDifferentialFixedSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("differential oracle: skipped in -short mode")
	}
	rep, err := Run(Options{Accounts: fixedAccounts(), QueriesPerAccount: 600, Seed: 1, Shrink: true, KeepPerCategory: 1, Parallel: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Queries < 2000 {
		t.Fatalf("ran %d queries, want at least 2,000", rep.Queries)
	}
	t.Logf("%d queries in %s, %d shapes, max calls ratio %.3f", rep.Queries, rep.Duration, len(rep.Shapes), rep.MaxCallsRatio)
	if rep.Total > 0 {
		var b strings.Builder
		rep.Print(&b)
		t.Errorf("%d differences between iamsql and the oracle (go test ./internal/oracle -run TestDifferentialFixedSeed -v):\n%s", rep.Total, b.String())
	}
}

// campaignAccounts are the demo account and random accounts with varied
// page sizes, one in six signed as an IAM user; with -oracle.org, n
// organizations of random accounts, each with three unreadable members.
func campaignAccounts(n int, seed uint64) []AccountSpec {
	if *flagOrg {
		out := make([]AccountSpec, n)
		for i := range out {
			out[i] = AccountSpec{Org: true, Seed: seed*1000 + uint64(i)}
		}
		return out
	}
	out := []AccountSpec{{Demo: true}}
	for i := 1; i < n; i++ {
		s := AccountSpec{Seed: seed*1000 + uint64(i)}
		switch i % 6 {
		case 2:
			s.PageSize = 1
		case 4:
			s.PageSize = 3
		case 5:
			s.CallerUser = true
		}
		out = append(out, s)
	}
	return out
}

// TestDifferentialCampaign is the long campaign behind make fuzz-sql:
//
//	go test ./internal/oracle -run TestDifferentialCampaign -oracle.queries=100000 -v
func TestDifferentialCampaign(t *testing.T) {
	if *flagQueries <= 0 {
		t.Skip("set -oracle.queries to run the campaign")
	}
	accounts := campaignAccounts(max(1, *flagAccounts), *flagSeed)
	per := (*flagQueries + len(accounts) - 1) / len(accounts)
	rep, err := Run(Options{Accounts: accounts, QueriesPerAccount: per, Seed: *flagSeed, Shrink: *flagShrink,
		KeepPerCategory: *flagKeep, Parallel: true, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Print(&b)
	fmt.Print(b.String())
	if *flagReport != "" {
		if err := os.WriteFile(*flagReport, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if rep.Total > 0 {
		t.Errorf("%d differences found in %d queries", rep.Total, rep.Queries)
	}
}

// TestGeneratedQueriesDoNotDependOnRowOrderOrPlan runs generated queries
// on the oracle and on a second oracle whose rows are stored in another
// order and whose tables have primary-key indexes (so go-mysql-server
// plans index lookups and lookup joins, as it does over iamsql's tables).
// A query whose answer depends on the storage order (a LIMIT without a
// determining ORDER BY, ROW_NUMBER over ties) or on the plan would differ,
// and would make iamsql look wrong where it is not. No generated query may
// fail on the oracle either.
func TestGeneratedQueriesDoNotDependOnRowOrderOrPlan(t *testing.T) {
	for _, spec := range []AccountSpec{{Demo: true}, {Seed: 3}, {Seed: 13}, {Org: true, Seed: 7}} {
		tg, err := NewTarget(spec)
		if err != nil {
			t.Fatal(err)
		}
		shuffled, err := buildOracle(tg.snapshots, 99, true)
		if err != nil {
			t.Fatal(err)
		}
		tg.subject = shuffled.Query
		rep := &Report{Shapes: map[string]int{}, Categories: map[string]int{}}
		gen := NewGenerator(tg.Oracle, 5, tg.Regions())
		for i := 0; i < 500; i++ {
			q := gen.Next()
			if q.ExpectError != "" {
				continue
			}
			for _, d := range tg.Check(q, rep) {
				var b strings.Builder
				d.Print(&b)
				t.Errorf("account %s: the oracle's answer depends on row order or plan:\n%s", spec.Name(), b.String())
			}
		}
		if rep.BothErrors > 0 {
			t.Errorf("account %s: %d generated queries fail on the oracle, e.g.\n%s", spec.Name(), rep.BothErrors, strings.Join(rep.BothErrorExamples, "\n"))
		}
		tg.Close()
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewGenerator(tg.Oracle, 9, Regions), NewGenerator(tg.Oracle, 9, Regions)
	for i := 0; i < 200; i++ {
		if qa, qb := a.Next().SQL(), b.Next().SQL(); qa != qb {
			t.Fatalf("query %d differs:\n%s\n%s", i, qa, qb)
		}
	}
	if !reflect.DeepEqual(RandomAccount(7), RandomAccount(7)) {
		t.Error("RandomAccount is not deterministic")
	}
}

// TestGeneratorCoversEveryShape checks that 2,000 queries cover every
// shape the contract names.
func TestGeneratorCoversEveryShape(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	gen := NewGenerator(tg.Oracle, 1, tg.Regions())
	seen := map[string]int{}
	for i := 0; i < 2000; i++ {
		for _, s := range gen.Next().Shapes {
			seen[s]++
		}
	}
	for _, s := range []string{
		"table:access_keys", "table:users", "table:account_summary",
		"table:user_tags", "table:mfa_devices", "table:login_profiles", "table:user_groups", "table:user_attached_policies",
		"table:user_policies", "table:credential_report",
		"shape:context-join", "shape:report-join", "shape:context-semi-anti", "shape:context-count",
		"pred:like", "pred:ne", "pred:not", "pred:or", "pred:is-null", "pred:between", "pred:function", "pred:in", "pred:not-in", "pred:invalid-param",
		"pushdown:username-eq", "pushdown:username-in", "pushdown:keyid-eq", "pushdown:username-and-keyid",
		"hydrated:select", "hydrated:where", "hydrated:orderby", "hydrated:groupby", "hydrated:having", "hydrated:subquery",
		"hydrated:in-subquery", "hydrated:derived", "hydrated:cte", "hydrated:union", "hydrated:window", "hydrated:scalar-subquery",
		"join:inner", "join:left", "join:right", "join:cross", "join:self", "join:3way",
		"join:semi-in", "join:semi-exists", "join:anti-not-in", "join:anti-not-exists",
		"hint:join_order", "hint:hash_join", "hint:lookup_join", "hint:straight_join",
		"region:in", "limit", "offset", "orderby:total", "orderby:partial",
		"aggregate", "groupby", "having", "window", "cte", "cte:recursive", "union:all", "union:distinct",
		"derived-table", "subquery:scalar", "subquery:correlated", "distinct", "select:star",
		"error:no-region", "error:invalid-region", "error:join-side-not-pinned", "error:subquery-not-pinned",
	} {
		if seen[s] == 0 {
			t.Errorf("no query of shape %s in 2,000", s)
		}
	}
}

func TestOracleHoldsEveryKeyOncePerRegion(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	out := tg.Oracle.Query("SELECT region, COUNT(*), SUM(UserName = 'root'), COUNT(LastUsedDate) FROM access_keys GROUP BY region ORDER BY region")
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	// The demo account: 8 keys (one the root user's), 6 of them used (the
	// root key by the sandbox's own calls).
	want := [][]string{{"cn-north-1", "8", "1", "6"}, {"eu-west-1", "8", "1", "6"}, {"us-east-1", "8", "1", "6"}, {"us-west-2", "8", "1", "6"}}
	if fmt.Sprint(out.Rows) != fmt.Sprint(want) {
		t.Errorf("access_keys per region: %v, want %v", out.Rows, want)
	}
	out = tg.Oracle.Query("SELECT Users, AccountAccessKeysPresent FROM account_summary WHERE region = 'us-east-1'")
	if out.Err != nil || fmt.Sprint(out.Rows) != "[[6 1]]" {
		t.Errorf("account_summary: %v %v", out.Rows, out.Err)
	}
}

func TestOracleRefusesAColumnItCannotFill(t *testing.T) {
	r := schema.AccessKeys
	r.Columns = append(append([]schema.Column(nil), r.Columns...), schema.Column{Name: "Owner", Type: schema.Varchar, Size: 64})
	_, err := tableRows(r, Snapshot{State: emulator.State{Keys: []emulator.AccessKey{{AccessKeyID: "AKIAEXAMPLE000000001", UserName: "root"}}}, CallerIsRoot: true})
	if err == nil || !strings.Contains(err.Error(), "access_keys.Owner") {
		t.Errorf("want an error naming access_keys.Owner, got %v", err)
	}
}

func TestCallerUserAccountsLeaveRootKeysOut(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Seed: 23, CallerUser: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	out := tg.Oracle.Query("SELECT COUNT(*) FROM access_keys WHERE UserName = 'root'")
	if out.Err != nil || out.Rows[0][0] != "0" {
		t.Errorf("root keys in a caller-user account: %v %v", out.Rows, out.Err)
	}
}

// TestShrinkKeepsTheDifference shrinks a difference made on purpose: an
// oracle missing one key.
func TestShrinkKeepsTheDifference(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	snap := tg.Snapshot
	var keys []emulator.AccessKey
	for _, k := range snap.State.Keys {
		if k.AccessKeyID != "AKIABOB0000000000001" {
			keys = append(keys, k)
		}
	}
	snap.State.Keys = keys
	short, err := NewOracle(snap)
	if err != nil {
		t.Fatal(err)
	}
	tg.subject = tg.Oracle.Query
	tg.Oracle = short
	sel := &Select{
		Items: []Item{{Expr: "k.AccessKeyId", Alias: "c0"}, {Expr: "LOWER(k.Status)", Alias: "c1"}},
		From:  []FromItem{{Source: "access_keys k"}},
		Where: []Cond{{SQL: "k.region = 'us-east-1'", Pin: true}, {SQL: "k.CreateDate > '2020-01-01'"}, {SQL: "k.UserName LIKE 'b%'"}},
		Limit: -1, OrderBy: []Order{{Expr: "c0"}},
	}
	q := &Query{Sel: sel, Refs: 1, Partitions: 1}
	diffs := tg.Check(q, &Report{})
	if len(diffs) != 1 || diffs[0].Mismatch.Kind != "extra-rows" {
		t.Fatalf("want one extra-rows difference, got %+v", diffs)
	}
	tg.shrinkDifference(&diffs[0])
	// One column, the pin, nothing else: either column shows the extra key.
	for _, want := range []string{
		"SELECT k.AccessKeyId AS c0 FROM access_keys k WHERE k.region = 'us-east-1'",
		"SELECT LOWER(k.Status) AS c1 FROM access_keys k WHERE k.region = 'us-east-1'",
	} {
		if diffs[0].Shrunk == want {
			return
		}
	}
	t.Errorf("shrunk to\n%s\nwant one column and the region pin alone", diffs[0].Shrunk)
}

func TestFullScanCostCountsEveryCallOfAFullScan(t *testing.T) {
	tg, err := NewTarget(AccountSpec{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	// 1 ListUsers page + 6 ListAccessKeys (one per user) + 1 for the root
	// user's + 8 GetAccessKeyLastUsed + GetAccountSummary + identity.
	if got := FullScanCost(tg.Snapshot.State, 0); got != 18 {
		t.Errorf("demo full scan: %d calls, want 18", got)
	}
	// Two users per page: 3 ListUsers pages; no user has more than 2 keys.
	if got := FullScanCost(tg.Snapshot.State, 2); got != 20 {
		t.Errorf("demo full scan, pages of 2: %d calls, want 20", got)
	}
	// Pages of 1: alice's and carol's keys take 2 pages each.
	if got := FullScanCost(tg.Snapshot.State, 1); got != 6+6+2+1+8+2 {
		t.Errorf("demo full scan, pages of 1: %d calls, want %d", got, 6+6+2+1+8+2)
	}
	q := &Query{Refs: 2, Partitions: 2}
	if got := tg.CallBound(q); got != 4*18 {
		t.Errorf("bound of 2 references over 2 partitions: %d, want %d", got, 4*18)
	}
}

// TestContextScanCostCountsEveryCallOfAFullScan holds ContextScanCost to
// what iamsql calls: a full scan of each context table is its ListUsers
// pass and one listing per user; a lookup of every user by name adds one
// GetUser per user; credential_report is two calls.
func TestContextScanCostCountsEveryCallOfAFullScan(t *testing.T) {
	for _, spec := range []AccountSpec{{Seed: 4}, {Seed: 4, PageSize: 1}} {
		tg, err := NewTarget(spec)
		if err != nil {
			t.Fatal(err)
		}
		st := tg.Snapshot.State
		var names []string
		for _, u := range st.Users {
			names = append(names, quote(u.UserName))
		}
		if len(names) < 5 {
			t.Fatalf("account %s has %d users", spec.Name(), len(names))
		}
		for _, table := range contextTables {
			out := tg.IAMSQL("SELECT COUNT(*) FROM " + table + " WHERE region = 'us-east-1'")
			if out.Err != nil {
				t.Fatal(out.Err)
			}
			if got, want := out.TotalCalls(), tg.ContextScan[table]-len(st.Users); got != want {
				t.Errorf("%s: full scan of %s: %d calls (%v), want %d", spec.Name(), table, got, out.Calls, want)
			}
			want := tg.Oracle.Query("SELECT COUNT(*) FROM " + table + " WHERE region = 'us-east-1'")
			if fmt.Sprint(out.Rows) != fmt.Sprint(want.Rows) || want.Rows[0][0] == "0" {
				t.Errorf("%s: %s has %v rows, the oracle %v (want some)", spec.Name(), table, out.Rows, want.Rows)
			}
			out = tg.IAMSQL("SELECT COUNT(*) FROM " + table + " WHERE region = 'us-east-1' AND UserName IN (" + strings.Join(names, ", ") + ")")
			if out.Err != nil {
				t.Fatal(out.Err)
			}
			// The lookup does not list the users.
			if got, want := out.TotalCalls(), tg.ContextScan[table]-pages(len(st.Users), pageSizeOf(spec.PageSize)); got != want {
				t.Errorf("%s: lookup of every user in %s: %d calls (%v), want %d", spec.Name(), table, got, out.Calls, want)
			}
		}
		out := tg.IAMSQL("SELECT COUNT(*) FROM credential_report WHERE region = 'us-east-1'")
		if out.Err != nil || out.TotalCalls() != tg.ContextScan["credential_report"] || out.Rows[0][0] != strconv.Itoa(len(st.Users)+1) {
			t.Errorf("%s: credential_report: %v %v, %d calls (%v)", spec.Name(), out.Rows, out.Err, out.TotalCalls(), out.Calls)
		}
	}
}

// TestOracleModelsTheContextTables compares every row of each context
// table and of credential_report, on an account with varied context,
// with what iamsql's full scan returns.
func TestOracleModelsTheContextTables(t *testing.T) {
	for _, spec := range []AccountSpec{{Seed: 4}, {Seed: 23, CallerUser: true}} {
		tg, err := NewTarget(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range append(append([]string(nil), contextTables...), schema.CredentialReport.Name) {
			q := "SELECT * FROM " + table + " WHERE region IN ('us-east-1', 'eu-west-1')"
			got, want := tg.IAMSQL(q), tg.Oracle.Query(q)
			if got.Err != nil || want.Err != nil {
				t.Fatalf("%s: %v / %v", table, got.Err, want.Err)
			}
			if len(want.Rows) < 4 {
				t.Errorf("%s: %s has %d rows: the account has too little context", spec.Name(), table, len(want.Rows))
			}
			if m := Compare(got, want, Expectation{}); m != nil {
				t.Errorf("%s: %s: %v", spec.Name(), table, m)
			}
		}
		tg.Close()
	}
}
