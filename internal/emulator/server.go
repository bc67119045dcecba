package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds a request body; IAM requests are small.
const maxBodyBytes = 1 << 20

// exchange is one request being answered.
type exchange struct {
	e         *Emulator
	w         http.ResponseWriter
	r         *http.Request
	requestID string
	op        string
	signer    string
	svc       *service // the API the request is for (IAM, STS, Organizations)
	logSeq    int      // sequence number in the call log, -1 when not counted
	wrote     bool
}

// ServeHTTP answers one IAM Query API request. An unexpected failure is
// answered with InternalFailure (500). The only panic is net/http's
// http.ErrAbortHandler, when a dropped call (DropRate, DropNextAnswer) or
// an answer its client gave up on (SetAnswerDelay) must end without a
// response and w cannot be hijacked; Transport handles it for in-process
// use.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{e: e, w: w, r: r, requestID: newRequestID(), logSeq: -1}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			if aerr := x.internalFailure(v); !x.wrote {
				x.fail(aerr)
			}
		}
	}()
	x.serve()
}

// internalFailure logs a panic of the call (with its stack) and returns
// the InternalFailure error AWS answers an unexpected failure with.
func (x *exchange) internalFailure(v any) *APIError {
	x.e.logger.Error("emulator: internal failure", "op", x.op, "request_id", x.requestID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return newError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
}

func (x *exchange) serve() {
	e, r := x.e, x.r
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		x.w.Header().Set("Allow", "GET, POST")
		x.fail(newError("MethodNotAllowed", "The HTTP method "+strconv.Quote(r.Method)+" is not allowed; IAM's Query API takes GET or POST."))
		return
	}
	x.svc = serviceOf(r)
	body, query, params, aerr := x.readRequest()
	if aerr != nil {
		x.fail(aerr)
		return
	}
	if x.svc.json {
		params, aerr = jsonParams(body)
		if aerr != nil {
			x.fail(aerr)
			return
		}
	} else if sig, _ := parseSignature(r, query); sig != nil && sig.service == stsService.signingName && params.Get("Version") == stsService.version {
		// AWS tells the Query APIs apart by endpoint; on the emulator's
		// one endpoint a request signed for STS in STS's version is one.
		x.svc = stsService
	}
	sig, aerr := x.authenticate(query, body)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	x.signer = sig.keyID

	action := x.svc.action(r, params)
	ops := x.svc.ops
	if x.svc == iamService {
		ops = e.ops
	}
	op, known := ops[action]
	c, aerr := x.admit(sig, action, known, params)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	if aerr := x.svc.checkAction(action, known, params); aerr != nil {
		x.fail(aerr)
		return
	}
	c.op, c.params = action, params
	res, aerr, f := x.perform(r.Context(), c, op)
	switch f {
	case fateCancelled:
		// The client left or the server is closing. Answer anyway
		// (net/http would otherwise send an empty 200), but log the call
		// as unanswered: nobody is there to read it.
		x.fail(newError("ServiceUnavailable", "The request was canceled by the client or the server shut down."))
		e.setCallStatus(x.logSeq, 0)
		return
	case fateDropped:
		x.drop("dropped")
		return
	case fateLost:
		// Carried out, but the client left (or the server is closing)
		// while the answer was held: close the connection, so that no
		// one still connected could read an answer the client never got.
		x.drop("lost")
		return
	}
	if aerr != nil {
		x.fail(aerr)
		return
	}
	x.respond(http.StatusOK, x.svc.successBody(action, res, x.requestID), "")
}

// fate is how a call ends besides its result.
type fate int

const (
	fateAnswered  fate = iota
	fateCancelled      // ctx ended during injected latency; not carried out
	fateDropped        // carried out (or failed), but its answer is lost
	fateLost           // carried out (or failed), but ctx ended while its answer was held
)

// perform runs an admitted call, for HTTP requests and Invoke alike: the
// test hooks (injected latency, ended early when ctx ends; a queued
// FailNext error or throttling), then the operation, then the hooks on
// its answer (held by SetAnswerDelay until it ends or ctx does; dropped).
func (x *exchange) perform(ctx context.Context, c *reqCtx, op opFunc) (result, *APIError, fate) {
	e := x.e
	if !wait(ctx, e.latencyFor(c.op)) {
		return nil, nil, fateCancelled
	}
	h := e.drawHooks(c.op)
	var res result
	var aerr *APIError
	switch {
	case h.inject != "":
		aerr = injectedError(h.inject, c.op, c)
	case h.throttle:
		aerr = newError("Throttling", msgRateExceeded)
	default:
		res, aerr = e.run(op, c)
	}
	// From here on the call has been carried out (its change is
	// committed, and persisted with StatePath): whatever happens to the
	// answer, the change stands.
	if !wait(ctx, h.answerDelay) {
		return nil, nil, fateLost
	}
	// A dropped call was carried out; only its response is lost, the
	// ambiguous failure a client cannot tell from a lost request.
	if h.drop {
		return nil, nil, fateDropped
	}
	return res, aerr, fateAnswered
}

// wait sleeps for d and reports whether it did, false when ctx ended
// first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Invoke performs one Action for a caller in the same process acting as
// keyID, which must be an active key (the --sandbox account calls as its
// root key), with the parameters a request would carry. It is an HTTP
// request after authentication: the same identity, last-use record, call
// log and counters, test hooks and operation; only HTTP and XML are
// skipped. It returns the operation's result (*UserResult,
// *ListAccessKeysResult, ...; nil for an Action without one) or an error:
// an *APIError as IAM answers it, ErrDropped for a dropped call (carried
// out), or ctx's error when ctx ends during injected latency (not carried
// out) or while SetAnswerDelay holds the answer (carried out; the call
// log tells the two apart only by the state).
func (e *Emulator) Invoke(ctx context.Context, keyID, action string, params url.Values) (res any, err error) {
	return e.invoke(ctx, keyID, "iam", e.ops, action, params)
}

func (e *Emulator) invoke(ctx context.Context, keyID, signingName string, ops map[string]opFunc, action string, params url.Values) (res any, err error) {
	x := &exchange{e: e, requestID: newRequestID(), logSeq: -1, signer: keyID}
	defer func() {
		if v := recover(); v != nil {
			aerr := x.internalFailure(v)
			x.finish(aerr.Status, aerr.Code)
			res, err = nil, aerr
		}
	}()
	failed := func(aerr *APIError) (any, error) {
		x.finish(aerr.Status, aerr.Code)
		return nil, aerr
	}
	op, known := ops[action]
	if !known {
		op, known = stsOperations[action] // STS in process
	}
	if !known {
		op, known = orgOperations[action] // Organizations in process: a jsonAnswer
	}
	// admit refuses a key that is not an active one (InvalidClientTokenId).
	c, aerr := x.admit(&sigRequest{keyID: keyID, region: "us-east-1", service: signingName}, action, known, params)
	if aerr != nil {
		return failed(aerr)
	}
	if !known {
		return failed(newError("InvalidAction", "Could not find operation "+action+" for version "+apiVersion))
	}
	c.op, c.params = action, params
	r, aerr, f := x.perform(ctx, c, op)
	switch {
	case f == fateCancelled:
		x.finish(0, "canceled")
		return nil, ctx.Err()
	case f == fateLost:
		x.finish(0, "lost")
		return nil, ctx.Err()
	case f == fateDropped:
		x.finish(0, "dropped")
		return nil, ErrDropped
	case aerr != nil:
		return failed(aerr)
	}
	x.finish(http.StatusOK, "")
	return r, nil // a nil result is a nil any
}

// readRequest reads the body (at most maxBodyBytes) and the parameters:
// the form-encoded body's, then the query string's.
func (x *exchange) readRequest() (body []byte, query, params url.Values, aerr *APIError) {
	r := x.r
	if r.Body != nil {
		b, err := io.ReadAll(http.MaxBytesReader(x.w, r.Body, maxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, nil, nil, newError("RequestEntityTooLarge", fmt.Sprintf("Request body exceeds the limit of %d bytes.", maxBodyBytes))
		case err != nil:
			return nil, nil, nil, newError("MalformedQueryString", "The request body could not be read: "+err.Error())
		}
		body = b
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, nil, newError("MalformedQueryString", "The query string contains a syntax error: "+err.Error())
	}
	params = url.Values{}
	if isFormBody(r) && len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, nil, newError("MalformedQueryString", "The form-encoded request body contains a syntax error: "+err.Error())
		}
		params = form
	}
	for k, vs := range query {
		params[k] = append(params[k], vs...)
	}
	return body, query, params, nil
}

// authenticate checks the request's SigV4 signature against a known,
// active key, in the order AWS reports failures: missing or malformed
// signature, unknown or inactive key, wrong scope, wrong signature.
func (x *exchange) authenticate(query url.Values, body []byte) (*sigRequest, *APIError) {
	sig, aerr := parseSignature(x.r, query)
	if aerr != nil {
		return nil, aerr
	}
	secret, aerr := x.e.signingSecret(sig.keyID, sessionToken(x.r, query))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := sig.checkScope(x.svc.signingName); aerr != nil {
		return nil, aerr
	}
	if !sig.verify(x.r, query, body, secret) {
		return nil, newError("SignatureDoesNotMatch", msgBadSignature)
	}
	return sig, nil
}

// signingSecret is the secret of an active key or of a live role
// session (whose session token the request must carry).
func (e *Emulator) signingSecret(keyID, token string) (string, *APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.session(keyID); ok {
		switch {
		case token != s.token:
			return "", newError("InvalidClientTokenId", msgInvalidToken)
		case !e.now().Before(s.expires):
			return "", newError("ExpiredToken", "The security token included in the request is expired")
		}
		return s.secret, nil
	}
	k, ok := e.keys[keyID]
	if !ok || k.Status != statusActive || e.propagatingLocked(keyID) {
		return "", newError("InvalidClientTokenId", msgInvalidToken)
	}
	return k.SecretAccessKey, nil
}

// admit resolves the caller, records the key's use and, for a valid
// Action, counts the call.
func (x *exchange) admit(sig *sigRequest, action string, known bool, params url.Values) (*reqCtx, *APIError) {
	e := x.e
	e.mu.Lock()
	defer e.mu.Unlock()
	c, aerr := e.identityLocked(sig)
	if aerr != nil {
		return nil, aerr
	}
	e.recordUseLocked(sig.keyID, sig.region)
	if known {
		x.op = action
		e.calls[action]++
		e.total++
		e.appendCallLocked(x, Call{Op: action, Params: logParams(params), AccessKeyID: sig.keyID})
	}
	return c, nil
}

func (e *Emulator) appendCallLocked(x *exchange, c Call) {
	if !e.logging {
		return
	}
	if len(e.callLog) >= maxCallLog {
		half := len(e.callLog) / 2
		e.callLog = append([]Call(nil), e.callLog[half:]...)
		e.logBase += half
	}
	x.logSeq = e.logSeq
	e.logSeq++
	e.callLog = append(e.callLog, c)
}

func (e *Emulator) setCallStatus(seq, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := seq - e.logBase; i >= 0 && i < len(e.callLog) {
		e.callLog[i].Status = status
	}
}

// callHooks is the injected fate of one call.
type callHooks struct {
	inject      string        // a queued FailNext error code
	throttle    bool          // answer Throttling instead of acting
	answerDelay time.Duration // hold the answer after acting
	drop        bool          // lose the answer after acting
}

// drawHooks decides the injected fate of one call: a queued FailNext
// error, throttling, how long its answer is held, and whether it is
// dropped.
func (e *Emulator) drawHooks(action string) callHooks {
	e.mu.Lock()
	defer e.mu.Unlock()
	var h callHooks
	if q := e.failNext[action]; len(q) > 0 {
		h.inject = q[0]
		if len(q) == 1 {
			delete(e.failNext, action)
		} else {
			e.failNext[action] = q[1:]
		}
	}
	h.throttle = h.inject == "" && e.drawLocked(e.throttleRate)
	h.drop = e.drawLocked(e.dropRateLocked(action))
	if n := e.dropAnswers[action]; n > 0 {
		h.drop = true
		if n == 1 {
			delete(e.dropAnswers, action)
		} else {
			e.dropAnswers[action] = n - 1
		}
	}
	h.answerDelay = e.answerDelay[action]
	return h
}

// isFormBody reports whether the body carries form-encoded parameters: the
// content type says so, or a POST has none (lenient, as AWS is).
func isFormBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.Method == http.MethodPost
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// logParams is what the call log keeps of a request: its IAM parameters,
// without Action, Version, the query-auth fields or anything secret.
func logParams(p url.Values) url.Values {
	out := url.Values{}
	for k, vs := range p {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") || strings.EqualFold(k, "SecretAccessKey") || k == "SecretString" {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// identityLocked resolves who signed: the root user or an IAM user.
func (e *Emulator) identityLocked(sig *sigRequest) (*reqCtx, *APIError) {
	if e.suspended() {
		// A suspended account's credentials no longer sign anything.
		return nil, newError("InvalidClientTokenId", msgInvalidToken)
	}
	if s, ok := e.session(sig.keyID); ok {
		return &reqCtx{e: e, keyID: sig.keyID, region: sig.region, session: s, signerArn: s.arn()}, nil
	}
	k, ok := e.keys[sig.keyID]
	if !ok || k.Status != statusActive { // deleted or deactivated meanwhile
		return nil, newError("InvalidClientTokenId", msgInvalidToken)
	}
	c := &reqCtx{e: e, keyID: k.AccessKeyID, region: sig.region}
	if k.UserName == RootUserName {
		c.isRoot = true
		return c, nil
	}
	u, ok := e.users[strings.ToLower(k.UserName)]
	if !ok {
		return nil, newError("InvalidClientTokenId", msgInvalidToken)
	}
	c.signerUser = u.UserName
	c.signerArn = u.Arn
	return c, nil
}

// recordUseLocked notes an authenticated use of a key, as AWS's
// GetAccessKeyLastUsed reports it.
func (e *Emulator) recordUseLocked(keyID, region string) {
	k, ok := e.keys[keyID]
	if !ok {
		return
	}
	lu := LastUsed{Date: e.nowUTC(), ServiceName: signingService, Region: region}
	if k.LastUsed != nil && *k.LastUsed == lu {
		return
	}
	k.LastUsed = &lu
	if err := e.saveLocked(); err != nil {
		e.logger.Error("emulator: saving state", "err", err)
	}
}

// run executes an operation under the state lock (released even if the
// operation panics, so one bad request cannot wedge the emulator).
func (e *Emulator) run(op opFunc, c *reqCtx) (result, *APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c.now = e.nowUTC()
	return op(c)
}

func (e *Emulator) latencyFor(op string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d, ok := e.opLatency[op]; ok {
		return d
	}
	return e.latency
}

func (e *Emulator) dropRateLocked(op string) float64 {
	if f, ok := e.opDropRate[op]; ok {
		return f
	}
	return e.dropRate
}

func (e *Emulator) drawLocked(rate float64) bool {
	return rate > 0 && e.rng.Float64() < rate
}

func (x *exchange) fail(err *APIError) {
	if x.svc == nil {
		x.svc = iamService
	}
	err = x.svc.errorOf(err)
	x.respond(err.Status, x.svc.errorBody(err, x.requestID), err.Code)
}

func (x *exchange) respond(status int, body []byte, code string) {
	x.wrote = true
	h := x.w.Header()
	ct := "text/xml"
	if x.svc != nil && x.svc.json {
		ct = "application/x-amz-json-1.1"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("x-amzn-RequestId", x.requestID)
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
	x.finish(status, code)
}

// drop closes the connection without answering, as a network failure
// would; code says why in the log ("dropped", or "lost" when the client
// left while the answer was held).
func (x *exchange) drop(code string) {
	x.wrote = true
	x.finish(0, code)
	if hj, ok := x.w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// finish records the outcome in the call log and the logger.
func (x *exchange) finish(status int, code string) {
	e := x.e
	if x.logSeq >= 0 {
		e.setCallStatus(x.logSeq, status)
	}
	attrs := []slog.Attr{slog.String("op", x.op), slog.Int("status", status), slog.String("request_id", x.requestID)}
	if code != "" {
		attrs = append(attrs, slog.String("code", code))
	}
	if x.signer != "" {
		attrs = append(attrs, slog.String("access_key_id", x.signer))
	}
	e.logger.LogAttrs(context.Background(), slog.LevelInfo, "iam request", attrs...)
}

// Server is an emulator listening on a TCP address.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT

	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// Listen serves the emulator on addr ("127.0.0.1:0" picks a free port)
// until Close or Shutdown.
func (e *Emulator) Listen(addr string) (*Server, error) { return listen(e, addr) }

func listen(h http.Handler, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Addr:   ln.Addr().String(),
		URL:    "http://" + dialable(ln.Addr()),
		cancel: cancel,
		done:   make(chan struct{}),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 30 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return ctx },
		},
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// dialable is the address clients use to reach a listener: an unspecified
// host (":8080", "0.0.0.0", "::") is reached on the loopback.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// Close stops the server at once, ending requests in progress (including
// injected latency).
func (s *Server) Close() error {
	s.cancel()
	err := s.srv.Close()
	<-s.done
	return err
}

// Shutdown stops accepting requests and waits for those in progress until
// ctx ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.cancel()
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
