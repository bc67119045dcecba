package server

import (
	"testing"

	"github.com/iamsql/iamsql/provider"
)

// The server's call budget holds for a read-only user, who cannot raise
// it with SET, while a read-write user may; a statement stopped at it
// leaves the connection usable and the other connections unaffected.
func TestCallBudgetBindsReadOnlyUsers(t *testing.T) {
	w := newWorld(t, worldOptions{callBudget: 20, Options: Options{Users: []User{rwUser, roUser}}})
	const invented = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 60) " +
		"SELECT COUNT(*) FROM n JOIN access_keys k ON k.UserName = CONCAT('nobody', n.x) WHERE k.region = 'us-east-1'"
	ro, err := w.db(roUser).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.ExecContext(ctx, "SET iamsql_call_budget = 1000000"); err != nil {
		t.Fatal(err)
	}
	w.emu.ResetCalls()
	_, err = tryRows(ro, invented)
	wantErr(t, err, provider.ErrNumCallBudget, "IAM call budget of 20 calls (set by --call-budget)")
	wantErr(t, err, provider.ErrNumCallBudget, "A read-only user cannot raise it")
	if n := w.emu.TotalCalls(); n != 20 {
		t.Errorf("%d IAM calls for the read-only user, want 20", n)
	}
	// The connection answers its next statement.
	if got := rows(t, ro, "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'"); len(got) != 1 {
		t.Errorf("after the budget error: %v", got)
	}

	rw, err := w.db(rwUser).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.ExecContext(ctx, "SET iamsql_call_budget = 100"); err != nil {
		t.Fatal(err)
	}
	w.emu.ResetCalls()
	if got := rows(t, rw, invented); len(got) != 1 || got[0][0] != "0" {
		t.Errorf("read-write user with a raised budget: %v", got)
	}
	if n := w.emu.Calls()["ListAccessKeys"]; n != 60 {
		t.Errorf("%d ListAccessKeys, want 60", n)
	}
}
