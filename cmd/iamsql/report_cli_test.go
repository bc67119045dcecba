package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// reportCLI runs iamsql in-process and returns stdout, stderr and the exit
// code.
func reportCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCLI(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// The demo account's findings (see internal/emulator/seed.go), by rule.
var demoFindings = map[string]int{"root-keys": 1, "old-keys": 4, "unused-keys": 2, "two-active-keys": 2, "inactive-keys": 1}

func TestReportSandboxJSONHasTheDemoFindings(t *testing.T) {
	out, errOut, code := reportCLI(t, "--sandbox", "report", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Account       string           `json:"account"`
		Users         int              `json:"users"`
		Keys          int              `json:"keys"`
		FindingCounts map[string]int   `json:"findingCounts"`
		Findings      []map[string]any `json:"findings"`
		Inventory     []map[string]any `json:"inventory"`
		Incomplete    []map[string]any `json:"incomplete"`
		IAMCalls      map[string]int   `json:"iamCalls"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for rule, n := range demoFindings {
		if doc.FindingCounts[rule] != n {
			t.Errorf("%s: %d findings, want %d", rule, doc.FindingCounts[rule], n)
		}
	}
	if doc.Account != "123456789012" || doc.Users != 6 || doc.Keys != 8 || len(doc.Inventory) != 8 || len(doc.Incomplete) != 0 {
		t.Errorf("account %q, users %d, keys %d, inventory %d, incomplete %v", doc.Account, doc.Users, doc.Keys, len(doc.Inventory), doc.Incomplete)
	}
	// 6 users: one page of ListUsers, 6 ListAccessKeys + 1 for root, one
	// GetAccessKeyLastUsed per key; then the context of the 3 owners of
	// keys with findings (alice, carol, ci-deploy): GetUser and one call
	// per context table each.
	want := map[string]int{"GetAccountSummary": 1, "ListUsers": 1, "ListAccessKeys": 7, "GetAccessKeyLastUsed": 8, "GetUser": 1 + 3,
		"ListUserTags": 3, "GetLoginProfile": 3, "ListMFADevices": 3, "ListGroupsForUser": 3, "ListAttachedUserPolicies": 3, "ListUserPolicies": 3}
	for op, n := range want {
		if doc.IAMCalls[op] != n {
			t.Errorf("iamCalls %v, want %v", doc.IAMCalls, want)
			break
		}
	}
	for _, f := range doc.Findings {
		if f["Finding"] == "old-keys" && f["AccessKeyId"] == "AKIACIDEPLOY00000001" && f["AgeDays"] != float64(650) {
			t.Errorf("ci-deploy's key: %v", f)
		}
	}
}

// TestReportSourceCredentialReport: --source credential-report lists the
// live report's findings on the demo account and says where its data
// came from; an unknown source is a usage error.
func TestReportSourceCredentialReport(t *testing.T) {
	live, errOut, code := reportCLI(t, "--sandbox", "report", "findings", "-o", "csv")
	if code != 0 {
		t.Fatalf("live: exit %d: %s", code, errOut)
	}
	cr, errOut, code := reportCLI(t, "--sandbox", "report", "findings", "-o", "csv", "--source", "credential-report")
	if code != 0 {
		t.Fatalf("credential report: exit %d: %s", code, errOut)
	}
	if live != cr {
		t.Errorf("the modes differ:\n--- live\n%s\n--- credential report\n%s", live, cr)
	}
	out, _, code := reportCLI(t, "--sandbox", "report", "findings", "-o", "json", "--source", "credential-report")
	var doc struct {
		Source           string `json:"source"`
		CredentialReport struct {
			GeneratedTime     string
			Users, Candidates int
		} `json:"credentialReport"`
		IAMCalls map[string]int `json:"iamCalls"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if doc.Source != "credential-report" || doc.CredentialReport.Users != 6 || doc.CredentialReport.Candidates != 4 || doc.CredentialReport.GeneratedTime == "" ||
		doc.IAMCalls["GetCredentialReport"] != 1 || doc.IAMCalls["ListUsers"] != 0 || doc.IAMCalls["ListAccessKeys"] != 4 {
		t.Errorf("source %q, credential report %+v, calls %v", doc.Source, doc.CredentialReport, doc.IAMCalls)
	}
	text, _, _ := reportCLI(t, "--sandbox", "report", "findings", "--source", "credential-report")
	if !strings.Contains(text, "Source: the credential report generated ") {
		t.Errorf("the text report does not say where its data came from:\n%s", text)
	}
	if _, errOut, code := reportCLI(t, "--sandbox", "report", "--source", "cache"); code != exitUsage || !strings.Contains(errOut, `unknown source "cache"`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestReportFailOnFindingsExitsThree(t *testing.T) {
	_, errOut, code := reportCLI(t, "--sandbox", "report", "findings", "--fail-on-findings")
	if code != exitFindings || !strings.Contains(errOut, "report: 10 findings") {
		t.Errorf("exit %d, stderr %q; want %d and the count", code, errOut, exitFindings)
	}
	// No inactive key in the demo is 1000 days old: nothing found, exit 0.
	out, errOut, code := reportCLI(t, "--sandbox", "report", "inactive-keys", "--max-inactive-age", "1000", "--fail-on-findings")
	if code != 0 || !strings.Contains(out, "None.") {
		t.Errorf("exit %d, stderr %q, out:\n%s", code, errOut, out)
	}
	// Without the flag, findings don't change the exit code.
	if _, _, code := reportCLI(t, "--sandbox", "report", "findings"); code != 0 {
		t.Errorf("exit %d without --fail-on-findings", code)
	}
}

func TestReportSelectsOneFinding(t *testing.T) {
	// Flags after the finding name are report's too.
	out, errOut, code := reportCLI(t, "--sandbox", "report", "old-keys", "--max-key-age", "300", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "Finding,Severity,Controls,Account,UserName,AccessKeyId,Status,CreateDate,AgeDays,LastUsedDate,LastUsedServiceName,Detail,Exemption,Trend,"+
		"Owner,Team,Description,ConsoleAccess,MFA,Groups,AttachedPolicies,InlinePolicies" {
		t.Errorf("header %v", recs[0])
	}
	var keys []string
	for _, r := range recs[1:] {
		if r[0] != "old-keys" || !strings.Contains(r[2], "cis-3.0:1.14") || !strings.Contains(r[2], "fsbp:IAM.3") {
			t.Errorf("row of another finding, or without its controls: %v", r)
		}
		keys = append(keys, r[5])
	}
	if strings.Join(keys, " ") != "AKIACIDEPLOY00000001 AKIAALICE00000000001" {
		t.Errorf("keys older than 300 days: %v", keys)
	}
}

func TestReportInventoryCSVHasEveryKeyWithItsFindings(t *testing.T) {
	out, errOut, code := reportCLI(t, "--sandbox", "report", "inventory", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 || recs[0][9] != "Findings" || recs[0][10] != "Controls" {
		t.Fatalf("want a header and 8 keys:\n%s", out)
	}
	got := map[string]string{}
	controls := map[string]string{}
	for _, r := range recs[1:] {
		got[r[2]], controls[r[2]] = r[9], r[10]
	}
	// One row per key, with the controls its findings evidence.
	if c := controls["AKIACAROL00000000001"]; !strings.Contains(c, "cis-3.0:1.14") || !strings.Contains(c, "cis-3.0:1.12") || !strings.Contains(c, "cis-3.0:1.13") || controls["AKIABOB0000000000001"] != "" {
		t.Errorf("controls by key: %v", controls)
	}
	if got["AKIACAROL00000000001"] != "old-keys, unused-keys, two-active-keys" || got["AKIAIOSFODNN7EXAMPLE"] != "root-keys" || got["AKIABOB0000000000001"] != "" {
		t.Errorf("findings by key: %v", got)
	}
}

func TestReportTableAndMarkdownHaveSections(t *testing.T) {
	for format, want := range map[string][]string{
		"table":    {"IAM access key report: account 123456789012", "== Summary", "== old-keys (high)", "== inventory: 8 access keys", "| AKIACIDEPLOY00000001 |"},
		"markdown": {"# IAM access key report", "## Summary", "## root-keys (critical)", "```sql\nWITH inventory AS (\n  SELECT AccessKeyId, UserName", "| AKIAALICE00000000002 |"},
	} {
		out, errOut, code := reportCLI(t, "--sandbox", "report", "-o", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s output lacks %q", format, w)
			}
		}
	}
}

func TestReportHTMLIsOnePage(t *testing.T) {
	out, errOut, code := reportCLI(t, "--sandbox", "report", "-o", "html")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"<!DOCTYPE html>", `<svg id="age-chart"`, `id="finding-old-keys"`, `id="inventory-table"`, "</html>"} {
		if !strings.Contains(out, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if errOut != "" { // stderr is not a terminal: no progress display
		t.Errorf("stderr: %q", errOut)
	}
}

func TestReportUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"report", "stale-keys"},
		{"report", "old-keys", "inventory"},
		{"report", "--max-key-age", "0"},
		{"report", "--max-unused", "many"},
		{"report", "-o", "xml"},
		{"report", "--bogus"},
	} {
		_, errOut, code := reportCLI(t, append([]string{"--sandbox"}, args...)...)
		if code != exitUsage || !strings.HasPrefix(errOut, "iamsql: ") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errOut)
		}
	}
	out, _, code := reportCLI(t, "report", "help")
	if code != 0 || !strings.Contains(out, "--fail-on-findings") || !strings.Contains(out, "two-active-keys") {
		t.Errorf("report help: exit %d\n%s", code, out)
	}
}
