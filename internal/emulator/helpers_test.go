package emulator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// testNow is the emulator's clock in tests unless a test moves it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start runs an emulator with a fixed clock and deterministic randomness
// unless opts say otherwise.
func start(t *testing.T, opts emulator.Options) (*emulator.Emulator, string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 1
	}
	return emutest.Start(t, opts)
}

// noRetry makes the SDK report the first answer instead of retrying it.
func noRetry(o *iam.Options) { o.RetryMaxAttempts = 1 }

// apiError unpacks an SDK error into IAM's code, message and HTTP status.
func apiError(t *testing.T, err error) (code, msg string, status int) {
	t.Helper()
	if err == nil {
		t.Fatal("want an API error, got success")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want a smithy.APIError, got %T: %v", err, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want a smithyhttp.ResponseError in %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage(), re.HTTPStatusCode()
}

// wantAPIError checks code and status, and the message when msg is not
// empty.
func wantAPIError(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	gotCode, gotMsg, gotStatus := apiError(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("got %s (%d) %q, want %s (%d)", gotCode, gotStatus, gotMsg, code, status)
	}
	if msg != "" && gotMsg != msg {
		t.Fatalf("message:\n got %q\nwant %q", gotMsg, msg)
	}
}

// editForm rewrites the form the SDK sends, after it validated the input
// and before it signs, to send what the SDK itself never would (a missing
// required parameter, another Action or Version).
func editForm(edit func(url.Values)) func(*iam.Options) {
	return func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Build.Add(middleware.BuildMiddlewareFunc("editForm", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return next.HandleBuild(ctx, in)
				}
				var body []byte
				if r := req.GetStream(); r != nil {
					b, err := io.ReadAll(r)
					if err != nil {
						return middleware.BuildOutput{}, middleware.Metadata{}, err
					}
					body = b
				}
				form, err := url.ParseQuery(string(body))
				if err != nil {
					return middleware.BuildOutput{}, middleware.Metadata{}, err
				}
				edit(form)
				enc := form.Encode()
				req, err = req.SetStream(strings.NewReader(enc))
				if err != nil {
					return middleware.BuildOutput{}, middleware.Metadata{}, err
				}
				req.ContentLength = int64(len(enc))
				in.Request = req
				return next.HandleBuild(ctx, in)
			}), middleware.After)
		})
	}
}

// rawRequest sends a request signed with SigV4 by the SDK's signer (unless
// id is empty) and returns the status and the parsed XML answer.
func rawRequest(t *testing.T, method, endpoint, body, id, secret string) (int, xmlDoc) {
	t.Helper()
	req, err := http.NewRequest(method, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if id != "" {
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
			req, sha256Hex(body), "iam", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	return doRaw(t, req)
}

// doRaw sends a request and parses the XML answer, which must be
// well-formed and served as text/xml.
func doRaw(t *testing.T, req *http.Request) (int, xmlDoc) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
	doc, err := parseXML(data)
	if err != nil {
		t.Fatalf("response is not well-formed XML: %v\n%s", err, data)
	}
	return resp.StatusCode, doc
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func stringBody(s string) io.Reader { return strings.NewReader(s) }

// xmlDoc is a response reduced to its root element and the text of every
// element by slash-separated path below the root (first occurrence).
type xmlDoc struct {
	Root      string
	Namespace string
	Text      map[string]string
}

func parseXML(data []byte) (xmlDoc, error) {
	doc := xmlDoc{Text: map[string]string{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	var text strings.Builder
	roots := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return doc, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				doc.Root, doc.Namespace = tk.Name.Local, tk.Name.Space
			}
			stack = append(stack, tk.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tk)
		case xml.EndElement:
			if len(stack) > 1 {
				p := strings.Join(stack[1:], "/")
				if _, seen := doc.Text[p]; !seen {
					doc.Text[p] = text.String()
				}
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if roots != 1 {
		return doc, errors.New("want exactly one root element")
	}
	return doc, nil
}

// userKey adds a key with a known secret for a user (or "root").
func userKey(t *testing.T, e *emulator.Emulator, user, id, status string) (string, string) {
	t.Helper()
	secret := "secret-of-" + id
	if err := e.AddAccessKey(emulator.AccessKey{AccessKeyID: id, SecretAccessKey: secret, UserName: user, Status: status}); err != nil {
		t.Fatal(err)
	}
	return id, secret
}

func addUsers(t *testing.T, e *emulator.Emulator, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := e.AddUser(emulator.User{UserName: n}); err != nil {
			t.Fatal(err)
		}
	}
}
