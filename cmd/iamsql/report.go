package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
)

const reportUsage = `Usage: iamsql [global flags] report [flags] [WHAT]

Security inventory of the account's IAM access keys. WHAT selects the part:
  (nothing)        everything: summary, findings, incomplete entries, inventory
  findings         the summary and every finding
  inventory        every access key with its age, last use and findings
  root-keys        the root user has access keys (critical)
  old-keys         active keys created more than --max-key-age days ago (high)
  unused-keys      active keys not used for --max-unused days, or never used
                   and created that long ago (medium)
  two-active-keys  users with two active keys (medium)
  inactive-keys    inactive keys created more than --max-inactive-age days ago (low)

Flags:
  --region R              region the IAM calls are made for (default us-east-1)
  --max-key-age N         days (default 90)
  --max-unused N          days (default 45)
  --max-inactive-age N    days (default 120)
  --fail-on-findings      exit 3 when the report has findings (for CI); an incomplete
                          report exits 4 (3 with --allow-partial)
  -o FORMAT               table (default), vertical, markdown, json, jsonl, csv, html
                          (html: one self-contained page with a key-age chart)

The account is read once: GetAccountSummary, the root user's keys (with root
credentials), then ListUsers, one ListAccessKeys per user and one
GetAccessKeyLastUsed per key. Each finding is one SQL condition on that
inventory; docs/reports.md shows it as a statement you can run.

Examples:
  iamsql --sandbox report -o html > report.html
  iamsql report old-keys --max-key-age 180 -o csv
  iamsql report findings --fail-on-findings -o markdown >> "$GITHUB_STEP_SUMMARY"
`

// exitFindings is the exit code of `report --fail-on-findings` when the
// report has findings (or is incomplete).
const exitFindings = 3

// errFindings makes runCLI exit with exitFindings.
type errFindings struct{ findings, incomplete int }

func (e errFindings) Error() string {
	msg := fmt.Sprintf("report: %d finding", e.findings)
	if e.findings != 1 {
		msg += "s"
	}
	if e.incomplete > 0 {
		msg += fmt.Sprintf("; incomplete: %d part(s) of the account could not be read", e.incomplete)
	}
	return msg
}

// reportExitCode is exitCode, plus exitFindings for errFindings.
func reportExitCode(stderr io.Writer, err error) int {
	var f errFindings
	if errors.As(err, &f) {
		fmt.Fprintf(stderr, "iamsql: %v\n", err)
		return exitFindings
	}
	return exitCode(stderr, err)
}

// reportFlags are report's own flags.
type reportFlags struct {
	opts      report.Options
	failOn    bool
	help      bool
	selection report.Selection
}

// parseReportArgs takes report's flags wherever they stand among its
// arguments (`report old-keys --max-key-age 30` and the other way round).
func parseReportArgs(args []string) (reportFlags, error) {
	var rf reportFlags
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&rf.opts.Region, "region", report.DefaultRegion, "")
	fs.IntVar(&rf.opts.Thresholds.MaxKeyAge, "max-key-age", report.DefaultThresholds.MaxKeyAge, "")
	fs.IntVar(&rf.opts.Thresholds.MaxUnused, "max-unused", report.DefaultThresholds.MaxUnused, "")
	fs.IntVar(&rf.opts.Thresholds.MaxInactiveAge, "max-inactive-age", report.DefaultThresholds.MaxInactiveAge, "")
	fs.BoolVar(&rf.failOn, "fail-on-findings", false, "")
	fs.BoolVar(&rf.help, "help", false, "")
	fs.BoolVar(&rf.help, "h", false, "")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return rf, errUsage{"report: " + err.Error() + " (iamsql report help)"}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) == 1 && positional[0] == "help" {
		rf.help = true
		return rf, nil
	}
	if len(positional) > 1 {
		return rf, errUsage{fmt.Sprintf("report: give at most one of findings, inventory or a finding name, not %q", strings.Join(positional, " "))}
	}
	if len(positional) == 1 {
		sel, err := report.ParseSelection(positional[0])
		if err != nil {
			return rf, errUsage{"report: " + err.Error()}
		}
		rf.selection = sel
	}
	t := rf.opts.Thresholds
	for name, v := range map[string]int{"--max-key-age": t.MaxKeyAge, "--max-unused": t.MaxUnused, "--max-inactive-age": t.MaxInactiveAge} {
		if v < 1 || v > 100000 {
			return rf, errUsage{fmt.Sprintf("report: %s must be a number of days from 1 to 100000, got %d", name, v)}
		}
	}
	return rf, nil
}

// cmdReport runs `iamsql report`.
func cmdReport(ctx context.Context, env *environment, args []string) error {
	rf, err := parseReportArgs(args)
	if err != nil {
		return err
	}
	if rf.help {
		fmt.Fprint(env.stdout, reportUsage)
		return nil
	}
	// html is report's own format: check for it before the shared ones.
	html := strings.EqualFold(env.output, "html")
	var format output.Format
	if !html {
		if format, err = env.format(); err != nil {
			return errUsage{fmt.Sprintf("unknown output format %q for report (choose one of table, vertical, markdown, json, jsonl, csv, html)", env.output)}
		}
	}
	eng, err := env.engine(true) // a report never changes IAM
	if err != nil {
		return err
	}
	if isTerminal(env.stderr) {
		rf.opts.Progress = env.stderr
	}
	rf.opts.Org = env.orgMode() // report --org: one report across the organization
	r, err := report.Run(ctx, eng, eng.NewSession("report", ""), rf.opts)
	if err != nil {
		return err
	}
	if html {
		err = report.WriteHTML(env.stdout, r, rf.selection)
	} else {
		err = report.Write(env.stdout, r, format, rf.selection)
	}
	if err != nil {
		return err
	}
	for _, in := range r.Incomplete {
		fmt.Fprintf(env.stderr, "iamsql: report incomplete (%s): %s\n", in.Source, in.Reason)
	}
	findings, incomplete := r.Outstanding(rf.selection)
	if incomplete > 0 && !env.allowPartial {
		return errPartial{fmt.Errorf("report incomplete: %d part(s) of the account could not be read", incomplete)}
	}
	if rf.failOn && findings+incomplete > 0 {
		return errFindings{findings, incomplete}
	}
	return nil
}
