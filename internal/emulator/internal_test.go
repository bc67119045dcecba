package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signedRequest builds a root-signed POST of form.
func signedRequest(t *testing.T, form string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://iam.local/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := hexSHA256([]byte(form))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: DefaultRootAccessKeyID, SecretAccessKey: DefaultRootSecretAccessKey},
		req, sum, "iam", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestPanicInAnOperationIsInternalFailureAndReleasesTheLock(t *testing.T) {
	e, err := New(Options{CallLog: true})
	if err != nil {
		t.Fatal(err)
	}
	e.ops["Explode"] = func(*reqCtx) (result, *APIError) { panic("boom") }

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, signedRequest(t, "Action=Explode&Version=2010-05-08"))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "<Code>InternalFailure</Code>") || !strings.Contains(rec.Body.String(), "<Type>Receiver</Type>") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if log := e.CallLog(); len(log) != 1 || log[0].Status != 500 {
		t.Fatalf("call log %+v", log)
	}

	done := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, signedRequest(t, "Action=ListUsers&Version=2010-05-08"))
		done <- rec.Code
	}()
	select {
	case code := <-done:
		if code != 200 {
			t.Fatalf("next call answered %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the state lock was left held")
	}
}

func TestCallLogKeepsTheMostRecentCalls(t *testing.T) {
	old := maxCallLog
	maxCallLog = 10
	defer func() { maxCallLog = old }()
	e, err := New(Options{CallLog: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, signedRequest(t, "Action=GetUser&Version=2010-05-08"))
		if rec.Code != 200 {
			t.Fatalf("call %d: %d", i, rec.Code)
		}
	}
	log := e.CallLog()
	if len(log) > 10 || len(log) < 5 || e.TotalCalls() != 25 || e.Calls()["GetUser"] != 25 {
		t.Fatalf("log %d entries, total %d", len(log), e.TotalCalls())
	}
	for _, c := range log {
		if c.Status != 200 {
			t.Fatalf("status not recorded after trimming: %+v", c)
		}
	}
}

// TestCallLogIsOffUnlessAskedFor: an emulator keeps no call log unless
// asked (serve --sandbox answers calls for as long as it runs), while its
// counters always count; reading a log nobody asked for is a test's
// mistake and panics rather than passing on an empty log.
func TestCallLogIsOffUnlessAskedFor(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	call := func() {
		t.Helper()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, signedRequest(t, "Action=GetUser&Version=2010-05-08"))
		if rec.Code != 200 {
			t.Fatalf("GetUser: %d", rec.Code)
		}
	}
	call()
	if e.TotalCalls() != 1 || len(e.callLog) != 0 {
		t.Fatalf("total %d, log %d entries; want 1 and none", e.TotalCalls(), len(e.callLog))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("CallLog with the log off did not panic")
			}
		}()
		e.CallLog()
	}()
	e.SetCallLog(true)
	call()
	if log := e.CallLog(); len(log) != 1 || log[0].Op != "GetUser" || log[0].Status != 200 || e.TotalCalls() != 2 {
		t.Fatalf("log %+v, total %d", log, e.TotalCalls())
	}
	e.SetCallLog(false)
	call()
	if len(e.callLog) != 0 || e.TotalCalls() != 3 {
		t.Fatalf("log %d entries after turning it off, total %d", len(e.callLog), e.TotalCalls())
	}
}

// Invoke answers as an HTTP request would, with the same call log: an
// operation's panic is InternalFailure and leaves the emulator working, an
// unknown Action is InvalidAction, a key that is not an active one is
// InvalidClientTokenId (and no call).
func TestInvokeFailuresAnswerAsHTTPDoes(t *testing.T) {
	e, err := New(Options{CallLog: true})
	if err != nil {
		t.Fatal(err)
	}
	e.ops["Explode"] = func(*reqCtx) (result, *APIError) { panic("boom") }
	ctx := context.Background()
	for _, c := range []struct {
		key, action, code string
		status            int
	}{
		{DefaultRootAccessKeyID, "Explode", "InternalFailure", 500},
		{DefaultRootAccessKeyID, "Nope", "InvalidAction", 400},
		{"AKIANOTAKEY000000000", "ListUsers", "InvalidClientTokenId", 403},
	} {
		res, err := e.Invoke(ctx, c.key, c.action, nil)
		aerr, ok := err.(*APIError)
		if res != nil || !ok || aerr.Code != c.code || aerr.Status != c.status {
			t.Fatalf("%s: got %v, %v", c.action, res, err)
		}
	}
	if log := e.CallLog(); len(log) != 1 || log[0].Op != "Explode" || log[0].Status != 500 {
		t.Fatalf("call log %+v", log)
	}
	res, err := e.Invoke(ctx, DefaultRootAccessKeyID, "ListUsers", nil)
	if r, ok := res.(*ListUsersResult); err != nil || !ok || r.Users == nil || r.IsTruncated {
		t.Fatalf("after a panic: %#v, %v", res, err)
	}
	if res, err := e.Invoke(ctx, DefaultRootAccessKeyID, "DeleteUser", url.Values{"UserName": {"nobody"}}); res != nil || err == nil || err.(*APIError).Code != "NoSuchEntity" {
		t.Fatalf("DeleteUser of nobody: %v, %v", res, err)
	}
}
