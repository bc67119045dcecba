package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/iamsql/iamsql/internal/run"
	"github.com/iamsql/iamsql/internal/shell"
	"github.com/iamsql/iamsql/provider"
)

// execOptions are exec's flags and argument.
type execOptions struct {
	file                  string
	force, quiet, verbose bool
	sql                   string
	hasSQL                bool
}

// cmdExec runs the statements given as an argument or in a file.
func cmdExec(ctx context.Context, env *environment, opts execOptions) error {
	var script string
	switch {
	case opts.file != "" && opts.hasSQL:
		return errUsage{"exec: give SQL either as an argument or with -f, not both"}
	case opts.file == "-":
		b, err := io.ReadAll(env.stdin)
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		script = string(b)
	case opts.file != "":
		b, err := os.ReadFile(opts.file)
		if err != nil {
			return errUsage{fmt.Sprintf("exec -f: %v", err)}
		}
		script = string(b)
	case opts.hasSQL:
		script = opts.sql
	default:
		return errUsage{`exec: no SQL given (iamsql exec "SELECT ..." or iamsql exec -f FILE)`}
	}
	stmts, err := provider.SplitStatements(script)
	if err != nil {
		fmt.Fprintln(env.stderr, provider.FormatError(err))
		return errReported{err}
	}
	if len(stmts) == 0 {
		return errUsage{"exec: the SQL contains no statement"}
	}
	return runScript(ctx, env, stmts, opts)
}

// runScript runs statements in one session, stopping at the first error
// unless force is set. Each failing statement's error is printed on
// stderr; the exit code is non-zero if any failed.
func runScript(ctx context.Context, env *environment, stmts []string, opts execOptions) error {
	format, err := env.format()
	if err != nil {
		return err
	}
	eng, err := env.engine(false)
	if err != nil {
		return err
	}
	if opts.verbose {
		// Whom the statements run as, before they run (stderr).
		for _, row := range env.connection(ctx, eng).rows() {
			fmt.Fprintf(env.stderr, "-- %-12s %s\n", row[0]+":", row[1])
		}
	}
	r := &run.Runner{Engine: eng, Session: eng.NewSession("local", ""), Out: env.stdout, Err: env.stderr, Format: format, Quiet: opts.quiet,
		Footers: isTerminal(env.stdout)}
	failed := 0
	for i, stmt := range stmts {
		if err := r.Run(ctx, stmt); err != nil {
			failed++
			msg := provider.FormatError(err)
			if len(stmts) > 1 {
				msg += fmt.Sprintf(" (statement %d)", i+1)
			}
			fmt.Fprintln(env.stderr, msg)
			if ctx.Err() != nil || !opts.force {
				break
			}
		}
	}
	if failed > 0 {
		return errReported{errors.New("statement failed")}
	}
	if r.Partial && !env.allowPartial {
		return errPartial{shell.ErrPartial}
	}
	return nil
}
