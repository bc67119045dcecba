package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

func TestThrottling(t *testing.T) {
	ctx := context.Background()
	t.Run("a throttled call is counted and changes nothing", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true, ThrottleRate: 1})
		_, err := client(t, endpoint, noRetry).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("amy")})
		wantAPIError(t, err, "Throttling", 400, "Rate exceeded")
		if n := len(e.Snapshot().Users); n != 0 {
			t.Fatalf("throttled CreateUser created %d users", n)
		}
		if log := e.CallLog(); len(log) != 1 || log[0].Op != "CreateUser" || log[0].Status != 400 {
			t.Fatalf("call log %+v", log)
		}
	})
	t.Run("the SDK retries throttling and succeeds once the rate drops", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.FailNext("ListUsers", "Throttling", 1)
		c := client(t, endpoint, func(o *iam.Options) {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 2
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		})
		if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		if got := e.Calls()["ListUsers"]; got != 2 {
			t.Fatalf("ListUsers calls %d, want 2", got)
		}
	})
	t.Run("a throttle rate of one half throttles about half the calls", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.SetThrottleRate(0.5)
		c := client(t, endpoint, noRetry)
		throttled := 0
		for i := 0; i < 200; i++ {
			if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
				if code, _, _ := apiError(t, err); code != "Throttling" {
					t.Fatalf("unexpected %v", err)
				}
				throttled++
			}
		}
		if throttled < 60 || throttled > 140 {
			t.Fatalf("%d of 200 calls throttled", throttled)
		}
		e.SetThrottleRate(0)
		if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatalf("throttling still on: %v", err)
		}
	})
}

func TestDrop(t *testing.T) {
	ctx := context.Background()
	t.Run("a dropped call fails with a connection error and is still carried out", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true, DropRate: 1})
		addUsers(t, e, "amy")
		_, err := client(t, endpoint, noRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")})
		if err == nil {
			t.Fatal("dropped call succeeded")
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			t.Fatalf("dropped call answered with an API error: %v", err)
		}
		if keys := e.Snapshot().Keys; len(keys) != 2 { // the root key and amy's new one
			t.Fatalf("keys after a dropped CreateAccessKey: %+v", keys)
		}
		if log := e.CallLog(); len(log) != 1 || log[0].Status != 0 || e.Calls()["CreateAccessKey"] != 1 {
			t.Fatalf("call log %+v", log)
		}
	})
	t.Run("an operation drop rate drops only that operation", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		addUsers(t, e, "amy")
		e.SetOperationDropRate("CreateAccessKey", 1)
		c := client(t, endpoint, noRetry)
		if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")}); err == nil {
			t.Fatal("CreateAccessKey was not dropped")
		}
		e.SetOperationDropRate("CreateAccessKey", -1)
		e.SetDropRate(0)
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("amy")}); err != nil {
			t.Fatalf("drop override not removed: %v", err)
		}
	})
}

func TestLatency(t *testing.T) {
	ctx := context.Background()
	t.Run("latency delays each call", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{Latency: 30 * time.Millisecond})
		c := client(t, endpoint)
		begin := time.Now()
		if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < 30*time.Millisecond {
			t.Fatalf("call took %v", d)
		}
		e.SetLatency(0)
	})
	t.Run("operation latency applies to that operation only", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.SetOperationLatency("ListUsers", 40*time.Millisecond)
		c := client(t, endpoint)
		begin := time.Now()
		if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < 40*time.Millisecond {
			t.Fatalf("ListUsers took %v", d)
		}
		e.SetLatency(time.Hour) // GetUser would hang if the override leaked
		e.SetOperationLatency("GetUser", 0)
		begin = time.Now()
		if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("GetUser took %v", d)
		}
	})
	t.Run("a cancelled context ends a call waiting on latency", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{CallLog: true, Latency: time.Minute})
		c := client(t, endpoint, noRetry)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := c.GetUser(cctx, &iam.GetUserInput{})
			done <- err
		}()
		// Cancel once the emulator holds the call (however loaded the
		// machine is), not after a fixed time.
		for len(e.CallLog()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		begin := time.Now()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want a cancellation error", err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
		// The server side gives up too: the call is logged without a response.
		deadline := time.Now().Add(5 * time.Second)
		for {
			log := e.CallLog()
			if len(log) == 1 && log[0].Status == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call log %+v", log)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	t.Run("closing the server ends calls waiting on latency", func(t *testing.T) {
		e, err := emulator.New(emulator.Options{Latency: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := e.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := emutest.Client(t, srv.URL, noRetry).GetUser(ctx, &iam.GetUserInput{})
			done <- err
		}()
		for e.TotalCalls() == 0 {
			time.Sleep(time.Millisecond)
		}
		begin := time.Now()
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err == nil {
			t.Fatal("call succeeded after Close")
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Fatalf("Close took %v", d)
		}
	})
	t.Run("Shutdown waits for calls in progress", func(t *testing.T) {
		e, err := emulator.New(emulator.Options{Latency: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := e.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := emutest.Client(t, srv.URL, noRetry).GetUser(ctx, &iam.GetUserInput{})
			done <- err
		}()
		for e.TotalCalls() == 0 {
			time.Sleep(time.Millisecond)
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("call in progress failed: %v", err)
		}
	})
}

func TestDeny(t *testing.T) {
	ctx := context.Background()
	denied := func(t *testing.T, err error, op, resource string) {
		t.Helper()
		wantAPIError(t, err, "AccessDenied", 403, "User: arn:aws:iam::123456789012:root is not authorized to perform: iam:"+op+" on resource: "+resource)
	}
	t.Run("Deny of a user denies that user only", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{Seed: "demo"})
		e.Deny("ListAccessKeys", "bob")
		c := client(t, endpoint)
		_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
		denied(t, err, "ListAccessKeys", "user bob")
		if _, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); err != nil {
			t.Fatalf("another operation on bob was denied: %v", err)
		}
		if e.Calls()["ListAccessKeys"] != 2 {
			t.Fatalf("calls %v", e.Calls())
		}
	})
	t.Run("Deny with no user denies calls on the caller's own identity", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{Seed: "demo"})
		e.Deny("ListAccessKeys", "")
		c := client(t, endpoint)
		_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		denied(t, err, "ListAccessKeys", "arn:aws:iam::123456789012:root")
		if _, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Deny applies before existence is checked", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.Deny("DeleteUser", "ghost")
		_, err := client(t, endpoint).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ghost")})
		denied(t, err, "DeleteUser", "user ghost")
	})
	t.Run("Deny of every target denies account-level calls", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.Deny("ListUsers", "*")
		_, err := client(t, endpoint).ListUsers(ctx, &iam.ListUsersInput{})
		denied(t, err, "ListUsers", "arn:aws:iam::123456789012:user/")
	})
	t.Run("Allow lifts a Deny", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{Seed: "demo"})
		e.Deny("CreateAccessKey", "dave")
		e.Allow("CreateAccessKey", "dave")
		if _, err := client(t, endpoint).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFailNext(t *testing.T) {
	ctx := context.Background()
	codes := []struct {
		code   string
		status int
	}{
		{"NoSuchEntity", 404}, {"LimitExceeded", 409}, {"EntityAlreadyExists", 409}, {"DeleteConflict", 409},
		{"ValidationError", 400}, {"Throttling", 400}, {"InvalidClientTokenId", 403}, {"SignatureDoesNotMatch", 403},
		{"AccessDenied", 403}, {"InvalidAction", 400}, {"MissingAction", 400}, {"MissingAuthenticationToken", 403},
		{"ServiceFailure", 500}, {"ServiceUnavailable", 503},
	}
	for _, tc := range codes {
		t.Run("FailNext "+tc.code+" answers it with status "+strconv.Itoa(tc.status)+" then recovers", func(t *testing.T) {
			e, endpoint := start(t, emulator.Options{Seed: "demo"})
			e.FailNext("ListAccessKeys", tc.code, 2)
			c := client(t, endpoint, noRetry)
			in := &iam.ListAccessKeysInput{UserName: aws.String("bob")}
			for i := 0; i < 2; i++ {
				_, err := c.ListAccessKeys(ctx, in)
				code, msg, status := apiError(t, err)
				if code != tc.code || status != tc.status || msg == "" {
					t.Fatalf("call %d: %s (%d) %q", i, code, status, msg)
				}
			}
			if _, err := c.ListAccessKeys(ctx, in); err != nil {
				t.Fatalf("third call: %v", err)
			}
			if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
				t.Fatalf("another operation failed: %v", err)
			}
		})
	}
	t.Run("FailNext with n 0 clears queued failures", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{})
		e.FailNext("GetUser", "ServiceFailure", 3)
		e.FailNext("GetUser", "", 0)
		if _, err := client(t, endpoint, noRetry).GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an injected NoSuchEntity names the requested user", func(t *testing.T) {
		e, endpoint := start(t, emulator.Options{Seed: "demo"})
		e.FailNext("GetUser", "NoSuchEntity", 1)
		_, err := client(t, endpoint, noRetry).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
		wantAPIError(t, err, "NoSuchEntity", 404, "The user with name bob cannot be found.")
	})
}

func TestCallCounters(t *testing.T) {
	ctx := context.Background()
	e, endpoint := start(t, emulator.Options{CallLog: true, Seed: "demo"})
	c := client(t, endpoint, noRetry)
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404, "")
	// Not counted: no valid Action, or not authenticated.
	_, err = client(t, endpoint, noRetry, editForm(func(f url.Values) { f.Set("Action", "Nope") })).GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "InvalidAction", 400, "")
	_, err = emutest.ClientWithKey(t, endpoint, emulator.DefaultRootAccessKeyID, "wrong").GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403, "")

	want := map[string]int{"CreateAccessKey": 1, "ListAccessKeys": 1, "GetUser": 1}
	if got := e.Calls(); len(got) != len(want) || got["CreateAccessKey"] != 1 || got["ListAccessKeys"] != 1 || got["GetUser"] != 1 {
		t.Fatalf("Calls() = %v, want %v", got, want)
	}
	if e.TotalCalls() != 3 {
		t.Fatalf("TotalCalls() = %d", e.TotalCalls())
	}
	log := e.CallLog()
	wantLog := []struct {
		op, user string
		status   int
	}{{"CreateAccessKey", "dave", 200}, {"ListAccessKeys", "dave", 200}, {"GetUser", "nobody", 404}}
	if len(log) != len(wantLog) {
		t.Fatalf("call log %+v", log)
	}
	for i, w := range wantLog {
		l := log[i]
		if l.Op != w.op || l.Params.Get("UserName") != w.user || l.Status != w.status || l.AccessKeyID != emulator.DefaultRootAccessKeyID {
			t.Fatalf("log[%d] = %+v, want %+v", i, l, w)
		}
		if l.Params.Has("Action") || l.Params.Has("Version") {
			t.Fatalf("log[%d] keeps Action/Version: %v", i, l.Params)
		}
	}
	// The log is a copy.
	log[0].Params.Set("UserName", "changed")
	if e.CallLog()[0].Params.Get("UserName") != "dave" {
		t.Fatal("CallLog returned shared parameters")
	}
	e.ResetCalls()
	if len(e.Calls()) != 0 || e.TotalCalls() != 0 || len(e.CallLog()) != 0 {
		t.Fatalf("after ResetCalls: %v %d %v", e.Calls(), e.TotalCalls(), e.CallLog())
	}
}

func TestLoggerRecordsOperationStatusAndRequestIDButNoSecret(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	e, endpoint := start(t, emulator.Options{Seed: "demo", Logger: logger})
	out, err := client(t, endpoint).CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	logged := buf.String()
	for _, want := range []string{`"op":"CreateAccessKey"`, `"status":200`, `"request_id":"`} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %s:\n%s", want, logged)
		}
	}
	_, rootSecret := e.RootCredentials()
	for _, secret := range []string{aws.ToString(out.AccessKey.SecretAccessKey), rootSecret} {
		if strings.Contains(logged, secret) {
			t.Fatalf("log holds a secret:\n%s", logged)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
