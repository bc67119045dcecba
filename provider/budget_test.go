package provider

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
)

// names is a recursive CTE of n user names that do not exist: each is a
// ListAccessKeys of its own, which the statement's memo cannot save.
func names(n int) string {
	return fmt.Sprintf("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < %d) ", n)
}

func wantBudgetError(t *testing.T, r result, parts ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("no error; rows %v, calls %v", r.rows, r.calls)
	}
	if r.errNum != ErrNumCallBudget {
		t.Errorf("error number %d, want %d: %v", r.errNum, ErrNumCallBudget, r.err)
	}
	for _, p := range parts {
		if !strings.Contains(r.err.Error(), p) {
			t.Errorf("error %q does not say %q", r.err, p)
		}
	}
}

func totalCalls(calls map[string]int) int {
	n := 0
	for _, v := range calls {
		n += v
	}
	return n
}

// A join that looks up names it made up is stopped at the budget: exactly
// the budget's calls reach IAM, and the error names the budget and how to
// raise it. The same statement within a larger budget runs to its end.
func TestCallBudgetStopsAStatementAtItsBudget(t *testing.T) {
	w := newWorld(t, worldOptions{})
	q := names(300) + "SELECT COUNT(*) FROM n JOIN access_keys k ON k.UserName = CONCAT('nobody', n.x) WHERE k.region = 'us-east-1'"
	w.mustExec("SET iamsql_call_budget = 100")
	r := w.exec(q)
	wantBudgetError(t, r, "stopped at its IAM call budget of 100 calls", "set by iamsql_call_budget", "SET iamsql_call_budget = 200", "--call-budget 200")
	if got := totalCalls(r.calls); got != 100 || r.calls["ListAccessKeys"] != 100 {
		t.Errorf("IAM calls %v, want exactly the budget: ListAccessKeys×100", callsString(r.calls))
	}
	w.mustExec("SET iamsql_call_budget = 400")
	r = w.exec(q)
	if r.err != nil || rowsString(r.rows) != "0\n" || !maps.Equal(r.calls, map[string]int{"ListAccessKeys": 300}) {
		t.Errorf("within the budget: rows %q, err %v, calls %v", rowsString(r.rows), r.err, callsString(r.calls))
	}
}

// A plan whose constant lookups alone need more calls than the budget is
// refused before its first call, as is an INSERT of more rows than the
// budget.
func TestCallBudgetRefusesAPlanThatCannotFitBeforeAnyCall(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustExec("SET iamsql_call_budget = 5")
	var in []string
	for i := 0; i < 8; i++ {
		in = append(in, fmt.Sprintf("'nobody%d'", i))
	}
	for _, q := range []string{
		"SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName IN (" + strings.Join(in, ", ") + ")",
		// Regions of one partition share their calls; the list of names
		// is what costs.
		"SELECT * FROM access_keys WHERE region IN ('us-east-1', 'eu-west-1') AND UserName IN (" + strings.Join(in, ", ") + ")",
		"SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob', 'carol') UNION SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('dave', 'erin', 'nobody')",
	} {
		r := w.exec(q)
		wantBudgetError(t, r, "statement refused", "more than its call budget of 5", "no IAM call was made")
		if len(r.calls) != 0 {
			t.Errorf("%s: IAM calls %v, want none", q, callsString(r.calls))
		}
	}
	w.mustExec("SET iamsql_call_budget = 2")
	r := w.exec("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('dave', 'us-east-1'), ('bob', 'us-east-1')")
	wantBudgetError(t, r, "needs at least 3 IAM calls")
	if len(r.calls) != 0 {
		t.Errorf("IAM calls %v, want none", callsString(r.calls))
	}
	// Within the budget the same lookups run; duplicates cost nothing.
	w.mustExec("SET iamsql_call_budget = 3")
	r = w.exec("SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob', 'alice', 'carol')")
	if r.err != nil || !maps.Equal(r.calls, map[string]int{"ListAccessKeys": 3}) {
		t.Errorf("err %v, calls %v", r.err, callsString(r.calls))
	}
}

// The cross join of the issue (users twice, access_keys joined to one of
// them) reads each answer once: one ListUsers listing and one
// ListAccessKeys per user, whatever the plan, far within the default
// budget.
func TestCallBudgetCrossJoinReadsEachAnswerOnce(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("user%03d", i)
		if err := w.emu.AddUser(emulator.User{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if err := w.emu.AddAccessKey(emulator.AccessKey{UserName: name, AccessKeyID: fmt.Sprintf("AKIAUSER%012d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// 56 users (the demo's 6 and 50), 57 keys of users (root's are not
	// among the users' keys).
	r := w.exec("SELECT COUNT(*) FROM users u1, users u2, access_keys k WHERE u1.region = 'us-east-1' AND u2.region = 'us-east-1' AND k.region = 'us-east-1' AND k.UserName = u2.UserName")
	if r.err != nil || rowsString(r.rows) != fmt.Sprintf("%d\n", 56*57) {
		t.Fatalf("rows %q, err %v", rowsString(r.rows), r.err)
	}
	if want := map[string]int{"ListUsers": 1, "ListAccessKeys": 56}; !maps.Equal(r.calls, want) {
		t.Errorf("IAM calls %v, want %v", callsString(r.calls), callsString(want))
	}
}

// A read-only session may lower its budget, never raise it above the
// engine's.
func TestCallBudgetReadOnlySessionCannotRaiseIt(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.sess.ReadOnly = true
	q := names(300) + "SELECT COUNT(*) FROM n JOIN access_keys k ON k.UserName = CONCAT('nobody', n.x) WHERE k.region = 'us-east-1'"
	w.eng.Provider.callBudget = 50 // as serve --call-budget 50
	w.mustExec("SET iamsql_call_budget = 1000")
	r := w.exec(q)
	wantBudgetError(t, r, "budget of 50 calls", "set by --call-budget", "A read-only user cannot raise it", "serve --call-budget 100")
	if got := totalCalls(r.calls); got != 50 {
		t.Errorf("%d IAM calls, want 50", got)
	}
	w.mustExec("SET iamsql_call_budget = 20")
	r = w.exec(q)
	wantBudgetError(t, r, "budget of 20 calls", "set by iamsql_call_budget")
	if got := totalCalls(r.calls); got != 20 {
		t.Errorf("%d IAM calls, want 20", got)
	}
}

// Keys a statement created are deleted again when it is stopped at its
// budget: the rollback deletes are never refused by the budget.
func TestCallBudgetNeverBlocksDeletingCreatedKeysAgain(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustExec("SET iamsql_call_budget = 2")
	// INSERT ... SELECT: the rows are not known before it runs.
	r := w.exec("INSERT INTO access_keys (UserName, region) SELECT 'dave', 'us-east-1' UNION ALL SELECT 'dave', 'us-east-1' UNION ALL SELECT 'bob', 'us-east-1'")
	wantBudgetError(t, r, "stopped at its IAM call budget of 2 calls", "were deleted again")
	if want := map[string]int{"CreateAccessKey": 2, "DeleteAccessKey": 2}; !maps.Equal(r.calls, want) {
		t.Errorf("IAM calls %v, want %v", callsString(r.calls), callsString(want))
	}
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == "dave" {
			t.Errorf("dave's key %s is left", k.AccessKeyID)
		}
	}
	if n := len(w.sess.Undelivered()); n != 0 {
		t.Errorf("%d keys left undelivered in the session", n)
	}
}

// The default budget is the floor for a small account and grows with the
// account's users as listings reveal them: three full scans.
func TestCallBudgetDefaultScalesWithTheAccount(t *testing.T) {
	p := NewProvider(Config{})
	b := &callBudget{p: p}
	if got := b.limit(); got != CallBudgetFloor {
		t.Errorf("unknown account: %d, want the floor %d", got, CallBudgetFloor)
	}
	p.noteUsers("aws", 56)
	if got := b.limit(); got != CallBudgetFloor {
		t.Errorf("56 users: %d, want the floor %d", got, CallBudgetFloor)
	}
	// 10,000 users: 100 ListUsers pages, 10,001 ListAccessKeys, 20,002
	// GetAccessKeyLastUsed and GetAccountSummary, three times.
	p.noteUsers("aws", 10_000)
	if got, want := b.limit(), int64(3*(100+10_001+20_002+1)); got != want {
		t.Errorf("10,000 users: %d, want %d", got, want)
	}
	if !strings.Contains(b.describe(), "3 full scans of an account of 10000 users, at least 10000") {
		t.Errorf("describe: %s", b.describe())
	}
}
