package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/provider"
)

// The custody journal (internal/custody) records every CreateAccessKey
// until its secret is delivered or the key deleted again, for what no
// signal handler can catch (SIGKILL, power loss, OOM). Keys made in the
// in-process sandbox are not journaled.

// journal opens this process's journal for an engine on real IAM.
func (e *environment) journal() (provider.Journal, error) {
	j, err := e.custodyJournal()
	if j == nil || err != nil {
		return nil, err
	}
	return journal{j}, nil
}

// custodyJournal is this process's custody journal (nil in the sandbox).
func (e *environment) custodyJournal() (*custody.Journal, error) {
	if e.sandbox {
		return nil, nil
	}
	dir, err := custody.DefaultDir()
	if err != nil {
		return nil, fmt.Errorf("custody journal: %w", err)
	}
	j, err := custody.Open(dir, custody.Meta{
		Endpoint: e.endpoint(),
		Profile:  e.profileName(),
		Command:  redactArgs(os.Args),
	})
	if err != nil {
		return nil, fmt.Errorf("custody journal: %w", err)
	}
	e.closers = append(e.closers, func() { _ = j.Close() })
	return j, nil
}

// endpoint is the IAM endpoint the engine talks to ("" for AWS's own).
func (e *environment) endpoint() string {
	for _, v := range []string{e.endpointURL, os.Getenv("AWS_ENDPOINT_URL_IAM"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return v
		}
	}
	return ""
}

// profileName is the shared-config profile in use ("" for the default).
func (e *environment) profileName() string {
	if e.profile != "" {
		return e.profile
	}
	return os.Getenv("AWS_PROFILE")
}

// redactArgs keeps a command line's shape without its SQL or passwords.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case i > 0 && strings.ContainsAny(a, " '\"=") && !strings.HasPrefix(a, "-"):
			out[i] = "<sql>"
		case strings.Contains(a, "password"):
			out[i] = a[:strings.Index(a, "password")+len("password")] + "=<redacted>"
		default:
			out[i] = a
		}
	}
	return out
}

type journal struct{ j *custody.Journal }

func (j journal) Intent(in provider.CreateIntent) (provider.JournalEntry, error) {
	e, err := j.j.Intent(custody.Creation{UserName: in.UserName, Region: in.Region, Statement: in.Statement, Account: in.Account})
	if err != nil {
		return nil, err
	}
	return journalEntry{e}, nil
}

type journalEntry struct{ e *custody.Entry }

func (e journalEntry) Created(keyID string) error { return e.e.Created(keyID) }

func (e journalEntry) Resolve(outcome string) error {
	switch outcome {
	case provider.OutcomeDelivered:
		return e.e.Resolve(custody.Delivered)
	case provider.OutcomeRolledBack:
		return e.e.Resolve(custody.RolledBack)
	case provider.OutcomeFailed:
		return e.e.Resolve(custody.Failed)
	default: // orphaned, unknown: left for recovery
		return e.e.Resolve(custody.Orphaned)
	}
}

// reportPending tells, on every start, about keys left pending by an
// iamsql process that ended without settling them.
func reportPending(stderr io.Writer) {
	dir, err := custody.DefaultDir()
	if err != nil {
		return
	}
	pending, err := custody.ListPending(dir)
	if err != nil && len(pending) == 0 {
		fmt.Fprintf(stderr, "iamsql: warning: reading the custody journal: %v\n", err)
		return
	}
	if len(pending) == 0 {
		return
	}
	fmt.Fprintf(stderr, "iamsql: %d access key(s) left pending by an iamsql process that ended before settling them:\n", len(pending))
	for _, p := range pending {
		fmt.Fprintf(stderr, "  - %s\n    %s\n", p.Describe(), p.RecoverySQL())
	}
	fmt.Fprintln(stderr, "  `iamsql recover` lists them; `iamsql recover --delete` deletes them; `iamsql recover --dismiss` forgets them.")
}

// cmdRecover lists, deletes or dismisses what dead processes left.
func cmdRecover(ctx context.Context, env *environment, del, dismiss bool) error {
	dir, err := custody.DefaultDir()
	if err != nil {
		return err
	}
	pending, err := custody.ListPending(dir)
	if err != nil {
		fmt.Fprintf(env.stderr, "iamsql: warning: %v\n", err)
	}
	if len(pending) == 0 {
		fmt.Fprintln(env.stdout, "No access key is pending in the custody journal.")
		return nil
	}
	var eng *provider.Engine
	failed := 0
	for _, p := range pending {
		fmt.Fprintf(env.stdout, "%s\n  %s\n", p.Describe(), p.RecoverySQL())
		switch {
		case dismiss:
			if err := custody.Clear(p, custody.Dismissed); err != nil {
				fmt.Fprintf(env.stderr, "  could not forget it: %v\n", err)
				failed++
				continue
			}
			fmt.Fprintln(env.stdout, "  forgotten")
		case del && p.KeyID == "":
			fmt.Fprintln(env.stdout, "  not deleted: its key id is unknown; run the SELECT above, delete what it finds, then iamsql recover --dismiss")
		case del && (p.Endpoint != env.endpoint() || p.Profile != env.profileName()):
			fmt.Fprintf(env.stdout, "  not deleted: it was created through endpoint %q, profile %q; run recover with those (--endpoint-url, --profile)\n", p.Endpoint, p.Profile)
			failed++
		case del:
			if eng == nil {
				if eng, err = env.engine(false); err != nil {
					return err
				}
			}
			if err := deletePending(ctx, eng, p); err != nil {
				fmt.Fprintf(env.stdout, "  not deleted: %s\n", provider.FormatError(err))
				failed++
				continue
			}
			if err := custody.Clear(p, custody.RolledBack); err != nil {
				fmt.Fprintf(env.stderr, "  deleted, but the journal could not be updated: %v\n", err)
				failed++
				continue
			}
			fmt.Fprintln(env.stdout, "  deleted")
		}
	}
	if failed > 0 {
		return errReported{errors.New("recover: some entries are still pending")}
	}
	return nil
}

// deletePending deletes a pending key; one that is gone already is fine.
func deletePending(ctx context.Context, eng *provider.Engine, p custody.Pending) error {
	sess := eng.NewSession("recover", "")
	q := fmt.Sprintf("CALL delete_access_key('%s', '%s'", p.KeyID, p.Region)
	if p.UserName != "" {
		q += fmt.Sprintf(", '%s'", p.UserName)
	}
	res, err := eng.Query(ctx, sess, q+")")
	if err == nil {
		err = res.Close()
	}
	var se interface{ Number() int }
	if errors.As(provider.ToSQLError(err), &se) && se.Number() == provider.ErrNumNotFound {
		return nil
	}
	return err
}
