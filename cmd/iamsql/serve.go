package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/server"
	"github.com/iamsql/iamsql/provider"
)

const serveUsage = `Usage: iamsql [global flags] serve [flags]
       iamsql serve help

Serves iamsql over the MySQL protocol: any MySQL client (mysql/mariadb CLI,
go-sql-driver/mysql, PyMySQL, BI tools) can connect to database iam.

Flags:
  --addr HOST:PORT          listen address (default 127.0.0.1:3306; port 0 picks a free port)
  --user NAME               a read-write user (also IAMSQL_USER)
  --password PW             its password (also IAMSQL_PASSWORD, which keeps it out of ps)
  --users-file FILE         users, one per line: name:password:ro|rw (ro = read-only),
                            optionally followed by max_user_connections=N for that user;
                            # comments and blank lines are ignored; keep the file mode 0600
  --read-only               no statement may change IAM, whoever the user
  --tls-cert FILE           PEM certificate (chain): enables TLS and caching_sha2_password
  --tls-key FILE            its PEM private key
  --require-tls             refuse clients that do not use TLS
  --max-connections N       concurrent connections (default 151; 0 = no limit)
  --max-user-connections N  concurrent connections of each user (default 0 = no limit
                            beyond --max-connections); a users-file entry may set its own
  --statement-timeout D     cancel statements running longer than D, e.g. 30s (default: none)
  --shutdown-timeout D      on SIGINT/SIGTERM, let running statements finish for up to D (default 10s)
  --log-level LEVEL         debug, info (default), warn or error; logs go to stderr
  --undelivered-keys WHAT   delete (default) or keep a key whose secret the connection that
                            created it never read from created_access_keys before it closed
                            or was reset; either way the audit log and the server log name it

Without any user, any client on this machine may connect without a password,
and the server listens on loopback addresses only.

Keys created by INSERT are readable, with their secrets, from the table
created_access_keys by the connection that created them, until it closes;
a key whose secret was not read by then is deleted again (secret custody).
CALL create_access_key returns the secret as a result row instead.
StackQL names (aws.iam_api.access_keys) and EXEC work in plain queries; in
server-side prepared statements use the MySQL names (access_keys, CALL).
`

// serveMemoryLimit is serve's soft memory limit (GOMEMLIMIT).
const serveMemoryLimit = 384 << 20

// cmdServe runs the MySQL-protocol server until ctx is cancelled.
func cmdServe(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:3306", "")
	user := fs.String("user", os.Getenv("IAMSQL_USER"), "")
	password := fs.String("password", os.Getenv("IAMSQL_PASSWORD"), "")
	usersFile := fs.String("users-file", "", "")
	readOnly := fs.Bool("read-only", false, "")
	tlsCert := fs.String("tls-cert", "", "")
	tlsKey := fs.String("tls-key", "", "")
	requireTLS := fs.Bool("require-tls", false, "")
	maxConns := fs.Int("max-connections", 151, "")
	maxUserConns := fs.Int("max-user-connections", 0, "")
	stmtTimeout := fs.Duration("statement-timeout", 0, "")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "")
	logLevel := fs.String("log-level", "info", "")
	undelivered := fs.String("undelivered-keys", "delete", "")
	if err := fs.Parse(args); err != nil {
		return errUsage{"serve: " + err.Error() + " (iamsql serve help lists the flags)"}
	}
	if fs.NArg() == 1 && fs.Arg(0) == "help" {
		fmt.Fprint(env.stdout, serveUsage)
		return nil
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	if *undelivered != "delete" && *undelivered != "keep" {
		return errUsage{fmt.Sprintf("serve: --undelivered-keys %q: use delete or keep", *undelivered)}
	}
	if *maxConns < 0 || *maxUserConns < 0 || *stmtTimeout < 0 || *shutdownTimeout < 0 {
		return errUsage{"serve: --max-connections, --max-user-connections, --statement-timeout and --shutdown-timeout must not be negative"}
	}

	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return errUsage{fmt.Sprintf("serve: --log-level %q: use debug, info, warn or error", *logLevel)}
	}
	if env.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	users, err := serveUsers(*user, *password, *usersFile, logger)
	if err != nil {
		return err
	}
	opts := server.Options{
		Addr:               *addr,
		Users:              users,
		RequireTLS:         *requireTLS,
		MaxConnections:     *maxConns,
		MaxUserConnections: *maxUserConns,
		StatementTimeout:   *stmtTimeout,
		Logger:             logger,
		KeepUndelivered:    *undelivered == "keep",
		CustodyStop:        provider.HardStop(ctx),
	}
	switch {
	case (*tlsCert == "") != (*tlsKey == ""):
		return errUsage{"serve: give both --tls-cert and --tls-key"}
	case *tlsCert != "":
		if opts.TLS, err = server.LoadTLS(*tlsCert, *tlsKey); err != nil {
			return errUsage{"serve: " + err.Error()}
		}
	case *requireTLS:
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
	eng, err := env.engine(*readOnly)
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
		"tls", opts.TLS != nil, "require_tls", *requireTLS, "read_only", *readOnly, "sandbox", env.sandbox)
	if !srv.Authenticated() {
		logger.Warn("no users configured: any client on this machine can connect without a password (loopback only); use --user/--password or --users-file to require a login")
	}
	if err := srv.Serve(ctx, *shutdownTimeout); err != nil {
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
