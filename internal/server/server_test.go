package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/iamsql/iamsql/provider"
)

var ctx = context.Background()

func TestSelectOverProtocolReturnsKeys(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	got := rows(t, w.db(rwUser), "SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
	if len(got) != 2 || got[0][1] != "AKIAALICE00000000001" || got[0][2] != "Active" || got[1][1] != "AKIAALICE00000000002" || got[1][2] != "Inactive" {
		t.Fatalf("alice's keys: %v", got)
	}
	if !strings.HasPrefix(got[0][3], "20") {
		t.Errorf("CreateDate %q is not a date", got[0][3])
	}
	if calls := w.emu.Calls(); calls["ListAccessKeys"] != 1 {
		t.Errorf("IAM calls: %v, want one ListAccessKeys", calls)
	}
}

func TestPreparedStatementsBindParameters(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	// Placeholders make go-sql-driver prepare on the server
	// (COM_STMT_PREPARE / COM_STMT_EXECUTE).
	db := w.db(rwUser)
	stmt, err := db.PrepareContext(ctx, "SELECT AccessKeyId, Status FROM access_keys WHERE region = ? AND UserName = ? ORDER BY AccessKeyId")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for user, want := range map[string][][]string{
		"alice": {{"AKIAALICE00000000001", "Active"}, {"AKIAALICE00000000002", "Inactive"}},
		"bob":   {{"AKIABOB0000000000001", "Active"}},
		"dave":  nil,
	} {
		rs, err := stmt.QueryContext(ctx, "us-east-1", user)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		var got [][]string
		for rs.Next() {
			var id, status string
			if err := rs.Scan(&id, &status); err != nil {
				t.Fatal(err)
			}
			got = append(got, []string{id, status})
		}
		rs.Close()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", user, got, want)
		}
	}
	// A bound parameter is validated like a literal.
	_, err = tryRows(db, "SELECT AccessKeyId FROM access_keys WHERE region = ? AND UserName = ?", "nowhere-1", "alice")
	wantErr(t, err, provider.ErrNumBadParam, "region")
	// A prepared UPDATE changes the key.
	if _, err := db.ExecContext(ctx, "UPDATE access_keys SET Status = ? WHERE AccessKeyId = ? AND region = ?", "Inactive", "AKIABOB0000000000001", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, db, "SELECT Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'"); got[0][0] != "Inactive" {
		t.Errorf("bob's key after prepared UPDATE: %v", got)
	}
}

func TestInsertLeavesNoteAndSecretInCreatedAccessKeys(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	res, err := c.ExecContext(ctx, "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('erin', 'us-east-1')")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("rows affected %d, want 2", n)
	}
	warnings := rows(t, c, "SHOW WARNINGS")
	if len(warnings) != 1 || warnings[0][0] != "Note" || warnings[0][1] != fmt.Sprint(provider.NoteCreatedKeys) || !strings.Contains(warnings[0][2], "created_access_keys") {
		t.Fatalf("SHOW WARNINGS after INSERT: %v", warnings)
	}
	created := rows(t, c, "SELECT UserName, AccessKeyId, Status, SecretAccessKey, region FROM created_access_keys ORDER BY UserName")
	if len(created) != 2 || created[0][0] != "dave" || created[1][0] != "erin" {
		t.Fatalf("created_access_keys: %v", created)
	}
	secrets := secretsOf(w)
	for _, r := range created {
		if r[2] != "Active" || r[4] != "us-east-1" || secrets[r[1]] == "" || r[3] != secrets[r[1]] {
			t.Errorf("created key %v does not carry the secret IAM issued", r)
		}
	}
}

func TestCallCreateAccessKeyReturnsSecretRow(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	got := rows(t, w.db(rwUser), "CALL create_access_key('us-east-1', 'dave')")
	if len(got) != 1 {
		t.Fatalf("CALL create_access_key: %v", got)
	}
	secrets := secretsOf(w)
	row := strings.Join(got[0], " ")
	found := false
	for id, secret := range secrets {
		if strings.Contains(row, id) && strings.Contains(row, secret) {
			found = true
		}
	}
	if !found || !strings.Contains(row, "dave") {
		t.Errorf("row %v does not hold dave's new key and its secret", got[0])
	}
}

// secretsOf maps the emulator's access key ids to their secrets.
func secretsOf(w *world) map[string]string {
	out := map[string]string{}
	for _, k := range w.emu.Snapshot().Keys {
		out[k.AccessKeyID] = k.SecretAccessKey
	}
	return out
}

func TestStackQLStatementsRunOverProtocol(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	got := rows(t, c, "SELECT AccessKeyId, CreateDate, Status, UserName FROM aws.iam_api.access_keys WHERE region = 'us-east-1'")
	if len(got) != 8 || got[7][0] != "AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("every key of the account, the root user's last: %v", got)
	}
	if _, err := c.ExecContext(ctx, "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'"); err != nil {
		t.Fatal(err)
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" {
		t.Errorf("after EXEC the key is %q", st)
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1'"); err != nil {
		t.Fatal(err)
	}
	created := rows(t, c, "SELECT AccessKeyId FROM created_access_keys")
	if len(created) != 1 {
		t.Fatalf("created_access_keys after StackQL INSERT: %v", created)
	}
	if _, err := c.ExecContext(ctx, "DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = '"+created[0][0]+"' AND region = 'us-east-1'"); err != nil {
		t.Fatal(err)
	}
	if st := keyStatus(w, created[0][0]); st != "" {
		t.Errorf("the key still exists after StackQL DELETE (%s)", st)
	}
	// A client that interpolates parameters itself sends text, which is
	// rewritten like any statement.
	got = rows(t, w.db(rwUser, "interpolateParams=true"), "SELECT AccessKeyId FROM aws.iam.access_keys WHERE region = ? AND UserName = ?", "us-east-1", "erin")
	if len(got) != 1 || got[0][0] != "AKIAERIN000000000001" {
		t.Errorf("erin's keys: %v", got)
	}
}

func keyStatus(w *world, id string) string {
	for _, k := range w.emu.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.Status
		}
	}
	return ""
}

func TestIAMErrorsReachClientsWithTheirNumbers(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	db := w.db(rwUser)
	w.emu.Deny("DeleteAccessKey", "carol")
	w.emu.FailNext("ListAccessKeys", "Throttling", 100)
	_, err := tryRows(db, "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'")
	wantErr(t, err, provider.ErrNumThrottled, "Throttling")
	w.emu.FailNext("ListAccessKeys", "Throttling", 0)
	w.emu.ResetCalls()

	for _, tc := range []struct {
		name, query string
		num         int
		fragments   []string
	}{
		{"quota (CALL)", "CALL create_access_key('us-east-1', 'alice')", provider.ErrNumLimitExceeded, []string{"LimitExceeded"}},
		{"quota (INSERT)", "INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1')", provider.ErrNumLimitExceeded, []string{"LimitExceeded"}},
		{"no such user", "CALL update_access_key('AKIABOB0000000000001', 'Inactive', 'us-east-1', 'nobody')", provider.ErrNumNotFound, []string{"NoSuchEntity", "nobody"}},
		{"access denied", "CALL delete_access_key('AKIACAROL00000000001', 'us-east-1', 'carol')", provider.ErrNumAccessDenied, []string{"AccessDenied"}},
		{"missing region", "SELECT * FROM access_keys WHERE UserName = 'alice'", provider.ErrNumBadParam, []string{"region"}},
		{"invalid status", "UPDATE access_keys SET Status = 'Paused' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", provider.ErrNumBadParam, []string{"Status"}},
		{"unknown table", "SELECT * FROM nothing_here", 1146, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryRows(db, tc.query)
			wantErr(t, err, tc.num, tc.fragments...)
		})
	}
	if n := w.emu.Calls()["CreateAccessKey"]; n != 2 {
		t.Errorf("CreateAccessKey calls: %d, want 2 (one per refused statement, never retried)", n)
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	for _, u := range []User{
		{Name: rwUser.Name, Password: "wrong"},
		{Name: "nobody", Password: rwUser.Password},
		{Name: rwUser.Name, Password: ""},
	} {
		dsn := fmt.Sprintf("%s:%s@tcp(%s)/iam", u.Name, u.Password, w.addr)
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		err = db.PingContext(ctx)
		db.Close()
		wantErr(t, err, 1045, "Access denied", u.Name)
	}
	if err := w.db(rwUser).PingContext(ctx); err != nil {
		t.Fatalf("the right password: %v", err)
	}
	w.logs.waitFor(t, time.Second, "authentication failed", "user=nobody")
	if strings.Contains(w.logs.text(), rwUser.Password) {
		t.Error("a password reached the log")
	}
}

func TestReadOnlyUserCannotChangeIAM(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	ro := w.db(roUser)
	if got := rows(t, ro, "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'"); len(got) != 1 {
		t.Fatalf("a read-only user may read: %v", got)
	}
	for _, q := range []string{
		"DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'",
		"CALL create_access_key('us-east-1', 'dave')",
		"INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
		"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'",
		"CALL update_access_key('AKIABOB0000000000001', 'Inactive', 'us-east-1')",
		"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'",
	} {
		_, err := ro.ExecContext(ctx, q)
		wantErr(t, err, provider.ErrNumReadOnly, "read-only")
	}
	for _, op := range []string{"CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"} {
		if n := w.emu.Calls()[op]; n != 0 {
			t.Errorf("%s was called %d times for a read-only user", op, n)
		}
	}
	// The read-write user on the same server is not affected.
	if _, err := w.db(rwUser).ExecContext(ctx, "CALL update_access_key('AKIABOB0000000000001', 'Inactive', 'us-east-1')"); err != nil {
		t.Fatalf("read-write user: %v", err)
	}
}

func TestReadOnlyServerRefusesInsert(t *testing.T) {
	w := newWorld(t, worldOptions{readOnly: true, Options: Options{Users: []User{rwUser}}})
	_, err := w.db(rwUser).ExecContext(ctx, "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	wantErr(t, err, provider.ErrNumReadOnly, "read-only")
	_, err = w.db(rwUser).ExecContext(ctx, "CALL create_access_key('us-east-1', 'dave')")
	wantErr(t, err, provider.ErrNumReadOnly, "read-only")
	if n := w.emu.Calls()["CreateAccessKey"]; n != 0 {
		t.Errorf("CreateAccessKey called %d times on a read-only server", n)
	}
}

func TestTLSConnectionsAndRequireTLS(t *testing.T) {
	cert := newTestCert(t)
	if err := mysql.RegisterTLSConfig("iamsql-test", cert.clientTLS()); err != nil {
		t.Fatal(err)
	}
	t.Run("optional", func(t *testing.T) {
		w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, TLS: cert.serverTLS(t)}})
		// Over TLS go-sql-driver answers the server's caching_sha2_password.
		if got := rows(t, w.db(rwUser, "tls=iamsql-test"), "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'"); len(got) != 1 {
			t.Fatalf("over TLS: %v", got)
		}
		w.logs.waitFor(t, time.Second, "client connected", "user=admin", "tls=true", "auth=caching_sha2_password")
		// Without TLS the client is switched to mysql_native_password.
		if err := w.db(rwUser, "tls=false").PingContext(ctx); err != nil {
			t.Fatalf("plaintext client on a TLS-optional server: %v", err)
		}
		w.logs.waitFor(t, time.Second, "client connected", "user=admin", "tls=false", "auth=mysql_native_password")
		err := w.db(User{Name: rwUser.Name, Password: "wrong"}, "tls=iamsql-test").PingContext(ctx)
		wantErr(t, err, 1045)
	})
	t.Run("required", func(t *testing.T) {
		w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, TLS: cert.serverTLS(t), RequireTLS: true}})
		err := w.db(rwUser, "tls=false").PingContext(ctx)
		wantErr(t, err, 3159, "TLS")
		if err := w.db(rwUser, "tls=iamsql-test").PingContext(ctx); err != nil {
			t.Fatalf("TLS client on a TLS-only server: %v", err)
		}
	})
	t.Run("require without certificate", func(t *testing.T) {
		_, err := New(nil, Options{Addr: "127.0.0.1:0", RequireTLS: true})
		if !errors.Is(err, ErrRequireTLSWithoutCert) {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestCreatedKeysAreVisibleOnlyToTheirConnection(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	db := w.db(rwUser)
	a, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.ExecContext(ctx, "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(ctx, "INSERT INTO access_keys (UserName, region) VALUES ('erin', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, a, "SELECT UserName FROM created_access_keys"); !reflect.DeepEqual(got, [][]string{{"dave"}}) {
		t.Errorf("connection A sees %v, want only its own key (dave)", got)
	}
	if got := rows(t, b, "SELECT UserName FROM created_access_keys"); !reflect.DeepEqual(got, [][]string{{"erin"}}) {
		t.Errorf("connection B sees %v, want only its own key (erin)", got)
	}
	// Closing A ends its session; the key's secret is gone with it.
	hangUp(a)
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := rows(t, c, "SELECT UserName FROM created_access_keys"); len(got) != 0 {
		t.Errorf("a new connection sees %v", got)
	}
	if got := rows(t, b, "SELECT UserName FROM created_access_keys"); !reflect.DeepEqual(got, [][]string{{"erin"}}) {
		t.Errorf("connection B, after A left, sees %v", got)
	}
}

// hangUp closes a connection for good (database/sql would keep it in
// its pool).
func hangUp(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

// waitRunning waits until n statements run on the server.
func waitRunning(t *testing.T, w *world, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.srv.runningStatements() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d statements running, want %d", w.srv.runningStatements(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentConnectionsGetTheirOwnResults(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	const conns, perConn = 8, 500
	db := w.db(rwUser)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	users := map[string][]string{
		"alice": {"AKIAALICE00000000001", "AKIAALICE00000000002"},
		"bob":   {"AKIABOB0000000000001"},
		"carol": {"AKIACAROL00000000001", "AKIACAROL00000000002"},
		"erin":  {"AKIAERIN000000000001"},
	}
	names := []string{"alice", "bob", "carol", "erin"}
	start := time.Now()
	onEachConn(t, db, conns, func(i int, c *sql.Conn) error {
		for j := range perConn {
			user := names[(i+j)%len(names)]
			if i%2 == 1 {
				user = "alice"
			}
			got, err := tryRows(c, "SELECT AccessKeyId FROM access_keys WHERE region='us-east-1' AND UserName='"+user+"' ORDER BY AccessKeyId")
			if err != nil {
				return fmt.Errorf("conn %d query %d: %w", i, j, err)
			}
			if want := users[user]; !reflect.DeepEqual(column(got, 0), want) {
				return fmt.Errorf("conn %d query %d (%s): got %v, want %v", i, j, user, got, want)
			}
		}
		return nil
	})
	elapsed := time.Since(start)
	t.Logf("%d connections x %d queries in %s: %.0f queries/s", conns, perConn, elapsed, float64(conns*perConn)/elapsed.Seconds())
}

func TestStatementTimeoutCancelsSlowStatement(t *testing.T) {
	w := newWorld(t, worldOptions{latency: 3 * time.Second, Options: Options{Users: []User{rwUser}, StatementTimeout: 200 * time.Millisecond}})
	w.emu.SetCallLog(true)
	start := time.Now()
	_, err := tryRows(w.db(rwUser), "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'")
	wantErr(t, err, provider.ErrNumTimeout, "statement-timeout")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the statement ran %s despite a 200ms timeout", d)
	}
	// The IAM call in flight was abandoned, not waited for.
	waitForCall(t, w, "ListAccessKeys", 0)
	w.logs.waitFor(t, time.Second, "statement failed", "error_code=3024", "cancelled=\"statement timeout\"")
	// The connection stays usable.
	if err := w.db(rwUser).PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClientDisconnectCancelsStatement(t *testing.T) {
	w := newWorld(t, worldOptions{latency: 10 * time.Second, Options: Options{Users: []User{rwUser}, disconnectPoll: 50 * time.Millisecond}})
	w.emu.SetCallLog(true)
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	// go-sql-driver closes the connection when the context ends.
	start := time.Now()
	_, err := w.db(rwUser).QueryContext(qctx, "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'")
	if err == nil {
		t.Fatal("the query finished despite 10s of latency")
	}
	w.logs.waitFor(t, 3*time.Second, "statement failed", "error_code=1317", "cancelled=\"client disconnected\"")
	waitForCall(t, w, "ListAccessKeys", 0)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the statement was cancelled only after %s", d)
	}
}

// waitForCall waits until the emulator logged a call of op answered with
// status (0: abandoned by its client).
func waitForCall(t *testing.T, w *world, op string, status int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range w.emu.CallLog() {
			if c.Op == op && c.Status == status {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s call with status %d: %+v", op, status, w.emu.CallLog())
}

func TestRefusesNonLoopbackWithoutUsers(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if _, err := New(nil, Options{Addr: addr}); !errors.Is(err, ErrNoAuthOffLoopback) {
			t.Errorf("%s without users: %v", addr, err)
		}
	}
	// With users, any address is fine; without, loopback is.
	w := newWorld(t, worldOptions{Options: Options{Addr: "0.0.0.0:0", Users: []User{rwUser}}})
	_, port, _ := net.SplitHostPort(w.addr)
	w.addr = net.JoinHostPort("127.0.0.1", port)
	if err := w.db(rwUser).PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	open := newWorld(t, worldOptions{Options: Options{Addr: "localhost:0"}})
	if err := open.db(User{}).PingContext(ctx); err != nil {
		t.Fatalf("no users on loopback: %v", err)
	}
}

// --max-connections bounds all connections (1040), --max-user-connections
// each user's (1203, a users-file entry may set its own); a refused login
// or a closed connection frees its place.
func TestConnectionLimitsPerUserAndOverall(t *testing.T) {
	users, err := ParseUsers(strings.NewReader("admin:" + rwUser.Password + ":rw max_user_connections=3\nauditor:" + roUser.Password + ":ro\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{Options: Options{Users: users, MaxConnections: 5, MaxUserConnections: 2}})
	open := func(u User) (*sql.Conn, error) {
		db := w.db(u)
		db.SetMaxIdleConns(0)
		return db.Conn(ctx)
	}
	mustOpen := func(u User, what string) *sql.Conn {
		t.Helper()
		c, err := open(u)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	waitConnections := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for w.srv.ln.count() != n {
			if time.Now().After(deadline) {
				t.Fatalf("the server holds %d connections, want %d", w.srv.ln.count(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	ro1 := mustOpen(roUser, "auditor's first connection")
	mustOpen(roUser, "auditor's second connection")
	_, err = open(roUser)
	wantErr(t, err, 1203, "User 'auditor' already has more than 'max_user_connections' active connections (2)")
	w.logs.waitFor(t, 5*time.Second, "connection refused: the user has too many connections", "user=auditor", "max_user_connections=2")
	_, err = open(User{Name: roUser.Name, Password: "wrong"})
	wantErr(t, err, 1045, "Access denied")

	// admin's own limit (3) is above the server's default (2).
	for i := range 3 {
		mustOpen(rwUser, fmt.Sprintf("admin's connection %d", i+1))
	}
	waitConnections(5)
	_, err = open(rwUser)
	wantErr(t, err, 1040, "Too many connections")

	// A closed connection frees its place in both counts.
	hangUp(ro1)
	waitConnections(4)
	_, err = open(rwUser)
	wantErr(t, err, 1203, "'admin' already has more than 'max_user_connections' active connections (3)")
	waitConnections(4)
	ro3 := mustOpen(roUser, "auditor after one of its connections closed")
	if got := rows(t, ro3, "SELECT CURRENT_USER()"); !strings.HasPrefix(got[0][0], "auditor") {
		t.Errorf("CURRENT_USER() = %v", got)
	}
	waitConnections(5)
	_, err = open(roUser)
	wantErr(t, err, 1040, "Too many connections")
}

func TestGracefulShutdownLetsRunningStatementsFinish(t *testing.T) {
	w := newWorld(t, worldOptions{latency: 500 * time.Millisecond, Options: Options{Users: []User{rwUser}}})
	db := w.db(rwUser)
	idle, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	result := make(chan error, 1)
	go func() {
		got, err := tryRows(busy, "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
		if err == nil && len(got) != 1 {
			err = fmt.Errorf("rows %v", got)
		}
		result <- err
	}()
	waitRunning(t, w, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- w.srv.Shutdown(5 * time.Second) }()
	if err := <-result; err != nil {
		t.Fatalf("the running statement did not finish: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", w.addr, time.Second); err == nil {
		t.Error("the server still accepts connections")
	}
	if err := idle.PingContext(ctx); err == nil {
		t.Error("an idle connection survived shutdown")
	}
}

func TestShutdownTimeoutCancelsStatements(t *testing.T) {
	w := newWorld(t, worldOptions{latency: 10 * time.Second, Options: Options{Users: []User{rwUser}}})
	result := make(chan error, 1)
	go func() {
		_, err := tryRows(w.db(rwUser), "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
		result <- err
	}()
	waitRunning(t, w, 1)
	start := time.Now()
	err := w.srv.Shutdown(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "cancelled 1 running statement") {
		t.Errorf("Shutdown: %v", err)
	}
	wantErr(t, <-result, 1053, "shutdown")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
}

func TestClientMetadataQueriesWork(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	for _, tc := range []struct {
		query string
		want  []string // present in the output
	}{
		{"SELECT @@version, @@version_comment", []string{"8.0.31", "iamsql"}},
		{"SELECT DATABASE(), CURRENT_USER()", []string{"iam", "admin"}},
		{"SHOW DATABASES", []string{"iam", "information_schema"}},
		{"SHOW TABLES", []string{"access_keys", "created_access_keys", "users"}},
		{"SHOW FULL TABLES", []string{"access_keys", "BASE TABLE"}},
		{"SHOW TABLE STATUS", []string{"access_keys"}},
		{"SELECT table_name FROM information_schema.tables WHERE table_schema = 'iam'", []string{"access_keys", "users"}},
		{"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'iam' AND table_name = 'access_keys'", []string{"AccessKeyId", "LastUsedDate", "datetime"}},
		{"SHOW FULL COLUMNS FROM access_keys", []string{"AccessKeyId", "varchar(128)", "The ID for this access key"}},
		{"DESCRIBE users", []string{"UserName", "Arn"}},
		{"SHOW CREATE TABLE access_keys", []string{"CREATE TABLE `access_keys`"}},
		{"SHOW INDEX FROM access_keys", []string{"region"}},
		{"SHOW VARIABLES LIKE 'version%'", []string{"version_comment"}},
		{"SHOW PROCEDURE STATUS", []string{"create_access_key", "update_access_key", "delete_access_key", "PROCEDURE"}},
		{"SHOW PROCEDURES", []string{"update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])"}},
		{"SELECT * FROM information_schema.routines", nil},
		{"SHOW WARNINGS", nil},
	} {
		got, err := tryRows(c, tc.query)
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		text := fmt.Sprint(got)
		for _, s := range tc.want {
			if !strings.Contains(text, s) {
				t.Errorf("%s: %q not in %s", tc.query, s, text)
			}
		}
	}
	if calls := w.emu.TotalCalls(); calls != 0 {
		t.Errorf("browsing the schema made %d IAM calls: %v", calls, w.emu.Calls())
	}
}

func TestLogsShowConnectionsAndStatementsButNoSecrets(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	rows(t, c, "CALL create_access_key('us-east-1', 'dave')")
	if _, err := c.ExecContext(ctx, "INSERT INTO access_keys (UserName, region) VALUES ('erin', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	rows(t, c, "SELECT * FROM created_access_keys")
	_, err := tryRows(c, "CALL create_access_key('us-east-1', 'alice')")
	wantErr(t, err, provider.ErrNumLimitExceeded)
	hangUp(c)

	w.logs.waitFor(t, time.Second, "client connected", "user=admin", "remote=127.0.0.1:", "tls=false")
	w.logs.waitFor(t, time.Second, "msg=statement", "kind=CALL", "rows=1")
	w.logs.waitFor(t, time.Second, "msg=statement", "kind=INSERT", "affected=1")
	w.logs.waitFor(t, time.Second, "statement failed", "kind=CALL", "error_code=1226")
	w.logs.waitFor(t, time.Second, "client disconnected", "user=admin", "statements=4")
	log := w.logs.text()
	for _, k := range w.emu.Snapshot().Keys {
		if strings.Contains(log, k.SecretAccessKey) {
			t.Errorf("the secret of %s reached the log", k.AccessKeyID)
		}
	}
	for _, s := range []string{rwUser.Password, "us-east-1", "'dave'", "created_access_keys"} {
		if strings.Contains(log, s) {
			t.Errorf("the log holds statement text or a password (%q):\n%s", s, log)
		}
	}
}

func TestParseUsers(t *testing.T) {
	users, err := ParseUsers(strings.NewReader("# iamsql users\n\nadmin:pa:ss:w0rd:rw\n  auditor:audit:ro  \nci:a b:rw max_user_connections=3\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []User{{Name: "admin", Password: "pa:ss:w0rd"}, {Name: "auditor", Password: "audit", ReadOnly: true},
		{Name: "ci", Password: "a b", MaxConnections: 3}}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("got %+v, want %+v", users, want)
	}
	for _, bad := range []string{
		"admin:pw",           // no access field
		"admin:pw:admin",     // unknown access
		"admin::rw",          // empty password
		":pw:rw",             // empty name
		"a:1:rw\na:2:ro",     // duplicate
		"bad name:pw:rw",     // space in name
		"x'y:pw:ro",          // quote in name
		"admin",              // nothing
		"admin:pw:rw:extra:", // access is after the last colon
		"ci:pw:rw max_user_connections=0",
		"ci:pw:rw max_user_connections=-1",
		"ci:pw:rw max_user_connections=",
		"ci:pw:rw max_connections=2",
		"ci:pw:rw 3",
	} {
		if _, err := ParseUsers(strings.NewReader(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		} else if !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: error %q does not name the line", bad, err)
		}
	}
}

func TestStatementKind(t *testing.T) {
	for q, want := range map[string]string{
		"select 1":                           "SELECT",
		"  /* c */ INSERT INTO x VALUES (1)": "INSERT",
		"-- note\nCALL p()":                  "CALL",
		"# x\n(SELECT 1)":                    "SELECT",
		"EXEC aws.iam_api.access_keys.x":     "EXEC",
		"/* unterminated":                    "?",
		"'quoted'":                           "?",
	} {
		if got := statementKind(q); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestClientsCannotReadOrWriteServerFiles(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	secret := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(secret, []byte("aws_secret_access_key = do-not-serve-me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := tryRows(c, "SELECT LOAD_FILE('"+secret+"')")
	if err == nil && (len(got) != 1 || got[0][0] != "NULL") {
		t.Errorf("LOAD_FILE read a server file: %v", got)
	}
	out := filepath.Join(t.TempDir(), "out.txt")
	if _, err := c.ExecContext(ctx, "SELECT 1 INTO OUTFILE '"+out+"'"); err == nil {
		t.Error("SELECT ... INTO OUTFILE succeeded")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a client wrote a file on the server")
	}
	if _, err := c.ExecContext(ctx, "LOAD DATA INFILE '"+secret+"' INTO TABLE access_keys"); err == nil {
		t.Error("LOAD DATA INFILE succeeded")
	}
	if _, err := c.ExecContext(ctx, "SET GLOBAL secure_file_priv = ''"); err == nil {
		t.Error("a client lifted the file restriction")
	}
}

func TestKillIsLimitedToOwnConnections(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	var adminID, auditorID int
	admin, auditor := w.conn(rwUser), w.conn(roUser)
	if err := admin.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	if err := auditor.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&auditorID); err != nil {
		t.Fatal(err)
	}
	_, err := auditor.ExecContext(ctx, fmt.Sprintf("KILL %d", adminID))
	wantErr(t, err, 1095, "not owner")
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("the other user's connection was killed: %v", err)
	}
	// Killing your own statement (what the mysql CLI's Ctrl-C sends from a
	// second connection) is allowed.
	other := w.conn(roUser)
	if _, err := other.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", auditorID)); err != nil {
		t.Errorf("KILL QUERY of the same user's connection: %v", err)
	}
}

// The engine's own errors and warnings quote the values they reject; over
// the protocol a secret of the connection's keys is replaced in both, in
// an error the statement fails with and in what SHOW WARNINGS answers
// (which clients such as the mariadb CLI fetch after a statement).
func TestSecretsAreScrubbedFromEngineErrorsAndWarnings(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	created := rows(t, c, "CALL create_access_key('us-east-1', 'dave')")
	secret := created[0][4]
	if len(secret) != 40 {
		t.Fatalf("created %v", created)
	}
	_, err := tryRows(c, "SELECT JSON_EXTRACT(SecretAccessKey, '$') FROM created_access_keys")
	wantErr(t, err, 3141, "Invalid JSON text", provider.SecretPlaceholder)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the secret is in the error: %v", err)
	}
	got := rows(t, c, "SELECT CAST(SecretAccessKey AS DATETIME) FROM created_access_keys")
	if len(got) != 1 || got[0][0] != "NULL" {
		t.Fatalf("CAST gave %v", got)
	}
	warnings := rows(t, c, "SHOW WARNINGS")
	if len(warnings) != 1 || !strings.Contains(warnings[0][2], provider.SecretPlaceholder) || strings.Contains(fmt.Sprint(warnings), secret) {
		t.Errorf("SHOW WARNINGS: %v", warnings)
	}
}
