package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReadsEverySection(t *testing.T) {
	f, err := Parse([]byte(`
org:
  role: AuditRole
  external_id: x-123
  profiles: [prod, staging]
  account_concurrency: 4
  account_max_attempts: 9
  accounts: ['123456789012', 'prod-*']
  exclude_accounts: [prod-legacy]
report:
  thresholds:
    max_key_age: 30
    max_unused: 45
`))
	if err != nil {
		t.Fatal(err)
	}
	o := f.Org
	if o.Role != "AuditRole" || o.ExternalID != "x-123" || strings.Join(o.Profiles, ",") != "prod,staging" ||
		o.AccountConcurrency != 4 || o.AccountMaxAttempts != 9 || o.Enabled ||
		strings.Join(o.Accounts, ",") != "123456789012,prod-*" || strings.Join(o.ExcludeAccounts, ",") != "prod-legacy" {
		t.Fatalf("org = %+v", o)
	}
	if th := f.Report.Thresholds; th != (Thresholds{MaxKeyAge: 30, MaxUnused: 45}) {
		t.Fatalf("thresholds = %+v", th)
	}
}

func TestParseRefusesWhatItCannotUse(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"org:\n  rol: X\n", `line 2: unknown setting "rol" in org`},
		{"orgs: {}\n", `line 1: unknown setting "orgs" in the top level`},
		{"report:\n  thresholds:\n    max_key_age: ninety\n", `line 3: "ninety" is not a valid whole number`},
		{"report:\n  thresholds:\n    max_key_age: -1\n", "report.thresholds.max_key_age must be a number of days"},
		{"org:\n  enabled: yes please\n", `line 2: "yes please" is not a valid true or false`},
		{"org:\n  role: a\n  role: b\n", `mapping key "role" already defined`},
		{"org:\n  enabled: true\n  profiles: [a]\n", "two ways to name the accounts"},
		{"org:\n  profiles: [a, '']\n", `org.profiles[1]: "" is not a profile name`},
		{"org:\n  account_concurrency: 5000\n", "org.account_concurrency must be between 1 and 1000"},
		{"org: {}\n---\norg: {}\n", "more than one YAML document"},
		{"org:\n  accounts: ['']\n", "org.accounts[0]: an empty entry"},
		{"org:\n  exclude_accounts: [ok, 'prod-[']\n", `org.exclude_accounts[1]: "prod-[" is not a valid name pattern`},
		{"org:\n  accounts: ['a,b']\n", `org.accounts[0]: "a,b" contains a comma`},
		{"org:\n  accounts: prod\n", `line 2: "prod" is not a valid list`},
		{"org: [\n", "line"},
	} {
		_, err := Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.yaml, err, c.want)
		}
	}
}

func TestEmptyFileIsNoSettings(t *testing.T) {
	for _, s := range []string{"", "# nothing yet\n", "---\n"} {
		f, err := Parse([]byte(s))
		if err != nil || f.Org.Role != "" || len(f.Org.Profiles) != 0 {
			t.Fatalf("Parse(%q) = %+v, %v", s, f, err)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv(EnvVar, "")
	// No file anywhere: no settings, no error.
	if f, err := Find(""); err != nil || f.Path != "" {
		t.Fatalf("Find without a file = %+v, %v", f, err)
	}
	def := filepath.Join(dir, "iamsql", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(def), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(def, []byte("org:\n  role: DefaultRole\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := Find(""); err != nil || f.Org.Role != "DefaultRole" || f.Path != def {
		t.Fatalf("Find with the default file = %+v, %v", f, err)
	}
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("org:\n  role: EnvRole\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, other)
	if f, err := Find(""); err != nil || f.Org.Role != "EnvRole" {
		t.Fatalf("Find with IAMSQL_CONFIG = %+v, %v", f, err)
	}
	// The flag wins, and a named file must exist.
	if _, err := Find(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("Find(missing) = %v", err)
	}
	// A broken default file is an error that says it was the default.
	t.Setenv(EnvVar, "")
	if err := os.WriteFile(def, []byte("org:\n  rol: X\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(""); err == nil || !strings.Contains(err.Error(), "the default configuration file") ||
		!strings.Contains(err.Error(), def) {
		t.Fatalf("Find with a broken default = %v", err)
	}
}

func TestLoadBoundsTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("# "+strings.Repeat("x", MaxSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Load(big) = %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Load(dir) = %v", err)
	}
}

func TestParseReadsTheReportPolicy(t *testing.T) {
	f, err := Parse([]byte(`report:
  thresholds:
    max_key_age: 90
  grace_days: 7
  fail_on: high
  controls: [cis-3.0, fsbp]
  severities:
    unused-keys: high
  exemptions:
    - access_key_id: AKIAVENDOR0000000001
      findings: [old-keys]
      reason: vendor key, rotated by contract
      expires: 2027-03-31
    - user_tag: {key: team, value: data}
      reason: data team migration
      expires: "2027-01-15"
`))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Report
	if r.GraceDays != 7 || r.FailOn != "high" || strings.Join(r.Controls, ",") != "cis-3.0,fsbp" || r.Severities["unused-keys"] != "high" || r.SeverityLine("unused-keys") != 8 {
		t.Fatalf("report = %+v", r)
	}
	if len(r.Exemptions) != 2 {
		t.Fatalf("exemptions = %+v", r.Exemptions)
	}
	e0, e1 := r.Exemptions[0], r.Exemptions[1]
	if e0.AccessKeyID != "AKIAVENDOR0000000001" || e0.Expires != "2027-03-31" || e0.Line != 10 || strings.Join(e0.Findings, ",") != "old-keys" || e0.Reason != "vendor key, rotated by contract" {
		t.Errorf("exemption 0 = %+v", e0)
	}
	if e1.UserTag == nil || *e1.UserTag != (UserTag{"team", "data"}) || e1.Expires != "2027-01-15" || e1.Line != 14 {
		t.Errorf("exemption 1 = %+v", e1)
	}
}

func TestParseRefusesABadReportPolicyWithItsLine(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"report:\n  exemptions:\n    - user: bob\n      reson: x\n", `line 4: unknown setting "reson" in report.exemptions`},
		{"report:\n  exemptions:\n    - user: bob\n      reason: x\n      expires: soon\n", `line 3: report.exemptions[0].expires: "soon" is not a date`},
		{"report:\n  exemptions:\n    - user: bob\n      reason: x\n", `line 3: report.exemptions[0].expires: "" is not a date`},
		{"report:\n  exemptions:\n    - user_tag: {key: team, valu: x}\n", `line 3: unknown setting "valu" in report.exemptions[].user_tag`},
		{"report:\n  severities:\n    old-keys: urgent\n", `line 3: report.severities.old-keys: "urgent" is not a severity`},
		{"report:\n  fail_on: sometimes\n", `report.fail_on: "sometimes" is not a severity`},
		{"report:\n  grace: 7\n", `line 2: unknown setting "grace" in report`},
		{"report:\n  thresholds:\n    max_key_ag: 7\n", `line 3: unknown setting "max_key_ag" in report.thresholds`},
		{"report:\n  grace_days: -1\n", "report.grace_days must be a number of days from 0"},
		{"report:\n  grace_days: soon\n", `line 2: "soon" is not a valid whole number`},
	} {
		_, err := Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.yaml, err, c.want)
		}
	}
}

// A configuration file is untrusted input: parsing it returns settings or
// an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"report:\n  exemptions:\n    - user: bob\n      reason: r\n      expires: 2030-01-01\n",
		"report:\n  exemptions: [1, {user_tag: 3}]\n", "report:\n  severities: [a]\n", "report: 7\n", "report:\n  exemptions:\n    - user_tag: null\n",
		"report:\n  thresholds: []\n", "a: &a [*a]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := Parse(data); err == nil && c == nil {
			t.Fatal("no configuration and no error")
		}
	})
}

// The README's example configuration is a valid file.
func TestREADMEExampleParses(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "### The configuration file")
	if i < 0 {
		t.Fatal("README has no configuration section")
	}
	j := strings.Index(s[i:], "```yaml\n")
	if j < 0 {
		t.Fatal("README's configuration section has no YAML example")
	}
	body := s[i+j+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	f, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("README's example: %v\n%s", err, body)
	}
	if f.Org.Role == "" || len(f.Report.Exemptions) == 0 {
		t.Errorf("README's example read as %+v", f)
	}
}
