package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/docs"
)

// findingsCSV maps "rule key" (or "rule user") of a findings CSV to its exemption.
func findingsCSV(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := splitCSV(line)
		key := f[5]
		if key == "" {
			key = f[4]
		}
		got[f[0]+" "+key] = f[12]
	}
	return got
}

// splitCSV splits a CSV line (quoted fields with commas, no newlines).
func splitCSV(line string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && quoted && i+1 < len(line) && line[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// The report policy of the configuration file: severities, exemptions
// (an expired one a finding), grace, and --fail-on gating on what is not
// exempted; flags override the file.
func TestReportPolicyFromConfigFile(t *testing.T) {
	future, past := time.Now().AddDate(1, 0, 0).Format(time.DateOnly), time.Now().AddDate(0, 0, -2).Format(time.DateOnly)
	p := writeConfig(t, fmt.Sprintf(`report:
  severities:
    root-keys: high
  fail_on: critical
  exemptions:
    - access_key_id: AKIACIDEPLOY00000001
      reason: deploy key
      expires: %s
    - user: alice
      findings: [inactive-keys]
      reason: audit
      expires: %s
`, future, past))
	out, errOut, code := reportCLI(t, "--sandbox", "--config", p, "report", "findings", "-o", "csv")
	// fail_on critical: root is high by the policy, nothing else is critical.
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := findingsCSV(t, out)
	if !strings.HasPrefix(got["old-keys AKIACIDEPLOY00000001"], "exempted until "+future+": deploy key ("+p+" line 6)") {
		t.Errorf("ci-deploy's old key: %q", got["old-keys AKIACIDEPLOY00000001"])
	}
	if e, ok := got["inactive-keys AKIAALICE00000000002"]; !ok || e != "" {
		t.Errorf("alice's inactive key: %q, %v (her exemption expired)", e, ok)
	}
	if _, ok := got["expired-exemptions alice"]; !ok {
		t.Errorf("no expired-exemptions finding: %v", got)
	}
	if !strings.Contains(out, "root-keys,high,") {
		t.Errorf("root-keys is not high by the policy:\n%s", out)
	}
	// --fail-on high: root (high) + 3 old keys not exempted.
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p, "report", "findings", "--fail-on", "high", "-o", "csv")
	if code != exitFindings || !strings.Contains(errOut, "report: 4 findings at or above high") {
		t.Errorf("--fail-on high: exit %d, %q", code, errOut)
	}
	// The old spelling: any finding not exempted (the demo's 10, less
	// ci-deploy's exempted old key, plus the expired exemption).
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p, "report", "findings", "--fail-on-findings", "-o", "csv")
	if code != exitFindings || !strings.Contains(errOut, "report: 10 findings") {
		t.Errorf("--fail-on-findings: exit %d, %q", code, errOut)
	}
	// The file's fail_on and grace_days: high gates on root (high) and the
	// old keys; 1000 days of grace spare every key but root's.
	p2 := writeConfig(t, "report:\n  fail_on: high\n  controls: [cis-3.0]\n")
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p2, "report", "findings", "-o", "csv")
	if code != exitFindings || !strings.Contains(errOut, "report: 5 findings at or above high") {
		t.Errorf("fail_on high from the file: exit %d, %q", code, errOut)
	}
	p3 := writeConfig(t, "report:\n  grace_days: 1000\n  controls: [nist]\n")
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p3, "report", "findings", "-o", "csv")
	if code != exitUsage || !strings.Contains(errOut, p3+": report.controls: unknown control set") {
		t.Errorf("bad controls in the file: exit %d, %q", code, errOut)
	}
	p4 := writeConfig(t, "report:\n  grace_days: 1000\n")
	out, _, _ = reportCLI(t, "--sandbox", "--config", p4, "report", "findings", "-o", "csv")
	if got := findingsCSV(t, out); len(got) != 1 {
		t.Errorf("with the file's 1000 days of grace: %v", got)
	}
	// A grace period from the flag: 1000 days spare every key but root's.
	out, _, _ = reportCLI(t, "--sandbox", "--config", p, "report", "findings", "--grace-days", "1000", "-o", "csv")
	got = findingsCSV(t, out)
	if len(got) != 2 || got["root-keys AKIAIOSFODNN7EXAMPLE"] != "" {
		t.Errorf("with 1000 days of grace: %v", got)
	}
}

func TestReportPolicyErrorsNameFileAndLine(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"report:\n  severities:\n    old-key: high\n", `line 3: report.severities: unknown finding "old-key"`},
		{"report:\n  exemptions:\n    - user: bob\n      reason: x\n      expires: 2030-01-01\n      findings: [stale]\n", `line 3: report.exemptions[0]: an exemption names an unknown finding "stale"`},
		{"report:\n  exemptions:\n    - user: bob\n      access_key_id: AKIA0000000000000000\n      reason: x\n      expires: 2030-01-01\n", "line 3: report.exemptions[0]: an exemption names exactly one of"},
		{"report:\n  exemptions:\n    - user: bob\n      expires: 2030-01-01\n", "line 3: report.exemptions[0]: an exemption needs a reason"},
	} {
		p := writeConfig(t, c.yaml)
		_, errOut, code := reportCLI(t, "--sandbox", "--config", p, "report")
		if code != exitUsage || !strings.Contains(errOut, p+" "+c.want) {
			t.Errorf("%q: exit %d, %q; want %q", c.yaml, code, errOut, c.want)
		}
	}
}

// Several findings at once, --controls, and -o sarif / asff from the
// command line.
func TestReportSeveralFindingsControlsAndHandOffFormats(t *testing.T) {
	out, errOut, code := reportCLI(t, "--sandbox", "report", "root-keys", "old-keys", "--controls", "cis-3.0", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")[1:]
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "root-keys,critical,cis-3.0:1.4,") || !strings.HasPrefix(rows[1], "old-keys,high,cis-3.0:1.14,") {
		t.Errorf("root-keys old-keys under cis-3.0:\n%s", out)
	}
	// PCI DSS 3.2.1 maps only unused credentials: the other findings go.
	out, _, code = reportCLI(t, "--sandbox", "report", "findings", "--controls", "pci-3.2.1", "-o", "csv")
	var rules []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		rules = append(rules, strings.SplitN(line, ",", 2)[0])
	}
	if code != 0 || strings.Join(slices.Compact(rules), " ") != "unused-keys" {
		t.Errorf("pci-3.2.1: exit %d, %v", code, rules)
	}
	for _, f := range []string{"sarif", "asff"} {
		out, errOut, code := reportCLI(t, "--sandbox", "report", "findings", "-o", f)
		var doc map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
			t.Errorf("-o %s: exit %d, %s\n%.300s", f, code, errOut, out)
		}
	}
	other := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(other, []byte(`{"generatedAt":"2026-01-01T00:00:00Z","account":"999999999999","findingCounts":{},"findings":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := reportCLI(t, "--sandbox", "report", "--baseline", other); code != exitUsage || !strings.Contains(errOut, "is a report of account 999999999999") {
		t.Errorf("another account's baseline: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{{"report", "--fail-on", "severe"}, {"report", "--controls", "nist"}, {"report", "--baseline", "/nonexistent.json"}, {"report", "findings", "old-keys"}} {
		_, errOut, code := reportCLI(t, append([]string{"--sandbox"}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, errOut)
		}
	}
}

// docs/reports.md's daily CI job runs as the page shows it, twice, with
// iamsql pointed at the demo account: the first run has no baseline, the
// second compares with the first; both fail the gate (exit 3) on the demo
// account's critical and high findings, and leave the files the page says.
func TestDocsDailyReportJobRuns(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	binDir := filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// iamsql on PATH is the real binary on the demo account.
	wrapper := "#!/bin/sh\nexec " + bin + " --sandbox \"$@\"\n"
	if err := os.WriteFile(filepath.Join(binDir, "iamsql"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "repo")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iamsql.yaml", "daily-report.sh"} {
		b, err := docs.Examples.ReadFile("examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page, err := os.ReadFile("../../docs/reports.md")
	if err != nil {
		t.Fatal(err)
	}
	script, _ := docs.Examples.ReadFile("examples/daily-report.sh")
	policy, _ := docs.Examples.ReadFile("examples/iamsql.yaml")
	if !strings.Contains(string(page), strings.TrimSpace(string(script))) || !strings.Contains(string(page), strings.TrimSpace(string(policy))) {
		t.Fatal("docs/reports.md does not show the examples this test runs (make docs)")
	}
	run := func() (string, int) {
		t.Helper()
		cmd := exec.Command("sh", "daily-report.sh")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"), "IAMSQL_CONFIG=", "XDG_CONFIG_HOME="+dir)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	type sarif struct {
		Runs []struct {
			Results []struct {
				RuleID, BaselineState string
				Suppressions          []any
			}
		}
	}
	readSARIF := func() sarif {
		t.Helper()
		var s sarif
		b, err := os.ReadFile(filepath.Join(work, "iamsql.sarif"))
		if err != nil || json.Unmarshal(b, &s) != nil || len(s.Runs) != 1 {
			t.Fatalf("iamsql.sarif: %v\n%s", err, b)
		}
		return s
	}
	for i := 1; i <= 2; i++ {
		out, code := run()
		if code != exitFindings || !strings.Contains(out, "at or above high") {
			t.Fatalf("run %d: exit %d, want %d\n%s", i, code, exitFindings, out)
		}
		for _, f := range []string{"report.html", "baseline.json", "iamsql.sarif"} {
			if st, err := os.Stat(filepath.Join(work, f)); err != nil || st.Size() == 0 {
				t.Errorf("run %d: %s missing or empty", i, f)
			}
		}
		s := readSARIF()
		states := map[string]int{}
		suppressed, expired := 0, 0
		for _, r := range s.Runs[0].Results {
			states[r.BaselineState]++
			if len(r.Suppressions) > 0 {
				suppressed++
			}
			if r.RuleID == "expired-exemptions" {
				expired++
			}
		}
		// ci-deploy's old key is exempted; alice's exemption expired.
		if suppressed != 1 || expired != 1 {
			t.Errorf("run %d: %d suppressed, %d expired exemptions", i, suppressed, expired)
		}
		if i == 1 && (len(states) != 1 || states[""] == 0) {
			t.Errorf("run 1 has no baseline, yet baseline states %v", states)
		}
		if i == 2 && (states["unchanged"] != len(s.Runs[0].Results) || states["new"] != 0) {
			t.Errorf("run 2: baseline states %v, want every result unchanged", states)
		}
	}
	html, _ := os.ReadFile(filepath.Join(work, "report.html"))
	if !strings.Contains(string(html), `id="resolved"`) || !strings.Contains(string(html), `<div class="label">Still open</div>`) {
		t.Error("the second run's page lacks the baseline's cards and resolved list")
	}
}
