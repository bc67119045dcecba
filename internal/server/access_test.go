package server

// Access control over the MySQL protocol: failed logins, and a read-only
// user's every way of changing IAM, each refused before any IAM call (the
// emulator's call counters prove it). Loopback-only without users and
// --require-tls are tested in server_test.go and serve_flags_test.go.

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/iamsql/iamsql/provider"
)

// mutations are every statement form that changes IAM, for a read-only
// user to try. args, when set, make go-sql-driver prepare the statement on
// the server (COM_STMT_PREPARE, COM_STMT_EXECUTE).
var mutations = []struct {
	name  string
	query string
	args  []any
}{
	{"INSERT VALUES", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')", nil},
	{"INSERT VALUES, two rows", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('erin', 'us-east-1')", nil},
	{"INSERT VALUES, StackQL name", "INSERT INTO aws.iam.access_keys (UserName, region) VALUES ('dave', 'us-east-1')", nil},
	{"INSERT … SELECT, StackQL name", "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1'", nil},
	{"INSERT … SELECT FROM users", "INSERT INTO access_keys (UserName, region) SELECT UserName, region FROM users WHERE region = 'us-east-1' AND Path = '/ops/'", nil},
	{"INSERT … ON DUPLICATE KEY UPDATE", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') ON DUPLICATE KEY UPDATE Status = 'Inactive'", nil},
	{"UPDATE", "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", nil},
	{"UPDATE, StackQL name", "UPDATE aws.iam_api.access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", nil},
	{"UPDATE of every key of a user", "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND UserName = 'alice' AND AccessKeyId IN ('AKIAALICE00000000001', 'AKIAALICE00000000002')", nil},
	{"DELETE", "DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", nil},
	{"DELETE, StackQL name", "DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", nil},
	{"DELETE with a join", "DELETE k FROM access_keys k JOIN users u ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' AND k.AccessKeyId = 'AKIABOB0000000000001'", nil},
	{"CALL create_access_key", "CALL create_access_key('us-east-1', 'dave')", nil},
	{"CALL update_access_key", "CALL update_access_key('AKIABOB0000000000001', 'Inactive', 'us-east-1')", nil},
	{"CALL delete_access_key", "CALL delete_access_key('AKIABOB0000000000001', 'us-east-1')", nil},
	{"StackQL EXEC", "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId='AKIABOB0000000000001', @Status='Inactive', @region='us-east-1'", nil},
	{"StackQL EXEC, aws.iam name", "EXEC aws.iam.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'", nil},
	{"prepared INSERT", "INSERT INTO access_keys (UserName, region) VALUES (?, ?)", []any{"dave", "us-east-1"}},
	{"prepared UPDATE", "UPDATE access_keys SET Status = ? WHERE AccessKeyId = ? AND region = ?", []any{"Inactive", "AKIABOB0000000000001", "us-east-1"}},
	{"prepared DELETE", "DELETE FROM access_keys WHERE AccessKeyId = ? AND region = ?", []any{"AKIABOB0000000000001", "us-east-1"}},
	{"prepared CALL create_access_key", "CALL create_access_key(?, ?)", []any{"us-east-1", "dave"}},
	{"prepared CALL update_access_key", "CALL update_access_key(?, ?, ?)", []any{"AKIABOB0000000000001", "Inactive", "us-east-1"}},
	{"prepared CALL delete_access_key", "CALL delete_access_key(?, ?)", []any{"AKIABOB0000000000001", "us-east-1"}},
}

// TestReadOnlyUserIsRefusedEveryMutationWithoutIAMCalls: a read-only
// user's every form of INSERT, UPDATE, DELETE, CALL and EXEC — plain,
// under StackQL names, prepared on the server, inside a transaction or a
// multi-statement — fails with 1290 and makes no IAM call at all, not
// even a read; the same user can SELECT, and a read-write user on the
// same server can change IAM.
func TestReadOnlyUserIsRefusedEveryMutationWithoutIAMCalls(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	ro := w.conn(roUser)
	before := w.emu.Snapshot()
	refused := func(t *testing.T, err error) {
		t.Helper()
		wantErr(t, err, provider.ErrNumReadOnly, "read-only", "before any IAM call")
		if n := w.emu.TotalCalls(); n != 0 {
			t.Errorf("%d IAM calls: %v", n, w.emu.Calls())
		}
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			w.emu.ResetCalls()
			_, err := ro.ExecContext(ctx, m.query, m.args...)
			refused(t, err)
			// And as a query (CALL returns rows).
			w.emu.ResetCalls()
			_, err = tryRows(ro, m.query, m.args...)
			refused(t, err)
		})
	}
	// Forms iamsql does not support fail too, without an IAM call.
	for _, q := range []string{
		"REPLACE INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
		"CALL access_keys_Update('AKIABOB0000000000001', 'Inactive', 'us-east-1')",
		"TRUNCATE TABLE access_keys",
		"DROP TABLE access_keys",
		"ALTER TABLE access_keys ADD COLUMN x INT",
		"CREATE TABLE keys_copy AS SELECT * FROM access_keys WHERE region = 'us-east-1'",
		"LOAD DATA INFILE '/dev/null' INTO TABLE access_keys",
	} {
		w.emu.ResetCalls()
		if _, err := ro.ExecContext(ctx, q); errNum(err) == 0 {
			t.Errorf("%s: %v, want an error", q, err)
		}
		if n := w.emu.TotalCalls(); n != 0 {
			t.Errorf("%s: %d IAM calls: %v", q, n, w.emu.Calls())
		}
	}
	t.Run("inside a transaction", func(t *testing.T) {
		w.emu.ResetCalls()
		tx, err := w.db(roUser).BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, mutation("UPDATE"))
		refused(t, err)
		if err := tx.Commit(); err != nil {
			t.Errorf("COMMIT: %v", err)
		}
		if n := w.emu.TotalCalls(); n != 0 {
			t.Errorf("%d IAM calls after COMMIT", n)
		}
	})
	t.Run("second statement of a multi-statement", func(t *testing.T) {
		w.emu.ResetCalls()
		multi := w.conn(roUser, "multiStatements=true")
		_, err := multi.ExecContext(ctx, "SELECT 1; "+mutation("DELETE"))
		refused(t, err)
	})
	if after := w.emu.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("IAM changed:\nbefore %+v\nafter  %+v", before, after)
	}

	// The same user can read.
	w.emu.ResetCalls()
	got := rows(t, ro, "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if !reflect.DeepEqual(got, [][]string{{"AKIABOB0000000000001", "Active"}}) {
		t.Errorf("read-only SELECT: %v", got)
	}
	if calls := w.emu.Calls(); calls["ListAccessKeys"] != 1 || w.emu.TotalCalls() != 1 {
		t.Errorf("read-only SELECT made %v, want one ListAccessKeys", calls)
	}
	// Its session stays read-only after all that.
	if _, err := ro.ExecContext(ctx, mutation("INSERT VALUES")); errNum(err) != provider.ErrNumReadOnly {
		t.Errorf("INSERT after the SELECT: %v", err)
	}
	// A read-write user on the same server is not affected.
	w.emu.ResetCalls()
	if _, err := w.db(rwUser).ExecContext(ctx, "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId='AKIABOB0000000000001', @Status='Inactive', @region='us-east-1'"); err != nil {
		t.Fatalf("read-write user: %v", err)
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" || w.emu.Calls()["UpdateAccessKey"] != 1 {
		t.Errorf("read-write EXEC: key %s, calls %v", st, w.emu.Calls())
	}
}

// TestFailedLoginsMakeNoIAMCallsAndHoldNoConnection: a wrong password, an
// unknown user, no password, and the read-write user's password given
// for the read-only user all fail with 1045 — over go-sql-driver and over
// a hand-made mysql_native_password handshake — without an IAM call, and
// leave no connection behind.
func TestFailedLoginsMakeNoIAMCallsAndHoldNoConnection(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	w.emu.ResetCalls()
	for _, u := range []User{
		{Name: rwUser.Name, Password: "wrong"},
		{Name: "nobody", Password: rwUser.Password},
		{Name: roUser.Name, Password: rwUser.Password},
		{Name: roUser.Name, Password: ""},
		{Name: strings.Repeat("x", 200), Password: "x"},
		{Name: "admin'--", Password: "x"},
	} {
		db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/iam", u.Name, u.Password, w.addr))
		if err != nil {
			t.Fatal(err)
		}
		err = db.PingContext(ctx)
		db.Close()
		wantErr(t, err, 1045, "Access denied")

		rc := dialRaw(t, w.addr)
		err = rc.login(u.Name, u.Password)
		var re *rawError
		if !errorsAs(err, &re) || re.Num != 1045 {
			t.Errorf("raw login as %.20q: %v, want error 1045", u.Name, err)
		}
		rc.drainUntilClosed(t, "a failed login")
	}
	waitConnections(t, w, 0, "failed logins")
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("failed logins made %d IAM calls: %v", n, w.emu.Calls())
	}
	// The right passwords work, over both.
	for _, u := range []User{rwUser, roUser} {
		rc := dialRaw(t, w.addr)
		if err := rc.login(u.Name, u.Password); err != nil {
			t.Errorf("raw login as %s: %v", u.Name, err)
			continue
		}
		rc.wantUsable(t, "login as "+u.Name)
	}
}

// TestReadOnlyUserCannotChangeUser: COM_CHANGE_USER (switching a
// connection to another account) is not supported; a read-only user who
// sends it to become the read-write user gets an error and stays
// read-only.
func TestReadOnlyUserCannotChangeUser(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	rc := dialRaw(t, w.addr)
	if err := rc.login(roUser.Name, roUser.Password); err != nil {
		t.Fatal(err)
	}
	const comChangeUser = 0x11
	payload := append([]byte(rwUser.Name+"\x00"), 20)
	payload = append(payload, nativeScramble(rc.salt, rwUser.Password)...)
	payload = append(payload, "iam\x00"...)
	if err := rc.command(comChangeUser, payload); err != nil {
		t.Fatal(err)
	}
	_, err := rc.readResult()
	var re *rawError
	if !errorsAs(err, &re) {
		t.Fatalf("COM_CHANGE_USER: %v, want an error", err)
	}
	w.emu.ResetCalls()
	_, err = rc.query(mutation("DELETE"))
	if !errorsAs(err, &re) || re.Num != provider.ErrNumReadOnly {
		t.Errorf("DELETE after COM_CHANGE_USER: %v, want error 1290", err)
	}
	if got, err := rc.query("SELECT CURRENT_USER()"); err != nil || len(got) != 1 || !strings.HasPrefix(got[0][0], roUser.Name) {
		t.Errorf("CURRENT_USER() after COM_CHANGE_USER: %v %v", got, err)
	}
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("%d IAM calls", n)
	}
}

// TestReadOnlyUserOverTLSWithCachingSha2: the read-only rule does not
// depend on how the user logged in (caching_sha2_password over TLS).
func TestReadOnlyUserOverTLSWithCachingSha2(t *testing.T) {
	cert := newTestCert(t)
	if err := mysql.RegisterTLSConfig("iamsql-access-test", cert.clientTLS()); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}, TLS: cert.serverTLS(t)}})
	ro := w.conn(roUser, "tls=iamsql-access-test")
	w.logs.waitFor(t, time.Second, "client connected", "user=auditor", "tls=true", "auth=caching_sha2_password", "read_only=true")
	w.emu.ResetCalls()
	for _, m := range mutations {
		if _, err := ro.ExecContext(ctx, m.query, m.args...); errNum(err) != provider.ErrNumReadOnly {
			t.Errorf("%s over TLS: %v, want error 1290", m.name, err)
		}
	}
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("%d IAM calls: %v", n, w.emu.Calls())
	}
}

// mutation is the statement of the named form.
func mutation(name string) string {
	for _, m := range mutations {
		if m.name == name {
			return m.query
		}
	}
	panic("no mutation " + name)
}

func errorsAs(err error, target **rawError) bool { return errors.As(err, target) }

// A user sees only their own connections in SHOW PROCESSLIST and
// information_schema.PROCESSLIST, as in MySQL without the PROCESS
// privilege: another user's statements (key ids, user names) stay theirs.
func TestProcessListShowsOnlyTheUsersOwnConnections(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	admin1, admin2, auditor := w.conn(rwUser), w.conn(rwUser), w.conn(roUser)
	rows(t, admin2, "SELECT 1")
	for _, tc := range []struct {
		c    queryer
		user string
		n    int
	}{{admin1, rwUser.Name, 2}, {auditor, roUser.Name, 1}} {
		for _, q := range []string{"SHOW PROCESSLIST", "SELECT ID, USER, INFO FROM information_schema.PROCESSLIST"} {
			got := rows(t, tc.c, q)
			if len(got) != tc.n {
				t.Errorf("%s as %s: %d rows, want %d: %v", q, tc.user, len(got), tc.n, got)
			}
			for _, r := range got {
				if r[1] != tc.user {
					t.Errorf("%s as %s lists a connection of %s: %v", q, tc.user, r[1], r)
				}
			}
		}
	}
}
