package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestServeReadOnlyRefusesInsert(t *testing.T) {
	addr, stop := serveInProcess(t, "--sandbox", "serve", "--addr", "127.0.0.1:0", "--read-only", "--user", "admin", "--password", "pw")
	db, err := sql.Open("mysql", "admin:pw@tcp("+addr+")/iam")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("SELECT on a read-only server: %d, %v", n, err)
	}
	_, err = db.ExecContext(context.Background(), "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 || !strings.Contains(me.Message, "read-only") {
		t.Errorf("INSERT on a read-only server: %v", err)
	}
	db.Close()
	code, log := stop()
	if code != 0 {
		t.Errorf("exit code %d:\n%s", code, log)
	}
	if !strings.Contains(log, "read_only=true") {
		t.Errorf("the log does not say the server is read-only:\n%s", log)
	}
}

// --max-user-connections reaches the server; a users-file entry's own
// limit stands above it.
func TestServeMaxUserConnections(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("ci:pw:ro max_user_connections=2\nops:pw:ro\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := serveInProcess(t, "--sandbox", "serve", "--addr", "127.0.0.1:0", "--users-file", users, "--max-user-connections", "1")
	ctx := context.Background()
	for user, limit := range map[string]int{"ci": 2, "ops": 1} {
		db, err := sql.Open("mysql", user+":pw@tcp("+addr+")/iam")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for i := range limit {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s, connection %d of %d: %v", user, i+1, limit, err)
			}
			defer c.Close()
		}
		_, err = db.Conn(ctx)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1203 {
			t.Errorf("%s, connection %d: %v, want error 1203", user, limit+1, err)
		}
	}
}

func TestServeWithoutUsersListensOnLoopbackOnly(t *testing.T) {
	t.Setenv("IAMSQL_USER", "")
	t.Setenv("IAMSQL_PASSWORD", "")
	_, stderr, code := cli(t, "", "--sandbox", "serve", "--addr", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "refusing to listen on a non-loopback address without authentication") {
		t.Errorf("0.0.0.0 without users: exit %d, %q", code, stderr)
	}
	addr, stop := serveInProcess(t, "--sandbox", "serve", "--addr", "127.0.0.1:0")
	db, err := sql.Open("mysql", "anyone@tcp("+addr+")/iam")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("loopback without users: %v", err)
	}
	db.Close()
	_, log := stop()
	if !strings.Contains(log, "no users configured") {
		t.Errorf("the log does not warn that no login is required:\n%s", log)
	}
}

func TestServeFlagErrors(t *testing.T) {
	t.Setenv("IAMSQL_USER", "")
	t.Setenv("IAMSQL_PASSWORD", "")
	dir := t.TempDir()
	badUsers := filepath.Join(dir, "users")
	if err := os.WriteFile(badUsers, []byte("admin:pw:rw\nauditor:pw:readonly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--users-file", filepath.Join(dir, "missing")}, "--users-file"},
		{[]string{"--users-file", badUsers}, "line 2: access must be ro or rw"},
		{[]string{"--require-tls"}, "--require-tls needs --tls-cert and --tls-key"},
		{[]string{"--tls-cert", badUsers}, "give both --tls-cert and --tls-key"},
		{[]string{"--tls-cert", badUsers, "--tls-key", badUsers}, "TLS certificate"},
		{[]string{"--password", "pw"}, "a password needs a user"},
		{[]string{"--user", "admin"}, "needs a password"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--statement-timeout", "-1s"}, "must not be negative"},
		{[]string{"--max-user-connections", "-1"}, "must not be negative"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, stderr, code := cli(t, "", append([]string{"--sandbox", "serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q (want %q)", tc.args, code, stderr, tc.want)
		}
	}
	out, _, code := cli(t, "", "serve", "help")
	if code != 0 || !strings.Contains(out, "name:password:ro|rw") {
		t.Errorf("serve help: %d %q", code, out)
	}
}
