package emulator

import (
	"io"
	"net/http"
)

// NewHTTPClient returns an HTTP client for aws-sdk-go-v2 clients that talk
// to an emulator on this machine (iam.Options.HTTPClient). Use it instead of
// the SDK's default client.
//
// Why: smithy-go closes a request's body as soon as the response headers
// arrive, and its body wrapper then answers WriteTo with io.EOF. Against a
// server that answers within microseconds, net/http's transport can still be
// finishing with that body (it checks for bytes beyond Content-Length after
// sending them); it takes the io.EOF for a write error and closes the
// connection while the response is being read. The SDK then retries, so the
// emulator sees the call twice (a CreateAccessKey creates two keys). Hiding
// WriteTo from the transport makes it read the closed body, which reports a
// clean end of input instead.
func NewHTTPClient() *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	var base http.RoundTripper = http.DefaultTransport
	if ok {
		base = t.Clone()
	}
	return &http.Client{Transport: bodyGuard{base}}
}

type bodyGuard struct{ next http.RoundTripper }

func (g bodyGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = readCloserOnly{r.Body}
		r = r2
	}
	return g.next.RoundTrip(r)
}

// readCloserOnly exposes only Read and Close of a body.
type readCloserOnly struct{ rc io.ReadCloser }

func (b readCloserOnly) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloserOnly) Close() error               { return b.rc.Close() }
