package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// --call-budget, before or after the subcommand, bounds each statement's
// IAM calls: a statement stopped at it fails with 1104 and exit status 1,
// having made exactly the budget's calls.
func TestCallBudgetFlagBoundsEachStatement(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	const invented = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 50) " +
		"SELECT COUNT(*) FROM n JOIN access_keys k ON k.UserName = CONCAT('nobody', n.x) WHERE k.region = 'us-east-1'"
	for _, args := range [][]string{
		{"--call-budget", "10", "--endpoint-url", url, "exec", invented},
		{"--endpoint-url", url, "exec", "--call-budget=10", invented},
	} {
		emu.ResetCalls()
		_, errOut, code := cli(t, "", args...)
		if code != 1 || !strings.Contains(errOut, "ERROR 1104 (42000): statement stopped at its IAM call budget of 10 calls (set by --call-budget)") ||
			!strings.Contains(errOut, "--call-budget 20") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		if got := emu.TotalCalls(); got != 10 {
			t.Errorf("%q: %d IAM calls, want 10", args, got)
		}
	}
	emu.ResetCalls()
	out, errOut, code := cli(t, "", "--endpoint-url", url, "-o", "csv", "exec", invented)
	if code != 0 || out != "COUNT(*)\n0\n" || emu.Calls()["ListAccessKeys"] != 50 {
		t.Errorf("default budget: exit %d, stdout %q, stderr %q, calls %v", code, out, errOut, emu.Calls())
	}
	if _, errOut, code := cli(t, "", "--call-budget", "-5", "exec", "SELECT 1"); code != exitUsage || !strings.Contains(errOut, "--call-budget must not be negative") {
		t.Errorf("negative budget: exit %d, stderr %q", code, errOut)
	}
}
