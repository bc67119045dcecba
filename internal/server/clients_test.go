package server

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/termtest"
)

const (
	mariadbPath = "/usr/bin/mariadb"
	// The system Python has PyMySQL (python3-pymysql); a python3 earlier
	// on PATH may not.
	pythonPath = "/usr/bin/python3"
	mycliPath  = "/usr/bin/mycli"
)

// mariadb runs the mariadb CLI in batch mode against w as user u and
// returns its stdout, stderr and exit code.
func (w *world) mariadb(t *testing.T, u User, args ...string) (string, string, int) {
	t.Helper()
	bin := requireTool(t, mariadbPath)
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(bin, append([]string{"--no-defaults", "-h", host, "-P", port, "-u", u.Name, "-B"}, args...)...)
	// MYSQL_PWD keeps the password off the command line.
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+u.Password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("mariadb: %v", err)
		}
		code = ee.ExitCode()
	}
	t.Logf("$ mariadb %s\n%s%s(exit %d)", strings.Join(args, " "), stdout.String(), stderr.String(), code)
	return stdout.String(), stderr.String(), code
}

func TestMariaDBCLI(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	plain := "--skip-ssl"

	out, _, code := w.mariadb(t, rwUser, plain, "-e", "SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
	want := "UserName\tAccessKeyId\tStatus\nalice\tAKIAALICE00000000001\tActive\nalice\tAKIAALICE00000000002\tInactive\n"
	if code != 0 || out != want {
		t.Fatalf("SELECT: got %q, want %q", out, want)
	}

	// INSERT, then read the secret in the same connection.
	out, _, code = w.mariadb(t, rwUser, plain, "-vv", "--show-warnings", "-e",
		"INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'); SELECT UserName, AccessKeyId, SecretAccessKey FROM created_access_keys")
	if code != 0 {
		t.Fatalf("INSERT exited %d", code)
	}
	if !strings.Contains(out, "Query OK, 1 row affected, 1 warning") || !strings.Contains(out, "Note (Code 4100)") {
		t.Errorf("INSERT should report 1 row and the note: %s", out)
	}
	var daveKey string
	for id, secret := range secretsOf(w) {
		if strings.Contains(out, "dave\t"+id+"\t"+secret+"\n") {
			daveKey = id
		}
	}
	if daveKey == "" {
		t.Fatalf("created_access_keys did not show dave's new key with its secret:\n%s", out)
	}

	// A new connection has no created keys.
	if out, _, _ = w.mariadb(t, rwUser, plain, "-N", "-e", "SELECT COUNT(*) FROM created_access_keys"); out != "0\n" {
		t.Errorf("created_access_keys in a new connection: %q", out)
	}

	_, _, code = w.mariadb(t, rwUser, plain, "-e", "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '"+daveKey+"' AND region = 'us-east-1'")
	if st := keyStatus(w, daveKey); code != 0 || st != "Inactive" {
		t.Errorf("UPDATE: exit %d, key is %q", code, st)
	}
	_, _, code = w.mariadb(t, rwUser, plain, "-e", "DELETE FROM access_keys WHERE AccessKeyId = '"+daveKey+"' AND region = 'us-east-1'")
	if st := keyStatus(w, daveKey); code != 0 || st != "" {
		t.Errorf("DELETE: exit %d, key is %q", code, st)
	}

	_, stderr, code := w.mariadb(t, rwUser, plain, "-e", "CALL create_access_key('us-east-1', 'alice')")
	if code == 0 || !regexp.MustCompile(`(?m)^ERROR 1226 \(42000\) at line 1: .*LimitExceeded`).MatchString(stderr) {
		t.Errorf("quota error: exit %d, %q", code, stderr)
	}
	_, stderr, code = w.mariadb(t, roUser, plain, "-e", "DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")
	if code == 0 || !regexp.MustCompile(`(?m)^ERROR 1290 \(HY000\) at line 1: .*read-only`).MatchString(stderr) {
		t.Errorf("read-only DELETE: exit %d, %q", code, stderr)
	}
	_, stderr, code = w.mariadb(t, User{Name: rwUser.Name, Password: "wrong"}, plain, "-e", "SELECT 1")
	if code == 0 || !strings.HasPrefix(stderr, "ERROR 1045 (28000)") {
		t.Errorf("wrong password: exit %d, %q", code, stderr)
	}

	// What a GUI or the CLI's own banner asks.
	out, _, _ = w.mariadb(t, rwUser, plain, "-N", "-e", "SELECT @@version, @@version_comment, DATABASE(); SHOW TABLES; SHOW DATABASES")
	for _, s := range []string{"iamsql", "access_keys", "created_access_keys", "information_schema"} {
		if !strings.Contains(out, s) {
			t.Errorf("metadata output lacks %q: %s", s, out)
		}
	}
}

func TestMariaDBCLIOverTLS(t *testing.T) {
	cert := newTestCert(t)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, TLS: cert.serverTLS(t), RequireTLS: true}})
	out, _, code := w.mariadb(t, rwUser, "--ssl-ca="+cert.certFile, "--ssl-verify-server-cert", "-N", "-e", "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if code != 0 || out != "AKIABOB0000000000001\n" {
		t.Fatalf("over TLS: exit %d, %q", code, out)
	}
	w.logs.waitFor(t, time.Second, "client connected", "user=admin", "tls=true", "auth=caching_sha2_password")
	_, stderr, code := w.mariadb(t, rwUser, "--skip-ssl", "-e", "SELECT 1")
	if code == 0 || !strings.Contains(stderr, "3159") {
		t.Errorf("plaintext client on a TLS-only server: exit %d, %q", code, stderr)
	}
}

func TestPyMySQLClient(t *testing.T) {
	python := requireTool(t, pythonPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(python, "testdata/pymysql_client.py", host, port, rwUser.Name, rwUser.Password, roUser.Name, roUser.Password)
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s testdata/pymysql_client.py\n%s", python, out)
	if err != nil {
		if strings.Contains(string(out), "No module named 'pymysql'") && os.Getenv("CI") != "true" {
			t.Skip("PyMySQL is not installed (apt-get install python3-pymysql)")
		}
		t.Fatalf("pymysql_client.py: %v", err)
	}
	secrets := secretsOf(w)
	for _, who := range []string{"DAVE_KEY", "ERIN_KEY"} {
		m := regexp.MustCompile(who + ` (\S+) (\S+)`).FindStringSubmatch(string(out))
		if m == nil || secrets[m[1]] != m[2] {
			t.Errorf("%s: the secret PyMySQL received is not the one IAM issued (%v)", who, m)
		}
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" {
		t.Errorf("bob's key after EXEC: %s", st)
	}
}

// cliKey finds, on a client's screen, the key created for user with its
// secret: the row of created_access_keys the client printed.
func cliKey(t *testing.T, w *world, screen, user string) string {
	t.Helper()
	for id, secret := range secretsOf(w) {
		if regexp.MustCompile(`\|\s*` + regexp.QuoteMeta(id) + `\s*\|\s*` + regexp.QuoteMeta(user) + `\s*\|.*\|\s*` + regexp.QuoteMeta(secret) + `\s*\|`).MatchString(screen) {
			return id
		}
	}
	t.Fatalf("the screen shows no key of %s with the secret IAM issued:\n%s", user, screen)
	return ""
}

// TestMariaDBCLIInATerminal is the mariadb CLI as people run it: in a
// terminal, connected to iam, without -A, so that it reads the fields of
// every table at connect for its completion (COM_FIELD_LIST). Reading
// them makes no IAM call; then a query, Tab completion of a table name,
// SQL-level PREPARE and EXECUTE, an UPDATE with its "Rows matched" line,
// and an INSERT whose key and secret are read from created_access_keys
// (so the key is kept when the client quits) each get their own answer.
func TestMariaDBCLIInATerminal(t *testing.T) {
	bin := requireTool(t, mariadbPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(bin, "--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-u", rwUser.Name, "iam")
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+rwUser.Password, "TERM=xterm", "HOME="+t.TempDir())
	term := termtest.Start(t, cmd, 50, 200)
	const wait = 10 * time.Second
	prompt := "MySQL [iam]> "

	term.Expect("Reading table information for completion", wait)
	term.Expect(prompt, wait)
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("reading the tables' fields at connect made %d IAM calls: %v", n, w.emu.Calls())
	}

	term.Type("SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId;\r")
	out := term.Expect(prompt, wait)
	for _, want := range []string{"| alice    | AKIAALICE00000000001 | Active   |", "| alice    | AKIAALICE00000000002 | Inactive |", "2 rows in set"} {
		if !strings.Contains(out, want) {
			t.Errorf("SELECT: %q not on the screen:\n%s", want, out)
		}
	}

	// Tab completes the table name from what the CLI read at connect.
	term.Type("SELECT COUNT(*) AS created FROM created_acc\t")
	term.Expect("created_access_keys", wait)
	term.Type(";\r")
	if out := term.Expect(prompt, wait); !regexp.MustCompile(`\|\s+0 \|`).MatchString(out) {
		t.Errorf("SELECT COUNT(*) FROM the completed table name:\n%s", out)
	}

	term.Type("PREPARE s FROM 'SELECT UserName FROM access_keys WHERE region = ? AND AccessKeyId = ?';\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 0 rows affected") || !strings.Contains(out, "Statement prepared") || strings.Contains(out, "ERROR") {
		t.Errorf("PREPARE:\n%s", out)
	}
	term.Type("SET @r = 'us-east-1', @k = 'AKIABOB0000000000001';\r")
	term.Expect(prompt, wait)
	term.Type("EXECUTE s USING @r, @k;\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "| bob      |") || !strings.Contains(out, "1 row in set") {
		t.Errorf("EXECUTE:\n%s", out)
	}
	term.Type("DEALLOCATE PREPARE s;\r")
	term.Expect(prompt, wait)

	term.Type("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 1 row affected") || !strings.Contains(out, "Rows matched: 1  Changed: 1  Warnings: 0") {
		t.Errorf("UPDATE:\n%s", out)
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" {
		t.Errorf("bob's key after the UPDATE: %q", st)
	}

	term.Type("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 1 row affected, 1 warning") {
		t.Errorf("INSERT:\n%s", out)
	}
	term.Type("SELECT * FROM created_access_keys;\r")
	out = term.Expect(prompt, wait)
	if !strings.Contains(out, "1 row in set") {
		t.Errorf("SELECT * FROM created_access_keys:\n%s", out)
	}
	daveKey := cliKey(t, w, out, "dave")

	term.Type("\\q\r")
	term.Expect("Bye", wait)
	if code := term.Exit(wait); code != 0 {
		t.Errorf("mariadb exited %d", code)
	}
	w.logs.waitFor(t, wait, "client disconnected")
	if st := keyStatus(w, daveKey); st != "Active" {
		t.Errorf("dave's key, whose secret the CLI showed, is %q after the CLI quit; want it kept", st)
	}
	if strings.Contains(term.Screen(), "ERROR") {
		t.Errorf("the session shows an error:\n%s", term.Screen())
	}
}

// TestMycliInATerminal is mycli (Debian's package) in a terminal: it
// connects to iam and refreshes its completions in the background (table
// and column names from information_schema, and users and SHOW topics
// from the mysql database, which iamsql does not have) without an IAM
// call; then a query, Tab completion of a table name, and an INSERT read
// back from created_access_keys.
func TestMycliInATerminal(t *testing.T) {
	bin := requireTool(t, mycliPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	home := t.TempDir()
	cmd := exec.Command(bin, "-h", host, "-P", port, "-u", rwUser.Name, "--password", rwUser.Password, "iam")
	// No cursor position requests: the test answers none.
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+home, "PROMPT_TOOLKIT_NO_CPR=1", "LANG=C.UTF-8")
	cmd.Dir = home
	term := termtest.Start(t, cmd, 50, 200)
	const wait = 15 * time.Second

	term.Expect(":iam>", wait)

	// Tab takes the table name from the completion menu, once mycli
	// shows it: the tables were read.
	term.Type("SELECT COUNT(*) AS created FROM created_acc")
	term.Expect("created_access_keys", wait)
	term.Type("\t")
	term.Expect("ess_keys", wait) // what the terminal is told to add
	term.Type(";\r")
	out := term.Expect("Time: ", wait)
	if !strings.Contains(out, "FROM created_access_keys;") || !regexp.MustCompile(`\| created \|\s+\+-+\+\s+\| 0\s+\|`).MatchString(out) {
		t.Errorf("SELECT COUNT(*) FROM the completed table name:\n%s", out)
	}
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("connecting and reading the completions made %d IAM calls: %v", n, w.emu.Calls())
	}

	term.Type("SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId;\r")
	out = term.Expect("Time: ", wait)
	for _, want := range []string{"| alice    | AKIAALICE00000000001 | Active   |", "| alice    | AKIAALICE00000000002 | Inactive |", "2 rows in set"} {
		if !strings.Contains(out, want) {
			t.Errorf("SELECT: %q not on the screen:\n%s", want, out)
		}
	}

	term.Type("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\r")
	if out := term.Expect("Time: ", wait); !strings.Contains(out, "Query OK, 1 row affected") {
		t.Errorf("INSERT:\n%s", out)
	}
	term.Type("SELECT * FROM created_access_keys;\r")
	out = term.Expect("Time: ", wait)
	daveKey := cliKey(t, w, out, "dave")

	term.Type("\x04") // Ctrl-D
	term.Expect("Goodbye!", wait)
	if code := term.Exit(wait); code != 0 {
		t.Errorf("mycli exited %d", code)
	}
	w.logs.waitFor(t, wait, "client disconnected")
	if st := keyStatus(w, daveKey); st != "Active" {
		t.Errorf("dave's key, whose secret mycli showed, is %q after mycli quit; want it kept", st)
	}
}
