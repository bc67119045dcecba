package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/iamsql/iamsql/internal/shell"
)

// cmdInteractive is iamsql without a subcommand: the SQL shell on a
// terminal; with stdin not a terminal it runs the statements it reads,
// like mysql < script.sql, stopping at the first error unless --force.
func cmdInteractive(ctx context.Context, env *environment, force bool) error {
	format, err := env.format()
	if err != nil {
		return err
	}
	eng, err := env.engine(false)
	if err != nil {
		return err
	}
	cfg := shell.Config{
		Engine: eng, Session: eng.NewSession("local", ""),
		Out: env.stdout, Err: env.stderr, Format: format,
	}

	if !isTerminal(env.stdin) {
		cfg.In = shell.NewPlainReader(env.stdin, nil)
		cfg.Batch, cfg.Force = true, force
		return shellResult(ctx, env, shell.New(cfg).Run(ctx))
	}

	// Ctrl-C belongs to the shell from here on.
	in := interruptsFrom(ctx)
	if in == nil {
		// Not started by main (a test): take SIGINT here.
		ctx, in = withInterrupts(ctx)
		defer in.stop()
	}
	ch, release := in.claim()
	defer release()
	cfg.Interrupts = ch

	cfg.Greeting = greeting(env)
	cfg.Footers = true
	if isTerminal(env.stdout) {
		term := shell.NewTerminal()
		defer term.Close()
		cfg.In = term
	} else {
		// Output is redirected: no line editing, prompts on stderr.
		cfg.In = shell.NewPlainReader(env.stdin, env.stderr)
	}
	if path, err := shell.HistoryPath(os.Getenv); err != nil {
		fmt.Fprintf(env.stderr, "iamsql: no history file: %v\n", err)
	} else if h, err := shell.OpenHistory(path); err != nil {
		fmt.Fprintf(env.stderr, "iamsql: no history file: %v\n", err)
	} else {
		cfg.History = h
	}
	return shellResult(ctx, env, shell.New(cfg).Run(ctx))
}

// shellResult maps the shell's end to the exit status: failed statements
// and signals were already reported.
func shellResult(ctx context.Context, env *environment, err error) error {
	switch {
	case errors.Is(err, shell.ErrPartial) && env.allowPartial:
		return nil
	case errors.Is(err, shell.ErrPartial):
		return errPartial{err}
	case err != nil && (errors.Is(err, shell.ErrFailed) || ctx.Err() != nil):
		return errReported{err}
	}
	return err
}

func greeting(env *environment) string {
	target := "Connected to AWS IAM through the standard AWS configuration (credentials, --profile, --endpoint-url)."
	if env.sandbox {
		target = "Connected to the sandbox: an emulated IAM account with demo users and keys (nothing reaches AWS)."
	}
	return "Welcome to iamsql, SQL for AWS IAM access keys.\n" + target + "\n" +
		"End statements with ; (or \\G for vertical output). Type help or \\? for help, \\q to quit.\n\n"
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
