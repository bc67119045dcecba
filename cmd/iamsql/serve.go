package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/server"
	"github.com/iamsql/iamsql/provider"
)

// defaultShutdownTimeout bounds how long serve lets running statements
// finish after SIGINT/SIGTERM.
const defaultShutdownTimeout = 10 * time.Second

// serveOptions are serve's flags.
type serveOptions struct {
	addr, user, password, usersFile string
	userSet, passwordSet            bool
	readOnly, requireTLS            bool
	tlsCert, tlsKey                 string
	maxConns, maxUserConns          int
	stmtTimeout, shutdownTimeout    time.Duration
	logLevel, undelivered           string
}

// serveMemoryLimit is serve's soft memory limit (GOMEMLIMIT).
const serveMemoryLimit = 384 << 20

// cmdServe runs the MySQL-protocol server until ctx is cancelled.
func cmdServe(ctx context.Context, env *environment, o serveOptions) error {
	// IAMSQL_USER and IAMSQL_PASSWORD stand in for flags not given, so a
	// password need not appear in ps.
	if !o.userSet {
		o.user = os.Getenv("IAMSQL_USER")
	}
	if !o.passwordSet {
		o.password = os.Getenv("IAMSQL_PASSWORD")
	}
	if o.undelivered != "delete" && o.undelivered != "keep" {
		return errUsage{fmt.Sprintf("serve: --undelivered-keys %q: use delete or keep", o.undelivered)}
	}
	if o.maxConns < 0 || o.maxUserConns < 0 || o.stmtTimeout < 0 || o.shutdownTimeout < 0 {
		return errUsage{"serve: --max-connections, --max-user-connections, --statement-timeout and --shutdown-timeout must not be negative"}
	}

	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return errUsage{fmt.Sprintf("serve: --log-level %q: use debug, info, warn or error", o.logLevel)}
	}
	if env.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	users, err := serveUsers(o.user, o.password, o.usersFile, logger)
	if err != nil {
		return err
	}
	opts := server.Options{
		Addr:               o.addr,
		Users:              users,
		RequireTLS:         o.requireTLS,
		MaxConnections:     o.maxConns,
		MaxUserConnections: o.maxUserConns,
		StatementTimeout:   o.stmtTimeout,
		Logger:             logger,
		KeepUndelivered:    o.undelivered == "keep",
		CustodyStop:        provider.HardStop(ctx),
	}
	switch {
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return errUsage{"serve: give both --tls-cert and --tls-key"}
	case o.tlsCert != "":
		if opts.TLS, err = server.LoadTLS(o.tlsCert, o.tlsKey); err != nil {
			return errUsage{"serve: " + err.Error()}
		}
	case o.requireTLS:
		return errUsage{"serve: --require-tls needs --tls-cert and --tls-key"}
	}

	// A server allocates per statement from a small live heap: collect
	// garbage less often than GOGC=100 would (400 took the heap to 105 MB
	// at 32 connections of lookups, 200 to 79 MB), unless the user chose; and
	// hold the heap to serveMemoryLimit, above what statements may hold
	// (provider.MaxHeldMemory) and read (max_allowed_packet), so that a
	// heap grown under load is collected, not kept for GOGC's sake.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	eng, err := env.engine(o.readOnly)
	if err != nil {
		return err
	}
	srv, err := server.New(eng, opts)
	if errors.Is(err, server.ErrNoAuthOffLoopback) {
		return errUsage{"serve: " + err.Error()}
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(env.stdout, "iamsql serving MySQL protocol on %s\n", srv.Addr())
	if f, ok := env.stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	logger.Info("listening", "addr", srv.Addr().String(), "database", "iam", "users", len(users),
		"tls", opts.TLS != nil, "require_tls", o.requireTLS, "read_only", o.readOnly, "sandbox", env.sandbox)
	if !srv.Authenticated() {
		logger.Warn("no users configured: any client on this machine can connect without a password (loopback only); use --user/--password or --users-file to require a login")
	}
	if err := srv.Serve(ctx, o.shutdownTimeout); err != nil {
		logger.Warn("shutdown", "error", err)
	}
	return nil
}

// serveUsers collects the users from --user/--password (or IAMSQL_USER
// and IAMSQL_PASSWORD) and --users-file.
func serveUsers(user, password, file string, logger *slog.Logger) ([]server.User, error) {
	var users []server.User
	switch {
	case user != "" && password == "":
		return nil, errUsage{"serve: user " + user + " needs a password (--password or IAMSQL_PASSWORD)"}
	case user == "" && password != "":
		return nil, errUsage{"serve: a password needs a user (--user or IAMSQL_USER)"}
	case user != "":
		users = append(users, server.User{Name: user, Password: password})
	}
	if file == "" {
		return users, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, errUsage{"serve: --users-file: " + err.Error()}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the users file is readable by other users; chmod 600 it", "file", file, "mode", st.Mode().Perm().String())
	}
	fromFile, err := server.ParseUsers(f)
	if err != nil {
		return nil, errUsage{fmt.Sprintf("serve: --users-file %s: %v", file, err)}
	}
	for _, u := range fromFile {
		if strings.EqualFold(u.Name, user) {
			return nil, errUsage{fmt.Sprintf("serve: user %q is given both by --user and in %s", u.Name, file)}
		}
	}
	return append(users, fromFile...), nil
}
