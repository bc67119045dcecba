package emulator

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

func trustedClient(e *Emulator, key string, creds aws.CredentialsProvider) *iam.Client {
	return iam.New(iam.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://in-process.invalid"), Credentials: creds,
		HTTPClient: &http.Client{Transport: e.TrustedTransport(key)}, RetryMaxAttempts: 1,
	})
}

func TestTrustedTransportActsAsItsKeyWithoutSigning(t *testing.T) {
	e, err := New(Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := trustedClient(e, DefaultRootAccessKeyID, aws.AnonymousCredentials{}).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil || len(out.AccessKeyMetadata) != 1 || aws.ToString(out.AccessKeyMetadata[0].AccessKeyId) != DefaultRootAccessKeyID {
		t.Fatalf("unsigned request as root: %v %+v", err, out)
	}
	if log := e.CallLog(); log[len(log)-1].AccessKeyID != DefaultRootAccessKeyID {
		t.Errorf("call not attributed to the trusted key: %+v", log[len(log)-1])
	}
	// An unknown key is refused even in-process.
	_, err = trustedClient(e, "AKIANOSUCHKEY0000000", aws.AnonymousCredentials{}).ListUsers(ctx, &iam.ListUsersInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("unknown trusted key: %v", err)
	}
	// A signed request is still verified: a wrong secret fails.
	_, err = trustedClient(e, DefaultRootAccessKeyID, aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: DefaultRootAccessKeyID, SecretAccessKey: "wrong"}, nil
	}))).ListUsers(ctx, &iam.ListUsersInput{})
	if !errors.As(err, &api) || api.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("signed request with a wrong secret: %v", err)
	}
	// The plain Transport still requires a signature.
	plain := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://x.invalid"), Credentials: aws.AnonymousCredentials{},
		HTTPClient: &http.Client{Transport: e.Transport()}, RetryMaxAttempts: 1})
	if _, err := plain.ListUsers(ctx, &iam.ListUsersInput{}); !errors.As(err, &api) || api.ErrorCode() != "MissingAuthenticationToken" {
		t.Errorf("unsigned request over Transport: %v", err)
	}
}
