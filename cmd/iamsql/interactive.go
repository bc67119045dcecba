package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/term"

	"github.com/iamsql/iamsql/internal/shell"
)

// cmdInteractive is iamsql without a subcommand: the SQL shell on a
// terminal; with stdin not a terminal it runs the statements it reads,
// like mysql < script.sql, stopping at the first error unless --force.
// shellOptions are the flags of iamsql without a command.
type shellOptions struct {
	force bool // scripts: go on after errors
	yes   bool // do not ask before changing several keys
}

func cmdInteractive(ctx context.Context, env *environment, opts shellOptions) error {
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

	cfg.Status = func(ctx context.Context) [][2]string { return env.connection(ctx, eng).rows() }

	if !isTerminal(env.stdin) {
		cfg.In = shell.NewPlainReader(env.stdin, nil)
		cfg.Batch, cfg.Force = true, opts.force
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

	conn := env.connection(ctx, eng)
	cfg.Greeting = conn.greeting(env.sandbox)
	cfg.Prompt = conn.prompt()
	cfg.Footers = true
	cfg.Confirm = !opts.yes
	cfg.Pager = firstOf(os.Getenv("PAGER"), "less -FRX")
	cfg.Edit = editor(firstOf(os.Getenv("VISUAL"), os.Getenv("EDITOR"), "vi"))
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

// isTerminal reports whether v is a terminal (not merely a character
// device: /dev/null is one, and is no person).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// editor runs an editor command (it may carry arguments, as $EDITOR
// often does) on a file, on this terminal.
func editor(command string) func(path string) error {
	return func(path string) error {
		cmd := exec.Command("sh", "-c", command+` "$1"`, "sh", path)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		return cmd.Run()
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
