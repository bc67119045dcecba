package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/run"
)

// cli runs iamsql in-process and returns stdout, stderr and the exit code.
func cli(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCLI(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

const aliceKeys = "SELECT AccessKeyId, UserName, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"

func TestExecOutputFormats(t *testing.T) {
	tests := map[string]string{
		"table": `+----------------------+----------+----------+
| AccessKeyId          | UserName | Status   |
+----------------------+----------+----------+
| AKIAALICE00000000001 | alice    | Active   |
| AKIAALICE00000000002 | alice    | Inactive |
+----------------------+----------+----------+
`,
		"json": `[
  {"AccessKeyId":"AKIAALICE00000000001","UserName":"alice","Status":"Active"},
  {"AccessKeyId":"AKIAALICE00000000002","UserName":"alice","Status":"Inactive"}
]
`,
		"jsonl": `{"AccessKeyId":"AKIAALICE00000000001","UserName":"alice","Status":"Active"}
{"AccessKeyId":"AKIAALICE00000000002","UserName":"alice","Status":"Inactive"}
`,
		"csv": `AccessKeyId,UserName,Status
AKIAALICE00000000001,alice,Active
AKIAALICE00000000002,alice,Inactive
`,
		"markdown": `| AccessKeyId | UserName | Status |
| --- | --- | --- |
| AKIAALICE00000000001 | alice | Active |
| AKIAALICE00000000002 | alice | Inactive |
`,
	}
	for format, want := range tests {
		t.Run(format, func(t *testing.T) {
			// Global flags are accepted after the subcommand too.
			out, errOut, code := cli(t, "", "exec", "--sandbox", "-o", format, aliceKeys)
			if code != 0 || out != want || errOut != "" {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
			}
		})
	}
}

func TestExecExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing region is a statement error", []string{"--sandbox", "exec", "SELECT * FROM access_keys"}, 1,
			"ERROR 1210 (HY000): access_keys: SELECT requires region (add WHERE region = '…'); method access_keys_List needs region\n"},
		{"IAM error keeps its code", []string{"--sandbox", "exec", "INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1')"}, 1,
			"ERROR 1226 (42000): IAM CreateAccessKey failed: LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2\n"},
		{"syntax error", []string{"--sandbox", "exec", "SELEKT 1"}, 1, "ERROR 1064"},
		{"unknown command", []string{"frobnicate"}, 2, `iamsql: unknown command "frobnicate"`},
		{"unknown format", []string{"--sandbox", "-o", "yaml", "exec", "SELECT 1"}, 2, `unknown output format "yaml"`},
		{"no SQL", []string{"--sandbox", "exec"}, 2, "exec: no SQL given"},
		{"missing file", []string{"--sandbox", "exec", "-f", "/nonexistent.sql"}, 2, "no such file"},
		{"bad concurrency", []string{"--concurrency", "0", "exec", "SELECT 1"}, 2, "--concurrency must be between 1 and 1000"},
		{"sandbox with endpoint", []string{"--sandbox", "--endpoint-url", "http://x", "exec", "SELECT 1"}, 2, "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cli(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut, tt.stderr)
			}
			if code != 0 && out != "" {
				t.Errorf("a failed statement printed %q", out)
			}
		})
	}
}

var secretRow = regexp.MustCompile(`\| (AKIA[A-Z0-9]{16}) \| dave     \| Active \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| ([A-Za-z0-9/+]{40}) \| us-east-1 \|`)

func TestExecInsertPrintsTheSecretOnce(t *testing.T) {
	out, errOut, code := cli(t, "", "--sandbox", "exec", "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1'")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := secretRow.FindAllStringSubmatch(out, -1)
	if len(m) != 1 {
		t.Fatalf("want one created row with its secret, got:\n%s", out)
	}
	if !strings.Contains(errOut, "Query OK, 1 row affected") || !strings.Contains(errOut, "IAM returns it only once") {
		t.Errorf("stderr %q lacks the summary or the reminder", errOut)
	}
	if strings.Contains(errOut, m[0][2]) {
		t.Error("the secret reached stderr")
	}
}

func TestExecScriptFromFileStopsAtFirstError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rotate.sql")
	script := `-- disable bob's key, then break, then read it back
UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';
SELECT * FROM access_keys;
SELECT Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob';
`
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, "", "--sandbox", "exec", "-f", file, "-o", "csv")
	if code != 1 || out != "" || !strings.Contains(errOut, "Query OK, 1 row affected") || !strings.Contains(errOut, "(statement 2)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = cli(t, "", "--sandbox", "exec", "--force", "-f", file, "-o", "csv")
	if code != 1 || out != "Status\nInactive\n" {
		t.Errorf("--force: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestStdinScriptRunsLikeMysql(t *testing.T) {
	out, errOut, code := cli(t, "SELECT UserName FROM users WHERE region = 'us-east-1' AND Path = '/ops/' ORDER BY UserName;\n", "--sandbox", "-o", "csv")
	if code != 0 || out != "UserName\ndave\nerin\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestExecAgainstEmulatorEndpoint uses the standard AWS configuration
// chain (credentials from the environment) and --endpoint-url or
// AWS_ENDPOINT_URL_IAM.
func TestExecAgainstEmulatorEndpoint(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	out, errOut, code := cli(t, "", "--endpoint-url", url, "-o", "csv", "exec", "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if code != 0 || out != "AccessKeyId\nAKIABOB0000000000001\n" {
		t.Fatalf("--endpoint-url: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := emu.Calls()["ListAccessKeys"]; got != 1 {
		t.Errorf("ListAccessKeys calls %d, want 1", got)
	}

	t.Setenv("AWS_ENDPOINT_URL_IAM", url)
	out, errOut, code = cli(t, "", "-o", "csv", "exec", "SELECT AccountAccessKeysPresent FROM account_summary WHERE region = 'us-east-1'")
	if code != 0 || out != "AccountAccessKeysPresent\n1\n" {
		t.Fatalf("AWS_ENDPOINT_URL_IAM: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	_, errOut, code = cli(t, "", "exec", "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1'")
	if code != 1 || !strings.Contains(errOut, "ERROR 1045 (28000): IAM ListUsers failed: SignatureDoesNotMatch") {
		t.Errorf("wrong secret: exit %d, stderr %q", code, errOut)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds iamsql once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iamsql-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "iamsql")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("building iamsql: %v\n%s", binErr, binPath)
	}
	return binPath
}

// TestBinaryEmulatorAndExec runs the real binaries: `iamsql emulator` on a
// free port, and `iamsql exec` against it as a separate process.
func TestBinaryEmulatorAndExec(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	emuCmd := exec.CommandContext(ctx, bin, "emulator", "--addr", "127.0.0.1:0", "--seed", "demo")
	stdout, err := emuCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := emuCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { emuCmd.Process.Signal(os.Interrupt); emuCmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "IAM emulator listening on "))
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("emulator printed %q", line)
	}

	cmd := exec.CommandContext(ctx, bin, "exec", "--endpoint-url", url, "-o", "csv",
		"SELECT UserName, COUNT(*) AS n FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'carol', 'dave') GROUP BY UserName ORDER BY UserName")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+emulator.DefaultRootAccessKeyID, "AWS_SECRET_ACCESS_KEY="+emulator.DefaultRootSecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if out.String() != "UserName,n\nalice,2\ncarol,2\n" {
		t.Errorf("stdout %q", out.String())
	}

	bad := exec.CommandContext(ctx, bin, "--sandbox", "exec", "DELETE FROM access_keys WHERE region = 'us-east-1'")
	errOut.Reset()
	bad.Stderr = &errOut
	err = bad.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "DELETE without AccessKeyId or UserName in WHERE would change every key of the account") {
		t.Errorf("want exit 1 with a clear message, got %v: %s", err, errOut.String())
	}
}

// A result missing a part of the account (ListUsers denied: only the
// caller's own keys) says so on stderr and exits 4, unless
// --allow-partial.
func TestPartialResultExitsFourUnlessAllowed(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	emu.Deny("ListUsers", "")
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	q := "SELECT UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1'"
	out, errOut, code := cli(t, "", "--endpoint-url", url, "-o", "csv", "exec", q)
	if code != 4 || out != "UserName,AccessKeyId\nroot,AKIAIOSFODNN7EXAMPLE\n" ||
		!strings.Contains(errOut, "partial result: ListUsers was denied") || !strings.Contains(errOut, "--allow-partial") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = cli(t, "", "--endpoint-url", url, "--allow-partial", "exec", q)
	if code != 0 || !strings.Contains(errOut, "partial result: ListUsers was denied") {
		t.Errorf("--allow-partial: exit %d, stderr %q", code, errOut)
	}
}

// A rotation's plan row has a SecretAccessKey column that is NULL: there is
// no secret, so no reminder to save one.
func TestNoSecretReminderForANullSecret(t *testing.T) {
	t.Setenv("IAMSQL_ROTATION_LEDGER", filepath.Join(t.TempDir(), "rotations.json"))
	var out, errOut bytes.Buffer
	code := runCLI(context.Background(), []string{"--sandbox", "exec", "-o", "csv",
		"CALL rotate_access_key('alice', 'us-east-1')"}, strings.NewReader(""), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "SecretAccessKey") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errOut.String(), out.String())
	}
	if strings.Contains(errOut.String(), run.SecretReminder) {
		t.Errorf("a plan with no secret printed the reminder:\n%s", errOut.String())
	}
}
