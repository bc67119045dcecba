package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/run"
)

// These tests extend TestSecretsReachOnlyTheCreatorsOutput to the
// MySQL-protocol server and the interactive shell: keys are created with
// debug logging and an audit log on, and then every byte iamsql wrote —
// its stdout and stderr, the audit log, every file under its HOME and
// state directories — is searched for the secrets the creator was shown.

// secretsMariaDB is the mariadb CLI: required in CI, else the test is
// skipped when it is missing.
func secretsMariaDB(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/mariadb"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", path, err)
		}
		t.Skipf("%s not installed", path)
	}
	return path
}

// syncBuffer is a bytes.Buffer a process can write while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secretsDir is a directory for one iamsql run: HOME and XDG_STATE_HOME
// inside it, and the audit log's path.
type secretsDir struct {
	root, home, state, audit string
}

func newSecretsDir(t *testing.T) secretsDir {
	t.Helper()
	root := t.TempDir()
	d := secretsDir{root: root, home: filepath.Join(root, "home"), state: filepath.Join(root, "state"), audit: filepath.Join(root, "audit.jsonl")}
	for _, dir := range []string{d.home, d.state} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d secretsDir) env() []string {
	return append(os.Environ(), "HOME="+d.home, "XDG_STATE_HOME="+d.state, "XDG_CONFIG_HOME="+filepath.Join(d.home, ".config"))
}

// wantNoSecretIn fails for each secret found in text.
func wantNoSecretIn(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret (%.4s…) is in %s", s, what)
		}
	}
}

// wantNoSecretInFiles searches every file under root.
func wantNoSecretInFiles(t *testing.T, root string, secrets []string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, rel)
		wantNoSecretIn(t, "file "+rel, string(b), secrets)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// wantAuditRecords checks the audit log has n CreateAccessKey records and
// no secret.
// wantAuditRecords checks the audit log has n CreateAccessKey calls, each
// key with its custody outcome (delivered, or rolled_back), and no secret.
func wantAuditRecords(t *testing.T, path string, n int, secrets []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	outcomes := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Operation, Outcome string
			AccessKeyID        string `json:"access_key_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if rec.Operation == "CreateAccessKey" && rec.AccessKeyID != "" {
			outcomes[rec.AccessKeyID] = append(outcomes[rec.AccessKeyID], rec.Outcome)
		}
	}
	created := 0
	for id, o := range outcomes {
		if o[0] != "ok" {
			continue
		}
		created++
		if len(o) != 2 || (o[1] != "delivered" && o[1] != "rolled_back") {
			t.Errorf("key %s: audit outcomes %v, want ok then delivered or rolled_back", id, o)
		}
	}
	if created != n {
		t.Errorf("audit log has %d created keys, want %d:\n%s", created, n, b)
	}
	wantNoSecretIn(t, "the audit log", string(b), secrets)
}

// TestSecretsThroughTheServerReachOnlyTheClient runs the real binary,
// `iamsql serve --sandbox --debug --audit-log FILE`, creates keys with the
// mariadb CLI — INSERT then SELECT * FROM created_access_keys on the same
// connection, the StackQL INSERT … SELECT, and CALL create_access_key —
// stops the server, and searches the server's stdout and stderr, the
// audit log and every file under its directory for the secrets the CLI
// printed.
func TestSecretsThroughTheServerReachOnlyTheClient(t *testing.T) {
	mariadb := secretsMariaDB(t)
	bin := binary(t)
	d := newSecretsDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--sandbox", "--debug", "--audit-log", d.audit, "--addr", "127.0.0.1:0")
	cmd.Dir = d.root
	cmd.Env = d.env()
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	stdout := &syncBuffer{}
	lines := bufio.NewReader(stdoutPipe)
	first, err := lines.ReadString('\n')
	stdout.Write([]byte(first))
	go func() {
		_, _ = io.Copy(stdout, lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	addr := strings.TrimSpace(strings.TrimPrefix(first, "iamsql serving MySQL protocol on "))
	if err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("first line %q (%v); stderr:\n%s", first, err, stderr)
	}
	host, port, _ := net.SplitHostPort(addr)

	// The client's own HOME is elsewhere: only what iamsql writes counts.
	clientHome := t.TempDir()
	// client runs statements in one mariadb connection; with --force it
	// goes on after an error.
	client := func(sql string, force bool) (string, error) {
		t.Helper()
		args := []string{"--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-u", "anyone", "-B", "-e", sql}
		if force {
			args = append(args, "--force")
		}
		c := exec.CommandContext(ctx, mariadb, args...)
		c.Env = append(os.Environ(), "HOME="+clientHome, "MYSQL_PWD=")
		out, err := c.CombinedOutput()
		return string(out), err
	}
	var secrets []string
	for _, tc := range []struct {
		sql  string
		keys int
	}{
		{"INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'); SELECT * FROM created_access_keys", 1},
		{"INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'bob', 'us-east-1'; SELECT * FROM created_access_keys", 1},
		{"CALL create_access_key('us-east-1', 'dave')", 1},
		// Then failed statements, whose errors the SQL engine's debug
		// log records: a client feeding its new secrets back as values,
		// so that the errors quote them (no IAM call is made for those),
		// and the quota.
		{"INSERT INTO access_keys (UserName, region) VALUES ('erin', 'us-east-1'), ('ci-deploy', 'us-east-1');" +
			"SELECT AccessKeyId, SecretAccessKey FROM created_access_keys;" +
			"CALL create_access_key((SELECT SecretAccessKey FROM created_access_keys LIMIT 1), 'dave');" +
			"SELECT * FROM created_access_keys WHERE CreateDate IN (SELECT SecretAccessKey FROM created_access_keys);" +
			"CALL create_access_key('us-east-1', 'alice')", 2},
	} {
		force := strings.Contains(tc.sql, "alice")
		out, err := client(tc.sql, force)
		if err != nil && !force {
			t.Fatalf("mariadb -e %q: %v\n%s", tc.sql, err, out)
		}
		if force {
			for _, want := range []string{"ERROR 1226", "ERROR 1210", "Incorrect datetime value"} {
				if !strings.Contains(out, want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			}
		}
		found := unique(secretsIn(out))
		if len(found) != tc.keys {
			t.Fatalf("%s: %d secrets in the client's output, want %d:\n%s", tc.sql, len(found), tc.keys, out)
		}
		secrets = append(secrets, found...)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve exited: %v\n%s", err, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still runs 20s after SIGTERM:\n%s", stderr)
	}

	log := stderr.String()
	for _, want := range []string{"level=DEBUG", "msg=statement", "kind=INSERT", "kind=CALL", "error_code=1226", "server stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("the server's stderr lacks %q: debug logging was not on?\n%s", want, log)
		}
	}
	wantNoSecretIn(t, "the server's stderr", log, secrets)
	wantNoSecretIn(t, "the server's stdout", stdout.String(), secrets)
	wantAuditRecords(t, d.audit, 5, secrets) // and the 6th create, refused by IAM (LimitExceeded)
	files := wantNoSecretInFiles(t, d.root, secrets)
	if t.Failed() {
		return
	}
	t.Logf("%d secrets created through the server; none in its stdout (%d bytes), stderr (%d bytes) or files %v",
		len(secrets), len(stdout.String()), len(log), files)
}

// TestSecretsInTheShellReachOnlyTheTerminal runs the interactive shell in
// a pseudo-terminal with --debug and --audit-log, creates keys with CALL
// create_access_key and INSERT, reads created_access_keys, quits, and
// checks the secrets appear on the terminal — and nowhere else: not in
// the debug log lines, the history file, the audit log or any other file.
func TestSecretsInTheShellReachOnlyTheTerminal(t *testing.T) {
	home := t.TempDir()
	audit := filepath.Join(home, "audit.jsonl")
	sh := startShell(t, home, "--sandbox", "--yes", "--debug", "--audit-log", audit)
	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)

	sh.Type("CALL create_access_key('us-east-1', 'dave');\r")
	sh.Expect(run.SecretReminder, wait)
	sh.Expect("iam> ", wait)
	sh.Type("INSERT INTO access_keys (UserName, region) VALUES ('erin', 'us-east-1'), ('bob', 'us-east-1');\r")
	sh.Expect(run.SecretReminder, wait)
	sh.Expect("iam> ", wait)
	sh.Type("INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'ci-deploy', 'us-east-1';\r")
	sh.Expect(run.SecretReminder, wait)
	sh.Expect("iam> ", wait)
	sh.Type("SELECT UserName, SecretAccessKey FROM created_access_keys;\r")
	sh.Expect("| ci-deploy ", wait)
	sh.Expect(run.SecretReminder, wait)
	sh.Expect("iam> ", wait)
	// A secret fed back as a value comes back in the error, on the
	// terminal only.
	sh.Type("CALL create_access_key((SELECT SecretAccessKey FROM created_access_keys LIMIT 1), 'dave');\r")
	sh.Expect("ERROR 1210", wait)
	sh.Expect("iam> ", wait)
	sh.Type("\\q\r")
	sh.Expect("Bye", wait)
	if code := sh.Exit(wait); code != 0 {
		t.Errorf("exit code %d after \\q", code)
	}

	screen := sh.Screen()
	secrets := unique(secretsIn(screen))
	if len(secrets) != 4 {
		t.Fatalf("%d distinct secrets on the terminal, want 4 (dave, erin, bob, ci-deploy):\n%s", len(secrets), screen)
	}
	if !strings.Contains(screen, "level=DEBUG") {
		t.Errorf("no debug log on the terminal: --debug was not on?\n%s", screen)
	}
	// The terminal shows the shell's output and its stderr: the debug
	// log lines among them carry no secret.
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "level=") {
			wantNoSecretIn(t, "a debug log line", l, secrets)
		}
	}
	history, err := os.ReadFile(filepath.Join(home, "state", "iamsql", "history"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CALL create_access_key('us-east-1', 'dave');", "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'ci-deploy', 'us-east-1';"} {
		if !strings.Contains(string(history), want) {
			t.Errorf("the history file lacks %q:\n%s", want, history)
		}
	}
	wantNoSecretIn(t, "the history file", string(history), secrets)
	wantAuditRecords(t, audit, 4, secrets)
	files := wantNoSecretInFiles(t, home, secrets)
	if t.Failed() {
		return
	}
	t.Logf("%d secrets shown on the terminal; none in the debug log lines, the history, the audit log or files %v", len(secrets), files)
}

func unique(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
