package emulator_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamsql/iamsql/internal/emulator"
)

// FuzzRequest feeds arbitrary requests through ServeHTTP, signed with a
// valid root signature or not signed at all. Whatever the input, the
// emulator must answer (never panic, never an internal failure) with a
// well-formed XML document: {Action}Response on success, ErrorResponse
// with a code otherwise.
//
// Run: go test ./internal/emulator -run '^$' -fuzz FuzzRequest -fuzztime 2m
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct {
		post               bool
		query, body, ctype string
		sign               bool
	}{
		{true, "", "Action=ListUsers&Version=2010-05-08", "application/x-www-form-urlencoded", true},
		{true, "", "Action=CreateUser&Version=2010-05-08&UserName=zed&Path=%2Fa%2F", "application/x-www-form-urlencoded; charset=utf-8", true},
		{true, "", "Action=CreateAccessKey&Version=2010-05-08&UserName=dave", "", true},
		{true, "", "Action=ListAccessKeys&Version=2010-05-08&UserName=bob&MaxItems=1&Marker=x", "application/x-www-form-urlencoded", true},
		{true, "", "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId=AKIABOB0000000000001&Status=Inactive", "application/x-www-form-urlencoded", true},
		{false, "Action=GetAccessKeyLastUsed&Version=2010-05-08&AccessKeyId=AKIAALICE00000000001", "", "", true},
		{true, "", "Action=DeleteUser&Version=2010-05-08&UserName=%00%FF", "application/x-www-form-urlencoded", true},
		{true, "", "Action=ListUsers&Version=2010-05-08", "application/x-www-form-urlencoded", false},
		{false, "Action=GetAccountSummary&Version=2010-05-08", "%zz", "text/plain", true},
	} {
		f.Add(seed.post, seed.query, []byte(seed.body), seed.ctype, seed.sign)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: emulator.DefaultRootAccessKeyID, SecretAccessKey: emulator.DefaultRootSecretAccessKey}
	now := func() time.Time { return testNow }
	f.Fuzz(func(t *testing.T, post bool, rawQuery string, body []byte, contentType string, sign bool) {
		e, err := emulator.New(emulator.Options{CallLog: true, Seed: "demo", Now: now, RandSeed: 1})
		if err != nil {
			t.Fatal(err)
		}
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req := &http.Request{
			Method:        method,
			URL:           &url.URL{Scheme: "http", Host: "iam.local", Path: "/", RawQuery: rawQuery},
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{},
			Host:          "iam.local",
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			RemoteAddr:    "127.0.0.1:1",
		}
		req = req.WithContext(context.Background())
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		if sign {
			if err := signer.SignHTTP(context.Background(), creds, req, sha256Hex(string(body)), "iam", "us-east-1", testNow); err != nil {
				t.Skip() // the signer refuses the input; nothing to send
			}
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)

		res := rec.Result()
		data := rec.Body.Bytes()
		if res.StatusCode < 200 || res.StatusCode > 599 || len(data) == 0 {
			t.Fatalf("status %d with %d bytes", res.StatusCode, len(data))
		}
		if res.StatusCode == http.StatusInternalServerError {
			t.Fatalf("internal failure (a recovered panic):\n%s", data)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/xml" {
			t.Fatalf("Content-Type %q", ct)
		}
		doc, err := parseXML(data)
		if err != nil {
			t.Fatalf("malformed XML: %v\n%q", err, data)
		}
		if doc.Namespace != "https://iam.amazonaws.com/doc/2010-05-08/" {
			t.Fatalf("namespace %q", doc.Namespace)
		}
		if res.StatusCode == http.StatusOK {
			if !sign {
				t.Fatalf("an unsigned request succeeded: %s", data)
			}
			if doc.Root == "ErrorResponse" || !strings.HasSuffix(doc.Root, "Response") || doc.Text["ResponseMetadata/RequestId"] == "" {
				t.Fatalf("success document %s %v", doc.Root, doc.Text)
			}
			return
		}
		if doc.Root != "ErrorResponse" || doc.Text["Error/Code"] == "" || doc.Text["Error/Message"] == "" || doc.Text["RequestId"] == "" {
			t.Fatalf("error document for status %d: %s %v", res.StatusCode, doc.Root, doc.Text)
		}
		if !sign && e.TotalCalls() != 0 {
			t.Fatalf("an unsigned request was counted as a call: %v", e.CallLog())
		}
	})
}
