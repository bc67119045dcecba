package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// awsCLI finds the aws CLI (emutest.AWSCLI).
func awsCLI(t *testing.T) string { return emutest.AWSCLI(t) }

// cli runs the aws CLI against one emulator with a clean configuration.
type cli struct {
	bin      string
	endpoint string
	home     string
	id       string
	secret   string
}

type cliResult struct {
	out, errOut string
	code        int
}

func (c *cli) run(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"--endpoint-url", c.endpoint, "--output", "json"}, args...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.home,
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "credentials"),
		"AWS_ACCESS_KEY_ID=" + c.id,
		"AWS_SECRET_ACCESS_KEY=" + c.secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"LANG=C.UTF-8",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{out: stdout.String(), errOut: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// ok runs a command that must succeed and decodes its JSON output.
func (c *cli) ok(t *testing.T, v any, args ...string) {
	t.Helper()
	res := c.run(t, args...)
	if res.code != 0 {
		t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), res.code, res.errOut)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(res.out), v); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, res.out)
	}
}

// fails runs a command that must fail with an IAM error code.
func (c *cli) fails(t *testing.T, code string, args ...string) {
	t.Helper()
	res := c.run(t, args...)
	if res.code == 0 {
		t.Fatalf("aws %s succeeded, want %s", strings.Join(args, " "), code)
	}
	if !strings.Contains(res.errOut, "("+code+")") {
		t.Fatalf("aws %s: exit %d, stderr lacks (%s):\n%s", strings.Join(args, " "), res.code, code, res.errOut)
	}
}

type cliKey struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	UserName        string
	Status          string
}

type cliUsers struct {
	Users     []struct{ UserName string }
	NextToken string
}

// TestAWSCLI drives the emulator with the real aws CLI (botocore's parser
// and signer), one behaviour per step.
func TestAWSCLI(t *testing.T) {
	bin := awsCLI(t)
	t.Parallel() // each CLI start takes about a second; overlap with the rest
	e, endpoint := start(t, emulator.Options{})
	id, secret := e.RootCredentials()
	c := &cli{bin: bin, endpoint: endpoint, home: t.TempDir(), id: id, secret: secret}

	var user struct {
		User struct{ UserName, Arn string }
	}
	c.ok(t, &user, "iam", "create-user", "--user-name", "cli-user")
	if user.User.UserName != "cli-user" || user.User.Arn != "arn:aws:iam::123456789012:user/cli-user" {
		t.Fatalf("create-user: %+v", user)
	}

	var k1, k2 struct{ AccessKey cliKey }
	c.ok(t, &k1, "iam", "create-access-key", "--user-name", "cli-user")
	c.ok(t, &k2, "iam", "create-access-key", "--user-name", "cli-user")
	if k1.AccessKey.Status != "Active" || len(k1.AccessKey.SecretAccessKey) != 40 || k1.AccessKey.AccessKeyID == k2.AccessKey.AccessKeyID {
		t.Fatalf("create-access-key: %+v %+v", k1, k2)
	}

	t.Run("a third access key fails with LimitExceeded", func(t *testing.T) {
		res := c.run(t, "iam", "create-access-key", "--user-name", "cli-user")
		if res.code == 0 || !strings.Contains(res.errOut, "(LimitExceeded)") || !strings.Contains(res.errOut, "Cannot exceed quota for AccessKeysPerUser: 2") {
			t.Fatalf("exit %d, stderr:\n%s", res.code, res.errOut)
		}
	})

	t.Run("list-access-keys shows both keys", func(t *testing.T) {
		var out struct{ AccessKeyMetadata []cliKey }
		c.ok(t, &out, "iam", "list-access-keys", "--user-name", "cli-user")
		if len(out.AccessKeyMetadata) != 2 || out.AccessKeyMetadata[0].UserName != "cli-user" {
			t.Fatalf("%+v", out)
		}
	})

	t.Run("update-access-key deactivates a key", func(t *testing.T) {
		c.ok(t, nil, "iam", "update-access-key", "--user-name", "cli-user", "--access-key-id", k1.AccessKey.AccessKeyID, "--status", "Inactive")
		if got := keyStatus(e, k1.AccessKey.AccessKeyID); got != "Inactive" {
			t.Fatalf("status %s", got)
		}
	})

	t.Run("get-access-key-last-used reports the CLI's own use", func(t *testing.T) {
		var lu struct {
			UserName          string
			AccessKeyLastUsed struct{ LastUsedDate, ServiceName, Region string }
		}
		c.ok(t, &lu, "iam", "get-access-key-last-used", "--access-key-id", k2.AccessKey.AccessKeyID)
		if lu.UserName != "cli-user" || lu.AccessKeyLastUsed.ServiceName != "N/A" || lu.AccessKeyLastUsed.LastUsedDate != "" {
			t.Fatalf("unused key: %+v", lu)
		}
		// Sign with the new key itself.
		asUser := *c
		asUser.id, asUser.secret = k2.AccessKey.AccessKeyID, k2.AccessKey.SecretAccessKey
		var me struct{ User struct{ UserName string } }
		asUser.ok(t, &me, "iam", "get-user")
		if me.User.UserName != "cli-user" {
			t.Fatalf("get-user as the new key: %+v", me)
		}
		c.ok(t, &lu, "iam", "get-access-key-last-used", "--access-key-id", k2.AccessKey.AccessKeyID)
		if lu.AccessKeyLastUsed.ServiceName != "iam" || lu.AccessKeyLastUsed.Region != "us-east-1" || lu.AccessKeyLastUsed.LastUsedDate == "" {
			t.Fatalf("used key: %+v", lu)
		}
	})

	t.Run("delete-access-key removes a key", func(t *testing.T) {
		c.ok(t, nil, "iam", "delete-access-key", "--user-name", "cli-user", "--access-key-id", k1.AccessKey.AccessKeyID)
		if got := keyStatus(e, k1.AccessKey.AccessKeyID); got != "" {
			t.Fatalf("key still there (%s)", got)
		}
	})

	t.Run("list-users pages through every user", func(t *testing.T) {
		for i := 0; i < 7; i++ {
			addUsers(t, e, fmt.Sprintf("page-user-%d", i))
		}
		e.ResetCalls()
		var all cliUsers
		c.ok(t, &all, "iam", "list-users", "--page-size", "3")
		if len(all.Users) != 8 {
			t.Fatalf("got %d users", len(all.Users))
		}
		if got := e.Calls()["ListUsers"]; got != 3 {
			t.Fatalf("ListUsers calls %d, want 3 pages of 3", got)
		}

		// --max-items stops early and resumes from the CLI's token.
		e.ResetCalls()
		var first, rest cliUsers
		c.ok(t, &first, "iam", "list-users", "--page-size", "2", "--max-items", "5")
		if len(first.Users) != 5 || first.NextToken == "" {
			t.Fatalf("first part: %d users, token %q", len(first.Users), first.NextToken)
		}
		c.ok(t, &rest, "iam", "list-users", "--page-size", "2", "--starting-token", first.NextToken)
		seen := map[string]bool{}
		for _, u := range append(first.Users, rest.Users...) {
			if seen[u.UserName] {
				t.Fatalf("user %s listed twice", u.UserName)
			}
			seen[u.UserName] = true
		}
		if len(seen) != 8 {
			t.Fatalf("got %d distinct users", len(seen))
		}
		if got := e.Calls()["ListUsers"]; got < 4 {
			t.Fatalf("ListUsers calls %d, want several pages", got)
		}
	})

	t.Run("a wrong secret fails with SignatureDoesNotMatch", func(t *testing.T) {
		bad := *c
		bad.secret = "not-the-secret"
		bad.fails(t, "SignatureDoesNotMatch", "iam", "list-users")
	})

	t.Run("an unknown key fails with InvalidClientTokenId", func(t *testing.T) {
		bad := *c
		bad.id = "AKIAUNKNOWN000000000"
		bad.fails(t, "InvalidClientTokenId", "iam", "get-user")
	})
}
