package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
)

// The generated organization org:3x2: accounts 100000000000 (management),
// …001 and …002, each with user-00001 and user-00002 holding one key.
const (
	mgmtID = "100000000000"
	acct1  = "100000000001"
	acct2  = "100000000002"
)

// keyRows lists the generated keys of accounts as
// "account | user | key id" rows, sorted, from the emulator's own state
// (the root key of the management account, which iamsql signs as, too).
func keyRows(w *orgWorld, accounts ...string) []string {
	var out []string
	for _, id := range accounts {
		for _, k := range w.org.Account(id).Snapshot().Keys {
			if k.UserName == emulator.RootUserName && id != mgmtID {
				continue // a member's root key: iamsql signs there with a role
			}
			out = append(out, id+" | "+k.UserName+" | "+k.AccessKeyID)
		}
	}
	slices.Sort(out)
	return out
}

const inventory = "SELECT account_id, UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1'"

func TestOrgAccountsTableListsEveryAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:demo"})
	r := w.exec("SELECT Id, Name, Email, Status, JoinedMethod, ParentType FROM accounts ORDER BY Id")
	wantRows(t, r,
		"123456789012 | management | aws-management@example.com | ACTIVE | CREATED | ROOT",
		"210987654321 | dev | aws-dev@example.com | ACTIVE | CREATED | ORGANIZATIONAL_UNIT",
		"345678901234 | prod | aws-prod@example.com | ACTIVE | CREATED | ORGANIZATIONAL_UNIT",
		"456789012345 | sandbox | aws-sandbox@example.com | ACTIVE | CREATED | ORGANIZATIONAL_UNIT",
		"567890123456 | archive | aws-archive@example.com | ACTIVE | CREATED | ORGANIZATIONAL_UNIT")
	wantOrgCalls(t, r.calls, map[string]int{"123456789012 ListAccounts": 1, "123456789012 ListParents": 5})
	// Without ParentId, no ListParents.
	r = w.exec("SELECT COUNT(*) FROM accounts")
	wantRows(t, r, "5")
	wantOrgCalls(t, r.calls, map[string]int{"123456789012 ListAccounts": 1})
}

func TestOrgInventorySpansEveryAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	r := w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, keyRows(w, mgmtID, acct1, acct2)...)
	wantOrgCalls(t, r.calls, map[string]int{
		// Discovery, who signs, one role per member, and the management
		// account's own scan (root: its own keys too).
		mgmtID + " ListAccounts": 1, mgmtID + " GetCallerIdentity": 1, mgmtID + " AssumeRole": 2,
		mgmtID + " ListUsers": 1, mgmtID + " ListAccessKeys": 3, mgmtID + " GetUser": 1,
		// Each member through its role: a role has no keys of its own.
		acct1 + " ListUsers": 1, acct1 + " ListAccessKeys": 2, acct1 + " GetUser": 1,
		acct2 + " ListUsers": 1, acct2 + " ListAccessKeys": 2, acct2 + " GetUser": 1,
	})
	if in := w.sess.Incomplete(); len(in) != 0 {
		t.Fatalf("incomplete %+v", in)
	}
	// The role credentials are kept: the next statement assumes nothing.
	r = w.exec("SELECT COUNT(*) FROM users WHERE region = 'us-east-1'")
	wantRows(t, r, "6")
	if n := r.calls[mgmtID+" AssumeRole"]; n != 0 {
		t.Fatalf("AssumeRole again %d times", n)
	}
}

func TestOrgAccountFiltersArePushedDown(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	full := w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	subset := func(accounts ...string) []string {
		var out []string
		for _, row := range full.rows {
			if slices.Contains(accounts, row[0]) {
				out = append(out, strings.Join(row, " | "))
			}
		}
		return out
	}
	member2 := map[string]int{mgmtID + " ListAccounts": 1, mgmtID + " AssumeRole": 1,
		acct2 + " ListUsers": 1, acct2 + " ListAccessKeys": 2, acct2 + " GetUser": 1}
	w = newOrgWorld(t, orgWorldOptions{seed: "org:3x2"}) // a fresh engine: no credentials kept
	r := w.exec(inventory + " AND account_id = '" + acct2 + "' ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, subset(acct2)...)
	wantOrgCalls(t, r.calls, with(member2, mgmtID+" GetCallerIdentity", 1))

	r = w.exec(inventory + " AND account_id IN ('" + acct2 + "', '" + mgmtID + "') ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, subset(mgmtID, acct2)...)
	// Who is root in each account is asked once per engine.
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " ListAccounts": 1,
		mgmtID + " ListUsers": 1, mgmtID + " ListAccessKeys": 3, mgmtID + " GetUser": 1,
		acct2 + " ListUsers": 1, acct2 + " ListAccessKeys": 2})

	// A join with accounts chooses the accounts read.
	r = w.exec("SELECT k.account_id, k.UserName, k.AccessKeyId FROM accounts a JOIN access_keys k ON k.account_id = a.Id " +
		"WHERE k.region = 'us-east-1' AND a.Name = 'account-003' ORDER BY 1, 2, 3")
	wantRows(t, r, subset(acct2)...)
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " ListAccounts": 1,
		acct2 + " ListUsers": 1, acct2 + " ListAccessKeys": 2})

	// An account outside the organization, or an invalid id, has no rows.
	r = w.exec(inventory + " AND account_id = '999999999999'")
	wantRows(t, r)
	r = w.exec(inventory + " AND account_id = 'nope'")
	wantRows(t, r)
	wantOrgCalls(t, r.calls, map[string]int{})
}

func with(m map[string]int, k string, v int) map[string]int {
	out := map[string]int{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

func TestOrgUnreadableAccountsAreLeftOutWithAWarning(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:5x2", maxAttempts: 2})
	const (
		noRole    = "100000000001"
		suspended = "100000000002"
		denied    = "100000000003"
		throttled = "100000000004"
	)
	w.org.Account(noRole).RemoveRole(emulator.DefaultOrgRole)
	if err := w.org.SetAccountStatus(suspended, emulator.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	w.org.Account(denied).Deny("ListUsers", "")
	w.org.Account(throttled).SetThrottleRate(1)
	r := w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, keyRows(w, mgmtID)...)
	got := map[string]string{}
	for _, in := range w.sess.Incomplete() {
		got[in.Account] += in.Code + ": " + in.Reason + "\n"
	}
	want := map[string][]string{
		noRole:    {"account 100000000001 (account-002) could not be read", "could not assume OrganizationAccountAccessRole in it", "AccessDenied"},
		suspended: {"account 100000000002 (account-003) could not be read: it is SUSPENDED"},
		denied:    {"ListUsers was denied", "only the caller's own access keys are listed"},
		throttled: {"account 100000000004 (account-005) could not be read", "Throttling", "Rate exceeded"},
	}
	for acct, parts := range want {
		for _, p := range parts {
			if !strings.Contains(got[acct], p) {
				t.Errorf("account %s: warning %q lacks %q", acct, got[acct], p)
			}
		}
	}
	if len(got) != 4 {
		t.Errorf("warnings for %d accounts, want 4: %v", len(got), got)
	}
	// The throttled account tried each call within its retry budget.
	if n := r.calls[throttled+" ListUsers"]; n != 2 {
		t.Errorf("throttled ListUsers tried %d times, want 2 (its retry budget)", n)
	}
	// SHOW WARNINGS names them too.
	warn := w.exec("SHOW WARNINGS")
	text := fmt.Sprint(warn.rows)
	for _, acct := range []string{noRole, suspended, throttled} {
		if !strings.Contains(text, acct) {
			t.Errorf("SHOW WARNINGS lacks account %s: %s", acct, text)
		}
	}
}

func TestOrgMutationsNameTheirAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	key := w.org.Account(acct2).Snapshot().Keys
	var id string
	for _, k := range key {
		if k.UserName == "user-00001" {
			id = k.AccessKeyID
		}
	}
	for _, q := range []string{
		"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1'",
		"DELETE FROM access_keys WHERE UserName = 'user-00001' AND region = 'us-east-1'",
		"INSERT INTO access_keys (UserName, region) VALUES ('user-00001', 'us-east-1')",
		"CALL update_access_key('" + id + "', 'Inactive', 'us-east-1')",
		"CALL create_access_key('us-east-1', 'user-00001')",
	} {
		r := w.exec(q)
		if r.err == nil || !strings.Contains(r.err.Error(), "org mode") || !strings.Contains(r.err.Error(), "account") {
			t.Errorf("%s: err %v, want an error asking for the account", q, r.err)
		}
		wantOrgCalls(t, r.calls, map[string]int{})
	}
	r := w.exec("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1' AND account_id = '" + acct2 + "'")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.calls[acct2+" UpdateAccessKey"] != 1 || r.calls[acct1+" ListUsers"] != 0 || r.calls[mgmtID+" ListUsers"] != 0 {
		t.Fatalf("calls %v: want one UpdateAccessKey in %s and no other account read", r.calls, acct2)
	}
	for _, k := range w.org.Account(acct2).Snapshot().Keys {
		if k.AccessKeyID == id && k.Status != "Inactive" {
			t.Fatalf("key %s is %s", id, k.Status)
		}
	}
	r = w.exec("INSERT INTO access_keys (UserName, region, account_id) VALUES ('user-00002', 'us-east-1', '" + acct1 + "')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " AssumeRole": 1, acct1 + " CreateAccessKey": 1})
	if n := len(w.org.Account(acct1).Snapshot().Keys); n != 4 {
		t.Fatalf("account %s has %d keys, want 4 (root, two users', the new one)", acct1, n)
	}
	// DELETE in one account: the key named, there only.
	r = w.exec("DELETE FROM access_keys WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1' AND account_id = '" + acct2 + "'")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.calls[acct2+" DeleteAccessKey"] != 1 || r.calls[acct1+" DeleteAccessKey"] != 0 || r.calls[mgmtID+" DeleteAccessKey"] != 0 {
		t.Fatalf("calls %v: want one DeleteAccessKey in %s", r.calls, acct2)
	}
	for _, k := range w.org.Account(acct2).Snapshot().Keys {
		if k.AccessKeyID == id {
			t.Fatalf("key %s still in %s", id, acct2)
		}
	}
}

func TestOrgCallBudgetCountsEveryAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	if r := w.exec("SET iamsql_call_budget = 6"); r.err != nil {
		t.Fatal(r.err)
	}
	r := w.exec(inventory)
	if r.errNum != ErrNumCallBudget {
		t.Fatalf("err %v (%d), want the call budget's %d", r.err, r.errNum, ErrNumCallBudget)
	}
}

func TestProfilesAreTheAccounts(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2", profiles: []string{acct1, acct2}})
	r := w.exec("SELECT Id, Name, Status FROM accounts ORDER BY Id")
	wantRows(t, r, acct1+" | profile-"+acct1+" | ACTIVE", acct2+" | profile-"+acct2+" | ACTIVE")
	r = w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	// Each profile signs as its account's root user: its root key is
	// among the keys.
	var want []string
	for _, id := range []string{acct1, acct2} {
		for _, k := range w.org.Account(id).Snapshot().Keys {
			want = append(want, id+" | "+k.UserName+" | "+k.AccessKeyID)
		}
	}
	slices.Sort(want)
	wantRows(t, r, want...)
	if r.calls[mgmtID+" ListAccounts"] != 0 || r.calls[mgmtID+" AssumeRole"] != 0 {
		t.Fatalf("profiles used the organization: %v", r.calls)
	}
}

func TestSingleAccountRowsCarryTheSignersAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:2x1", single: true})
	r := w.exec("SELECT account_id, UserName FROM users WHERE region = 'us-east-1'")
	wantRows(t, r, mgmtID+" | user-00001")
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " ListUsers": 1, mgmtID + " GetCallerIdentity": 1})
	r = w.exec("SELECT UserName FROM users WHERE region = 'us-east-1' AND account_id = '" + acct1 + "'")
	wantRows(t, r)
	wantOrgCalls(t, r.calls, map[string]int{})
	// Without account_id, no identity call.
	r = w.exec("SELECT UserName FROM users WHERE region = 'us-east-1'")
	wantRows(t, r, "user-00001")
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " ListUsers": 1})
	// One identity serves account_id, AWS_ACCOUNT() and the shell's
	// display (Engine.Identity): the session asked once.
	r = w.exec("SELECT AWS_ACCOUNT(), AWS_PRINCIPAL()")
	wantRows(t, r, mgmtID+" | arn:aws:iam::"+mgmtID+":root")
	wantOrgCalls(t, r.calls, map[string]int{})
	if id, err := w.eng.Identity(context.Background()); err != nil || id.Account != mgmtID {
		t.Fatalf("identity %+v, %v", id, err)
	}
	if n := w.calls()[mgmtID+" GetCallerIdentity"]; n != 0 {
		t.Fatalf("%d more GetCallerIdentity calls", n)
	}
}

// The other way round: the identity the shell shows first, then
// account_id and the org's management account need no call of their own.
func TestOneGetCallerIdentityServesTheDisplayAndAccountID(t *testing.T) {
	for _, single := range []bool{true, false} {
		w := newOrgWorld(t, orgWorldOptions{seed: "org:2x1", single: single})
		if id, err := w.eng.Identity(context.Background()); err != nil || id.Account != mgmtID {
			t.Fatalf("identity %+v, %v", id, err)
		}
		r := w.exec("SELECT account_id, UserName FROM users WHERE region = 'us-east-1' ORDER BY 1, 2")
		if single {
			wantRows(t, r, mgmtID+" | user-00001")
		} else {
			wantRows(t, r, mgmtID+" | user-00001", acct1+" | user-00001")
		}
		if n := w.calls()[mgmtID+" GetCallerIdentity"]; n != 0 {
			t.Fatalf("org %v: %d GetCallerIdentity calls after the identity was known, want 0", !single, n)
		}
		r = w.exec("SELECT AWS_ACCOUNT()")
		wantRows(t, r, mgmtID)
		wantOrgCalls(t, r.calls, map[string]int{})
	}
}

func TestOrgDefaultCallBudgetGrowsWithTheAccountsRead(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:4x30"})
	if got := w.eng.Provider.fullScanCost(); got != 0 {
		t.Fatalf("full-scan cost %d before any read", got)
	}
	if r := w.exec(inventory); r.err != nil {
		t.Fatal(r.err)
	}
	// Each account read: a ListUsers page, a ListAccessKeys and (at most)
	// two GetAccessKeyLastUsed per user and for the root user, and a
	// GetAccountSummary: 1 + 3 × 31 + 1 = 95 calls.
	if got, want := w.eng.Provider.fullScanCost(), int64(4*95); got != want {
		t.Fatalf("full-scan cost %d, want %d (4 accounts of 30 users)", got, want)
	}
}

func TestOrgJoinOnAccountAndUserLooksUpEachUserInItsAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	r := w.exec("SELECT u.account_id, u.UserName, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName AND k.account_id = u.account_id " +
		"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' ORDER BY 1, 2, 3")
	var want []string
	for _, row := range keyRows(w, mgmtID, acct1, acct2) {
		if !strings.Contains(row, "| root |") {
			want = append(want, row)
		}
	}
	wantRows(t, r, want...)
	// Each user's keys are listed once, in its own account.
	for _, id := range []string{mgmtID, acct1, acct2} {
		if n := r.calls[id+" ListAccessKeys"]; n != 2 {
			t.Errorf("account %s: %d ListAccessKeys, want 2 (one per user); calls %v", id, n, r.calls)
		}
	}
}

// throttleWhen answers Throttling to every IAM call whose form match
// accepts, past any retry (the test sets a low attempt limit).
type throttleWhen struct {
	next  http.RoundTripper
	match func(form url.Values) bool
}

func (t throttleWhen) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, _ := url.ParseQuery(string(body)); t.match(form) {
			const answer = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`
			return &http.Response{StatusCode: 400, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(answer)),
				ContentLength: int64(len(answer)), Request: r}, nil
		}
	}
	return t.next.RoundTrip(r)
}

// throttleListUsersPages throttles every ListUsers call that asks for a
// page after the first.
func throttleListUsersPages(next http.RoundTripper) http.RoundTripper {
	return throttleWhen{next, func(f url.Values) bool { return f.Get("Action") == "ListUsers" && f.Get("Marker") != "" }}
}

// An account whose read fails after some of its rows were read (its
// second ListUsers page is throttled past its retries, while the keys of
// its first page's users were already listed) yields none of them: the
// result lacks the account, and a warning names it and the reason.
func TestOrgAccountFailingPartwayYieldsNoRows(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2", maxAttempts: 2,
		transport: throttleListUsersPages})
	// Only acct2 has a second page of users: 150 more, with a key each.
	big := w.org.Account(acct2)
	for i := 0; i < 150; i++ {
		name := fmt.Sprintf("big-%03d", i)
		if err := big.AddUser(emulator.User{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if err := big.AddAccessKey(emulator.AccessKey{AccessKeyID: fmt.Sprintf("AKIABIG0000000000%03d", i), UserName: name, Status: "Active"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		inventory + " ORDER BY account_id, UserName, AccessKeyId",
		// Streamed as it comes, no operator holding the rows.
		inventory,
	} {
		r := w.exec(q)
		got := make([]string, len(r.rows))
		for i, row := range r.rows {
			got[i] = strings.Join(row, " | ")
		}
		slices.Sort(got)
		r.rows = nil
		for _, g := range got {
			r.rows = append(r.rows, strings.Split(g, " | "))
		}
		wantRows(t, r, keyRows(w, mgmtID, acct1)...)
		// The account was read partway: its first page's users' keys.
		if n := r.calls[acct2+" ListAccessKeys"]; n == 0 {
			t.Fatalf("%s: account %s listed no keys before failing (calls %v): the test does not fail partway", q, acct2, r.calls)
		}
		in := w.sess.Incomplete()
		if len(in) != 1 || in[0].Account != acct2 || in[0].Code != "Throttling" ||
			!strings.Contains(in[0].Reason, "account "+acct2+" (account-003) could not be read") {
			t.Fatalf("%s: incomplete %+v, want account %s throttled", q, in, acct2)
		}
		warn := w.exec("SHOW WARNINGS")
		if text := fmt.Sprint(warn.rows); !strings.Contains(text, "partial result: account "+acct2) {
			t.Fatalf("SHOW WARNINGS lacks the account: %s", text)
		}
	}
	// What the account held was given back.
	if n := HeldMemory(); n != 0 {
		t.Fatalf("held memory %d after the statements", n)
	}
}

// The rows an account holds until it is read in full count against the
// statement's memory limit: an organization whose accounts together
// would hold more stops with a clear error, never unbounded memory.
func TestOrgHeldAccountRowsCountAgainstTheStatementMemoryLimit(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x150"})
	lowerMemoryLimits(t, 16<<10, MaxHeldMemory)
	r := w.exec(inventory)
	if r.errNum != ErrNumOutOfSortMemory || !strings.Contains(r.err.Error(), "org mode, holding each account's rows until the account is read in full") {
		t.Fatalf("err %v (%d), want the statement memory limit naming org mode's held rows", r.err, r.errNum)
	}
	if n := HeldMemory(); n != 0 {
		t.Fatalf("held memory %d after the statement", n)
	}
	// Within the limit, the same statement answers every row.
	lowerMemoryLimits(t, MaxStatementMemory, MaxHeldMemory)
	r = w.exec("SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1'")
	wantRows(t, r, "451")
}

// The configuration's account lists leave accounts out of every read:
// no call in them (not even AssumeRole), no rows, a note, and the result
// is not partial. Ids match exactly, names by pattern.
func TestOrgAccountListsLeaveAccountsOut(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2", exclude: []string{"account-00[3]"}})
	r := w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, keyRows(w, mgmtID, acct1)...)
	wantOrgCalls(t, r.calls, map[string]int{
		mgmtID + " ListAccounts": 1, mgmtID + " GetCallerIdentity": 1, mgmtID + " AssumeRole": 1,
		mgmtID + " ListUsers": 1, mgmtID + " ListAccessKeys": 3, mgmtID + " GetUser": 1,
		acct1 + " ListUsers": 1, acct1 + " ListAccessKeys": 2, acct1 + " GetUser": 1,
	})
	if in := w.sess.Incomplete(); len(in) != 0 {
		t.Fatalf("incomplete %+v: an account left out by configuration is no partial result", in)
	}
	if text := fmt.Sprint(w.exec("SHOW WARNINGS").rows); !strings.Contains(text, "1 account(s) left out by the configuration") {
		t.Fatalf("SHOW WARNINGS: %s", text)
	}
	// Pinned, it has no rows either, and costs no call in it.
	r = w.exec(inventory + " AND account_id = '" + acct2 + "'")
	wantRows(t, r)
	wantOrgCalls(t, r.calls, map[string]int{mgmtID + " ListAccounts": 1})
	// The accounts table still lists the organization.
	wantRows(t, w.exec("SELECT COUNT(*) FROM accounts"), "3")

	// Only the accounts named: an id, and a name pattern.
	w = newOrgWorld(t, orgWorldOptions{seed: "org:3x2", accounts: []string{acct2, "account-00[1]"}})
	r = w.exec(inventory + " ORDER BY account_id, UserName, AccessKeyId")
	wantRows(t, r, keyRows(w, mgmtID, acct2)...)
	if n := r.calls[acct1+" ListUsers"]; n != 0 {
		t.Fatalf("account %s read (%d ListUsers)", acct1, n)
	}
	// Both lists: exclusion wins.
	w = newOrgWorld(t, orgWorldOptions{seed: "org:3x2", accounts: []string{"account-*"}, exclude: []string{mgmtID}})
	wantRows(t, w.exec(inventory+" ORDER BY account_id, UserName, AccessKeyId"), keyRows(w, acct1, acct2)...)
}

// A join on UserName alone looks each user up in every account; an
// account whose user listing the statement has already read, and that
// has no user of that name, is answered without a call.
func TestOrgJoinOnUserNameAloneAsksOnlyTheAccountsWithTheUser(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("only-%02d", i)
		if err := w.org.Account(acct1).AddUser(emulator.User{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if err := w.org.Account(acct1).AddAccessKey(emulator.AccessKey{AccessKeyID: fmt.Sprintf("AKIAONLY00000000%04d", i), UserName: name, Status: "Active"}); err != nil {
			t.Fatal(err)
		}
	}
	r := w.exec("SELECT u.account_id, u.UserName, k.account_id, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
		"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' ORDER BY 1, 2, 3, 4")
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Every user of acct1 is matched with its keys, and the generated
	// users with the keys of the same name in every account.
	if n := len(r.rows); n != 20+3*3*2 {
		t.Fatalf("%d rows, want %d", n, 20+3*3*2)
	}
	// No account but acct1 is asked for the only-* users: at most one
	// ListAccessKeys per user of its own (and the root user's).
	for id, own := range map[string]int{mgmtID: 3, acct2: 2, acct1: 22} {
		if n := r.calls[id+" ListAccessKeys"]; n > own {
			t.Errorf("account %s: %d ListAccessKeys, want at most %d (its own users); calls %v", id, n, own, r.calls)
		}
	}
}
