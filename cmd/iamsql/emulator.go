package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// emulatorOptions are emulator's flags.
type emulatorOptions struct {
	addr, seed, state, account, rootID, rootSecret string
	latency, propagation                           time.Duration
	throttle, drop                                 float64
	answerDelays                                   map[string]time.Duration
	dropAnswers                                    map[string]int
	// changed names the flags given.
	changed []string
}

// addAnswerDelay takes one --answer-delay OPERATION=DURATION.
func (o *emulatorOptions) addAnswerDelay(s string) error {
	op, v, err := operationValue(s)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: want OPERATION=DURATION with a duration such as 3s", s)
	}
	o.answerDelays[op] = d
	return nil
}

// addDropAnswer takes one --drop-answer OPERATION=N.
func (o *emulatorOptions) addDropAnswer(s string) error {
	op, v, err := operationValue(s)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want OPERATION=N with a count N >= 0", s)
	}
	o.dropAnswers[op] += n
	return nil
}

// cmdEmulator serves the built-in IAM emulator until interrupted.
func cmdEmulator(ctx context.Context, env *environment, o emulatorOptions) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"throttle-rate", o.throttle}, {"drop-rate", o.drop}} {
		if r.v < 0 || r.v > 1 {
			return errUsage{fmt.Sprintf("emulator: --%s must be between 0 and 1", r.name)}
		}
	}
	if strings.HasPrefix(o.seed, "org:") {
		return serveOrg(ctx, env, o.changed, orgServeOptions{addr: o.addr, seed: o.seed, latency: o.latency, throttle: o.throttle})
	}
	emu, err := emulator.New(emulator.Options{
		AccountID: o.account, RootAccessKeyID: o.rootID, RootSecretAccessKey: o.rootSecret,
		Seed: o.seed, StatePath: o.state, Latency: o.latency, ThrottleRate: o.throttle, DropRate: o.drop,
		Logger: env.logger(),
	})
	if err != nil {
		return errUsage{"emulator: " + err.Error()}
	}
	if o.propagation < 0 {
		return errUsage{"emulator: --propagation-delay must not be negative"}
	}
	emu.SetPropagationDelay(o.propagation)
	for op, d := range o.answerDelays {
		emu.SetAnswerDelay(op, d)
	}
	for op, n := range o.dropAnswers {
		emu.DropNextAnswer(op, n)
	}
	srv, err := emu.Listen(o.addr)
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
