package emulator

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// ErrDropped is the error Transport and Invoke return for a dropped call
// (DropRate, DropNextAnswer), where a network client would see the
// connection close.
var ErrDropped = errors.New("emulator: connection closed without a response (dropped call)")

// Transport returns an http.RoundTripper that hands each request straight
// to the emulator, without a socket, for an SDK client in the same
// process (tests; --sandbox calls Invoke instead), e.g. iam.Options{HTTPClient: &http.Client{Transport:
// e.Transport()}}. A dropped call fails with ErrDropped, a request whose
// context ends during injected latency or while its answer is held
// (SetAnswerDelay) with the context's error.
func (e *Emulator) Transport() http.RoundTripper { return transport{h: e} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	// Make the client's request look like one a server received.
	in := req.Clone(req.Context())
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RequestURI = req.URL.RequestURI()
	in.Body = http.NoBody
	if req.Body != nil {
		// Read it here: the handler's body must not be closed under it by
		// the client, and RoundTrip must close it.
		b, rerr := io.ReadAll(req.Body)
		req.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		in.Body = io.NopCloser(bytes.NewReader(b))
		in.ContentLength = int64(len(b))
		if in.Header.Get("Content-Length") == "" && req.ContentLength > 0 {
			in.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
		}
	}
	w := &responseBuffer{header: http.Header{}}
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			// The answer was withheld: lost because the client gave up
			// (as a network client sees its own cancellation), or dropped.
			if err = req.Context().Err(); err == nil {
				err = ErrDropped
			}
			resp = nil
		}
	}()
	t.h.ServeHTTP(w, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// responseBuffer is the http.ResponseWriter Transport hands the handler.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseBuffer) Header() http.Header { return w.header }

func (w *responseBuffer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseBuffer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
