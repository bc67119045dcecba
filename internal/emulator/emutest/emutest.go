// Package emutest starts the IAM emulator for tests and builds real
// aws-sdk-go-v2 IAM clients pointed at it.
package emutest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamsql/iamsql/internal/emulator"
)

// Start runs an emulator configured by opts on a free loopback port and
// closes it when the test ends. It returns the emulator and its URL.
func Start(tb testing.TB, opts emulator.Options) (*emulator.Emulator, string) {
	tb.Helper()
	e, err := emulator.New(opts)
	if err != nil {
		tb.Fatalf("emutest: %v", err)
	}
	srv, err := e.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("emutest: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return e, srv.URL
}

// Client returns an IAM client for url signing with the default root
// credentials (emulator.DefaultRootAccessKeyID) in us-east-1. opts adjust
// the client, e.g. func(o *iam.Options) { o.RetryMaxAttempts = 1 }.
func Client(tb testing.TB, url string, opts ...func(*iam.Options)) *iam.Client {
	tb.Helper()
	return newClient(url, emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey, opts...)
}

// ClientWithKey returns an IAM client for url signing with the given key.
func ClientWithKey(tb testing.TB, url, id, secret string) *iam.Client {
	tb.Helper()
	return newClient(url, id, secret)
}

func newClient(url, id, secret string, opts ...func(*iam.Options)) *iam.Client {
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "emutest"}, nil
	})
	o := iam.Options{
		Region:       "us-east-1",
		Credentials:  creds,
		BaseEndpoint: aws.String(url),
		// The SDK's default client can send a call twice to a server this
		// fast; see emulator.NewHTTPClient.
		HTTPClient: emulator.NewHTTPClient(),
	}
	return iam.New(o, opts...)
}

// StartOrg runs an emulated organization configured by opts on a free
// loopback port and closes it when the test ends.
func StartOrg(tb testing.TB, opts emulator.OrgOptions) (*emulator.Org, string) {
	tb.Helper()
	o, err := emulator.NewOrg(opts)
	if err != nil {
		tb.Fatalf("emutest: %v", err)
	}
	srv, err := o.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("emutest: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return o, srv.URL
}

// Credentials is a static credentials provider (a session token for
// temporary credentials).
func Credentials(id, secret, token string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Source: "emutest"}, nil
	})
}

// STSClient returns an STS client for url signing with creds.
func STSClient(url string, creds aws.CredentialsProvider, opts ...func(*sts.Options)) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url), HTTPClient: emulator.NewHTTPClient()}, opts...)
}

// OrganizationsClient returns an Organizations client for url signing
// with creds.
func OrganizationsClient(url string, creds aws.CredentialsProvider, opts ...func(*organizations.Options)) *organizations.Client {
	return organizations.New(organizations.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url), HTTPClient: emulator.NewHTTPClient()}, opts...)
}

// IAMClient returns an IAM client for url signing with creds.
func IAMClient(url string, creds aws.CredentialsProvider, opts ...func(*iam.Options)) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url), HTTPClient: emulator.NewHTTPClient()}, opts...)
}

// SecretsManagerClient returns a Secrets Manager client for url signing
// with creds in us-east-1.
func SecretsManagerClient(url string, creds aws.CredentialsProvider, opts ...func(*secretsmanager.Options)) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url), HTTPClient: emulator.NewHTTPClient()}, opts...)
}

// AWSCLI finds the aws CLI: Debian's v2 at /usr/bin/aws first (a pyenv
// shim on PATH may be v1), else whatever is on PATH. Without one the test
// fails in CI and is skipped elsewhere.
func AWSCLI(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat("/usr/bin/aws"); err == nil && !fi.IsDir() {
		return "/usr/bin/aws"
	}
	if p, err := exec.LookPath("aws"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("the aws CLI is required in CI (apt-get install awscli)")
	}
	tb.Skip("the aws CLI is not installed")
	return ""
}
