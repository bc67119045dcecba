package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/iamsql/iamsql/provider"
)

// handler wraps go-mysql-server's protocol handler with what iamsql adds
// per connection and per statement: connection tracking, the statement
// timeout, cancellation when the client goes away or the server stops,
// error numbers for those cases, and logs.
type handler struct {
	inner mysql.Handler
	srv   *Server
}

var _ mysql.Handler = (*handler)(nil)

// connState is what the server tracks about one connection.
type connState struct {
	tracked   *trackedConn
	connected time.Time
	// counted is the user whose connection count this connection is in
	// (Server.userConns; under Server.mu).
	counted string
	running atomic.Bool
	// statements counts the statements the connection ran.
	statements atomic.Int64
	// authenticated is set once the connection logged in.
	authenticated atomic.Bool
	// user is who logged in.
	user atomic.Pointer[account]
	// session is the connection's engine session, once built: whatever a
	// statement fails with is scrubbed of its secrets (statement.end).
	session atomic.Pointer[provider.Session]
	// sent lists, by statement, the keys whose secrets went out in a
	// result, delivered once that result is known flushed (confirmSent).
	sentMu sync.Mutex
	sent   map[string][]string
	// answers mends what the protocol library writes to the client
	// (answers.go), once logged in.
	answers *answerWriter
}

// Causes a statement's context is cancelled with.
var (
	errStatementTimeout = errors.New("statement timeout")
	errClientGone       = errors.New("client disconnected")
	errShuttingDown     = errors.New("server shutting down")
)

// scrub takes the connection's secrets out of an error's message.
func (st *connState) scrub(err error) error {
	if st == nil {
		return err
	}
	return st.session.Load().Scrub(err)
}

func (h *handler) NewConnection(c *mysql.Conn) {
	st := &connState{tracked: unwrapTracked(c.Conn), connected: time.Now()}
	h.srv.mu.Lock()
	h.srv.conns[c.ConnectionID] = st
	h.srv.mu.Unlock()
	if h.srv.draining.Load() && st.tracked != nil {
		st.tracked.drain()
	}
	h.inner.NewConnection(c)
}

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	h.settle(c, "the connection closed")
	h.inner.ConnectionClosed(c)
	h.srv.mu.Lock()
	st := h.srv.conns[c.ConnectionID]
	delete(h.srv.conns, c.ConnectionID)
	if st != nil && st.counted != "" {
		if h.srv.userConns[st.counted]--; h.srv.userConns[st.counted] == 0 {
			delete(h.srv.userConns, st.counted)
		}
	}
	h.srv.mu.Unlock()
	h.srv.ln.release()
	if st != nil && st.authenticated.Load() {
		h.srv.log.Info("client disconnected", "conn", c.ConnectionID, "user", c.User, "remote", remoteHost(c),
			"statements", st.statements.Load(), "duration", time.Since(st.connected).Round(time.Millisecond))
	}
	select {
	case h.srv.idle <- struct{}{}:
	default:
	}
}

func (h *handler) ConnectionAborted(c *mysql.Conn, reason string) error {
	h.srv.log.Debug("connection aborted during handshake", "conn", c.ConnectionID, "remote", remoteHost(c), "reason", reason)
	return h.inner.ConnectionAborted(c, reason)
}

func (h *handler) ComInitDB(c *mysql.Conn, schemaName string) error {
	return h.inner.ComInitDB(c, schemaName)
}

// state is what the server tracks about c.
func (h *handler) state(c *mysql.Conn) *connState {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return h.srv.conns[c.ConnectionID]
}

// loggedIn records and logs a successful login, or refuses it when the
// user is at its connection limit (error 1203, as MySQL's
// max_user_connections).
func (s *Server) loggedIn(c *mysql.Conn, acct *account, method mysql.AuthMethodDescription) error {
	max := acct.maxConns
	if max == 0 {
		max = s.opts.MaxUserConnections
	}
	s.mu.Lock()
	st := s.conns[c.ConnectionID]
	if st != nil && st.counted != "" { // logged in again: counted once
		s.userConns[st.counted]--
		st.counted = ""
	}
	if st != nil && max > 0 && s.userConns[acct.name] >= max {
		s.mu.Unlock()
		s.log.Warn("connection refused: the user has too many connections", "user", acct.name, "remote", remoteHost(c), "max_user_connections", max)
		return mysql.NewSQLError(mysql.ERTooManyUserConnections, mysql.SSClientError,
			"User '%s' already has more than 'max_user_connections' active connections (%d)", acct.name, max)
	}
	if st != nil {
		s.userConns[acct.name]++
		st.counted = acct.name
	}
	s.mu.Unlock()
	answers := guardAnswers(c)
	if st != nil {
		st.answers = answers
		st.user.Store(acct)
		st.authenticated.Store(true)
		if st.tracked != nil {
			st.tracked.loggedIn()
		}
	}
	s.log.Info("client connected", "conn", c.ConnectionID, "user", acct.name, "remote", remoteHost(c),
		"tls", c.TLSEnabled(), "auth", string(method), "read_only", acct.readOnly)
	return nil
}

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	stmt, ctx, err := h.begin(ctx, c, query)
	if err != nil {
		return err
	}
	if err := frontEndError(query); err != nil {
		return stmt.end(err)
	}
	_, err = guard(h, c, stmt.kind, func() (struct{}, error) {
		return struct{}{}, h.inner.ComQuery(ctx, c, query, stmt.counting(callback))
	})
	return stmt.end(err)
}

func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	stmt, ctx, err := h.begin(ctx, c, query)
	if err != nil {
		return "", err
	}
	if err := frontEndError(query); err != nil {
		return "", stmt.end(err)
	}
	rest, err := guard(h, c, stmt.kind, func() (string, error) {
		return h.inner.ComMultiQuery(ctx, c, query, stmt.counting(callback))
	})
	return rest, stmt.end(err)
}

// guard runs the engine on a statement and turns a panic of the engine
// into an error for the client (1105, without the panic's text), logged
// with its stack but not the statement. Without it the protocol library
// would recover the panic and hang up on the client without a word.
func guard[T any](h *handler, c *mysql.Conn, kind string, run func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			h.srv.log.Error("the SQL engine panicked on a statement; the client gets an error and keeps its connection",
				"conn", c.ConnectionID, "user", c.User, "kind", kind, "panic", withoutValues(fmt.Sprint(r)), "stack", string(debug.Stack()))
			err = errEnginePanic(kind)
		}
	}()
	return run()
}

// errEnginePanic is what a client gets for a statement the engine
// panicked on: no Go panic text, and a pointer to the server's log.
func errEnginePanic(kind string) error {
	return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "internal error in the SQL engine on this %s statement (the server log has details)", kind)
}

// frontEndError is the error iamsql's StackQL front-end finds in query,
// with the MySQL number the shell and exec report for it (1210 for a bad
// EXEC parameter, ...). go-mysql-server would turn any error of its parser
// into 1105, unknown error.
func frontEndError(query string) error {
	if _, err := provider.Rewrite(query); err != nil {
		return provider.ToSQLError(err)
	}
	return nil
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	if h.srv.draining.Load() {
		return nil, errShutdownSQL()
	}
	if h.srv.opts.RequireTLS && !c.TLSEnabled() {
		return nil, errInsecureTransport()
	}
	if readsInformationSchema(query) {
		h.srv.infoSchemaMu.Lock()
		defer h.srv.infoSchemaMu.Unlock()
	}
	fields, err := guard(h, c, statementKind(query), func() ([]*querypb.Field, error) {
		return h.inner.ComPrepare(ctx, c, query, prepare)
	})
	if st := h.state(c); st != nil && st.session.Load() != nil {
		st.session.Load().ReleaseParse()
	}
	if err != nil {
		err = provider.Renumber(h.state(c).scrub(err))
		h.srv.log.Info("prepare failed", "conn", c.ConnectionID, "user", c.User, "kind", statementKind(query), "error_code", errorCode(err))
	}
	return fields, err
}

func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	stmt, ctx, err := h.begin(ctx, c, prepare.PrepareStmt)
	if err != nil {
		return err
	}
	_, err = guard(h, c, stmt.kind, func() (struct{}, error) {
		return struct{}{}, h.inner.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error {
			stmt.count(r)
			return callback(r)
		})
	})
	return stmt.end(err)
}

func (h *handler) WarningCount(c *mysql.Conn) uint16 { return h.inner.WarningCount(c) }

func (h *handler) ComResetConnection(c *mysql.Conn) error {
	// The session and its created_access_keys end here, as at a close.
	h.settle(c, "the connection was reset (COM_RESET_CONNECTION)")
	return h.inner.ComResetConnection(c)
}

// settle ends the custody of the keys a connection created, when it
// closes or is reset (why): a key whose secret went out in a result that
// was flushed without error is delivered; the others — never read from
// created_access_keys — are deleted again, or with --undelivered-keys
// keep, logged by key id as undelivered. Either way the audit log says so.
func (h *handler) settle(c *mysql.Conn, why string) {
	st := h.state(c)
	if st == nil {
		return
	}
	h.confirmSent(st)
	sess := st.session.Load()
	if sess == nil {
		return
	}
	var ids []string
	for _, k := range sess.Undelivered() {
		ids = append(ids, k.AccessKeyID)
	}
	if len(ids) == 0 {
		return
	}
	if h.srv.opts.KeepUndelivered {
		h.srv.log.Warn("keys created on this connection were never read from created_access_keys and are kept: nobody holds their secrets",
			"conn", c.ConnectionID, "user", c.User, "access_key_ids", ids, "why", why)
		h.srv.engine.Undelivered(context.Background(), sess, ids)
		return
	}
	ctx := provider.WithHardStop(context.Background(), h.srv.custodyStop)
	if err := h.srv.engine.Withdraw(ctx, sess, ids, why+" before the secrets were read"); err != nil {
		h.srv.log.Error("keys whose secrets were never read could not be deleted", "conn", c.ConnectionID, "user", c.User,
			"access_key_ids", ids, "error_code", errorCode(provider.ToSQLError(err)))
		return
	}
	h.srv.log.Info("keys whose secrets were never read were deleted again", "conn", c.ConnectionID, "user", c.User, "access_key_ids", ids, "why", why)
}

// confirmSent records as delivered the keys whose secrets went out in
// results, when nothing the server wrote to the client failed since: the
// protocol library flushes a result before it reads the next command.
func (h *handler) confirmSent(st *connState) {
	st.sentMu.Lock()
	sent := st.sent
	st.sent = nil
	st.sentMu.Unlock()
	sess := st.session.Load()
	if len(sent) == 0 || sess == nil || (st.tracked != nil && st.tracked.writeFailed.Load()) {
		return
	}
	for query, ids := range sent {
		h.srv.engine.Delivered(context.Background(), sess, query, ids...)
	}
}

func (h *handler) ParserOptionsForConnection(c *mysql.Conn) (sqlparser.ParserOptions, error) {
	return h.inner.ParserOptionsForConnection(c)
}

// statement is one running statement.
type statement struct {
	h        *handler
	c        *mysql.Conn
	conn     *connState
	query    string
	kind     string
	start    time.Time
	ctx      context.Context
	cancel   context.CancelCauseFunc
	cleanups []func() bool
	rows     int
	affected uint64
}

// begin registers a statement and gives it a context that is cancelled
// by the statement timeout, by the client disconnecting and by a forced
// shutdown.
func (h *handler) begin(ctx context.Context, c *mysql.Conn, query string) (*statement, context.Context, error) {
	st := h.state(c)
	if h.srv.draining.Load() || st == nil {
		return nil, nil, errShutdownSQL()
	}
	if h.srv.opts.RequireTLS && !c.TLSEnabled() {
		return nil, nil, errInsecureTransport()
	}
	h.confirmSent(st) // the previous result was flushed: this command came after it
	st.running.Store(true)
	st.statements.Add(1)
	s := &statement{h: h, c: c, conn: st, query: query, kind: statementKind(query), start: time.Now()}
	ctx, s.cancel = context.WithCancelCause(ctx)
	// A second signal to serve cuts a cancelled statement's custody work.
	ctx = provider.WithHardStop(ctx, h.srv.custodyStop)
	if d := h.srv.opts.StatementTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errStatementTimeout)
		s.cleanups = append(s.cleanups, func() bool { cancel(); return true })
	}
	s.cleanups = append(s.cleanups,
		context.AfterFunc(h.srv.hardStop, func() { s.cancel(errShuttingDown) }),
		watchDisconnect(st.tracked, h.srv.opts.disconnectPoll, func() { s.cancel(errClientGone) }),
	)
	if readsInformationSchema(query) {
		h.srv.infoSchemaMu.Lock()
		s.cleanups = append(s.cleanups, func() bool { h.srv.infoSchemaMu.Unlock(); return true })
	}
	s.ctx = ctx
	return s, ctx, nil
}

// readsInformationSchema reports whether a statement reads
// information_schema, directly or through a SHOW that go-mysql-server
// answers from it. go-mysql-server v0.20.0 keeps each information_schema
// table as one value shared by every connection, into which each
// statement that plans it writes the catalog (and, for routines, the
// stored procedures) while another statement may be reading it: a data
// race, which the server avoids by running such statements one at a time
// (Server.infoSchemaMu). They are metadata lookups and make no IAM call
// unless joined with iamsql's tables. A statement run with
// information_schema as its current database is not recognised.
func readsInformationSchema(query string) bool {
	q := strings.ToLower(query)
	if strings.Contains(q, "information_schema") {
		return true
	}
	words := provider.StatementWords(query, 4)
	if len(words) == 0 || words[0] != "SHOW" {
		return false
	}
	show := strings.Join(words[1:], " ")
	for _, what := range []string{"PROCEDURE STATUS", "FUNCTION STATUS", "COLLATION", "ENGINES", "STORAGE ENGINES", "PLUGINS", "CHARACTER SET", "CHARSET"} {
		if strings.HasPrefix(show, what) {
			return true
		}
	}
	return false
}

func (s *statement) counting(cb mysql.ResultSpoolFn) mysql.ResultSpoolFn {
	first := true
	return func(r *sqltypes.Result, more bool) error {
		s.count(r)
		if first && len(r.Fields) == 0 && r.Info != "" && s.conn.answers != nil {
			// An OK packet with info text: see answerWriter.
			if err := s.conn.answers.infoNext(s.c); err != nil {
				return err
			}
		}
		first = false
		return cb(r, more)
	}
}

// count counts a result batch's rows and, on the way to the client,
// replaces the text "NULL" that go-mysql-server sends in some numeric
// columns (EXPLAIN's rows and filtered) by a real NULL: clients parse a
// numeric column as a number, and go-sql-driver fails on "NULL".
func (s *statement) count(r *sqltypes.Result) {
	for i, f := range r.Fields {
		if !sqltypes.IsIntegral(f.Type) && !sqltypes.IsFloat(f.Type) && f.Type != sqltypes.Decimal {
			continue
		}
		for _, row := range r.Rows {
			if i < len(row) && !row[i].IsNull() && string(row[i].Raw()) == "NULL" {
				row[i] = sqltypes.NULL
			}
		}
	}
	if len(r.Fields) == 0 && len(r.Rows) == 0 {
		s.affected += r.RowsAffected
		return
	}
	s.rows += len(r.Rows)
	s.noteSecrets(r)
}

// noteSecrets records the keys whose secrets a result carries: rows
// carrying the SecretAccessKey value itself.
func (s *statement) noteSecrets(r *sqltypes.Result) {
	sess := s.conn.session.Load()
	if sess == nil || len(sess.Undelivered()) == 0 {
		return
	}
	var values []string
	for _, row := range r.Rows {
		for _, v := range row {
			if !v.IsNull() {
				values = append(values, string(v.Raw()))
			}
		}
	}
	if ids := sess.SecretSent(values); len(ids) > 0 {
		s.conn.sentMu.Lock()
		if s.conn.sent == nil {
			s.conn.sent = map[string][]string{}
		}
		s.conn.sent[s.query] = append(s.conn.sent[s.query], ids...)
		s.conn.sentMu.Unlock()
	}
}

// end finishes the statement: the error a cancelled statement returns is
// replaced by the reason it was cancelled, and the statement is logged.
func (s *statement) end(err error) error {
	for _, f := range s.cleanups {
		f()
	}
	if sess := s.conn.session.Load(); sess != nil {
		sess.ReleaseParse()
	}
	cause := context.Cause(s.ctx)
	s.cancel(nil)
	s.conn.running.Store(false)
	if err != nil {
		err = provider.Renumber(s.conn.scrub(err))
		if se := (*mysql.SQLError)(nil); errors.As(err, &se) && strings.Contains(se.Message, "handler caught panic") {
			// go-mysql-server recovered a panic of a row iterator.
			s.h.srv.log.Error("the SQL engine panicked on a statement; the client gets an error and keeps its connection",
				"conn", s.c.ConnectionID, "user", s.c.User, "kind", s.kind, "panic", withoutValues(se.Message))
			err = errEnginePanic(s.kind)
		}
		var why error
		switch {
		case errors.Is(cause, errStatementTimeout):
			why = mysql.NewSQLError(provider.ErrNumTimeout, "HY000", "Query execution was interrupted, maximum statement execution time exceeded (--statement-timeout %s)", s.h.srv.opts.StatementTimeout)
		case errors.Is(cause, errShuttingDown):
			why = errShutdownSQL()
		case errors.Is(cause, errClientGone):
			why = mysql.NewSQLError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted: the client disconnected")
		}
		if why != nil {
			// Say why the statement stopped, and keep what it says about
			// the keys it created (deleted again, outcome unknown).
			if !provider.CancelOnly(err) {
				var se, orig *mysql.SQLError
				errors.As(why, &se)
				if errors.As(err, &orig) {
					why = mysql.NewSQLError(se.Num, se.State, "%s; %s", se.Message, orig.Message)
				}
			}
			err = why
		}
	}
	elapsed := time.Since(s.start)
	log := s.h.srv.log
	attrs := []any{"conn", s.c.ConnectionID, "user", s.c.User, "kind", s.kind, "duration", elapsed.Round(time.Microsecond)}
	if err != nil {
		attrs = append(attrs, "error_code", errorCode(err))
		if cause != nil && !errors.Is(cause, context.Canceled) {
			attrs = append(attrs, "cancelled", cause.Error())
		}
		log.Info("statement failed", attrs...)
		if errors.Is(cause, errClientGone) && !provider.CancelOnly(err) {
			// Nobody reads the error the statement ends with: what it
			// says about the keys the statement created (deleted again,
			// or a create whose outcome is unknown) is the operator's.
			var se *mysql.SQLError
			if errors.As(err, &se) {
				log.Warn("a statement of a client that disconnected ended with an error it cannot read", "conn", s.c.ConnectionID, "user", s.c.User, "error", se.Message)
			}
		}
	} else if log.Enabled(context.Background(), levelDebug) {
		log.Debug("statement", append(attrs, "rows", s.rows, "affected", s.affected)...)
	}
	return err
}

func errShutdownSQL() error {
	return mysql.NewSQLError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
}

// errorCode is the MySQL error number a client receives for err.
func errorCode(err error) int {
	var se *mysql.SQLError
	if errors.As(err, &se) {
		return se.Num
	}
	return mysql.ERUnknownError
}
