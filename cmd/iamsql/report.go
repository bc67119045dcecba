package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
)

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

// sourceFlag is report's --source (report.ParseSource).
type sourceFlag struct{ to *report.Source }

func (f sourceFlag) String() string {
	if f.to == nil || *f.to == "" {
		return string(report.SourceLive)
	}
	return string(*f.to)
}

func (f sourceFlag) Set(s string) error {
	src, err := report.ParseSource(s)
	if err != nil {
		return err
	}
	*f.to = src
	return nil
}

func (sourceFlag) Type() string { return "source" }

// reportFlags are report's own flags and argument.
type reportFlags struct {
	opts      report.Options
	failOn    bool
	selection report.Selection
}

// cmdReport runs `iamsql report`.
func cmdReport(ctx context.Context, env *environment, rf reportFlags) error {
	t := rf.opts.Thresholds
	for name, v := range map[string]int{"--max-key-age": t.MaxKeyAge, "--max-unused": t.MaxUnused, "--max-inactive-age": t.MaxInactiveAge} {
		if v < 1 || v > 100000 {
			return errUsage{fmt.Sprintf("report: %s must be a number of days from 1 to 100000, got %d", name, v)}
		}
	}
	// html is report's own format: check for it before the shared ones.
	html := strings.EqualFold(env.output, "html")
	var format output.Format
	var err error
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
