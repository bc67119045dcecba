package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/config"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
)

// errFindings makes runCLI exit with exitFindings.
type errFindings struct {
	findings, incomplete int
	failOn               report.Severity // "" for any severity
}

func (e errFindings) Error() string {
	msg := fmt.Sprintf("report: %d finding", e.findings)
	if e.findings != 1 {
		msg += "s"
	}
	if e.failOn != "" {
		msg += fmt.Sprintf(" at or above %s", e.failOn)
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

// reportFlags are report's own flags and arguments.
type reportFlags struct {
	opts           report.Options
	failOnFindings bool   // --fail-on-findings: any severity
	failOn         string // --fail-on SEVERITY
	controls       string // --controls
	// controlsFromConfig says controls came from the configuration file.
	controlsFromConfig bool
	baseline           string // --baseline FILE
	selection          report.Selection
}

// reportFormats are the formats report writes itself, besides the shared
// ones.
var reportFormats = []string{"html", "sarif", "asff"}

// cmdReport runs `iamsql report`.
func cmdReport(ctx context.Context, env *environment, rf reportFlags) error {
	t := rf.opts.Thresholds
	for name, v := range map[string]int{"--max-key-age": t.MaxKeyAge, "--max-unused": t.MaxUnused, "--max-inactive-age": t.MaxInactiveAge} {
		if v < 1 || v > 100000 {
			return errUsage{fmt.Sprintf("report: %s must be a number of days from 1 to 100000, got %d", name, v)}
		}
	}
	if t.GraceDays < 0 || t.GraceDays > 100000 {
		return errUsage{fmt.Sprintf("report: --grace-days must be a number of days from 0 to 100000, got %d", t.GraceDays)}
	}
	// html, sarif and asff are report's own formats: check for them
	// before the shared ones.
	own := strings.ToLower(env.output)
	var format output.Format
	var err error
	if !contains(reportFormats, own) {
		own = ""
		if format, err = env.format(); err != nil {
			return errUsage{fmt.Sprintf("unknown output format %q for report (choose one of table, vertical, markdown, json, jsonl, csv, html, sarif, asff)", env.output)}
		}
	}
	var failOn report.Severity
	switch {
	case rf.failOn != "":
		if failOn, err = report.ParseSeverity(rf.failOn); err != nil {
			return errUsage{"report: --fail-on: " + err.Error()}
		}
	case rf.failOnFindings:
		failOn = report.Low // the old spelling: any finding
	}
	if rf.opts.Policy.Controls, err = report.ParseControlFilter(rf.controls); err != nil {
		if rf.controlsFromConfig {
			return errUsage{fmt.Sprintf("configuration file %s: report.controls: %v", env.config.Path, err)}
		}
		return errUsage{"report: --controls: " + err.Error()}
	}
	rf.selection = rf.selection.WithControls(rf.opts.Policy.Controls)
	if rf.baseline != "" {
		if rf.opts.Baseline, err = report.LoadBaseline(rf.baseline); err != nil {
			return errUsage{"report: " + err.Error()}
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
	var mismatch *report.BaselineMismatch
	if errors.As(err, &mismatch) {
		return errUsage{"report: " + err.Error()}
	}
	if err != nil {
		return err
	}
	switch own {
	case "html":
		err = report.WriteHTML(env.stdout, r, rf.selection)
	case "sarif":
		err = report.WriteSARIF(env.stdout, r, rf.selection)
	case "asff":
		err = report.WriteASFF(env.stdout, r, rf.selection)
	default:
		err = report.Write(env.stdout, r, format, rf.selection)
	}
	if err != nil {
		return err
	}
	for _, in := range r.Incomplete {
		fmt.Fprintf(env.stderr, "iamsql: report incomplete (%s): %s\n", in.Source, in.Reason)
	}
	findings, incomplete := r.Outstanding(rf.selection, failOn)
	if incomplete > 0 && !env.allowPartial {
		return errPartial{fmt.Errorf("report incomplete: %d part(s) of the account could not be read", incomplete)}
	}
	if failOn != "" && findings+incomplete > 0 {
		shown := failOn
		if rf.failOn == "" {
			shown = ""
		}
		return errFindings{findings, incomplete, shown}
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// reportPolicy is the configuration file's report policy as the report
// takes it; an entry no report could apply is an error naming the file
// and line.
func reportPolicy(f *config.File) (report.Policy, error) {
	var p report.Policy
	rc := f.Report
	where := func(line int) string {
		if f.Path == "" {
			return fmt.Sprintf("line %d", line)
		}
		return fmt.Sprintf("%s line %d", f.Path, line)
	}
	for name, sev := range rc.Severities {
		if _, ok := report.LookupRule(name); !ok {
			return p, fmt.Errorf("configuration file %s: report.severities: unknown finding %q (one of %s)",
				where(rc.SeverityLine(name)), name, strings.Join(report.KindNames(), ", "))
		}
		s, err := report.ParseSeverity(sev)
		if err != nil {
			return p, fmt.Errorf("configuration file %s: report.severities.%s: %w", where(rc.SeverityLine(name)), name, err)
		}
		if p.Severities == nil {
			p.Severities = map[string]report.Severity{}
		}
		p.Severities[name] = s
	}
	for i, e := range rc.Exemptions {
		ex := report.Exemption{AccessKeyID: e.AccessKeyID, UserName: e.User, Account: e.Account, Findings: e.Findings,
			Reason: e.Reason, Origin: where(e.Line)}
		if e.UserTag != nil {
			ex.Tag = &report.Tag{Key: e.UserTag.Key, Value: e.UserTag.Value}
		}
		ex.Expires, _ = time.Parse(time.DateOnly, e.Expires) // checked by config
		if err := ex.Check(); err != nil {
			return p, fmt.Errorf("configuration file %s: report.exemptions[%d]: %w", where(e.Line), i, err)
		}
		p.Exemptions = append(p.Exemptions, ex)
	}
	return p, nil
}
