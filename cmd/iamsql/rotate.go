package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/rotate"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

const rotateLong = `Rotates access keys safely: check there is room for a new key, create it,
deliver its secret to the sink, verify it signs as its user, deactivate the
old key (at once or after --grace) and delete it after --delete-after unless
something used it after the switch. Dry run unless --apply: prints the plan
and changes nothing. Every step is recorded in the rotation ledger (never a
secret), so --continue (from cron) runs the steps that are due and resumes a
rotation a crash interrupted.

What to rotate: --user NAME [--key AKIA…], --self (the caller's own key) or
--select "SQL" (every key a query returns: columns UserName and AccessKeyId).
Later steps: --continue, --finish ID, --rollback ID, --list.
Durations: 90s, 36h, 7d. The global --audit-log records each step as a JSON line.`

// newRotateCommand declares `iamsql rotate`.
func newRotateCommand(env *environment) *cobra.Command {
	f := &rotateFlags{grace: durationFlag{d: 7 * 24 * time.Hour}, deleteAfter: durationFlag{d: 7 * 24 * time.Hour}}
	c := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate access keys safely: plan, --apply, --continue, --finish, --rollback",
		Long:  rotateLong,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return cmdRotate(cmd.Context(), env, f)
		},
	}
	fs := c.Flags()
	fs.StringArrayVar(&f.users, "user", nil, "rotate this user's key (`NAME`; repeatable)")
	fs.StringArrayVar(&f.keys, "key", nil, "the key to rotate (`KEY_ID`) when the user has two")
	fs.BoolVar(&f.self, "self", false, "rotate the caller's own key")
	fs.StringVar(&f.sel, "select", "", "rotate every key a query returns (`SQL` with columns UserName and AccessKeyId)")
	fs.BoolVar(&f.apply, "apply", false, "carry the plan out")
	fs.BoolVar(&f.cont, "continue", false, "run the due steps of every open rotation")
	fs.StringVar(&f.finish, "finish", "", "deactivate and delete now (still only if unused since the switch) rotation `ID`")
	fs.StringVar(&f.rollback, "rollback", "", "reactivate the old key and delete the new one (while both exist) of rotation `ID`")
	fs.BoolVar(&f.list, "list", false, "the ledger's rotations")
	fs.StringVar(&f.sink, "sink", "", "where the new secret goes (required to apply): stdout, file:PATH, profile:NAME, secretsmanager:NAME; {user} in it stands for each key's user")
	fs.Var(&f.grace, "grace", "wait before deactivating the old key (0 = at once)")
	fs.Var(&f.deleteAfter, "delete-after", "wait after deactivating before deleting; at least 4h (GetAccessKeyLastUsed's lag) unless --force")
	fs.BoolVar(&f.force, "force", false, "with --apply or --finish: delete the old key without waiting for GetAccessKeyLastUsed's lag (about 4h after deactivation), which may miss a use made just before deactivation")
	fs.Var(&f.makeRoom, "make-room", "allow deleting a user's inactive second key unused for at least this long")
	fs.IntVar(&f.limit, "limit", 0, "rotate (or continue) at most `N` keys")
	fs.StringVar(&f.region, "region", "us-east-1", "region parameter of the IAM calls, and Secrets Manager's `region`")
	fs.StringVar(&f.account, "account", "", "the account `ID` to rotate in (required with --org: a rotation acts in one account)")
	fs.StringVar(&f.ledger, "ledger", "", "the ledger `FILE` (default ~/.iamsql/rotations.json, or IAMSQL_ROTATION_LEDGER)")
	fs.Var(&f.propagation, "propagation-wait", "how long the new key is retried while IAM propagates it (0: 30s)")
	return c
}

// durationFlag reads durations with a day unit (7d) besides Go's.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string { return rotate.FormatDuration(f.d) }
func (f *durationFlag) Type() string   { return "duration" }
func (f *durationFlag) Set(s string) error {
	d, err := rotate.ParseDuration(s)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

type rotateFlags struct {
	users, keys                  []string
	self, apply, cont, list      bool
	force                        bool
	sel, sink, finish, rollback  string
	region, ledger, account      string
	grace, deleteAfter, makeRoom durationFlag
	propagation                  durationFlag
	limit                        int
}

// check refuses flags that do not make one rotation command.
func (f *rotateFlags) check() error {
	modes := 0
	for _, on := range []bool{len(f.users) > 0 || f.self || f.sel != "", f.cont, f.finish != "", f.rollback != "", f.list} {
		if on {
			modes++
		}
	}
	switch {
	case modes != 1:
		return errUsage{"rotate: say what to do: --user NAME, --self or --select SQL (a plan, --apply to carry it out), or --continue, --finish ID, --rollback ID, --list (iamsql rotate help)"}
	case (f.self && (len(f.users) > 0 || f.sel != "")) || (len(f.users) > 0 && f.sel != ""):
		return errUsage{"rotate: give one of --user, --self and --select"}
	case len(f.keys) > 0 && len(f.users) != 1 && !f.self:
		return errUsage{"rotate: --key goes with one --user (or --self)"}
	case len(f.keys) > 1:
		return errUsage{"rotate: one --key per rotation; use --select for several"}
	case f.apply && f.sink == "":
		return errUsage{"rotate: --apply needs --sink (" + rotate.SinkKinds + ")"}
	case f.force && !f.apply && f.finish == "":
		return errUsage{"rotate: --force goes with --apply or --finish"}
	case f.limit < 0:
		return errUsage{"rotate: --limit must not be negative"}
	case f.makeRoom.set && f.makeRoom.d == 0:
		return errUsage{"rotate: --make-room needs how long the inactive key must be unused, e.g. --make-room 30d"}
	}
	return nil
}

// rotateAWS is what a rotation talks to: IAM, and the configuration the
// verifier and Secrets Manager are made from.
type rotateAWS struct {
	iam      awsiam.AccessKeysAPI
	cfg      aws.Config
	endpoint string
	// callerKeyID signs the IAM calls; iamWith makes a client for another key.
	callerKeyID string
	iamWith     func(id, secret string) awsiam.AccessKeysAPI
}

func (e *environment) rotateAWS(ctx context.Context, account string) (*rotateAWS, error) {
	if e.org {
		return e.rotateAWSInMember(ctx, account)
	}
	if e.sandbox {
		if e.endpointURL != "" || e.profile != "" {
			return nil, errUsage{"--sandbox cannot be combined with --endpoint-url or --profile"}
		}
		emu, err := emulator.New(emulator.Options{Seed: "demo", Logger: e.logger()})
		if err != nil {
			return nil, err
		}
		id, secret := emu.RootCredentials()
		cfg := aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: emu.Transport()},
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}
		return e.finishRotateAWS(ctx, cfg, "http://sandbox.iamsql.invalid")
	}
	clients := awsiam.NewClients(awsiam.Options{Profile: e.profile, EndpointURL: e.endpointURL})
	cfg, err := clients.Config(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil && e.endpointURL != "" {
		cfg.HTTPClient = emulator.NewHTTPClient()
	}
	return e.finishRotateAWS(ctx, cfg, e.endpointURL)
}

func (e *environment) finishRotateAWS(ctx context.Context, cfg aws.Config, endpoint string) (*rotateAWS, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	newIAM := func(c aws.Config) awsiam.AccessKeysAPI {
		return iam.NewFromConfig(c, func(o *iam.Options) {
			o.Region = "us-east-1"
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
	}
	a := &rotateAWS{iam: newIAM(cfg), cfg: cfg, endpoint: endpoint}
	if creds, err := cfg.Credentials.Retrieve(ctx); err == nil {
		a.callerKeyID = creds.AccessKeyID
	}
	a.iamWith = func(id, secret string) awsiam.AccessKeysAPI {
		c := cfg.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
		return newIAM(c)
	}
	return a, nil
}

func (a *rotateAWS) secretsManager(region string) rotate.SecretsManagerAPI {
	return secretsmanager.NewFromConfig(a.cfg, func(o *secretsmanager.Options) {
		o.Region = region
		if a.endpoint != "" {
			o.BaseEndpoint = aws.String(a.endpoint)
		}
	})
}

// rotateAWSInMember is --org's: the member account's role assumed with
// the management account's credentials (in the sandbox, the demo
// organization's member, in process).
func (e *environment) rotateAWSInMember(ctx context.Context, account string) (*rotateAWS, error) {
	base := awsiam.NewClients(awsiam.Options{Profile: e.profile, EndpointURL: e.endpointURL})
	endpoint := e.endpointURL
	if e.sandbox {
		if e.endpointURL != "" || e.profile != "" {
			return nil, errUsage{"--sandbox cannot be combined with --endpoint-url or --profile"}
		}
		if e.sandboxOrgEmu == nil {
			if _, err := e.sandboxOrg(); err != nil {
				return nil, err
			}
		}
		if e.sandboxOrgEmu.Account(account) == nil {
			return nil, errUsage{fmt.Sprintf("rotate: the demo organization has no account %s (iamsql --sandbox --org exec \"SELECT Id, Name FROM accounts\")", account)}
		}
		id, secret := e.sandboxOrgEmu.Management().RootCredentials()
		cfg := aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: e.sandboxOrgEmu.Transport()},
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}
		endpoint = "http://sandbox.iamsql.invalid"
		base = awsiam.NewClients(awsiam.Options{Config: &cfg, EndpointURL: endpoint})
	}
	member, err := base.AssumeRole(ctx, "arn:aws:iam::"+account+":role/"+e.orgRole, e.orgExternalID, e.accountMaxAttempts, 0)
	if err != nil {
		return nil, fmt.Errorf("rotate: account %s: %w", account, err)
	}
	cfg, err := member.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotate: account %s: %w", account, err)
	}
	if cfg.HTTPClient == nil && endpoint != "" {
		cfg.HTTPClient = emulator.NewHTTPClient()
	}
	return e.finishRotateAWS(ctx, cfg, endpoint)
}

// account is the caller's account id and whether it is the root user
// (one GetCallerIdentity).
func (a *rotateAWS) account(ctx context.Context) (string, bool, error) {
	out, err := sts.NewFromConfig(a.cfg, func(o *sts.Options) {
		if a.endpoint != "" {
			o.BaseEndpoint = aws.String(a.endpoint)
		}
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", false, fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	return aws.ToString(out.Account), strings.HasSuffix(aws.ToString(out.Arn), ":root"), nil
}

func cmdRotate(ctx context.Context, env *environment, f *rotateFlags) error {
	switch {
	case env.profiles != "":
		return errUsage{"rotate: with --profiles, rotate in one account at a time: its --profile NAME"}
	case env.org && f.account == "":
		return errUsage{"rotate: in org mode a rotation acts in one account, which --account ID names (it never spans several accounts)"}
	case f.account != "":
		if err := schema.Validate(schema.AccountIDColumn, f.account); err != nil {
			return errUsage{"rotate: --account: " + err.Error()}
		}
	}
	ledgerPath := f.ledger
	if ledgerPath == "" && env.sandbox {
		// The sandbox account lives as long as the process.
		dir, err := os.MkdirTemp("", "iamsql-sandbox-rotations")
		if err != nil {
			return err
		}
		env.closers = append(env.closers, func() { _ = os.RemoveAll(dir) })
		ledgerPath = filepath.Join(dir, "rotations.json")
	}
	if ledgerPath == "" {
		var err error
		if ledgerPath, err = rotate.DefaultLedgerPath(); err != nil {
			return err
		}
	}
	ledger, err := rotate.OpenLedger(ledgerPath)
	if err != nil {
		return err
	}
	if f.list {
		return printRotations(env.stdout, ledger.Records(), time.Now())
	}
	a, err := env.rotateAWS(ctx, f.account)
	if err != nil {
		return err
	}
	journal, err := env.custodyJournal()
	if err != nil {
		return err
	}
	// A rotation a crash interrupted left its create pending in the
	// custody journal; --continue clears it once the key is settled.
	var custodyDir string
	if journal != nil {
		if custodyDir, err = custody.DefaultDir(); err != nil {
			return err
		}
	}
	audit, err := env.rotationAudit()
	if err != nil {
		return err
	}
	account, root, err := a.account(ctx)
	if err != nil {
		return err
	}
	if f.account != "" && account != f.account {
		return fmt.Errorf("rotate: --account %s, but the credentials sign for account %s", f.account, account)
	}
	sinks := rotate.SinkOptions{Stdout: env.stdout, SecretsManager: a.secretsManager(f.region)}
	r, err := rotate.New(rotate.Options{
		IAM: a.iam, IAMWith: a.iamWith, CallerKeyID: a.callerKeyID,
		Verify: rotate.STSVerifier(a.cfg, a.endpoint), Ledger: ledger, Journal: journal, CustodyDir: custodyDir,
		Sinks: sinks, Audit: audit, Region: f.region, Account: account,
		Grace: f.grace.d, DeleteAfter: f.deleteAfter.d, ForceDelete: f.force,
		MakeRoom: f.makeRoom.set, MakeRoomAfter: f.makeRoom.d,
		PropagationWait: f.propagation.d,
		CallerIsRoot:    root, AllowRootKeys: env.allowRootKeys,
		// A second signal cuts the custody wait (signals.go).
		HardStop: provider.HardStop(ctx),
	})
	if err != nil {
		return errUsage{"rotate: " + err.Error()}
	}
	switch {
	case f.cont:
		recs, err := r.Continue(ctx, f.limit)
		_ = printRotations(env.stdout, recs, time.Now())
		return err
	case f.finish != "":
		rec, err := r.Finish(ctx, f.finish, f.force)
		_ = printRotations(env.stdout, []rotate.Record{rec}, time.Now())
		return err
	case f.rollback != "":
		rec, err := r.Rollback(ctx, f.rollback)
		_ = printRotations(env.stdout, []rotate.Record{rec}, time.Now())
		return err
	}
	// The sink is chosen, and checked, before anything else happens: one
	// per key when it names {user}.
	perUser := strings.Contains(f.sink, userPlaceholder)
	sinkFor := func(user string) (rotate.Sink, error) {
		sink, err := rotate.ParseSink(strings.ReplaceAll(f.sink, userPlaceholder, user), sinks)
		if err != nil {
			return nil, errUsage{"rotate: " + err.Error()}
		}
		return sink, sink.Check(ctx)
	}
	if f.sink != "" && !perUser {
		if _, err := sinkFor(""); err != nil {
			return err
		}
	}
	targets, err := rotateTargets(ctx, env, f)
	if err != nil {
		return err
	}
	if kind, _, _ := strings.Cut(f.sink, ":"); f.apply && len(targets) > 1 && !perUser && kind != "stdout" {
		return errUsage{fmt.Sprintf("rotate: --sink %s would receive the secret of each of %d keys, each overwriting the one before: name each key's place with %s, e.g. --sink 'secretsmanager:iam/%s' or --sink 'file:%s.csv'",
			f.sink, len(targets), userPlaceholder, userPlaceholder, userPlaceholder)}
	}
	plans, err := r.Plan(ctx, targets)
	if err != nil {
		return err
	}
	if !f.apply {
		fmt.Fprintln(env.stdout, "Dry run: nothing was changed. Run again with --apply (and --sink) to rotate.")
		if f.account != "" {
			fmt.Fprintf(env.stdout, "Account %s.\n", f.account)
		}
		printPlans(env.stdout, plans, f.limit)
		return nil
	}
	// Every key's sink is checked before the first key is rotated.
	planSinks := make([]rotate.Sink, len(plans))
	for i, p := range plans {
		if p.Blocked == "" {
			if planSinks[i], err = sinkFor(p.User); err != nil {
				return err
			}
		}
	}
	var errs []error
	done := 0
	for i, p := range plans {
		if p.Blocked != "" {
			errs = append(errs, fmt.Errorf("%s %s: %s", p.User, p.OldKeyID, p.Blocked))
			continue
		}
		if f.limit > 0 && done >= f.limit {
			fmt.Fprintf(env.stdout, "%s %s: not rotated (--limit %d)\n", p.User, p.OldKeyID, f.limit)
			continue
		}
		if ctx.Err() != nil {
			fmt.Fprintf(env.stdout, "%s %s: not rotated (interrupted)\n", p.User, p.OldKeyID)
			continue
		}
		done++
		rec, err := r.Apply(ctx, p, planSinks[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", p.User, p.OldKeyID, err))
		}
		if rec.ID != "" {
			_ = printRotations(env.stdout, []rotate.Record{rec}, time.Now())
		}
	}
	return errors.Join(errs...)
}

// userPlaceholder in a --sink stands for each rotated key's user, so a
// bulk rotation gives every key a place of its own.
const userPlaceholder = "{user}"

// rotateTargets are the keys the flags name, or the rows --select returns.
func rotateTargets(ctx context.Context, env *environment, f *rotateFlags) ([]rotate.Target, error) {
	switch {
	case f.self:
		return []rotate.Target{{AccessKeyID: first(f.keys)}}, nil
	case f.sel == "":
		var ts []rotate.Target
		for _, u := range f.users {
			if u == "" {
				return nil, errUsage{"rotate: --user needs a name (--self for your own key)"}
			}
			ts = append(ts, rotate.Target{UserName: u, AccessKeyID: first(f.keys)})
		}
		return ts, nil
	}
	eng, err := env.engine(true)
	if err != nil {
		return nil, err
	}
	res, err := eng.Query(ctx, eng.NewSession("rotate", ""), f.sel)
	if err != nil {
		return nil, fmt.Errorf("--select: %w", err)
	}
	defer res.Close()
	user, key, acct := -1, -1, -1
	for i, c := range res.Schema {
		switch strings.ToLower(c.Name) {
		case "username":
			user = i
		case "accesskeyid":
			key = i
		case schema.AccountIDColumn:
			acct = i
		}
	}
	if user < 0 || key < 0 {
		return nil, errUsage{"rotate: --select must return the columns UserName and AccessKeyId"}
	}
	var ts []rotate.Target
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("--select: %w", err)
		}
		u, _ := row[user].(string)
		k, _ := row[key].(string)
		if a, _ := rowString(row, acct); acct >= 0 && f.account != "" && a != f.account {
			return nil, errUsage{fmt.Sprintf("rotate: --select returned %s's key %s of account %s, and this rotation acts in --account %s: add account_id = '%s' to the query", u, k, a, f.account, f.account)}
		}
		if u == "root" {
			u = "" // the root user's keys are named without UserName
		}
		ts = append(ts, rotate.Target{UserName: u, AccessKeyID: k})
	}
	return ts, res.Close()
}

func rowString(row []any, i int) (string, bool) {
	if i < 0 {
		return "", false
	}
	v, ok := row[i].(string)
	return v, ok
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func printPlans(w io.Writer, plans []rotate.Plan, limit int) {
	n := 0
	for _, p := range plans {
		name := p.User
		if p.Self {
			name += " (you)"
		}
		if p.Blocked != "" {
			fmt.Fprintf(w, "\n%s %s: BLOCKED: %s\n", name, orDash(p.OldKeyID), p.Blocked)
			continue
		}
		n++
		if limit > 0 && n > limit {
			fmt.Fprintf(w, "\n%s %s: not rotated (--limit %d)\n", name, p.OldKeyID, limit)
			continue
		}
		fmt.Fprintf(w, "\n%s %s:\n", name, p.OldKeyID)
		for i, s := range p.Steps {
			fmt.Fprintf(w, "  %d. %s\n", i+1, s)
		}
	}
}

func printRotations(w io.Writer, recs []rotate.Record, now time.Time) error {
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "No rotation.")
		return err
	}
	for _, r := range recs {
		line := fmt.Sprintf("%s  %s  %s -> %s  %s  sink %s", r.ID, r.UserName, r.OldKeyID, orDash(r.NewKeyID), r.Step, r.Sink)
		if due := r.Due(now); !due.IsZero() {
			line += "  next step due " + due.UTC().Format(time.RFC3339)
		}
		if r.Note != "" {
			line += "\n    " + r.Note
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// rotationAudit appends each step to --audit-log as a JSON line.
func (e *environment) rotationAudit() (func(rotate.Event), error) {
	return jsonLines[rotate.Event](e)
}

// rotationConfig is the engine's for the rotation procedures and the
// rotations table: the ledger iamsql rotate uses (the sandbox's lives as
// long as the process), this process's custody journal, and in the
// sandbox the in-process account to verify new keys against.
func (e *environment) rotationConfig(j provider.Journal) (*provider.RotationConfig, error) {
	rc := &provider.RotationConfig{}
	if jj, ok := j.(journal); ok {
		rc.Journal = jj.j
	}
	if !e.sandbox {
		return rc, nil
	}
	dir, err := os.MkdirTemp("", "iamsql-sandbox-rotations")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	rc.LedgerPath = filepath.Join(dir, "rotations.json")
	rc.AWS = func(_ context.Context, account string) (aws.Config, string, error) {
		var rt http.RoundTripper
		var emu *emulator.Emulator
		switch {
		case e.sandboxOrgEmu != nil:
			rt, emu = e.sandboxOrgEmu.Transport(), e.sandboxOrgEmu.Management()
			if account != "" {
				emu = e.sandboxOrgEmu.Account(account)
			}
		case e.sandboxEmu != nil:
			rt, emu = e.sandboxEmu.Transport(), e.sandboxEmu
		}
		if emu == nil {
			return aws.Config{}, "", fmt.Errorf("the sandbox has no account %s", account)
		}
		id, secret := emu.RootCredentials()
		return aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: rt},
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}, "http://sandbox.iamsql.invalid", nil
	}
	return rc, nil
}
