package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// faultWorld is what one case of the fault matrix runs in: an IAM
// emulator over HTTP of its own, and a directory holding HOME, the state
// directory (and so the custody journal) and the audit log of the iamsql
// process under test. The process gets its AWS configuration from the
// environment built here, not from the test's own, so that cases can run
// in parallel.
type faultWorld struct {
	t   *testing.T
	emu *emulator.Emulator
	srv *emulator.Server

	dir, home, state, audit string

	// before holds the keys that existed when the case began.
	before map[string]bool

	// seen is every key the emulator held at some moment of the case,
	// with its secret: a key created and deleted again during the case is
	// in seen but not in the final state. A poller fills it.
	mu       sync.Mutex
	seen     map[string]emulator.AccessKey
	stopPoll chan struct{}
	polled   chan struct{}
	settled  bool
}

func newFaultWorld(t *testing.T) *faultWorld {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Seed: "demo", CallLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &faultWorld{
		t: t, emu: emu, srv: srv,
		dir: dir, home: filepath.Join(dir, "home"), state: filepath.Join(dir, "state"), audit: filepath.Join(dir, "audit.jsonl"),
		before:   map[string]bool{},
		seen:     map[string]emulator.AccessKey{},
		stopPoll: make(chan struct{}),
		polled:   make(chan struct{}),
	}
	for _, d := range []string{w.home, w.state} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range emu.Snapshot().Keys {
		w.before[k.AccessKeyID] = true
	}
	go w.poll()
	t.Cleanup(func() { w.settle() })
	return w
}

// poll records every key the emulator holds, every 2 ms, until settle.
// A key lives at least one HTTP round trip of iamsql's (its create's
// answer, then the delete), far longer than that.
func (w *faultWorld) poll() {
	defer close(w.polled)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		w.record()
		select {
		case <-w.stopPoll:
			w.record()
			return
		case <-tick.C:
		}
	}
}

func (w *faultWorld) record() {
	keys := w.emu.Snapshot().Keys
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		if !w.before[k.AccessKeyID] {
			w.seen[k.AccessKeyID] = k
		}
	}
}

// settle ends the case's IAM: the emulator stops accepting calls and
// waits for those in progress (a call whose client is gone ends with its
// connection), so that the state is final.
func (w *faultWorld) settle() {
	if w.settled {
		return
	}
	w.settled = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.srv.Shutdown(ctx); err != nil {
		w.t.Errorf("the emulator's calls did not end within 15s after the case: %v", err)
	}
	close(w.stopPoll)
	<-w.polled
}

// seenKeys is a copy of every new key seen during the case.
func (w *faultWorld) seenKeys() map[string]emulator.AccessKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]emulator.AccessKey, len(w.seen))
	for id, k := range w.seen {
		out[id] = k
	}
	return out
}

// env is the environment of the iamsql process: the test's own, without
// any AWS, XDG or iamsql setting, plus the emulator's credentials and the
// case's HOME and state directory.
func (w *faultWorld) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "XDG_") || strings.HasPrefix(name, "IAMSQL_") ||
			name == "HOME" || name == "TERM" || name == "MYSQL_PWD" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+w.home,
		"XDG_STATE_HOME="+w.state,
		"XDG_CONFIG_HOME="+filepath.Join(w.home, ".config"),
		"TERM=xterm",
		"AWS_ACCESS_KEY_ID="+emulator.DefaultRootAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+emulator.DefaultRootSecretAccessKey,
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(w.dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(w.dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// args are iamsql's global flags for the case, then rest.
func (w *faultWorld) args(rest ...string) []string {
	return append([]string{"--endpoint-url", w.srv.URL, "--audit-log", w.audit}, rest...)
}

// journalDir is where the iamsql process keeps its custody journal.
func (w *faultWorld) journalDir() string { return filepath.Join(w.state, "iamsql", "custody") }

// waitUntil polls cond until it holds, or the process ends first
// (exited), or 20 s pass; it reports whether cond held.
func waitUntil(cond func() bool, exited <-chan struct{}) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case <-exited:
			return cond()
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// newKeysOf counts the keys of user that did not exist when the case began.
func (w *faultWorld) newKeysOf(user string) int {
	n := 0
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == user && !w.before[k.AccessKeyID] {
			n++
		}
	}
	return n
}

// calls counts the calls of op, and those of them IAM answered with status.
func (w *faultWorld) calls(op string, status int) (all, answered int) {
	for _, c := range w.emu.CallLog() {
		if c.Op != op {
			continue
		}
		all++
		if c.Status == status {
			answered++
		}
	}
	return all, answered
}
