package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

func init() {
	// go-sql-driver logs connections the server closed; tests check them.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
}

// testNow is the emulator's clock, so key dates are exact.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// world is a server over an engine over the emulator's demo account.
type world struct {
	t    testing.TB
	emu  *emulator.Emulator
	srv  *Server
	addr string
	logs *logRecorder
	done chan error
}

type worldOptions struct {
	Options
	// readOnly builds a read-only engine (serve --read-only).
	readOnly bool
	latency  time.Duration
	// callBudget is the engine's IAM call budget (--call-budget).
	callBudget int
}

// users used by most tests.
var (
	rwUser = User{Name: "admin", Password: "s3cret:with:colons"}
	roUser = User{Name: "auditor", Password: "audit-pw", ReadOnly: true}
)

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Seed: "demo", Now: func() time.Time { return testNow }, Latency: o.latency})
	if err != nil {
		t.Fatal(err)
	}
	// Throttling is retried, briefly.
	clients := sandbox.Clients(emu, awsiam.Options{MaxAttempts: 3, MaxBackoff: time.Millisecond})
	eng := provider.NewEngine(provider.Config{Clients: clients, ReadOnly: o.readOnly, CallBudget: o.callBudget})
	logs := &logRecorder{}
	opts := o.Options
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(logs)
	}
	srv, err := New(eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, emu: emu, srv: srv, addr: srv.Addr().String(), logs: logs, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-w.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	waitForServer(t, w.addr)
	// The probe's connection counts against MaxConnections until the
	// server has seen it close.
	deadline := time.Now().Add(5 * time.Second)
	for srv.ln.count() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return w
}

// waitForServer dials until the server accepts connections.
func waitForServer(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not reachable: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dsn is a go-sql-driver data source name for user u (no password when
// u is the zero User).
func (w *world) dsn(u User, params ...string) string {
	cred := "anyone"
	if u.Name != "" {
		cred = u.Name + ":" + u.Password
	}
	q := strings.Join(append([]string{"parseTime=true"}, params...), "&")
	return fmt.Sprintf("%s@tcp(%s)/iam?%s", cred, w.addr, q)
}

// db opens a pool for user u; closed when the test ends.
func (w *world) db(u User, params ...string) *sql.DB {
	w.t.Helper()
	db, err := sql.Open("mysql", w.dsn(u, params...))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { db.Close() })
	return db
}

// conn opens one connection (one session) for user u.
func (w *world) conn(u User, params ...string) *sql.Conn {
	w.t.Helper()
	c, err := w.db(u, params...).Conn(context.Background())
	if err != nil {
		w.t.Fatalf("connect as %q: %v", u.Name, err)
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

// queryer is a *sql.DB, *sql.Conn or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rows runs a query and returns its rows as strings (NULL for nil).
func rows(t testing.TB, q queryer, query string, args ...any) [][]string {
	t.Helper()
	out, err := tryRows(q, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func tryRows(q queryer, query string, args ...any) ([][]string, error) {
	out, err := tryRowsCtx(context.Background(), q, query, args...)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// tryRowsCtx is tryRows with a context: the statement's deadline.
func tryRowsCtx(ctx context.Context, q queryer, query string, args ...any) ([][]string, error) {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	out := [][]string{}
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// column returns column i of rows.
func column(rs [][]string, i int) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r[i])
	}
	return out
}

// errNum is the MySQL error number of err (0 when err is not a server
// error).
func errNum(err error) int {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return int(me.Number)
	}
	return 0
}

// wantErr fails unless err is MySQL error num whose message contains
// every fragment.
func wantErr(t testing.TB, err error, num int, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d, got success", num)
	}
	if errNum(err) != num {
		t.Fatalf("want error %d, got %v", num, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// logRecorder is a slog.Handler that keeps records as text lines and lets
// a test wait for one.
type logRecorder struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	attrs   []slog.Attr
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b bytes.Buffer
	h := slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	if err := h.WithAttrs(r.attrs).Handle(context.Background(), rec); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, strings.TrimSpace(b.String()))
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	// Records of derived loggers go to the same lines.
	return &derivedRecorder{r, as}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

type derivedRecorder struct {
	*logRecorder
	as []slog.Attr
}

func (d *derivedRecorder) Handle(ctx context.Context, rec slog.Record) error {
	rec.AddAttrs(d.as...)
	return d.logRecorder.Handle(ctx, rec)
}

// text is everything logged so far.
func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// waitFor waits until a logged line contains every fragment.
func (r *logRecorder) waitFor(t testing.TB, timeout time.Duration, fragments ...string) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, l := range r.lines {
			if containsAll(l, fragments) {
				r.mu.Unlock()
				return l
			}
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no log line with %q; log:\n%s", fragments, r.text())
		}
	}
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}

// requireTool returns the path of a client program, skipping the test
// when it is missing, except in CI where it must be installed.
func requireTool(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (.ci/run installs it): %v", path, err)
		}
		t.Skipf("%s not installed", path)
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return path
}

// onEachConn runs f at once on n connections of db, each with its index;
// every error f returns fails t.
func onEachConn(t *testing.T, db *sql.DB, n int, f func(i int, c *sql.Conn) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := f(i, c); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
