package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/iamsql/iamsql/internal/run"
)

// These tests run the real iamsql binary in a pseudo-terminal, as a
// person at a terminal would: they type, press Tab, Ctrl-C and Ctrl-D,
// and read the screen. They wait by polling the output with a deadline.

// shellBinary builds iamsql into a fresh directory.
func shellBinary(t *testing.T) string { return binary(t) }

// shellTerminal is iamsql running in a pseudo-terminal.
type shellTerminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	raw  bytes.Buffer
	seen int // how far expect has read the screen text
}

func startShell(t *testing.T, stateDir string, args ...string) *shellTerminal {
	t.Helper()
	bin := shellBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+stateDir, "XDG_STATE_HOME="+filepath.Join(stateDir, "state"))
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 220})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	st := &shellTerminal{t: t, cmd: cmd, tty: tty}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			st.mu.Lock()
			st.raw.Write(buf[:n])
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		tty.Close()
	})
	return st
}

var terminalControls = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r|\a`)

// screen is everything printed so far, without terminal control codes.
func (s *shellTerminal) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return terminalControls.ReplaceAllString(s.raw.String(), "")
}

func (s *shellTerminal) typeText(text string) {
	s.t.Helper()
	if _, err := s.tty.Write([]byte(text)); err != nil {
		s.t.Fatalf("typing %q: %v", text, err)
	}
}

// expect waits until want appears after what earlier expects consumed,
// and consumes through it; it returns how long it waited.
func (s *shellTerminal) expect(want string, within time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	for {
		screen := s.screen()
		if i := strings.Index(screen[s.seen:], want); i >= 0 {
			s.seen += i + len(want)
			return time.Since(start)
		}
		if time.Since(start) > within {
			s.t.Fatalf("waited %v for %q; the screen after the last match:\n%s", within, want, screen[s.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exit waits for the shell to end and returns its exit code.
func (s *shellTerminal) exit(within time.Duration) int {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(within):
		s.t.Fatalf("the shell did not exit within %v; screen:\n%s", within, s.screen())
		return -1
	}
}

// TestShellInATerminal is a new user's session: the prompt, help,
// DESCRIBE, Tab completion, a query, an error, a multi-line statement, \G, creating,
// disabling and deleting a key, and \q. The history file keeps the
// statements but never the secret.
func TestShellInATerminal(t *testing.T) {
	home := t.TempDir()
	sh := startShell(t, home, "--sandbox")
	const wait = 30 * time.Second
	sh.expect("Type help or \\? for help, \\q to quit.", wait)
	sh.expect("iam> ", wait)

	sh.typeText("help access_keys\r")
	sh.expect("Fields (* = API parameter, usable in WHERE):", wait)
	sh.expect("update_access_key(AccessKeyId, Status, region[, UserName])", wait)
	sh.expect("iam> ", wait)

	sh.typeText("DESCRIBE access_keys;\r")
	sh.expect("| LastUsedServiceName | varchar(64)", wait)
	sh.expect("iam> ", wait)

	// Tab completes the table name: the query runs only if it did.
	sh.typeText("SELECT AccessKeyId, Status FROM access_k\t")
	sh.expect("FROM access_keys", wait)
	sh.typeText(" WHERE region = 'us-east-1' AND UserName = 'alice';\r")
	sh.expect("| AKIAALICE00000000001 | Active   |", wait)
	sh.expect("| AKIAALICE00000000002 | Inactive |", wait)
	sh.expect("iam> ", wait)

	sh.typeText("SELECT * FROM access_keys;\r")
	sh.expect("ERROR 1210 (HY000): access_keys: SELECT requires region (add WHERE region = '…')", wait)
	sh.expect("iam> ", wait)

	sh.typeText("SELECT UserName, Status\r")
	sh.expect("  -> ", wait)
	sh.typeText("FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001'\\G\r")
	sh.expect("UserName: bob\n  Status: Active\n", wait)
	sh.expect("iam> ", wait)

	sh.typeText("CALL create_access_key('us-east-1', 'dave');\r")
	sh.expect(run.SecretReminder, wait)
	screen := sh.screen()
	m := regexp.MustCompile(`\| (AKIA[A-Z0-9]{16}) \| dave +\| Active +\| [0-9-]+ [0-9:]+ +\| ([A-Za-z0-9/+]{40}) \|`).FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("CALL create_access_key printed no key with its secret:\n%s", screen)
	}
	id, secret := m[1], m[2]
	sh.expect("iam> ", wait)

	sh.typeText("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';\r")
	sh.expect("Query OK, 1 row affected", wait)
	sh.typeText("DELETE FROM access_keys WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';\r")
	sh.expect("Query OK, 1 row affected", wait)
	sh.typeText("SELECT COUNT(*) AS dave_keys FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave';\r")
	sh.expect("| dave_keys |", wait)
	sh.expect("| 0         |", wait)
	sh.expect("iam> ", wait)

	sh.typeText("\\q\r")
	sh.expect("Bye", wait)
	if code := sh.exit(wait); code != 0 {
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
	sh.expect("iam> ", wait)

	sh.typeText("SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob';\r")
	sh.expect("UserName = 'bob';\n", wait) // the line was taken: the statement runs
	sh.typeText("\x03")
	if took := sh.expect("Query aborted by Ctrl-C", wait); took > 2*time.Second {
		t.Errorf("Ctrl-C took %v to abort the statement", took)
	}
	sh.expect("iam> ", 2*time.Second)
	if strings.Contains(sh.screen(), "AKIABOB0000000000001") {
		t.Errorf("the aborted statement printed its result")
	}

	sh.typeText("SELECT 'still here' AS shell;\r")
	sh.expect("| still here |", wait)
	sh.expect("iam> ", wait)

	sh.typeText("SELECT 'never run'")
	sh.typeText("\x03")
	sh.expect("^C", wait)
	sh.expect("iam> ", wait)
	sh.typeText("\x04")
	sh.expect("Bye", wait)
	if code := sh.exit(wait); code != 0 {
		t.Errorf("exit code %d after Ctrl-D", code)
	}
	if strings.Contains(sh.screen(), "| never run") {
		t.Errorf("the line cleared with Ctrl-C ran")
	}
}

// TestExecCtrlCStillCancelsAndExitsNonZero: outside the shell, SIGINT
// still cancels the command (and its IAM calls) and exits non-zero.
func TestExecCtrlCStillCancelsAndExitsNonZero(t *testing.T) {
	bin := shellBinary(t)
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
