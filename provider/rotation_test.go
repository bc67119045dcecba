package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/internal/rotate"
)

// TestMain points the rotation ledger of every test engine that does not
// name one at a directory of its own, never at ~/.iamsql.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iamsql-provider-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("IAMSQL_ROTATION_LEDGER", filepath.Join(dir, "rotations.json"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rotationWorld is a world whose rotations use a ledger of their own and
// verify without waiting for propagation.
func rotationWorld(t *testing.T, o worldOptions) (*world, string) {
	t.Helper()
	w := newWorld(t, o)
	ledger := filepath.Join(t.TempDir(), "rotations.json")
	w.eng = NewEngine(Config{Clients: w.eng.Provider.clients, ReadOnly: o.readOnly,
		Rotation: &RotationConfig{LedgerPath: ledger, PropagationWait: time.Second, RetryInterval: 50 * time.Millisecond}})
	w.sess = w.eng.NewSession("test", "")
	return w, ledger
}

// keysOf is a user's keys in the emulator: id → status.
func keysOf(w *world, user string) map[string]string {
	m := map[string]string{}
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == user {
			m[k.AccessKeyID] = k.Status
		}
	}
	return m
}

func secretOf(w *world, id string) string {
	for _, k := range w.emu.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.SecretAccessKey
		}
	}
	return ""
}

func wantCallsOf(t *testing.T, r result, want string) {
	t.Helper()
	if got := callsString(r.calls); got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
}

func ledgerOf(t *testing.T, path string) []rotate.Record {
	t.Helper()
	l, err := rotate.OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, r := range l.Records() {
		if s := r.NewKeyID; s != "" && len(data) > 0 && strings.Contains(string(data), "Secret") {
			t.Fatalf("the ledger mentions a secret: %s", data)
		}
	}
	return l.Records()
}

func TestRotateAccessKeyPlansByDefaultAndChangesNothing(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	r := w.exec("CALL rotate_access_key('ci-deploy', 'us-east-1')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	// RotationId, account_id, UserName, OldKeyId, NewKeyId, Step, Sink, SecretAccessKey, NextStepDue, Note
	if len(r.rows) != 1 || r.rows[0][0] != "NULL" || r.rows[0][2] != "ci-deploy" || r.rows[0][3] != "AKIACIDEPLOY00000001" ||
		r.rows[0][5] != "plan" || r.rows[0][6] != "result" || r.rows[0][7] != "NULL" ||
		!strings.Contains(r.rows[0][9], "create a new access key for ci-deploy; deliver it to the sink; verify it") {
		t.Fatalf("rows %q", r.rows)
	}
	wantCallsOf(t, r, "GetCallerIdentity×1, ListAccessKeys×1")
	// What blocks a rotation is a plan too.
	r = w.exec("CALL rotate_access_key('carol', 'us-east-1')")
	if r.err != nil || len(r.rows) != 1 || r.rows[0][5] != "blocked" || !strings.Contains(r.rows[0][9], "has two keys: name the one to rotate") {
		t.Fatalf("rows %q %v", r.rows, r.err)
	}
	if recs := ledgerOf(t, ledger); len(recs) != 0 {
		t.Fatalf("ledger %v", recs)
	}
	if k := keysOf(w, "ci-deploy"); len(k) != 1 {
		t.Fatalf("keys %v", k)
	}
}

func TestRotateAccessKeyIntoTheResultRowThenFinish(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	stmt := "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0')"
	r := w.exec(stmt)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantCallsOf(t, r, "CreateAccessKey×1, GetCallerIdentity×2, ListAccessKeys×1")
	row := r.rows[0]
	newID := row[4]
	if k := keysOf(w, "bob"); len(k) != 2 || k["AKIABOB0000000000001"] != "Active" || k[newID] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if row[5] != "delivering" || row[7] != secretOf(w, newID) || row[7] == "" || !strings.HasPrefix(row[0], "rot-AKIABOB0000000000001-") {
		t.Fatalf("row %q", row)
	}
	// Until the front end says the row went out, the rotation waits.
	if recs := ledgerOf(t, ledger); len(recs) != 1 || recs[0].Step != rotate.StepDelivering || recs[0].Verified == nil || recs[0].Delivered != nil {
		t.Fatalf("ledger %+v", recs)
	}
	if ids := w.sess.SecretSent([]string{row[7]}); len(ids) != 1 || ids[0] != newID {
		t.Fatalf("session holds %v", ids)
	}
	w.eng.Delivered(context.Background(), w.sess, stmt, newID)
	r = w.exec("SELECT RotationId, UserName, OldKeyId, NewKeyId, Step, Sink, Grace, DeleteAfter, Delivered IS NOT NULL, NextStepDue FROM rotations")
	wantRows(t, r, row[0]+" | bob | AKIABOB0000000000001 | "+newID+" | verified | result | 0 | 0 | true | NULL")
	wantCallsOf(t, r, "none")
	// finish_rotation deactivates the old key at once; its delete waits
	// for the last-used lag, unless Force = 1.
	r = w.exec("CALL finish_rotation('" + row[0] + "')")
	if r.err != nil || r.rows[0][5] != "deactivated" || r.rows[0][7] == "NULL" || !strings.Contains(r.rows[0][8], "deleting it is possible from") {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	wantCallsOf(t, r, "UpdateAccessKey×1")
	if k := keysOf(w, "bob"); len(k) != 2 || k["AKIABOB0000000000001"] != "Inactive" {
		t.Fatalf("keys %v", k)
	}
	r = w.exec("CALL finish_rotation('" + row[0] + "', 1)")
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantCallsOf(t, r, "DeleteAccessKey×1, GetAccessKeyLastUsed×1")
	if r.rows[0][5] != "finished" || r.rows[0][4] != newID {
		t.Fatalf("row %q", r.rows)
	}
	if k := keysOf(w, "bob"); len(k) != 1 || k[newID] != "Active" {
		t.Fatalf("keys %v", k)
	}
}

func TestRotateAccessKeyResultNotReceivedDeletesTheNewKey(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	r := w.exec("CALL rotate_access_key('bob', 'us-east-1', 'AKIABOB0000000000001', 'apply')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	newID := r.rows[0][4]
	w.emu.ResetCalls()
	if err := w.eng.Withdraw(context.Background(), w.sess, []string{newID}, "the connection closed"); err != nil {
		t.Fatal(err)
	}
	if got := callsString(w.emu.Calls()); got != "DeleteAccessKey×1" {
		t.Fatalf("calls %s", got)
	}
	if k := keysOf(w, "bob"); len(k) != 1 || k["AKIABOB0000000000001"] != "Active" {
		t.Fatalf("keys %v", k)
	}
	recs := ledgerOf(t, ledger)
	if len(recs) != 1 || recs[0].Step != rotate.StepRolledBack || !strings.Contains(recs[0].Note, "was not received") {
		t.Fatalf("ledger %+v", recs)
	}
	// The key is free for another rotation at once.
	if r := w.exec("CALL rotate_access_key('bob', 'us-east-1')"); r.err != nil || r.rows[0][5] != "plan" {
		t.Fatalf("%q %v", r.rows, r.err)
	}
}

func TestRotationProcedureParametersAreCheckedBeforeAnyIAMCall(t *testing.T) {
	w, _ := rotationWorld(t, worldOptions{})
	remote := NewSession(sql.NewBaseSession())
	for _, c := range []struct {
		name, stmt, wantErr string
		remote              bool
	}{
		{"no region", "CALL rotate_access_key('bob', '')", "rotations: rotate_access_key requires region; call it as rotate_access_key(UserName, region[, AccessKeyId", false},
		{"no user", "CALL rotate_access_key(NULL, 'us-east-1')", "rotate_access_key requires UserName", false},
		{"bad user", "CALL rotate_access_key('b ob', 'us-east-1')", `invalid UserName "b ob"`, false},
		{"bad region", "CALL rotate_access_key('bob', 'mars-1')", `invalid region "mars-1"`, false},
		{"bad key", "CALL rotate_access_key('bob', 'us-east-1', 'AKIA')", `invalid AccessKeyId "AKIA"`, false},
		{"bad apply", "CALL rotate_access_key('bob', 'us-east-1', NULL, 'maybe')", `invalid Apply "maybe"`, false},
		{"bad grace", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', 'soon')", `invalid Grace "soon"`, false},
		{"bad delete-after", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '-1d')", `invalid DeleteAfter "-1d"`, false},
		{"bad make-room", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0', 'soon')", `invalid MakeRoom "soon"`, false},
		{"zero make-room", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0', '0')", `invalid MakeRoom "0"`, false},
		{"account_id where MakeRoom goes", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0', '123456789012')", `invalid MakeRoom "123456789012"`, false},
		{"bad account", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0', NULL, '12')", `invalid account_id "12"`, false},
		{"unknown sink", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'ftp:x')", `invalid Sink "ftp:x"`, false},
		{"huge sink", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'secretsmanager:" + strings.Repeat("x", 5000) + "')", "at most 1024 characters", false},
		{"sink with a newline", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'secretsmanager:a\nb')", "no control characters", false},
		{"stdout sink", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'stdout')", "a procedure returns the secret as its result row", false},
		{"existing file", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'file:" + os.Args[0] + "')", "the file exists; name a new file", false},
		{"file over the protocol", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'file:/tmp/k.csv')", "never to a file on the server's host", true},
		{"profile over the protocol", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'profile:bob')", "never to a file on the server's host", true},
		{"too many arguments", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'result', '0', '0', NULL, '123456789012', 'x')", "expected rotate_access_key(", false},
		{"bad rotation id", "CALL finish_rotation('nope')", `invalid RotationId "nope"`, false},
		{"unknown rotation", "CALL rollback_rotation('rot-AKIABOB0000000000001-1')", "no rotation rot-AKIABOB0000000000001-1 in the ledger", false},
		{"no rotation id", "CALL finish_rotation(NULL)", "finish_rotation requires RotationId", false},
		{"bad force", "CALL finish_rotation('rot-AKIABOB0000000000001-1', 'maybe')", `invalid Force "maybe"`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sess := w.sess
			if c.remote {
				sess = remote
			}
			w.emu.ResetCalls()
			r := runStatement(w.eng, sess, c.stmt)
			if r.err == nil || !strings.Contains(r.err.Error(), c.wantErr) {
				t.Fatalf("err %v, want %q", r.err, c.wantErr)
			}
			if r.errNum != ErrNumBadParam {
				t.Errorf("error number %d", r.errNum)
			}
			if calls := w.emu.Calls(); len(calls) != 0 {
				t.Fatalf("calls %v", calls)
			}
		})
	}
}

func TestRotationProceduresRefusedReadOnly(t *testing.T) {
	w, _ := rotationWorld(t, worldOptions{readOnly: true})
	for _, stmt := range []string{"CALL rotate_access_key('bob', 'us-east-1')", "CALL finish_rotation('rot-AKIABOB0000000000001-1')", "CALL rollback_rotation('rot-AKIABOB0000000000001-1')"} {
		r := w.exec(stmt)
		var ro *ReadOnlyError
		if !errors.As(r.err, &ro) && (r.err == nil || !strings.Contains(r.err.Error(), "read-only")) {
			t.Fatalf("%s: %v", stmt, r.err)
		}
		wantCallsOf(t, r, "none")
	}
	// A read-only user of a writable server is refused too.
	w2, _ := rotationWorld(t, worldOptions{})
	w2.sess.ReadOnly = true
	r := w2.exec("CALL rotate_access_key('bob', 'us-east-1', NULL, 1)")
	if r.err == nil || !strings.Contains(r.err.Error(), "read-only") {
		t.Fatalf("%v", r.err)
	}
	wantCallsOf(t, r, "none")
}

// Over the MySQL protocol Secrets Manager is a sink; rollback_rotation
// undoes the rotation and restores nothing it should not.
func TestRotateIntoSecretsManagerOverTheProtocolThenRollBack(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	w.sess = NewSession(sql.NewBaseSession()) // a server's session
	w.sess.SetCurrentDatabase(DatabaseName)
	r := w.exec("CALL rotate_access_key('ci-deploy', 'us-east-1', NULL, 1, 'secretsmanager:iam/ci-deploy')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantCallsOf(t, r, "CreateAccessKey×1, CreateSecret×1, GetCallerIdentity×2, ListAccessKeys×1, PutSecretValue×1")
	row := r.rows[0]
	newID := row[4]
	if row[5] != "verified" || row[6] != "secretsmanager" || row[7] != "NULL" || row[8] == "NULL" {
		t.Fatalf("row %q", row)
	}
	v, _ := w.emu.Secret("us-east-1", "iam/ci-deploy")
	if !strings.Contains(v, newID) || !strings.Contains(v, secretOf(w, newID)) {
		t.Fatalf("secret %q", v)
	}
	r = w.exec("CALL rollback_rotation('" + row[0] + "')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.rows[0][5] != "rolled_back" {
		t.Fatalf("row %q", r.rows)
	}
	if k := keysOf(w, "ci-deploy"); len(k) != 1 || k["AKIACIDEPLOY00000001"] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if recs := ledgerOf(t, ledger); len(recs) != 1 || recs[0].Step != rotate.StepRolledBack {
		t.Fatalf("ledger %+v", recs)
	}
}

// In org mode every mutating procedure acts on the one account its
// account_id names; without it, it is refused before any call.
func TestOrgModeProceduresActOnTheNamedAccountOnly(t *testing.T) {
	t.Setenv("IAMSQL_ROTATION_LEDGER", filepath.Join(t.TempDir(), "rotations.json"))
	w := newOrgWorld(t, orgWorldOptions{seed: "org:demo"})
	mgmt := w.org.Management().AccountID()
	// A member account's user with one active key.
	var account, user, key string
	for _, row := range w.exec("SELECT account_id, UserName, MIN(AccessKeyId) FROM access_keys WHERE region = 'us-east-1' AND UserName <> 'root' " +
		"GROUP BY account_id, UserName HAVING COUNT(*) = 1 AND MIN(Status) = 'Active' ORDER BY 1, 2").rows {
		if row[0] != mgmt {
			account, user, key = row[0], row[1], row[2]
			break
		}
	}
	if account == "" {
		t.Fatal("the demo organization has no member user with one active key")
	}
	status := func() string {
		for _, k := range w.org.Account(account).Snapshot().Keys {
			if k.AccessKeyID == key {
				return k.Status
			}
		}
		return "gone"
	}
	for _, stmt := range []string{
		"CALL update_access_key('" + key + "', 'Inactive', 'us-east-1')",
		"CALL update_access_key('" + key + "', 'Inactive', 'us-east-1', '" + user + "')",
		"CALL delete_access_key('" + key + "', 'us-east-1')",
		"CALL create_access_key('us-east-1', '" + user + "')",
		"CALL rotate_access_key('" + user + "', 'us-east-1')",
		"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = '" + key + "', @Status = 'Inactive', @region = 'us-east-1'",
	} {
		r := w.exec(stmt)
		if r.err == nil || !strings.Contains(r.err.Error(), "in org mode the procedure acts on one account, which it must name: give account_id") || r.errNum != ErrNumBadParam {
			t.Fatalf("%s: %v", stmt, r.err)
		}
		wantOrgCalls(t, r.calls, map[string]int{})
	}

	r := w.exec("CALL update_access_key('" + key + "', 'Inactive', 'us-east-1', NULL, '" + account + "')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for op := range r.calls {
		if !strings.HasPrefix(op, account+" ") && op != mgmt+" AssumeRole" && op != mgmt+" GetCallerIdentity" {
			t.Fatalf("a call outside %s: %v", account, r.calls)
		}
	}
	if r.calls[account+" UpdateAccessKey"] != 1 || status() != "Inactive" {
		t.Fatalf("calls %v, status %s", r.calls, status())
	}
	if r := w.exec("EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = '" + key + "', @Status = 'Active', @region = 'us-east-1', @account_id = '" + account + "'"); r.err != nil || status() != "Active" {
		t.Fatalf("%v %s", r.err, status())
	}

	// rotate_access_key plans and rotates in that account, and the ledger
	// records it.
	r = w.exec("CALL rotate_access_key('" + user + "', 'us-east-1', NULL, NULL, NULL, NULL, NULL, NULL, '" + account + "')")
	if r.err != nil || r.rows[0][1] != account || r.rows[0][5] != "plan" || r.rows[0][3] != key {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	stmt := "CALL rotate_access_key('" + user + "', 'us-east-1', NULL, 1, 'result', '0', '0', NULL, '" + account + "')"
	r = w.exec(stmt)
	if r.err != nil {
		t.Fatal(r.err)
	}
	for op := range r.calls {
		if !strings.HasPrefix(op, account+" ") && op != mgmt+" AssumeRole" && op != mgmt+" GetCallerIdentity" {
			t.Fatalf("a call outside %s: %v", account, r.calls)
		}
	}
	id, newID := r.rows[0][0], r.rows[0][4]
	if r.calls[account+" CreateAccessKey"] != 1 || r.calls[account+" GetCallerIdentity"] != 1 {
		t.Fatalf("calls %v", r.calls)
	}
	w.eng.Delivered(context.Background(), w.sess, stmt, newID)
	wantRows(t, w.exec("SELECT account_id, UserName, OldKeyId, NewKeyId, Step FROM rotations"), account+" | "+user+" | "+key+" | "+newID+" | verified")
	r = w.exec("CALL finish_rotation('" + id + "', 1)")
	if r.err != nil || r.rows[0][5] != "finished" {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	if r.calls[account+" DeleteAccessKey"] != 1 || status() != "gone" {
		t.Fatalf("calls %v, old key %s", r.calls, status())
	}
}
