package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/emulator"
)

// inProcessClient is an SDK client on e.Transport(): no socket.
func inProcessClient(e *emulator.Emulator) *iam.Client {
	id, secret := e.RootCredentials()
	return iam.New(iam.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://sandbox.iamsql.invalid"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
		}),
		HTTPClient:       &http.Client{Transport: e.Transport()},
		RetryMaxAttempts: 1,
	})
}

func TestTransport(t *testing.T) {
	ctx := context.Background()
	newEmulator := func(t *testing.T, opts emulator.Options) *emulator.Emulator {
		t.Helper()
		opts.Now = func() time.Time { return testNow }
		e, err := emulator.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	t.Run("an in-process call is signed, answered and counted", func(t *testing.T) {
		e := newEmulator(t, emulator.Options{Seed: "demo"})
		out, err := inProcessClient(e).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("carol")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.AccessKeyMetadata) != 2 || e.Calls()["ListAccessKeys"] != 1 {
			t.Fatalf("keys %d, calls %v", len(out.AccessKeyMetadata), e.Calls())
		}
	})
	t.Run("an in-process error keeps its code and status", func(t *testing.T) {
		e := newEmulator(t, emulator.Options{})
		_, err := inProcessClient(e).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
		wantAPIError(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	})
	t.Run("an in-process dropped call fails with ErrDropped", func(t *testing.T) {
		e := newEmulator(t, emulator.Options{DropRate: 1})
		_, err := inProcessClient(e).GetUser(ctx, &iam.GetUserInput{})
		if !errors.Is(err, emulator.ErrDropped) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an in-process call waiting on latency ends with its context", func(t *testing.T) {
		e := newEmulator(t, emulator.Options{CallLog: true, Latency: time.Minute})
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := inProcessClient(e).GetUser(cctx, &iam.GetUserInput{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
		if log := e.CallLog(); len(log) != 1 || log[0].Status != 0 {
			t.Fatalf("call log %+v", log)
		}
	})
}
