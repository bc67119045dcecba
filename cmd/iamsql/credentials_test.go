package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noAWSConfig leaves the test with no AWS credentials anywhere: empty
// shared files, nothing in the environment, no instance metadata.
func noAWSConfig(t *testing.T, config string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_REGION", "us-east-1")
}

// Without credentials, with an expired SSO session or with a profile that
// does not exist, the error says so and what to do, instead of the SDK's
// last attempt (the EC2 instance metadata service).
func TestCredentialProblemsAreExplained(t *testing.T) {
	const q = "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1'"
	const ssoProfile = `[profile dev]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Admin
`
	for _, tc := range []struct {
		name   string
		config string
		args   []string
		want   []string
	}{
		{"no credentials", "", nil, []string{"ERROR 1045 (28000)", "no AWS credentials found", "aws configure", "aws sso login", "--profile", "--sandbox"}},
		{"expired SSO session", ssoProfile, []string{"--profile", "dev"}, []string{"ERROR 1045 (28000)", `AWS SSO session of profile "dev" has expired`, "aws sso login --profile dev"}},
		{"unknown profile", ssoProfile, []string{"--profile", "prod"}, []string{"ERROR 1045 (28000)", `AWS profile "prod" does not exist`, "aws configure list-profiles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noAWSConfig(t, tc.config)
			out, errOut, code := cli(t, "", append(tc.args, "exec", q)...)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "IMDS") || strings.Contains(errOut, "WARN") {
				t.Errorf("stderr %q shows the SDK's internals", errOut)
			}
		})
	}
}
