package main

import (
	"context"
	"fmt"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// orgServeOptions are the emulator flags that apply to an organization.
type orgServeOptions struct {
	addr, seed string
	latency    time.Duration
	throttle   float64
}

// serveOrg serves an emulated organization (--seed org:…) until
// interrupted. Flags that describe one account's state are refused.
func serveOrg(ctx context.Context, env *environment, changed []string, o orgServeOptions) error {
	for _, name := range changed {
		switch name {
		case "state", "account-id", "root-access-key-id", "root-secret-access-key", "drop-rate", "answer-delay", "drop-answer", "propagation-delay":
			return errUsage{fmt.Sprintf("emulator: --%s cannot be used with an organization seed (%s) (see iamsql emulator --help)", name, o.seed)}
		}
	}
	org, err := emulator.NewOrg(emulator.OrgOptions{Seed: o.seed, Latency: o.latency, ThrottleRate: o.throttle, Logger: env.logger()})
	if err != nil {
		return errUsage{"emulator: " + err.Error()}
	}
	srv, err := org.Listen(o.addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	mgmt := org.Management()
	id, _ := mgmt.RootCredentials()
	fmt.Fprintf(env.stdout, "IAM emulator listening on %s\n", srv.URL)
	fmt.Fprintf(env.stderr, "organization %s: %d accounts, management account %s, root access key %s; use: aws --endpoint-url %s organizations list-accounts\n",
		org.ID(), len(org.Accounts()), mgmt.AccountID(), id, srv.URL)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
