package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/iamsql/iamsql/provider"
)

// interrupts routes the signals that end a command: SIGINT (Ctrl-C),
// SIGTERM, SIGHUP (the terminal or ssh session closed) and SIGQUIT
// (Ctrl-\). The first cancels the command's context: statements stop,
// and a key a statement created meanwhile reaches its creator or is
// deleted again (secret custody). A second one also cuts that custody
// work short (provider.WithHardStop): whatever is left is named on
// stderr, in the audit log and in the custody journal.
//
// While the interactive shell has claimed it, Ctrl-C goes to the shell
// instead, which cancels the running statement and keeps going.
type interrupts struct {
	sig    chan os.Signal
	cancel context.CancelFunc
	hard   context.CancelFunc

	mu      sync.Mutex
	claimed chan struct{}
	fired   bool
}

type interruptsKey struct{}

// withInterrupts starts routing the signals; the returned context is
// cancelled by the first one nobody claimed and carries the hard stop.
func withInterrupts(parent context.Context) (context.Context, *interrupts) {
	ctx, cancel := context.WithCancel(parent)
	hard, hardCancel := context.WithCancel(context.WithoutCancel(parent))
	in := &interrupts{sig: make(chan os.Signal, 4), cancel: cancel, hard: hardCancel}
	signal.Notify(in.sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	// A write to a closed pipe fails with EPIPE instead of killing the
	// process, so a secret that cannot be written is known not delivered.
	signal.Ignore(syscall.SIGPIPE)
	go in.route()
	ctx = provider.WithHardStop(ctx, hard)
	return context.WithValue(ctx, interruptsKey{}, in), in
}

func interruptsFrom(ctx context.Context) *interrupts {
	in, _ := ctx.Value(interruptsKey{}).(*interrupts)
	return in
}

func (in *interrupts) route() {
	for s := range in.sig {
		in.mu.Lock()
		c, fired := in.claimed, in.fired
		if c == nil || s != os.Interrupt {
			in.fired = true
		}
		in.mu.Unlock()
		if s == os.Interrupt && c != nil {
			select {
			case c <- struct{}{}:
			default: // one pending Ctrl-C is enough
			}
			continue
		}
		if fired {
			in.hard()
		}
		in.cancel()
	}
}

// claim sends SIGINT to the returned channel until release is called.
func (in *interrupts) claim() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	in.mu.Lock()
	in.claimed = c
	in.mu.Unlock()
	return c, func() {
		in.mu.Lock()
		in.claimed = nil
		in.mu.Unlock()
	}
}

func (in *interrupts) stop() {
	signal.Stop(in.sig)
	close(in.sig)
	in.hard()
}
