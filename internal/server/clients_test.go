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
)

const (
	mariadbPath = "/usr/bin/mariadb"
	// The system Python has PyMySQL (python3-pymysql); a python3 earlier
	// on PATH may not.
	pythonPath = "/usr/bin/python3"
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
