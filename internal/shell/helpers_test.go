package shell

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// step is one thing the fake terminal does when the shell asks for a
// line: type a line, or press Ctrl-C at the prompt.
type step struct {
	line      string
	interrupt bool
}

// fakeInput is a LineReader that plays steps and records what the shell
// did with it: prompts shown, history entries recalled.
type fakeInput struct {
	mu        sync.Mutex
	steps     []step
	prompts   []string
	history   []string
	completer func(string, int) (string, []string, string)
}

func typed(lines ...string) *fakeInput {
	f := &fakeInput{}
	for _, l := range lines {
		f.steps = append(f.steps, step{line: l})
	}
	return f
}

func (f *fakeInput) ReadLine(prompt string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prompts = append(f.prompts, prompt)
	if len(f.steps) == 0 {
		return "", io.EOF
	}
	s := f.steps[0]
	f.steps = f.steps[1:]
	if s.interrupt {
		return "", ErrInterrupt
	}
	return s.line, nil
}

func (f *fakeInput) AddHistory(entry string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history = append(f.history, entry)
}

func (f *fakeInput) SetCompleter(c func(string, int) (string, []string, string)) { f.completer = c }

// unread is what the shell left unread.
func (f *fakeInput) unread() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.steps)
}

// rig is a shell over a real engine, which reaches a demo-seeded
// emulator through the real AWS SDK.
type rig struct {
	t          *testing.T
	emu        *emulator.Emulator
	in         *fakeInput
	out, err   *bytes.Buffer
	interrupts chan struct{}
	cfg        Config
}

func newRig(t *testing.T, in *fakeInput) *rig {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	clients := sandbox.Clients(emu, awsiam.Options{})
	eng := provider.NewEngine(provider.Config{Clients: clients})
	r := &rig{t: t, emu: emu, in: in, out: &bytes.Buffer{}, err: &bytes.Buffer{}, interrupts: make(chan struct{}, 1)}
	r.cfg = Config{
		Engine: eng, Session: eng.NewSession("test", ""), In: in,
		Out: r.out, Err: r.err, Format: output.Table, Interrupts: r.interrupts,
	}
	return r
}

// run runs the shell to its end and returns Run's error.
func (r *rig) run() error {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return New(r.cfg).Run(ctx)
}

func (r *rig) mustRun() {
	r.t.Helper()
	if err := r.run(); err != nil {
		r.t.Fatalf("Run: %v\nstdout:\n%s\nstderr:\n%s", err, r.out, r.err)
	}
}

func (r *rig) wantOut(subs ...string) {
	r.t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.out.String(), s) {
			r.t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", s, r.out, r.err)
		}
	}
}

func (r *rig) wantErr(subs ...string) {
	r.t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.err.String(), s) {
			r.t.Errorf("stderr lacks %q:\n%s\nstdout:\n%s", s, r.err, r.out)
		}
	}
}

// wantOutWrapped checks stdout ignoring how text was wrapped and aligned.
func (r *rig) wantOutWrapped(subs ...string) {
	r.t.Helper()
	flat := strings.Join(strings.Fields(r.out.String()), " ")
	for _, s := range subs {
		if !strings.Contains(flat, strings.Join(strings.Fields(s), " ")) {
			r.t.Errorf("stdout lacks %q (however wrapped):\n%s", s, r.out)
		}
	}
}
