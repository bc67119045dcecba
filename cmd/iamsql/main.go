// Command iamsql queries and manages AWS IAM access keys with SQL.
//
// This package is wiring only: flags, subcommands (cli.go), and the
// objects each subcommand needs. Behaviour lives in provider/ and
// internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iamsql/iamsql/internal/config"
)

// The exit codes: 0 ok; 1 a statement failed; 2 usage; 3 findings
// (report --fail-on-findings); 4 a partial result (when both, 4).
const (
	exitUsage    = 2
	exitFindings = 3
	exitPartial  = 4
)

// errPartial makes runCLI exit with exitPartial: every statement ran, but
// a part of the account could not be read. --allow-partial makes it 0.
type errPartial struct{ error }

// errUsage marks errors in how iamsql was invoked.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func main() {
	// SIGINT, SIGTERM, SIGHUP and SIGQUIT cancel the command; a second
	// cuts the custody wait short. In the interactive shell Ctrl-C cancels
	// the running statement, not the shell (see signals.go).
	ctx, in := withInterrupts(context.Background())
	defer in.stop()
	os.Exit(runCLI(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runCLI is main without process globals, so tests can call it.
func runCLI(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &environment{stdin: stdin, stdout: stdout, stderr: stderr}
	defer env.close()
	root := newCLI(env)
	root.SetArgs(normalizeArgs(root, args))
	_, err := root.ExecuteContextC(ctx)
	return exitCode(stderr, err)
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var u errUsage
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "iamsql: %v\n", err)
		return exitUsage
	}
	var partial errPartial
	if errors.As(err, &partial) {
		fmt.Fprintf(stderr, "iamsql: %v (exit status %d; --allow-partial to accept it)\n", partial.error, exitPartial)
		return exitPartial
	}
	var f errFindings
	if errors.As(err, &f) {
		fmt.Fprintf(stderr, "iamsql: %v\n", err)
		return exitFindings
	}
	var quiet errReported
	if !errors.As(err, &quiet) {
		fmt.Fprintf(stderr, "ERROR: %s\n", oneLine(err.Error()))
	}
	return 1
}

// errReported is an error already printed (e.g. per statement).
type errReported struct{ error }

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// globals are the flags every subcommand accepts, before or after it.
type globals struct {
	sandbox        bool
	sandboxLatency string
	profile        string
	endpointURL    string
	concurrency    int
	callBudget     int
	auditLog       string
	output         string
	debug          bool
	allowPartial   bool
	allowRootKeys  bool
	configPath     string
	// config is the configuration file's content (see loadConfig).
	config *config.File
	orgFlags
}
