package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a configuration file and points IAMSQL_CONFIG at a
// missing one, so only --config (or the variable the test sets) counts.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("IAMSQL_CONFIG", "")
	p := filepath.Join(dir, "iamsql.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileThresholdsAndTheFlagsThatOverrideThem(t *testing.T) {
	p := writeConfig(t, "report:\n  thresholds:\n    max_key_age: 300\n")
	keys := func(args ...string) string {
		t.Helper()
		out, errOut, code := reportCLI(t, append([]string{"--sandbox", "--config", p, "report", "old-keys", "-o", "csv"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			ids = append(ids, strings.Split(line, ",")[5]) // AccessKeyId
		}
		return strings.Join(ids, " ")
	}
	if got := keys(); got != "AKIACIDEPLOY00000001 AKIAALICE00000000001" {
		t.Errorf("keys older than the file's 300 days: %v", got)
	}
	// The flag wins over the file.
	if got := keys("--max-key-age", "90"); strings.Count(got, " ")+1 != demoFindings["old-keys"] {
		t.Errorf("keys older than --max-key-age 90: %v", got)
	}
	// IAMSQL_CONFIG names the file when --config does not.
	t.Setenv("IAMSQL_CONFIG", p)
	out, errOut, code := reportCLI(t, "--sandbox", "report", "old-keys", "-o", "csv")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 2 {
		t.Errorf("with IAMSQL_CONFIG: exit %d, %s\n%s", code, errOut, out)
	}
}

func TestConfigFileErrorsAreUsageErrorsBeforeAnyCall(t *testing.T) {
	p := writeConfig(t, "org:\n  rol: Audit\n")
	_, errOut, code := reportCLI(t, "--sandbox", "--config", p, "exec", "SELECT 1")
	if code != exitUsage || !strings.Contains(errOut, p+": line 2: unknown setting \"rol\" in org") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = reportCLI(t, "--sandbox", "--config", filepath.Join(t.TempDir(), "none.yaml"), "exec", "SELECT 1")
	if code != exitUsage || !strings.Contains(errOut, "none.yaml") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestConfigFileOrgSettings(t *testing.T) {
	// org.enabled is --org: with --sandbox, the demo organization; the
	// file's role must be the one assumed, so a role the demo's members
	// do not trust leaves every member out.
	p := writeConfig(t, "org:\n  enabled: true\n  role: NotTrusted\n")
	out, errOut, code := reportCLI(t, "--sandbox", "--config", p, "exec", "-o", "csv",
		"SELECT COUNT(*) FROM accounts")
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("accounts in org mode from the file: exit %d, %s\n%s", code, errOut, out)
	}
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p, "exec", "-o", "csv",
		"SELECT COUNT(*) FROM users WHERE region = 'us-east-1'")
	if code != exitPartial || !strings.Contains(errOut, "NotTrusted") {
		t.Errorf("members through an untrusted role: exit %d, stderr %q", code, errOut)
	}
	// --org-role on the command line wins over the file.
	_, errOut, code = reportCLI(t, "--sandbox", "--config", p, "--org-role", "OrganizationAccountAccessRole", "exec", "-o", "csv",
		"SELECT COUNT(*) FROM users WHERE region = 'us-east-1'")
	if code != 0 {
		t.Errorf("with --org-role: exit %d, stderr %q", code, errOut)
	}
}

// The file's account lists limit what org mode reads; the flags override
// them; an account left out has no rows and no call, and the result is
// not partial (exit 0).
func TestConfigFileOrgAccountLists(t *testing.T) {
	p := writeConfig(t, "org:\n  enabled: true\n  exclude_accounts: [dev, '3456789*']\n")
	count := func(args ...string) string {
		t.Helper()
		out, errOut, code := reportCLI(t, append([]string{"--sandbox", "--config", p}, append(args, "exec", "-o", "csv",
			"SELECT account_id, COUNT(*) FROM users WHERE region = 'us-east-1' GROUP BY account_id ORDER BY account_id")...)...)
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		return strings.Join(strings.Split(strings.TrimSpace(out), "\n")[1:], " ")
	}
	// dev (210987654321) by name, prod (345678901234) by an id pattern…
	// which is a name pattern only: ids match exactly. prod stays.
	if got := count(); strings.Contains(got, "210987654321") || !strings.Contains(got, "345678901234") || !strings.Contains(got, "123456789012") {
		t.Errorf("with exclude_accounts [dev, 3456789*]: %q", got)
	}
	// The flags win: only the accounts named.
	if got := count("--org-accounts", "345678901234,sand*"); got != "345678901234,2 456789012345,1" {
		t.Errorf("--org-accounts 345678901234,sand*: %q", got)
	}
	if got := count("--org-exclude-accounts", "nothing"); !strings.Contains(got, "210987654321") {
		t.Errorf("--org-exclude-accounts overriding the file: %q", got)
	}
	_, errOut, code := reportCLI(t, "--sandbox", "--org", "--org-accounts", "prod-[", "exec", "SELECT 1")
	if code != exitUsage || !strings.Contains(errOut, "--org-accounts") {
		t.Errorf("a bad pattern: exit %d, stderr %q", code, errOut)
	}
}
