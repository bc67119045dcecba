// Package server serves iamsql's SQL engine over the MySQL wire protocol,
// so that any MySQL client (the mysql/mariadb CLI, go-sql-driver/mysql,
// PyMySQL, BI tools) can query and manage access keys.
//
// It runs go-mysql-server's protocol handler with iamsql's own pieces
// around it: authentication of the configured users (read-only or
// read-write, mysql_native_password and, over TLS, caching_sha2_password),
// a provider.Session per connection (so created_access_keys is per
// connection), statement timeouts, cancellation of statements whose client
// went away, a connection limit, graceful shutdown and structured logs
// that never carry statement values or secrets.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gms "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider"
)

// Version is the server version clients see in the handshake.
const Version = "8.0.31-iamsql"

// Options configure a Server.
type Options struct {
	// Addr is the TCP address to listen on, e.g. 127.0.0.1:3306; port 0
	// picks a free port (see Server.Addr).
	Addr string
	// Users may connect. With none, any client may connect without a
	// password, and only a loopback Addr is accepted.
	Users []User
	// TLS enables TLS (and caching_sha2_password) when set.
	TLS *tls.Config
	// RequireTLS refuses clients that do not use TLS. It needs TLS.
	RequireTLS bool
	// MaxConnections bounds concurrent connections (0 = no limit); a
	// client beyond it is refused with error 1040.
	MaxConnections int
	// MaxUserConnections bounds each user's concurrent connections (0 =
	// no limit; User.MaxConnections overrides it for one user): a login
	// beyond it is refused with error 1203. Connections count toward
	// MaxConnections too.
	MaxUserConnections int
	// StatementTimeout cancels a statement running longer (0 = no limit);
	// the client gets error 3024.
	StatementTimeout time.Duration
	// Logger receives connection and statement logs; nil discards.
	Logger *slog.Logger
	// KeepUndelivered keeps, rather than deletes, a key whose secret the
	// connection that created it never read before it closed or was
	// reset; it is logged by key id (and audited) as undelivered.
	KeepUndelivered bool
	// CustodyStop, when done, cuts short deleting unread keys at a close
	// (a second signal); nil: never.
	CustodyStop context.Context

	// disconnectPoll is how often a running statement checks that its
	// client is still connected (default 200ms).
	disconnectPoll time.Duration
	// handshakeTimeout bounds the time from accepting a connection to
	// its successful login (default 10s, MySQL's connect_timeout): a
	// client that stalls in the handshake is hung up on, so it cannot
	// hold a connection slot for ever.
	handshakeTimeout time.Duration
}

// Server is a MySQL-protocol server over one iamsql engine.
type Server struct {
	opts   Options
	engine *provider.Engine
	log    *slog.Logger
	auth   *authServer
	ln     *listener
	gms    *gms.Server

	// hardStop is cancelled when running statements must stop (shutdown
	// timeout, Close).
	hardStop   context.Context
	cancelHard context.CancelFunc
	// custodyStop bounds deleting unread keys (Options.CustodyStop).
	custodyStop context.Context

	draining atomic.Bool
	// infoSchemaMu runs statements that read information_schema one at a
	// time (see readsInformationSchema).
	infoSchemaMu sync.Mutex
	mu           sync.Mutex
	conns        map[uint32]*connState
	// userConns counts each user's logged-in connections.
	userConns map[string]int
	// idle is signalled whenever a connection closes.
	idle chan struct{}

	stopOnce sync.Once
}

// noFileAccess is a directory that cannot exist: a path under a file.
const noFileAccess = "/dev/null/iamsql-serves-no-files"

// Errors New reports for a configuration that must not run.
var (
	ErrNoAuthOffLoopback     = errors.New("refusing to listen on a non-loopback address without authentication: configure users (--user/--password, IAMSQL_USER/IAMSQL_PASSWORD or --users-file) or listen on 127.0.0.1")
	ErrRequireTLSWithoutCert = errors.New("--require-tls needs TLS: give --tls-cert and --tls-key")
)

// New checks the options and starts listening; Serve accepts clients.
func New(engine *provider.Engine, opts Options) (*Server, error) {
	if opts.RequireTLS && opts.TLS == nil {
		return nil, ErrRequireTLSWithoutCert
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:3306"
	}
	if opts.disconnectPoll <= 0 {
		opts.disconnectPoll = 200 * time.Millisecond
	}
	if opts.handshakeTimeout <= 0 {
		opts.handshakeTimeout = 10 * time.Second
	}
	auth, err := newAuthServer(opts.Users, opts.TLS != nil, opts.RequireTLS)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if auth.open() {
		if ok, err := isLoopback(opts.Addr); err != nil {
			return nil, err
		} else if !ok {
			return nil, ErrNoAuthOffLoopback
		}
	}
	netLn, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	// The address actually bound decides, not the name it was given.
	if auth.open() && !netLn.Addr().(*net.TCPAddr).IP.IsLoopback() {
		netLn.Close()
		return nil, ErrNoAuthOffLoopback
	}
	routeLibraryLogs(log)
	if err := sql.SystemVariables.AssignValues(map[string]any{
		// What `SELECT @@version_comment` and the mysql CLI's banner show.
		"version_comment": "iamsql",
		// No client may read or write files on this host (LOAD_FILE,
		// SELECT ... INTO OUTFILE, LOAD DATA INFILE): go-mysql-server
		// confines them to this directory, which cannot exist.
		"secure_file_priv": noFileAccess,
	}); err != nil {
		netLn.Close()
		return nil, err
	}

	s := &Server{
		opts:      opts,
		engine:    engine,
		log:       log,
		auth:      auth,
		conns:     map[uint32]*connState{},
		userConns: map[string]int{},
		idle:      make(chan struct{}, 1),
	}
	auth.log = log
	auth.onLogin = s.loggedIn
	s.hardStop, s.cancelHard = context.WithCancel(context.Background())
	s.custodyStop = opts.CustodyStop
	if s.custodyStop == nil {
		s.custodyStop = context.Background()
	}
	s.ln = &listener{Listener: netLn, srv: s}

	cfg := gms.Config{
		Protocol:  "tcp",
		Address:   netLn.Addr().String(),
		Listener:  s.ln,
		Version:   Version,
		TLSConfig: opts.TLS,
		// Authentication is iamsql's (users, read-only, TLS rule), not
		// GMS's privilege database.
		ProtocolListenerFactory: func(cfg gms.Config, lc mysql.ListenerConfig, sel gms.ServerEventListener) (gms.ProtocolListener, error) {
			lc.AuthServer = auth
			// Connections are bounded by the listener, which answers
			// "Too many connections" instead of hanging up.
			lc.MaxConns = 0
			return gms.MySQLProtocolListenerFactory(cfg, lc, sel)
		},
	}
	srv, err := gms.NewServerWithHandler(cfg, engine.SQL, newContext, s.newSession, nil, func(h mysql.Handler) (mysql.Handler, error) {
		return &handler{inner: h, srv: s}, nil
	})
	if err != nil {
		netLn.Close()
		return nil, err
	}
	s.gms = srv
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Authenticated reports whether clients must log in.
func (s *Server) Authenticated() bool { return !s.auth.open() }

// Serve accepts clients until ctx is cancelled, then shuts down
// gracefully: it stops accepting, closes idle connections, refuses new
// statements, lets running statements finish and deliver their results
// for up to shutdownTimeout, then cancels those still running (their
// clients get error 1053) and closes every connection within about a
// second more. The error says whether statements had to be cancelled.
func (s *Server) Serve(ctx context.Context, shutdownTimeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.gms.Start() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return s.Shutdown(shutdownTimeout)
}

// Shutdown stops the server: see Serve. It returns an error when
// statements had to be cancelled.
func (s *Server) Shutdown(timeout time.Duration) error {
	var err error
	s.stopOnce.Do(func() { err = s.shutdown(timeout) })
	return err
}

// Close stops the server at once, cancelling running statements.
func (s *Server) Close() error { return s.Shutdown(0) }

func (s *Server) shutdown(timeout time.Duration) error {
	s.log.Info("shutting down", "running_statements", s.runningStatements(), "connections", s.connectionCount(), "timeout", timeout)
	s.draining.Store(true)
	s.gms.Close() // stops accepting
	s.closeIdleConnections()
	defer s.cancelHard()

	if s.waitForConnections(timeout, true) {
		s.log.Info("server stopped")
		return nil
	}
	var result error
	if n := s.runningStatements(); n > 0 {
		s.log.Warn("shutdown timeout: cancelling running statements", "running_statements", n)
		result = fmt.Errorf("shutdown cancelled %d running statement(s) after %s", n, timeout)
	}
	s.cancelHard()
	// A cancelled statement settles the keys it created (it waits for an
	// in-flight create's answer and deletes what it made, within the
	// custody bound; a second signal cuts it), then tells its client;
	// then what is left is closed.
	grace := provider.DefaultCustodyWait + time.Second
	switch {
	case timeout == 0:
		grace = 0
	case s.custodyStop.Err() != nil:
		grace = time.Second // custody work was cut: statements end now
	}
	if !s.waitForConnections(grace, true) {
		s.closeAllConnections()
		if !s.waitForConnections(5*time.Second, false) {
			result = errors.Join(result, fmt.Errorf("%d connection(s) did not close", s.connectionCount()))
		}
	}
	s.log.Info("server stopped")
	return result
}

// waitForConnections waits up to d until no connection is open. With
// cut, a second signal (Options.CustodyStop) arriving meanwhile ends the
// wait after a second more, in which cancelled statements tell their
// clients what became of their keys.
func (s *Server) waitForConnections(d time.Duration, cut bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	stop := s.custodyStop.Done()
	if !cut || s.custodyStop.Err() != nil {
		stop = nil
	}
	for {
		if s.connectionCount() == 0 {
			return true
		}
		select {
		case <-s.idle:
		case <-stop:
			stop = nil
			timer.Reset(time.Second)
		case <-timer.C:
			return s.connectionCount() == 0
		}
	}
}

func (s *Server) connectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) runningStatements() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.running.Load() {
			n++
		}
	}
	return n
}

func (s *Server) closeIdleConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.tracked.drain()
	}
}

func (s *Server) closeAllConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.tracked.Close()
	}
}

// newContext builds a statement's context, whose process list shows the
// statement's user only that user's connections: SHOW PROCESSLIST and
// information_schema.PROCESSLIST answer as MySQL answers a user without
// the PROCESS privilege, so no user reads another's statements.
func newContext(ctx context.Context, opts ...sql.ContextOption) *sql.Context {
	c := sql.NewContext(ctx, opts...)
	if c.Session != nil && c.ProcessList != nil {
		c.ProcessList = ownProcesses{ProcessList: c.ProcessList, user: c.Session.Client().User}
	}
	return c
}

// ownProcesses is a process list that lists only user's processes.
type ownProcesses struct {
	sql.ProcessList
	user string
}

// AllProcesses lists every connection, for KILL to tell another user's
// connection ("not owner") from none at all ("unknown thread id").
func (p ownProcesses) AllProcesses() []sql.Process { return p.ProcessList.Processes() }

var _ provider.AllProcesses = ownProcesses{}

func (p ownProcesses) Processes() []sql.Process {
	all := p.ProcessList.Processes()
	own := all[:0:0]
	for _, proc := range all {
		if proc.User == p.user {
			own = append(own, proc)
		}
	}
	return own
}

// newSession builds each connection's GMS session: a provider.Session,
// so the connection's created keys live (and die) with it, read-only for
// read-only users, with iam as its database.
func (s *Server) newSession(_ context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
	acct, ok := c.UserData.(*account)
	if !ok {
		return nil, mysql.NewSQLError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError, "not authenticated")
	}
	if s.opts.RequireTLS && !c.TLSEnabled() {
		return nil, errInsecureTransport()
	}
	base := sql.NewBaseSessionWithClientServer(addr, sql.Client{
		User:         c.User,
		Address:      remoteHost(c),
		Capabilities: c.Capabilities,
	}, c.ConnectionID)
	base.SetCurrentDatabase(provider.DatabaseName)
	sess := provider.NewSession(base)
	sess.ReadOnly = acct.readOnly
	s.mu.Lock()
	st := s.conns[c.ConnectionID]
	s.mu.Unlock()
	if st != nil {
		st.session.Store(sess)
	}
	return sess, nil
}

// LoadTLS reads a PEM certificate (chain) and key for Options.TLS.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// isLoopback reports whether addr's host is a loopback address (a name
// counts when every address it resolves to is loopback).
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}

func remoteHost(c *mysql.Conn) string {
	if c.RemoteAddr() == nil {
		return ""
	}
	return c.RemoteAddr().String()
}
