package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runShellScript runs iamsql with no subcommand and script on stdin (not
// a terminal), like `iamsql < script.sql`.
func runShellScript(t *testing.T, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runCLI(context.Background(), append([]string{"--sandbox"}, args...), strings.NewReader(script), &out, &errOut)
	return out.String(), errOut.String(), code
}

const shellScript = `SELECT UserName FROM users WHERE region = 'us-east-1' AND Path = '/ops/' ORDER BY UserName;
-- a mistake on line 3
SELECT *
  FROM access_keys;
SELECT 'after' AS x;
`

func TestScriptOnStdinStopsAtTheFirstError(t *testing.T) {
	out, errOut, code := runShellScript(t, shellScript, "-o", "csv")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if out != "UserName\ndave\nerin\n" {
		t.Errorf("stdout %q: the script went on after its error", out)
	}
	want := "ERROR 1210 (HY000) at line 3: access_keys: SELECT requires region (add WHERE region = '…'); method access_keys_List needs region\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestScriptOnStdinWithForceGoesOnAfterErrors(t *testing.T) {
	out, errOut, code := runShellScript(t, shellScript, "--force", "-o", "csv")
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a statement failed)", code)
	}
	if out != "UserName\ndave\nerin\nx\nafter\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "ERROR 1210 (HY000) at line 3:") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestScriptOnStdinRunsMetaCommandsAndBackslashG(t *testing.T) {
	script := "\\o json\nSELECT 1 AS one;\nSELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'\\G\nSELECT 2 AS two"
	out, errOut, code := runShellScript(t, script)
	if code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, errOut)
	}
	want := "[\n  {\"one\":1}\n]\n" +
		"*************************** 1. row ***************************\nAccessKeyId: AKIABOB0000000000001\n" +
		"[\n  {\"two\":2}\n]\n"
	if out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

func TestScriptOnStdinPrintsCreatedSecretsOnce(t *testing.T) {
	out, errOut, code := runShellScript(t, "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\n", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "AccessKeyId,UserName,Status,CreateDate,SecretAccessKey,region" || !strings.Contains(lines[1], ",dave,Active,") {
		t.Errorf("stdout %q", out)
	}
	if strings.Count(errOut, "Save the secret access key now") != 1 {
		t.Errorf("stderr %q: want the reminder once", errOut)
	}
}

func TestShellRejectsUnknownArguments(t *testing.T) {
	for _, args := range [][]string{{"--force", "bogus"}, {"--force=maybe"}} {
		_, errOut, code := runShellScript(t, "", args...)
		if code != exitUsage || !strings.HasPrefix(errOut, "iamsql: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
