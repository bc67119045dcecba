package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
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
	answerDelays := map[string]time.Duration{}
	fs.Func("answer-delay", "", func(s string) error {
		op, v, err := operationValue(s)
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: want OPERATION=DURATION with a duration such as 3s", s)
		}
		answerDelays[op] = d
		return nil
	})
	dropAnswers := map[string]int{}
	fs.Func("drop-answer", "", func(s string) error {
		op, v, err := operationValue(s)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: want OPERATION=N with a count N >= 0", s)
		}
		dropAnswers[op] += n
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.stdout, emulatorUsage)
			return nil
		}
		return errUsage{"emulator: " + err.Error() + "\n" + emulatorUsage}
	}
	if fs.NArg() == 1 && fs.Arg(0) == "help" {
		fmt.Fprint(env.stdout, emulatorUsage)
		return nil
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
	if strings.HasPrefix(*seed, "org:") {
		return serveOrg(ctx, env, fs, orgServeOptions{addr: *addr, seed: *seed, latency: *latency, throttle: *throttle})
	}
	emu, err := emulator.New(emulator.Options{
		AccountID: *account, RootAccessKeyID: *rootID, RootSecretAccessKey: *rootSecret,
		Seed: *seed, StatePath: *state, Latency: *latency, ThrottleRate: *throttle, DropRate: *drop,
		Logger: env.logger(),
	})
	if err != nil {
		return errUsage{"emulator: " + err.Error()}
	}
	for op, d := range answerDelays {
		emu.SetAnswerDelay(op, d)
	}
	for op, n := range dropAnswers {
		emu.DropNextAnswer(op, n)
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

// operationValue splits a per-operation flag value OPERATION=VALUE and
// checks that the emulator implements the operation.
func operationValue(s string) (op, v string, err error) {
	op, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("%q: want OPERATION=VALUE, e.g. CreateAccessKey=3s", s)
	}
	if ops := emulator.Operations(); !slices.Contains(ops, op) {
		return "", "", fmt.Errorf("%q: unknown operation %q (one of %s)", s, op, strings.Join(ops, ", "))
	}
	return op, v, nil
}

const emulatorUsage = `Usage: iamsql emulator [--addr HOST:PORT] [--seed demo|org:N|org:NxUSERS|org:demo] [--state FILE]
                       [--account-id ID] [--root-access-key-id ID] [--root-secret-access-key SECRET]
                       [--latency 50ms] [--throttle-rate 0.3] [--drop-rate 0.1]
                       [--answer-delay OPERATION=DURATION]... [--drop-answer OPERATION=N]...
       iamsql emulator help

Serves an emulated IAM account over HTTP (the IAM Query API, SigV4-signed)
for the aws CLI, an SDK or iamsql --endpoint-url.

Flags:
  --addr HOST:PORT                 listen address (default 127.0.0.1:4566; port 0 picks a free one)
  --seed demo                      start from the demo account instead of an empty one
  --seed org:N, org:NxUSERS        serve an AWS Organization of N accounts (the first the management
                                   account), each with USERS users of one key (default 10), with STS
                                   and Organizations; members have OrganizationAccountAccessRole
  --seed org:demo                  the demo organization (--sandbox --org): the demo account and four
                                   members with varied findings
  --state FILE                     load the account from FILE and save it there after every change (0600)
  --account-id ID                  the 12-digit account id (default 123456789012)
  --root-access-key-id ID, --root-secret-access-key SECRET
                                   the root user's signing key (default: AWS's documentation example key)

Fault injection, for testing clients:
  --latency D                      wait D before carrying out each call; a client that gives up
                                   during D has its call not carried out
  --throttle-rate F                answer a fraction F (0..1) of calls with Throttling, doing nothing
  --drop-rate F                    carry out a fraction F (0..1) of calls, then close the connection
                                   without an answer
  --answer-delay OPERATION=D       carry out each OPERATION call and commit its change, then hold the
                                   answer for D; a client that gives up during D never gets it, but the
                                   change stands. A very large D (e.g. 24h) is an answer that never
                                   comes. Repeatable, once per operation, e.g.
                                   --answer-delay CreateAccessKey=3s --answer-delay DeleteAccessKey=1h
  --drop-answer OPERATION=N        carry out the next N OPERATION calls, then close each connection
                                   without an answer. Repeatable, e.g. --drop-answer CreateAccessKey=1
`
