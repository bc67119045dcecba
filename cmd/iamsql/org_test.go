package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// orgEnv serves an organization and points the AWS configuration at its
// management account's root key.
func orgEnv(t *testing.T, seed string) (*emulator.Org, string) {
	t.Helper()
	org, url := emutest.StartOrg(t, emulator.OrgOptions{Seed: seed, RandSeed: 1})
	id, secret := org.Management().RootCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return org, url
}

func TestExecOrgSpansTheOrganization(t *testing.T) {
	_, url := orgEnv(t, "org:3x2")
	out, errOut, code := cli(t, "", "--org", "--endpoint-url", url, "exec", "-o", "csv",
		"SELECT account_id, COUNT(*) AS users FROM users WHERE region = 'us-east-1' GROUP BY account_id ORDER BY account_id")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if want := "account_id,users\n100000000000,2\n100000000001,2\n100000000002,2\n"; out != want {
		t.Fatalf("out %q, want %q", out, want)
	}
}

func TestExecOrgPartialResultExitsFour(t *testing.T) {
	org, url := orgEnv(t, "org:3x2")
	org.Account("100000000002").RemoveRole(emulator.DefaultOrgRole)
	q := "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1'"
	out, errOut, code := cli(t, "", "--org", "--endpoint-url", url, "exec", "-o", "csv", q)
	if code != exitPartial || out != "COUNT(*)\n5\n" {
		t.Fatalf("exit %d, out %q; want %d and the 5 keys of the two readable accounts", code, out, exitPartial)
	}
	for _, want := range []string{"account 100000000002 (account-003) could not be read", "could not assume OrganizationAccountAccessRole"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, _, code = cli(t, "", "--org", "--allow-partial", "--endpoint-url", url, "exec", q)
	if code != 0 {
		t.Fatalf("--allow-partial: exit %d", code)
	}
}

func TestSandboxOrgIsTheDemoOrganization(t *testing.T) {
	out, errOut, code := cli(t, "", "--sandbox", "--org", "exec", "-o", "csv", "SELECT Name FROM accounts ORDER BY Name")
	if code != 0 || errOut != "" || out != "Name\narchive\ndev\nmanagement\nprod\nsandbox\n" {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, errOut)
	}
}

func TestOrgFlagsAreCheckedFirst(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--org", "--profiles", "a,b"}, "--org and --profiles are two ways"},
		{[]string{"--profiles", "a,,b"}, "a profile name is empty"},
		{[]string{"--org", "--account-concurrency", "0"}, "--account-concurrency must be between 1 and 1000"},
		{[]string{"--org", "--org-role", " "}, "--org-role must name a role"},
	} {
		_, errOut, code := cli(t, "", append(tc.args, "exec", "SELECT 1")...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// orgReport is the JSON document of `report --org -o json`.
type orgReport struct {
	Accounts []struct {
		Account  string
		Name     *string
		Users    *int
		Keys     int
		RootKeys *bool
		Findings int
	} `json:"accounts"`
	Findings []struct {
		Finding, Account, UserName string
		AccessKeyID                *string `json:"AccessKeyId"`
	} `json:"findings"`
	Incomplete []struct{ Source, Reason string } `json:"incomplete"`
}

func TestReportOrgBreaksDownEveryAccount(t *testing.T) {
	out, errOut, code := cli(t, "", "--sandbox", "report", "--org", "-o", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc orgReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, a := range doc.Accounts {
		name := "-"
		if a.Name != nil {
			name = *a.Name
		}
		rows = append(rows, fmt.Sprintf("%s %s users=%d keys=%d root=%v findings=%d", a.Account, name, *a.Users, a.Keys, *a.RootKeys, a.Findings))
	}
	want := []string{
		"123456789012 management users=6 keys=8 root=true findings=10",
		"210987654321 dev users=2 keys=3 root=true findings=5",
		"345678901234 prod users=2 keys=2 root=false findings=1",
		"456789012345 sandbox users=1 keys=1 root=false findings=0",
		"567890123456 archive users=0 keys=0 root=false findings=0",
		"total - users=11 keys=14 root=true findings=16",
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("accounts:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	// Findings name their account by id and name: dev's root keys, known
	// only from its account summary, and ada's old key in dev.
	found := map[string]bool{}
	for _, f := range doc.Findings {
		found[f.Finding+" "+f.Account+" "+f.UserName] = true
	}
	for _, w := range []string{"root-keys 210987654321 (dev) root", "root-keys 123456789012 (management) root", "old-keys 210987654321 (dev) ada", "inactive-keys 345678901234 (prod) old-admin"} {
		if !found[w] {
			t.Errorf("no finding %q in %v", w, found)
		}
	}
	html, _, code := cli(t, "", "--sandbox", "--org", "report", "-o", "html")
	if code != 0 || !strings.Contains(html, `<table class="accounts" id="account-table">`) ||
		!strings.Contains(html, `<tr data-account="345678901234"><td class="id">345678901234</td><td>prod</td>`) ||
		!strings.Contains(html, "Organization: <b>5 accounts</b>") {
		t.Fatalf("exit %d; the HTML lacks the account breakdown", code)
	}
}

func TestReportOrgListsUnreadableAccountsAsIncomplete(t *testing.T) {
	org, url := orgEnv(t, "org:3x2")
	org.Account("100000000001").RemoveRole(emulator.DefaultOrgRole)
	out, _, code := cli(t, "", "--org", "--endpoint-url", url, "report", "-o", "json")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d", code, exitPartial)
	}
	var doc orgReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	named := false
	for _, in := range doc.Incomplete {
		named = named || strings.Contains(in.Reason, "account 100000000001 (account-002) could not be read")
	}
	if !named {
		t.Fatalf("incomplete %+v does not name the account", doc.Incomplete)
	}
	var ids []string
	for _, a := range doc.Accounts {
		ids = append(ids, a.Account)
	}
	if !slices.Equal(ids, []string{"100000000000", "100000000002", "total"}) {
		t.Fatalf("accounts %v", ids)
	}
}

func TestScriptOnStdinOrgPartialWarnsAndExitsFour(t *testing.T) {
	org, url := orgEnv(t, "org:3x1")
	if err := org.SetAccountStatus("100000000001", emulator.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, "SELECT COUNT(*) AS n FROM users WHERE region = 'us-east-1';\n", "--org", "--endpoint-url", url, "-o", "csv")
	if code != exitPartial || out != "n\n2\n" {
		t.Fatalf("exit %d, out %q; want %d and the users of the two active accounts", code, out, exitPartial)
	}
	if !strings.Contains(errOut, "account 100000000001 (account-002) could not be read: it is SUSPENDED") {
		t.Fatalf("stderr %q does not name the suspended account", errOut)
	}
}
