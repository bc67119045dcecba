package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveAddrLine is what `iamsql serve` prints on stdout once it listens.
var serveAddrLine = regexp.MustCompile(`^iamsql serving MySQL protocol on (\S+)$`)

// serveBinaryPath builds iamsql into a fresh directory.
func serveBinaryPath(t *testing.T) string { return binary(t) }

// serveTool returns the path of a client program, skipping the test when
// it is missing, except in CI (where .ci/run installs it).
func serveTool(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", path, err)
		}
		t.Skipf("%s not installed", path)
	}
	return path
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// servedBinary is an `iamsql serve` process.
type servedBinary struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	// exited receives the process's end.
	exited chan error
	addr   string
}

// startServeBinary starts bin with args (and env added to the test's)
// and waits for the line with its address; the process is killed when
// the test ends.
func startServeBinary(t *testing.T, bin string, env []string, args ...string) *servedBinary {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &servedBinary{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no address line; stderr:\n%s", s.stderr)
	}
	m := serveAddrLine.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("first line %q", lines.Text())
	}
	s.addr = m[1]
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return s
}

// serveMariaDB runs the mariadb CLI in batch mode.
func serveMariaDB(t *testing.T, addr, user, password string, args ...string) (string, string, int) {
	t.Helper()
	bin := serveTool(t, "/usr/bin/mariadb")
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-u", user, "-B"}, args...)...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("mariadb: %v", err)
		}
		code = ee.ExitCode()
	}
	t.Logf("$ mariadb -u %s %s\n%s%s(exit %d)", user, strings.Join(args, " "), stdout.String(), stderr.String(), code)
	return stdout.String(), stderr.String(), code
}

// TestServeBinaryWithMariaDBClient runs the real binary, `iamsql serve
// --sandbox --addr 127.0.0.1:0`, with users from the environment and a
// users file, drives it with the mariadb CLI and stops it with SIGTERM.
func TestServeBinaryWithMariaDBClient(t *testing.T) {
	serveTool(t, "/usr/bin/mariadb")
	bin := serveBinaryPath(t)
	usersFile := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(usersFile, []byte("# read-only auditors\nauditor:audit-pw:ro\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServeBinary(t, bin, []string{"IAMSQL_USER=admin", "IAMSQL_PASSWORD=admin-pw"}, "serve", "--sandbox", "--addr", "127.0.0.1:0", "--users-file", usersFile)
	cmd, stderr, exited, addr := s.cmd, s.stderr, s.exited, s.addr

	out, _, code := serveMariaDB(t, addr, "admin", "admin-pw", "-e", "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
	if code != 0 || out != "AccessKeyId\tStatus\nAKIAALICE00000000001\tActive\nAKIAALICE00000000002\tInactive\n" {
		t.Fatalf("SELECT: %q", out)
	}
	out, _, code = serveMariaDB(t, addr, "admin", "admin-pw", "-N", "-e",
		"INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1'; SELECT UserName, AccessKeyId, SecretAccessKey FROM created_access_keys")
	secret := regexp.MustCompile(`^dave\tAKIA\w{16}\t(\S{40})\n$`).FindStringSubmatch(out)
	if code != 0 || secret == nil {
		t.Fatalf("INSERT then created_access_keys: %q", out)
	}
	_, errOut, code := serveMariaDB(t, addr, "admin", "admin-pw", "-e", "CALL create_access_key('us-east-1', 'alice')")
	if code == 0 || !strings.Contains(errOut, "ERROR 1226 (42000)") {
		t.Errorf("third key for alice: exit %d, %q", code, errOut)
	}
	_, errOut, code = serveMariaDB(t, addr, "auditor", "audit-pw", "-e", "DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")
	if code == 0 || !strings.Contains(errOut, "ERROR 1290 (HY000)") {
		t.Errorf("read-only user's DELETE: exit %d, %q", code, errOut)
	}
	_, errOut, code = serveMariaDB(t, addr, "admin", "wrong", "-e", "SELECT 1")
	if code == 0 || !strings.Contains(errOut, "ERROR 1045 (28000)") {
		t.Errorf("wrong password: exit %d, %q", code, errOut)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM; stderr:\n%s", stderr)
	}
	log := stderr.String()
	t.Logf("server log:\n%s", log)
	for _, want := range []string{"msg=listening", "client connected", "user=auditor", "read_only=true", "authentication failed", "error_code=1226", "shutting down", "server stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q", want)
		}
	}
	if strings.Contains(log, secret[1]) || strings.Contains(log, "admin-pw") {
		t.Error("a secret or password reached the server log")
	}
}

// serveInProcess runs `iamsql serve` through runCLI until the test ends
// and returns its address, and a function that stops it and returns its
// exit code and stderr.
func serveInProcess(t *testing.T, args ...string) (addr string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- runCLI(ctx, args, strings.NewReader(""), pw, stderr)
	}()
	var once sync.Once
	code := -1
	stop = func() (int, string) {
		once.Do(func() {
			cancel()
			code = <-done
		})
		return code, stderr.String()
	}
	t.Cleanup(func() { stop() })
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		c, e := stop()
		t.Fatalf("serve exited %d before listening:\n%s", c, e)
	}
	m := serveAddrLine.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("first line %q", lines.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return m[1], stop
}
