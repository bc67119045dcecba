package provider

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider/awsiam"
)

// cannedIAM answers every request with the same status and body.
type cannedIAM struct {
	mu     sync.Mutex
	status int
	body   []byte
}

func (c *cannedIAM) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"text/xml"}},
		Body:    io.NopCloser(bytes.NewReader(c.body)),
		Request: req, ContentLength: int64(len(c.body)),
	}, nil
}

const listKeysXML = `<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccessKeysResult><AccessKeyMetadata>` +
	`<member><UserName>bob</UserName><AccessKeyId>AKIABOB0000000000001</AccessKeyId><Status>Active</Status><CreateDate>2025-01-02T03:04:05Z</CreateDate></member>` +
	`</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ListAccessKeysResponse>`

// FuzzIAMResponse: whatever IAM (or something pretending to be it)
// answers, a statement returns rows or an error; nothing panics, and a
// truncated page that never ends is not followed forever.
func FuzzIAMResponse(f *testing.F) {
	f.Add(200, []byte(listKeysXML))
	f.Add(200, []byte(`<ListAccessKeysResponse><ListAccessKeysResult><IsTruncated>true</IsTruncated><Marker>m</Marker></ListAccessKeysResult></ListAccessKeysResponse>`))
	f.Add(200, []byte(`<GetAccessKeyLastUsedResponse><GetAccessKeyLastUsedResult><UserName>bob</UserName><AccessKeyLastUsed><LastUsedDate>not a date</LastUsedDate></AccessKeyLastUsed></GetAccessKeyLastUsedResult></GetAccessKeyLastUsedResponse>`))
	f.Add(200, []byte(`<CreateAccessKeyResponse><CreateAccessKeyResult></CreateAccessKeyResult></CreateAccessKeyResponse>`))
	f.Add(400, []byte(`<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`))
	f.Add(404, []byte(`<ErrorResponse><Error><Code>NoSuchEntity</Code></Error>`))
	f.Add(500, []byte{})
	f.Add(200, []byte(`<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key><value>-7</value></entry></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>`))

	canned := &cannedIAM{}
	clients := awsiam.NewClients(awsiam.Options{
		EndpointURL: "http://fuzz.invalid",
		MaxAttempts: 1,
		Config: &aws.Config{
			Region:      "us-east-1",
			HTTPClient:  &http.Client{Transport: canned},
			Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		},
	})
	eng := NewEngine(Config{Clients: clients})
	statements := []string{
		"SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
		"SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001'",
		"SELECT * FROM users WHERE region = 'us-east-1'",
		"SELECT * FROM account_summary WHERE region = 'us-east-1'",
		"CALL create_access_key('us-east-1', 'bob')",
		"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND UserName = 'bob' AND region = 'us-east-1'",
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200 + (status&0xff)%400
			if status < 0 {
				status = -status
			}
		}
		canned.mu.Lock()
		canned.status, canned.body = status, body
		canned.mu.Unlock()
		s := eng.NewSession("fuzz", "")
		for _, q := range statements {
			ctx, cancel := context.WithTimeout(context.Background(), 5e9)
			res, err := eng.Query(ctx, s, q)
			if err == nil {
				for i := 0; err == nil; i++ {
					if i > 10000 {
						t.Fatalf("%s: endless rows", q)
					}
					_, err = res.Next()
				}
				res.Close()
			}
			cancel()
			var sqlErr *mysql.SQLError
			if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &sqlErr) && sqlErr.Num == ErrNumTimeout) {
				t.Fatalf("%s: hung on %q", q, body)
			}
		}
	})
}
