package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

func TestEmulatorHelpDocumentsTheAnswerFaults(t *testing.T) {
	out, errOut, code := cli(t, "", "emulator", "help")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"--answer-delay OPERATION=D", "--drop-answer OPERATION=N", "never gets it"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestEmulatorRejectsBadAnswerFaults(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--answer-delay", "CreateAccessKey"}, "want OPERATION=VALUE"},
		{[]string{"--answer-delay", "CreateKey=3s"}, `unknown operation "CreateKey"`},
		{[]string{"--answer-delay", "CreateAccessKey=soon"}, "want OPERATION=DURATION"},
		{[]string{"--answer-delay", "CreateAccessKey=-1s"}, "want OPERATION=DURATION"},
		{[]string{"--drop-answer", "DeleteAccessKey=x"}, "want OPERATION=N"},
		{[]string{"--drop-answer", "DeleteAccessKey=-2"}, "want OPERATION=N"},
	} {
		_, errOut, code := cli(t, "", append([]string{"emulator", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestEmulatorAnswerFaultFlags serves the emulator as `iamsql emulator`
// does, with the answer faults set by flags, and calls it with the SDK.
func TestEmulatorAnswerFaultFlags(t *testing.T) {
	url := serveEmulatorCLI(t, "--seed", "demo",
		"--drop-answer", "CreateAccessKey=1", "--answer-delay", "CreateAccessKey=200ms", "--answer-delay", "ListUsers=0s")
	c := emutest.Client(t, url, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	create := func() (*iam.CreateAccessKeyOutput, error, time.Duration) {
		begin := time.Now()
		out, err := c.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
		return out, err, time.Since(begin)
	}
	// The first create is held, then dropped: no answer, but a key.
	_, err, took := create()
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) || took < 200*time.Millisecond {
		t.Fatalf("first create: %v after %v, want no answer after the delay", err, took)
	}
	// The second is held, then answered.
	out, err, took := create()
	if err != nil || took < 200*time.Millisecond {
		t.Fatalf("second create: %v after %v", err, took)
	}
	keys, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(keys.AccessKeyMetadata); n != 2 {
		t.Fatalf("dave has %d keys, want 2 (the dropped answer's and %s)", n, aws.ToString(out.AccessKey.AccessKeyId))
	}
}

// serveEmulatorCLI runs `iamsql emulator --addr 127.0.0.1:0 args...` until
// the test ends (then it must exit 0) and returns the URL it announced.
func serveEmulatorCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runCLI(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if code := <-done; code != 0 {
			t.Errorf("emulator exit %d", code)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "IAM emulator listening on "))
}

// --propagation-delay: a new key signs nothing for that long; iamsql
// rotate's verification waits it out (bounded by --propagation-wait).
func TestEmulatorPropagationDelayFlag(t *testing.T) {
	url := serveEmulatorCLI(t, "--seed", "demo", "--propagation-delay", "1500ms")
	c := emutest.Client(t, url, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	out, err := c.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	k := out.AccessKey
	who := func() error {
		_, err := emutest.STSClient(url, emutest.Credentials(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), ""), func(o *sts.Options) { o.RetryMaxAttempts = 1 }).
			GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	if err := who(); err == nil {
		t.Fatal("a new key signed at once")
	}
	time.Sleep(1600 * time.Millisecond)
	if err := who(); err != nil {
		t.Fatalf("after the delay: %v", err)
	}

	awsEnv(t)
	ledger := filepath.Join(t.TempDir(), "rotations.json")
	begin := time.Now()
	stdout, stderr, code := cli(t, "", "--endpoint-url", url, "rotate", "--ledger", ledger, "--user", "bob",
		"--sink", "secretsmanager:iam/bob", "--propagation-wait", "10s", "--apply")
	if code != 0 || !strings.Contains(stdout, " verified ") || time.Since(begin) < time.Second {
		t.Fatalf("exit %d after %v\n%s\n%s", code, time.Since(begin), stdout, stderr)
	}
	stdout, stderr, code = cli(t, "", "--endpoint-url", url, "rotate", "--ledger", ledger, "--user", "ci-deploy",
		"--sink", "secretsmanager:iam/ci-deploy", "--propagation-wait", "500ms", "--apply")
	if code != 1 || !strings.Contains(stderr, "did not verify within 500ms") || !strings.Contains(stdout, " rolled_back ") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
