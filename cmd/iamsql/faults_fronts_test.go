package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/iamsql/iamsql/internal/termtest"
)

// The front ends of the fault matrix, each run as the real binary: exec,
// a script on stdin, the interactive shell in a pseudo-terminal, and
// serve with the mariadb CLI as its client. Each starts iamsql, waits for
// the case's moment by watching the emulator, delivers the fault the way
// it comes in life, and returns what the creator received and the user
// was told.

// signalOf is the signal of a fault that is one.
var signalOf = map[faultKind]syscall.Signal{
	faultINT: syscall.SIGINT, faultTERM: syscall.SIGTERM, faultHUP: syscall.SIGHUP,
	faultQUIT: syscall.SIGQUIT, faultKILL: syscall.SIGKILL,
}

// process is a started program and the channel closed when it ended.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	// ended is when it ended; secondAt when a second signal was sent.
	ended, secondAt time.Time
}

func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// wait waits for the process to end, killing it (and failing the case)
// after within.
func (p *process) wait(t *testing.T, what string, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Errorf("%s did not end within %v", what, within)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return exitCodeOf(p.err)
}

// signal sends sig, and with second a second one after a human's pause.
func (p *process) signal(sig syscall.Signal, second bool) {
	_ = p.cmd.Process.Signal(sig)
	if second && sig != syscall.SIGKILL {
		time.Sleep(300 * time.Millisecond)
		p.secondAt = time.Now()
		_ = p.cmd.Process.Signal(sig)
	}
}

// afterSecond is how long the process lived after a second signal (0
// without one); call it once the process ended.
func (p *process) afterSecond() time.Duration {
	if p.secondAt.IsZero() {
		return 0
	}
	return p.ended.Sub(p.secondAt)
}

// atMoment waits for the case's moment (nothing to wait for when the
// fault is IAM's alone or a statement timeout) and then runs inject. The
// case fails when the statement ended before its moment came.
func atMoment(t *testing.T, w *faultWorld, c faultCase, exited <-chan struct{}, inject func()) {
	t.Helper()
	if c.fault == faultNone || c.fault == faultTimeout {
		return
	}
	if !waitUntil(func() bool { return c.sc.moment(w) }, exited) {
		t.Errorf("the moment %q never came (calls %v); the fault was not delivered", c.sc.name, w.emu.Calls())
		return
	}
	inject()
}

// runExecCase runs `iamsql exec SQL`.
func runExecCase(t *testing.T, w *faultWorld, c faultCase) faultOutcome {
	cmd := exec.Command(binary(t), w.args("exec", c.sql())...)
	return runCommandCase(t, w, c, cmd)
}

// runScriptCase runs `iamsql < script.sql`: the statements on standard
// input, as mysql runs them.
func runScriptCase(t *testing.T, w *faultWorld, c faultCase) faultOutcome {
	cmd := exec.Command(binary(t), w.args()...)
	cmd.Stdin = strings.NewReader(c.sql() + ";\n")
	return runCommandCase(t, w, c, cmd)
}

func runCommandCase(t *testing.T, w *faultWorld, c faultCase, cmd *exec.Cmd) faultOutcome {
	t.Helper()
	cmd.Env = w.env()
	cmd.Dir = w.dir
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	p := startProcess(t, cmd)
	atMoment(t, w, c, p.exited, func() { p.signal(signalOf[c.fault], c.second) })
	code := p.wait(t, "iamsql", time.Minute)
	return faultOutcome{
		received: stdout.String(), told: stderr.String(), private: stderr.String(),
		exit: code, userGone: c.fault == faultKILL, afterSecond: p.afterSecond(),
	}
}

// runShellCase types the statement into the interactive shell running in
// a pseudo-terminal. Ctrl-C and Ctrl-\ are typed (the terminal turns them
// into SIGINT and SIGQUIT); a hang-up closes the terminal; TERM and KILL
// come from outside.
func runShellCase(t *testing.T, w *faultWorld, c faultCase) faultOutcome {
	// --yes: the cases create several keys at once, which the shell
	// would otherwise ask about (shell_flow_test.go tests that).
	cmd := exec.Command(binary(t), w.args("--yes")...)
	cmd.Env = w.env()
	cmd.Dir = w.dir
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 250})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	sh := termtest.Attach(t, cmd, tty)
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		tty.Close()
	})

	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)
	sh.Type(c.sql() + ";\r")
	hungUp := false
	atMoment(t, w, c, p.exited, func() {
		key := map[faultKind]string{faultINT: "\x03", faultQUIT: "\x1c"}[c.fault]
		switch {
		case key != "":
			sh.Type(key)
			if c.second {
				time.Sleep(300 * time.Millisecond)
				p.secondAt = time.Now()
				sh.Type(key)
			}
		case c.fault == faultHUP:
			// The terminal goes away: the kernel sends SIGHUP, and
			// writes to it fail from then on. (Closing the master while
			// the reader is blocked in it takes effect only once its
			// read returns, so the signal is sent as the kernel would.)
			hungUp = true
			_ = cmd.Process.Signal(syscall.SIGHUP)
			tty.Close()
			if c.second {
				time.Sleep(300 * time.Millisecond)
				p.secondAt = time.Now()
				_ = cmd.Process.Signal(syscall.SIGHUP)
			}
		default:
			p.signal(signalOf[c.fault], c.second)
		}
	})
	var afterSecond time.Duration
	if c.fault == faultNone || c.fault == faultINT {
		// The statement ended and the shell goes on: leave it.
		sh.Expect("iam> ", time.Minute)
		if !p.secondAt.IsZero() {
			afterSecond = time.Since(p.secondAt)
		}
		sh.Type("\\q\r")
	}
	code := p.wait(t, "the shell", time.Minute)
	if afterSecond == 0 {
		afterSecond = p.afterSecond()
	}
	if !hungUp {
		select {
		case <-sh.Closed():
		case <-time.After(5 * time.Second):
		}
	}
	screen := sh.Screen()
	return faultOutcome{
		received: screen, told: screen,
		exit: code, confirmed: hungUp, userGone: hungUp || c.fault == faultKILL,
		afterSecond: afterSecond,
	}
}

// runServeCase runs `iamsql serve` and the mariadb CLI, which sends the
// statement and then reads created_access_keys on the same connection
// (--force: after an error too). A signal goes to the server (INT, TERM,
// HUP and QUIT stop it gracefully, letting the statement finish within
// --shutdown-timeout), a disconnect kills the client, a shutdown is
// SIGTERM with a --shutdown-timeout short enough to cancel the statement,
// a timeout is --statement-timeout. The server is stopped at the end, so
// that what it does when connections close is done.
func runServeCase(t *testing.T, w *faultWorld, c faultCase) faultOutcome {
	mariadb := serveTool(t, "/usr/bin/mariadb")
	args := w.args("serve", "--addr", "127.0.0.1:0")
	switch c.fault {
	case faultTimeout:
		args = append(args, "--statement-timeout", c.sc.timeout.String())
	case faultShutdown:
		args = append(args, "--shutdown-timeout", "100ms")
	}
	srvCmd := exec.Command(binary(t), args...)
	srvCmd.Env = w.env()
	srvCmd.Dir = w.dir
	stdoutPipe, err := srvCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvOut, srvErr lockedBuffer
	srvCmd.Stderr = &srvErr
	srv := startProcess(t, srvCmd)
	lines := bufio.NewReader(stdoutPipe)
	first, err := lines.ReadString('\n')
	srvOut.Write([]byte(first))
	go func() { _, _ = io.Copy(&srvOut, lines) }()
	m := serveAddrLine.FindStringSubmatch(strings.TrimSpace(first))
	if m == nil {
		t.Fatalf("serve's first line %q (%v); stderr:\n%s", first, err, srvErr.String())
	}
	host, port, _ := net.SplitHostPort(m[1])

	clientHome := filepath.Join(w.dir, "client")
	if err := os.MkdirAll(clientHome, 0o700); err != nil {
		t.Fatal(err)
	}
	// Statements on stdin, one a line: with -e, --force would not go on
	// after an error.
	clientCmd := exec.Command(mariadb, "--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-u", "faults", "-B", "--force")
	script := c.sql() + ";\n"
	if !c.unread {
		script += "SELECT AccessKeyId, SecretAccessKey FROM created_access_keys;\n"
	}
	clientCmd.Stdin = strings.NewReader(script)
	clientCmd.Env = append(os.Environ(), "HOME="+clientHome, "MYSQL_PWD=")
	var clientOut, clientErr lockedBuffer
	clientCmd.Stdout, clientCmd.Stderr = &clientOut, &clientErr
	client := startProcess(t, clientCmd)

	either := make(chan struct{})
	go func() {
		select {
		case <-client.exited:
		case <-srv.exited:
		}
		close(either)
	}()
	signalled := false
	atMoment(t, w, c, either, func() {
		switch c.fault {
		case faultDisconnect:
			_ = clientCmd.Process.Kill()
		case faultShutdown:
			signalled = true
			srv.signal(syscall.SIGTERM, c.second)
		default:
			signalled = true
			srv.signal(signalOf[c.fault], c.second)
		}
	})
	client.wait(t, "the mariadb client", time.Minute)
	if !signalled {
		// The server settles the connection (its unread keys) before it
		// logs the close; only then is it stopped, by one signal.
		closed := waitUntil(func() bool { return strings.Contains(srvErr.String(), "client disconnected") }, srv.exited)
		if !closed {
			t.Errorf("the server did not log the client's disconnection within 20s")
		}
		_ = srvCmd.Process.Signal(syscall.SIGTERM)
	}
	code := srv.wait(t, "iamsql serve", time.Minute)
	return faultOutcome{
		received:    clientOut.String(),
		told:        clientErr.String() + "\n" + srvErr.String(),
		private:     srvErr.String() + srvOut.String(),
		exit:        code,
		confirmed:   true,
		userGone:    c.fault == faultKILL,
		afterSecond: srv.afterSecond(),
	}
}
