// Command iamsql queries and manages AWS IAM access keys with SQL.
//
// This file is wiring only: flags, subcommands, and the objects each
// subcommand needs. Behaviour lives in provider/ and internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `iamsql: SQL for AWS IAM access keys.

Usage:
  iamsql [global flags]                      interactive SQL shell (help inside it lists its commands)
  iamsql [global flags] [--force] < FILE.sql run SQL from stdin like mysql; --force goes on after errors
  iamsql [global flags] exec "SQL; ..."      run statements and print their results
  iamsql [global flags] exec -f FILE.sql     run a script
  iamsql [global flags] emulator [flags]     serve the built-in IAM emulator over HTTP
  iamsql [global flags] serve [flags]        MySQL-protocol server for any MySQL client (iamsql serve help)
  iamsql [global flags] report [WHAT]        access key inventory and findings; -o html for a page (iamsql report help)
  iamsql [global flags] recover [--delete]   keys a crashed iamsql left pending in its custody journal (iamsql recover help)
  iamsql [global flags] rotate [flags]       rotate access keys safely: plan, --apply, --continue, --rollback (iamsql rotate help)

Global flags (before or after the subcommand):
  --sandbox               use a built-in emulated IAM account with demo users and keys (no AWS account needed)
  --sandbox-latency D     add latency D (e.g. 200ms) to every sandbox IAM call
  --profile NAME          AWS shared-config profile (default: AWS_PROFILE or the default chain)
  --endpoint-url URL      IAM endpoint override (also AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL)
  --concurrency N         parallel IAM calls per statement (default 16)
  --call-budget N         IAM calls one statement may make; a statement that needs more is refused or stopped
                          (default 0: three full scans of the account, at least 10,000; also SET iamsql_call_budget = N)
  --audit-log FILE        append one JSON line per mutating IAM call (never a secret)
  -o, --output FORMAT     table (default), vertical, json, jsonl, csv, markdown; html for report
  --allow-partial         exit 0, not 4, when a part of the account could not be read (the warning still says what)
  --allow-root-keys       let a root caller create root access keys (AWS advises against them; also SET iamsql_allow_root_keys = 1)
  --org                   org mode: the tables span every ACTIVE account of the AWS Organization (signed as its
                          management account; members through --org-role); with --sandbox, a demo organization
  --org-role NAME         the role assumed in member accounts (default OrganizationAccountAccessRole)
  --org-external-id ID    the external id AssumeRole passes, when the role requires one
  --profiles A,B,C        org mode over the accounts of these AWS profiles instead of an organization
  --account-concurrency N parallel IAM calls per account in org mode (default 8; --concurrency bounds all of
                          them: default 16, 64 in org mode)
  --account-max-attempts N tries of a throttled call in one account before the account is left out (default 15)
  --debug                 debug logs on stderr (never secrets)
  -h, --help              this help

Examples:
  iamsql --sandbox exec "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"
  iamsql exec -o csv "SELECT u.UserName, k.AccessKeyId, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"
  iamsql emulator --addr 127.0.0.1:0 --seed demo
  iamsql --sandbox report -o html > report.html
`

// The exit codes: 0 ok; 1 a statement failed; 2 usage; 3 findings
// (report --fail-on-findings); 4 a partial result (when both, 4).
const (
	exitUsage   = 2
	exitPartial = 4
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
	g, rest, err := parseGlobals(args)
	if err != nil {
		fmt.Fprintf(stderr, "iamsql: %v\n", err)
		return exitUsage
	}
	if g.help {
		// `iamsql serve --help` asks for the subcommand's own help.
		if len(rest) > 0 && (rest[0] == "serve" || rest[0] == "report" || rest[0] == "rotate") {
			rest = []string{rest[0], "help"}
		} else {
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	env := &environment{globals: g, stdin: stdin, stdout: stdout, stderr: stderr}
	defer env.close()
	if len(rest) == 0 || (rest[0] != "recover" && rest[0] != "emulator" && rest[0] != "help") {
		reportPending(stderr)
	}
	cmd := ""
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "exec":
		err = cmdExec(ctx, env, rest)
	case "serve":
		err = cmdServe(ctx, env, rest)
	case "report":
		return reportExitCode(stderr, cmdReport(ctx, env, rest))
	case "emulator":
		err = cmdEmulator(ctx, env, rest)
	case "recover":
		err = cmdRecover(ctx, env, rest)
	case "rotate":
		err = cmdRotate(ctx, env, rest)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "":
		err = cmdInteractive(ctx, env, rest)
	case "--force", "-force":
		err = cmdInteractive(ctx, env, append([]string{cmd}, rest...))
	default:
		err = errUsage{fmt.Sprintf("unknown command %q (see iamsql --help)", cmd)}
	}
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
	help           bool
	allowPartial   bool
	allowRootKeys  bool
	orgFlags
}

// parseGlobals takes the global flags out of args wherever they stand and
// returns the rest in order. "--" ends flag parsing.
func parseGlobals(args []string) (globals, []string, error) {
	g := globals{concurrency: 16, output: "table"}
	fs := flag.NewFlagSet("iamsql", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&g.sandbox, "sandbox", false, "")
	fs.StringVar(&g.sandboxLatency, "sandbox-latency", "", "")
	fs.StringVar(&g.profile, "profile", "", "")
	fs.StringVar(&g.endpointURL, "endpoint-url", "", "")
	fs.IntVar(&g.concurrency, "concurrency", 16, "")
	fs.IntVar(&g.callBudget, "call-budget", 0, "")
	fs.StringVar(&g.auditLog, "audit-log", "", "")
	fs.StringVar(&g.output, "o", "table", "")
	fs.StringVar(&g.output, "output", "table", "")
	fs.BoolVar(&g.debug, "debug", false, "")
	fs.BoolVar(&g.allowPartial, "allow-partial", false, "")
	fs.BoolVar(&g.allowRootKeys, "allow-root-keys", false, "")
	g.orgFlags.declare(fs)
	fs.BoolVar(&g.help, "h", false, "")
	fs.BoolVar(&g.help, "help", false, "")

	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" || fs.Lookup(name) == nil {
			rest = append(rest, a)
			continue
		}
		chunk := []string{a}
		if _, isBool := fs.Lookup(name).Value.(interface{ IsBoolFlag() bool }); !isBool && !hasValue {
			if i+1 >= len(args) {
				return g, nil, fmt.Errorf("flag %s needs a value", a)
			}
			chunk = append(chunk, args[i+1])
			i++
		}
		if err := fs.Parse(chunk); err != nil {
			return g, nil, err
		}
	}
	if g.concurrency < 1 || g.concurrency > 1000 {
		return g, nil, fmt.Errorf("--concurrency must be between 1 and 1000, got %d", g.concurrency)
	}
	if g.callBudget < 0 {
		return g, nil, fmt.Errorf("--call-budget must not be negative (0 is the default budget), got %d", g.callBudget)
	}
	if err := g.orgFlags.check(); err != nil {
		return g, nil, err
	}
	return g, rest, nil
}
