package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/run"
	"github.com/iamsql/iamsql/internal/termtest"
)

// These tests run the real iamsql binary in a pseudo-terminal, as a
// person at a terminal would: they type, press Tab, Ctrl-C and Ctrl-D,
// and read the screen. They wait by polling the output with a deadline.

// startShell runs iamsql with args in a pseudo-terminal, its state in
// stateDir.
func startShell(t *testing.T, stateDir string, args ...string) *termtest.Terminal {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+stateDir, "XDG_STATE_HOME="+filepath.Join(stateDir, "state"))
	return termtest.Start(t, cmd, 50, 220)
}

// TestShellInATerminal is a new user's session: the prompt, help,
// DESCRIBE, Tab completion, a query, an error, a multi-line statement, \G, creating,
// disabling and deleting a key, and \q. The history file keeps the
// statements but never the secret.
func TestShellInATerminal(t *testing.T) {
	home := t.TempDir()
	sh := startShell(t, home, "--sandbox")
	const wait = 30 * time.Second
	sh.Expect("Type help or \\? for help, \\q to quit.", wait)
	sh.Expect("iam> ", wait)

	sh.Type("help access_keys\r")
	sh.Expect("Fields (* = API parameter, usable in WHERE):", wait)
	sh.Expect("update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])", wait)
	sh.Expect("iam> ", wait)

	sh.Type("DESCRIBE access_keys;\r")
	sh.Expect("| LastUsedServiceName | varchar(64)", wait)
	sh.Expect("iam> ", wait)

	// Tab completes the table name: the query runs only if it did.
	sh.Type("SELECT AccessKeyId, Status FROM access_k\t")
	sh.Expect("FROM access_keys", wait)
	sh.Type(" WHERE region = 'us-east-1' AND UserName = 'alice';\r")
	sh.Expect("| AKIAALICE00000000001 | Active   |", wait)
	sh.Expect("| AKIAALICE00000000002 | Inactive |", wait)
	sh.Expect("iam> ", wait)

	sh.Type("SELECT * FROM access_keys;\r")
	sh.Expect("ERROR 1210 (HY000): access_keys: SELECT requires region (add WHERE region = '…')", wait)
	sh.Expect("iam> ", wait)

	sh.Type("SELECT UserName, Status\r")
	sh.Expect("  -> ", wait)
	sh.Type("FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001'\\G\r")
	sh.Expect("UserName: bob\n  Status: Active\n", wait)
	sh.Expect("iam> ", wait)

	sh.Type("CALL create_access_key('us-east-1', 'dave');\r")
	sh.Expect(run.SecretReminder, wait)
	screen := sh.Screen()
	m := regexp.MustCompile(`\| (AKIA[A-Z0-9]{16}) \| dave +\| Active +\| [0-9-]+ [0-9:]+ +\| ([A-Za-z0-9/+]{40}) \|`).FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("CALL create_access_key printed no key with its secret:\n%s", screen)
	}
	id, secret := m[1], m[2]
	sh.Expect("iam> ", wait)

	sh.Type("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';\r")
	sh.Expect("Query OK, 1 row affected", wait)
	sh.Type("DELETE FROM access_keys WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';\r")
	sh.Expect("Query OK, 1 row affected", wait)
	sh.Type("SELECT COUNT(*) AS dave_keys FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave';\r")
	sh.Expect("| dave_keys |", wait)
	sh.Expect("| 0         |", wait)
	sh.Expect("iam> ", wait)

	sh.Type("\\q\r")
	sh.Expect("Bye", wait)
	if code := sh.Exit(wait); code != 0 {
		t.Errorf("exit code %d after \\q", code)
	}

	path := filepath.Join(home, "state", "iamsql", "history")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("the secret reached the history file:\n%s", b)
	}
	for _, want := range []string{
		"help access_keys\n",
		"SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';\n",
		"SELECT UserName, Status FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001'\\G\n",
		"CALL create_access_key('us-east-1', 'dave');\n",
		`\q` + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("history file lacks %q:\n%s", want, b)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, mode %v, want 0600", err, st.Mode().Perm())
	}
}

// TestShellInATerminalCtrlC: with every IAM call taking 5 seconds, Ctrl-C
// ends a running statement within a second or two and the shell goes on;
// Ctrl-C at the prompt clears the line; Ctrl-D quits.
func TestShellInATerminalCtrlC(t *testing.T) {
	sh := startShell(t, t.TempDir(), "--sandbox", "--sandbox-latency", "5s")
	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)

	sh.Type("SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob';\r")
	sh.Expect("UserName = 'bob';\n", wait) // the line was taken: the statement runs
	sh.Type("\x03")
	pressed := time.Now()
	sh.Expect("Query aborted by Ctrl-C", wait)
	if took := time.Since(pressed); took > 2*time.Second {
		t.Errorf("Ctrl-C took %v to abort the statement", took)
	}
	sh.Expect("iam> ", 2*time.Second)
	if strings.Contains(sh.Screen(), "AKIABOB0000000000001") {
		t.Errorf("the aborted statement printed its result")
	}

	sh.Type("SELECT 'still here' AS shell;\r")
	sh.Expect("| still here |", wait)
	sh.Expect("iam> ", wait)

	sh.Type("SELECT 'never run'")
	sh.Type("\x03")
	sh.Expect("^C", wait)
	sh.Expect("iam> ", wait)
	sh.Type("\x04")
	sh.Expect("Bye", wait)
	if code := sh.Exit(wait); code != 0 {
		t.Errorf("exit code %d after Ctrl-D", code)
	}
	if strings.Contains(sh.Screen(), "| never run") {
		t.Errorf("the line cleared with Ctrl-C ran")
	}
}

// TestExecCtrlCStillCancelsAndExitsNonZero: outside the shell, SIGINT
// still cancels the command (and its IAM calls) and exits non-zero.
func TestExecCtrlCStillCancelsAndExitsNonZero(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "--sandbox", "--sandbox-latency", "10s", "-o", "csv", "exec",
		"SELECT 'ready' AS r; SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	stuck := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer stuck.Stop()
	// Once the first statement's row is out, main has taken SIGINT and
	// the slow statement is running.
	var got bytes.Buffer
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), "ready\n") {
		n, err := stdout.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stdout %q: %v", got.String(), err)
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want exit code 1", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("exec did not stop within 5s of SIGINT")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("exec took %v to stop after SIGINT", d)
	}
	if !strings.Contains(stderr.String(), "ERROR 1317 (70100): ") {
		t.Errorf("stderr %q", stderr.String())
	}
}
