package emulator_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// keysOf returns the ids of a user's keys in the emulator's state.
func keysOf(e *emulator.Emulator, user string) []string {
	var ids []string
	for _, k := range e.Snapshot().Keys {
		if k.UserName == user {
			ids = append(ids, k.AccessKeyID)
		}
	}
	return ids
}

// waitForCallStatus waits until the call log holds n calls, the last with
// status (the server finishes a call after its client has moved on).
func waitForCallStatus(t *testing.T, e *emulator.Emulator, n, status int) []emulator.Call {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := e.CallLog()
		if len(log) == n && log[n-1].Status == status {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("call log %+v, want %d calls, the last with status %d", log, n, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wantNoAnswer checks that err is a failure to get an answer, not one IAM
// gave.
func wantNoAnswer(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Fatalf("answered with an API error: %v", err)
	}
}

func TestAnswerDelay(t *testing.T) {
	ctx := context.Background()
	t.Run("a client that waits gets the answer after the delay", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true})
		addUsers(t, e, "amy")
		e.SetAnswerDelay("CreateAccessKey", 150*time.Millisecond)
		begin := time.Now()
		out, err := client(t, endpoint, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < 150*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
		if keys := keysOf(e, "amy"); len(keys) != 1 || keys[0] != aws.ToString(out.AccessKey.AccessKeyId) {
			t.Fatalf("amy's keys %v, answer %s", keys, aws.ToString(out.AccessKey.AccessKeyId))
		}
		if log := e.CallLog(); len(log) != 1 || log[0].Status != 200 {
			t.Fatalf("call log %+v", log)
		}
	})
	t.Run("a client that gives up during the delay gets its cancellation and the key exists", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true})
		addUsers(t, e, "amy")
		e.SetAnswerDelay("CreateAccessKey", 24*time.Hour) // an answer that never comes
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := client(t, endpoint, noRetry).CreateAccessKey(cctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a deadline error", err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("giving up took %v", d)
		}
		// The key was created before the answer was held.
		if keys := keysOf(e, "amy"); len(keys) != 1 {
			t.Fatalf("amy's keys %v, want the one created", keys)
		}
		// The server notices the client left, and logs the call unanswered.
		waitForCallStatus(t, e, 1, 0)
	})
	t.Run("a held answer is committed first: the state file has the key", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		e, endpoint := start(t, emulator.Options{StatePath: path})
		addUsers(t, e, "amy")
		e.SetAnswerDelay("CreateAccessKey", time.Hour)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := client(t, endpoint, noRetry).CreateAccessKey(cctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		reloaded, err := emulator.New(emulator.Options{StatePath: path})
		if err != nil {
			t.Fatal(err)
		}
		if keys := keysOf(reloaded, "amy"); len(keys) != 1 {
			t.Fatalf("state file holds amy's keys %v", keys)
		}
	})
	t.Run("a delete whose answer is lost has deleted the key", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		id, _ := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
		e.SetAnswerDelay("DeleteAccessKey", time.Hour)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := client(t, endpoint, noRetry).DeleteAccessKey(cctx, &iam.DeleteAccessKeyInput{UserName: aws.String("amy"), AccessKeyId: aws.String(id)})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if keys := keysOf(e, "amy"); len(keys) != 0 {
			t.Fatalf("amy's keys %v after the delete", keys)
		}
	})
	t.Run("an error is held too", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		e.FailNext("CreateAccessKey", "LimitExceeded", 1)
		e.SetAnswerDelay("CreateAccessKey", 100*time.Millisecond)
		begin := time.Now()
		_, err := client(t, endpoint, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		wantAPIError(t, err, "LimitExceeded", 409, "")
		if d := time.Since(begin); d < 100*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
	})
	t.Run("the delay holds only its operation's answers and is removed by a zero delay", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		e.SetAnswerDelay("CreateAccessKey", time.Hour)
		c := client(t, endpoint, noRetry)
		if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		e.SetAnswerDelay("CreateAccessKey", 0)
		begin := time.Now()
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("CreateAccessKey took %v", d)
		}
	})
	t.Run("closing the server ends a held answer without one", func(t *testing.T) {
		e, err := emulator.New(emulator.Options{CallLog: true})
		if err != nil {
			t.Fatal(err)
		}
		addUsers(t, e, "amy")
		srv, err := e.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		e.SetAnswerDelay("CreateAccessKey", time.Hour)
		done := make(chan error, 1)
		go func() {
			_, err := emutest.Client(t, srv.URL, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
			done <- err
		}()
		for len(keysOf(e, "amy")) == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		wantNoAnswer(t, <-done)
		waitForCallStatus(t, e, 1, 0)
	})
}

func TestDropNextAnswer(t *testing.T) {
	ctx := context.Background()
	t.Run("the next n calls are carried out and their answers dropped", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true})
		addUsers(t, e, "amy", "ben", "cat")
		e.DropNextAnswer("CreateAccessKey", 2)
		c := client(t, endpoint, noRetry)
		for i, u := range []string{"amy", "ben", "cat"} {
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)})
			if i < 2 {
				wantNoAnswer(t, err)
			} else if err != nil {
				t.Fatalf("third call: %v", err)
			}
			if keys := keysOf(e, u); len(keys) != 1 {
				t.Fatalf("%s's keys %v", u, keys)
			}
		}
		log := e.CallLog()
		if len(log) != 3 || log[0].Status != 0 || log[1].Status != 0 || log[2].Status != 200 {
			t.Fatalf("call log %+v", log)
		}
	})
	t.Run("other operations are answered", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.DropNextAnswer("CreateAccessKey", 1)
		if _, err := client(t, endpoint, noRetry).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("n 0 clears what is queued", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		e.DropNextAnswer("CreateAccessKey", 3)
		e.DropNextAnswer("CreateAccessKey", 0)
		if _, err := client(t, endpoint, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("with an answer delay the connection closes when the delay ends", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		e.DropNextAnswer("CreateAccessKey", 1)
		e.SetAnswerDelay("CreateAccessKey", 100*time.Millisecond)
		begin := time.Now()
		_, err := client(t, endpoint, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		wantNoAnswer(t, err)
		if d := time.Since(begin); d < 100*time.Millisecond {
			t.Fatalf("dropped after %v", d)
		}
		if keys := keysOf(e, "amy"); len(keys) != 1 {
			t.Fatalf("amy's keys %v", keys)
		}
	})
	t.Run("a dropped delete is retried by the SDK and answered NoSuchEntity", func(t *testing.T) {
		// What a rollback delete sees when its first answer is lost: the
		// key is gone, and the retry says so.
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		id, _ := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
		e.DropNextAnswer("DeleteAccessKey", 1)
		_, err := client(t, endpoint).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("amy"), AccessKeyId: aws.String(id)})
		wantAPIError(t, err, "NoSuchEntity", 404, "")
		if keys := keysOf(e, "amy"); len(keys) != 0 {
			t.Fatalf("amy's keys %v", keys)
		}
		if n := e.Calls()["DeleteAccessKey"]; n != 2 {
			t.Fatalf("DeleteAccessKey calls %d, want 2", n)
		}
	})
}

func TestTransportAnswerHooks(t *testing.T) {
	ctx := context.Background()
	e, err := emulator.New(emulator.Options{RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	addUsers(t, e, "amy", "ben")
	c := inProcessClient(e)
	t.Run("a held answer the client gave up on is its context's error", func(t *testing.T) {
		e.SetAnswerDelay("CreateAccessKey", time.Hour)
		defer e.SetAnswerDelay("CreateAccessKey", 0)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.CreateAccessKey(cctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if keys := keysOf(e, "amy"); len(keys) != 1 {
			t.Fatalf("amy's keys %v", keys)
		}
	})
	t.Run("a dropped answer is ErrDropped", func(t *testing.T) {
		e.DropNextAnswer("CreateAccessKey", 1)
		_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ben")})
		if !errors.Is(err, emulator.ErrDropped) {
			t.Fatalf("got %v", err)
		}
		if keys := keysOf(e, "ben"); len(keys) != 1 {
			t.Fatalf("ben's keys %v", keys)
		}
	})
}

func TestInvokeAnswerHooks(t *testing.T) {
	ctx := context.Background()
	e, err := emulator.New(emulator.Options{CallLog: true, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	addUsers(t, e, "amy", "ben", "cat")
	root, _ := e.RootCredentials()
	create := func(ctx context.Context, user string) (any, error) {
		return e.Invoke(ctx, root, "CreateAccessKey", url.Values{"UserName": {user}})
	}
	t.Run("a held answer comes after the delay", func(t *testing.T) {
		e.SetAnswerDelay("CreateAccessKey", 100*time.Millisecond)
		defer e.SetAnswerDelay("CreateAccessKey", 0)
		begin := time.Now()
		res, err := create(ctx, "amy")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < 100*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
		if k := res.(*emulator.CreateAccessKeyResult).AccessKey; k.SecretAccessKey == "" || keysOf(e, "amy")[0] != k.AccessKeyID {
			t.Fatalf("answer %s, amy's keys %v", k.AccessKeyID, keysOf(e, "amy"))
		}
	})
	t.Run("a held answer the caller gave up on is its context's error, and the key exists", func(t *testing.T) {
		e.ResetCalls()
		e.SetAnswerDelay("CreateAccessKey", time.Hour)
		defer e.SetAnswerDelay("CreateAccessKey", 0)
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		res, err := create(cctx, "ben")
		if res != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, %v", res, err)
		}
		if keys := keysOf(e, "ben"); len(keys) != 1 {
			t.Fatalf("ben's keys %v", keys)
		}
		if log := e.CallLog(); len(log) != 1 || log[0].Status != 0 {
			t.Fatalf("call log %+v", log)
		}
	})
	t.Run("a dropped answer is ErrDropped, and the key exists", func(t *testing.T) {
		e.DropNextAnswer("CreateAccessKey", 1)
		res, err := create(ctx, "cat")
		if res != nil || !errors.Is(err, emulator.ErrDropped) {
			t.Fatalf("got %v, %v", res, err)
		}
		if keys := keysOf(e, "cat"); len(keys) != 1 {
			t.Fatalf("cat's keys %v", keys)
		}
	})
}
