package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// cmdEmulator serves the built-in IAM emulator until interrupted.
func cmdEmulator(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:4566", "")
	seed := fs.String("seed", "", "")
	state := fs.String("state", "", "")
	account := fs.String("account-id", "", "")
	rootID := fs.String("root-access-key-id", "", "")
	rootSecret := fs.String("root-secret-access-key", "", "")
	latency := fs.Duration("latency", 0, "")
	throttle := fs.Float64("throttle-rate", 0, "")
	drop := fs.Float64("drop-rate", 0, "")
	if err := fs.Parse(args); err != nil {
		return errUsage{"emulator: " + err.Error() + "\n" + emulatorUsage}
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Sprintf("emulator: unexpected argument %q\n%s", fs.Arg(0), emulatorUsage)}
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"throttle-rate", *throttle}, {"drop-rate", *drop}} {
		if r.v < 0 || r.v > 1 {
			return errUsage{fmt.Sprintf("emulator: --%s must be between 0 and 1", r.name)}
		}
	}
	emu, err := emulator.New(emulator.Options{
		AccountID: *account, RootAccessKeyID: *rootID, RootSecretAccessKey: *rootSecret,
		Seed: *seed, StatePath: *state, Latency: *latency, ThrottleRate: *throttle, DropRate: *drop,
		Logger: env.logger(),
	})
	if err != nil {
		return errUsage{"emulator: " + err.Error()}
	}
	srv, err := emu.Listen(*addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	id, _ := emu.RootCredentials()
	fmt.Fprintf(env.stdout, "IAM emulator listening on %s\n", srv.URL)
	fmt.Fprintf(env.stderr, "account %s, root access key %s; use: aws --endpoint-url %s iam list-users\n", emu.AccountID(), id, srv.URL)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

const emulatorUsage = `Usage: iamsql emulator [--addr HOST:PORT] [--seed demo] [--state FILE]
                       [--account-id ID] [--root-access-key-id ID] [--root-secret-access-key SECRET]
                       [--latency 50ms] [--throttle-rate 0.3] [--drop-rate 0.1]`
