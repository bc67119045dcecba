package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// TestDirectAnswerHooks checks what the direct client returns when the
// emulator commits a call and then holds or drops its answer: the answer
// after the delay, the caller's cancellation with the key created, a
// connection error with the key created.
func TestDirectAnswerHooks(t *testing.T) {
	emu := newEmulator(t)
	api, err := Clients(emu, awsiam.Options{MaxAttempts: 3, MaxBackoff: time.Millisecond}).For(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	create := func(ctx context.Context) (*iam.CreateAccessKeyOutput, error) {
		return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}, awsiam.NoRetry)
	}
	daveKeys := func() int {
		n := 0
		for _, k := range emu.Snapshot().Keys {
			if k.UserName == "dave" {
				n++
			}
		}
		return n
	}
	t.Run("a held answer comes after the delay", func(t *testing.T) {
		emu.SetAnswerDelay("CreateAccessKey", 100*time.Millisecond)
		defer emu.SetAnswerDelay("CreateAccessKey", 0)
		begin := time.Now()
		out, err := create(ctx)
		if err != nil || aws.ToString(out.AccessKey.SecretAccessKey) == "" {
			t.Fatalf("got %+v, %v", out, err)
		}
		if d := time.Since(begin); d < 100*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
	})
	t.Run("a caller that gives up while the answer is held gets its cancellation, and the key exists", func(t *testing.T) {
		emu.SetAnswerDelay("CreateAccessKey", time.Hour)
		defer emu.SetAnswerDelay("CreateAccessKey", 0)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		before := daveKeys()
		_, err := create(cctx)
		var canceled *smithy.CanceledError
		if !errors.As(err, &canceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a smithy.CanceledError for the deadline", err)
		}
		if n := daveKeys(); n != before+1 {
			t.Fatalf("dave has %d keys, had %d", n, before)
		}
	})
	t.Run("a dropped answer is a connection error, and the key exists", func(t *testing.T) {
		if err := emu.AddUser(emulator.User{UserName: "zed"}); err != nil {
			t.Fatal(err)
		}
		emu.DropNextAnswer("CreateAccessKey", 1)
		_, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("zed")}, awsiam.NoRetry)
		var ae smithy.APIError
		if !errors.Is(err, emulator.ErrDropped) || errors.As(err, &ae) {
			t.Fatalf("got %v, want the dropped-connection error", err)
		}
		found := false
		for _, k := range emu.Snapshot().Keys {
			found = found || k.UserName == "zed"
		}
		if !found {
			t.Fatal("zed has no key")
		}
	})
}
