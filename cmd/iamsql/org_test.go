package main

import (
	"path/filepath"
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
