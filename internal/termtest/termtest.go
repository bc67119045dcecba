// Package termtest runs a program in a pseudo-terminal for tests, as a
// person at a terminal would: it types, reads the screen (without the
// terminal's control sequences) and waits, by polling with a deadline,
// for text to appear.
package termtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Terminal is a program running in a pseudo-terminal.
type Terminal struct {
	t    testing.TB
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	raw  bytes.Buffer
	seen int // how far Expect has read the screen
	done chan struct{}
}

// Start runs cmd in a pseudo-terminal of rows × cols. Without a
// pseudo-terminal the test is skipped, or fails under CI=true. The
// program is killed when the test ends, if it is still running.
func Start(t testing.TB, cmd *exec.Cmd, rows, cols uint16) *Terminal {
	t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal for %s: %v", cmd.Path, err)
		}
		t.Skipf("no pseudo-terminal for %s: %v", cmd.Path, err)
	}
	term := Attach(t, cmd, tty)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		tty.Close()
		<-term.done
	})
	return term
}

// Attach reads the screen of cmd, already started on the pseudo-terminal
// tty; the caller waits for cmd and closes tty (a test that hangs up the
// terminal, or waits for the program itself).
func Attach(t testing.TB, cmd *exec.Cmd, tty *os.File) *Terminal {
	term := &Terminal{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.raw.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

// Closed is closed once the terminal's output has been read to its end.
func (term *Terminal) Closed() <-chan struct{} { return term.done }

// controls are the terminal control sequences a screen is read without:
// CSI sequences (colours, cursor moves, erasing), character set
// selections, carriage returns and bells.
var controls = regexp.MustCompile(`\x1b\[[0-9;?>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r|\a`)

// Screen is everything the program printed so far, without control
// sequences.
func (term *Terminal) Screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return controls.ReplaceAllString(term.raw.String(), "")
}

// Type sends text to the program as keystrokes ("\r" is Enter, "\t"
// Tab, "\x04" Ctrl-D).
func (term *Terminal) Type(text string) {
	term.t.Helper()
	if _, err := term.tty.Write([]byte(text)); err != nil {
		term.t.Fatalf("typing %q: %v", text, err)
	}
}

// Expect waits until want appears on the screen after what earlier
// calls consumed, consumes through it and returns the screen text up to
// the end of want.
func (term *Terminal) Expect(want string, within time.Duration) string {
	term.t.Helper()
	deadline := time.Now().Add(within)
	for {
		screen := term.Screen()
		if i := strings.Index(screen[term.seen:], want); i >= 0 {
			got := screen[term.seen : term.seen+i+len(want)]
			term.seen += i + len(want)
			return got
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("waited %v for %q; the screen after the last match:\n%s", within, want, screen[term.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Exit waits for the program to end and returns its exit code.
func (term *Terminal) Exit(within time.Duration) int {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			term.t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(within):
		term.t.Fatalf("%s did not exit within %v; screen:\n%s", term.cmd.Path, within, term.Screen())
		return -1
	}
}

// Wait is Expect that reports, instead of failing, whether want
// appeared within the time given.
func (term *Terminal) Wait(want string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		screen := term.Screen()
		if i := strings.Index(screen[term.seen:], want); i >= 0 {
			term.seen += i + len(want)
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
