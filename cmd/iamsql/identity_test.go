package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/termtest"
)

// exec --verbose says whom the statements run as; AWS_ACCOUNT() and
// AWS_PRINCIPAL() return it; CURRENT_USER() stays MySQL's. All of it
// comes from one GetCallerIdentity, and none is made unless asked for.
func TestIdentityFromOneGetCallerIdentity(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	awsEnv(t)
	const aliceKey, aliceSecret = "AKIAALICEIDENTITY001", "aliceIdentitySecret0000000000000000000000"
	if err := emu.AddAccessKey(emulator.AccessKey{AccessKeyID: aliceKey, SecretAccessKey: aliceSecret, UserName: "alice"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", aliceKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", aliceSecret)

	_, _, code := cli(t, "", "--endpoint-url", url, "exec", "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if n := emu.Calls()["GetCallerIdentity"]; code != 0 || n != 0 {
		t.Fatalf("a plain statement: exit %d, %d GetCallerIdentity calls, want none", code, n)
	}

	out, errOut, code := cli(t, "", "--endpoint-url", url, "--profile", "", "-o", "csv", "exec", "--verbose",
		"SELECT AWS_ACCOUNT() AS account, AWS_PRINCIPAL() AS principal, CURRENT_USER() AS mysql_user; SELECT aws_account() AS again; "+
			"SELECT account_id FROM account_summary WHERE region = 'us-east-1'")
	if code != 0 || out != "account,principal,mysql_user\n123456789012,arn:aws:iam::123456789012:user/alice,local@\nagain\n123456789012\naccount_id\n123456789012\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, want := range []string{"-- AWS account: 123456789012\n", "-- Principal:   arn:aws:iam::123456789012:user/alice\n",
		"-- Profile:     default\n", "-- Endpoint:    " + url + "\n"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--verbose: stderr %q lacks %q", errOut, want)
		}
	}
	if n := emu.Calls()["GetCallerIdentity"]; n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want 1 (asked once, kept: the display, AWS_ACCOUNT() and account_id share it)", n)
	}
}

// The shell's banner, prompt and \s say which account, principal,
// profile and endpoint it is on; without credentials the banner says it
// is not connected, and why.
func TestShellShowsWhereItIsConnected(t *testing.T) {
	sh := startShell(t, t.TempDir(), "--sandbox")
	const wait = 30 * time.Second
	sh.Expect("Connected to the sandbox", wait)
	sh.Expect("Account 123456789012 as arn:aws:iam::123456789012:root.", wait)
	sh.Expect("root@123456789012 iam> ", wait)
	sh.Type("\\s\r")
	for _, want := range []string{"AWS account:      123456789012", "Principal:        arn:aws:iam::123456789012:root",
		"Profile:          none (the sandbox)", "Endpoint:         the sandbox", "Output format:    table", "root@123456789012 iam> "} {
		sh.Expect(want, wait)
	}
	sh.Type("status\r")
	sh.Expect("AWS account:      123456789012", wait)
	sh.Type("\\q\r")
	sh.Exit(wait)

	home := t.TempDir()
	cmd := exec.Command(binary(t))
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"),
		"AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_IAM=", "AWS_REGION=us-east-1")
	sh = termtest.Start(t, cmd, 50, 220)
	sh.Expect("Not connected to AWS: ERROR 1045 (28000): no AWS credentials found", wait)
	if strings.Contains(sh.Screen(), "Connected to AWS") {
		t.Errorf("the banner claims a connection:\n%s", sh.Screen())
	}
	sh.Expect("\niam> ", wait)
	sh.Type("\\q\r")
	sh.Exit(wait)
}
