package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// hostileLoadPeakRSS is the ceiling on `serve`'s peak resident memory
// while 100 connections send mixed and hostile statements (README,
// "Bounded work"): what statements may hold (provider.MaxHeldMemory),
// read (a pool of 16 MiB of long commands) and the Go runtime's share
// under serve's GOMEMLIMIT.
const hostileLoadPeakRSS = 600 << 20

// hostileStatement is one statement of the mix, with the errors it may
// end with (none: it must succeed).
type hostileStatement struct {
	name  string
	query string
	errs  []uint16
	// hangsUp is set when the server closes the connection after it.
	hangsUp bool
}

func hostileMix() []hostileStatement {
	plus := func(n int) string { return strings.TrimSuffix(strings.Repeat("1+", n), "+") }
	inList := make([]string, 20000)
	for i := range inList {
		inList[i] = strconv.Itoa(i)
	}
	const thousand = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000) "
	timeout, budget, limit, busy := uint16(3024), uint16(1104), uint16(3170), uint16(1041)
	return []hostileStatement{
		{name: "lookup", query: "SELECT GROUP_CONCAT(AccessKeyId ORDER BY AccessKeyId) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"},
		{name: "inventory", query: "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1'"},
		{name: "join", query: "SELECT COUNT(*) FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"},
		{name: "the issue's cross join", query: "SELECT COUNT(*) FROM users u1, users u2, access_keys k WHERE u1.region = 'us-east-1' AND u2.region = 'us-east-1' AND k.region = 'us-east-1' AND k.UserName = u2.UserName",
			errs: []uint16{timeout, budget}},
		// Long statements may also find the server's memory for statement
		// text taken by others' (1041, and the connection closed).
		{name: "8,000 terms", query: "SELECT " + plus(8000), errs: []uint16{limit}},
		{name: "100,000 terms", query: "SELECT " + plus(100000), errs: []uint16{limit, busy}, hangsUp: true},
		{name: "20,000 IN values", query: "SELECT 1 IN (" + strings.Join(inList, ",") + ")", errs: []uint16{limit, busy}, hangsUp: true},
		{name: "a literal of 3.9 MiB", query: "SELECT LENGTH('" + strings.Repeat("x", 3900<<10) + "')", errs: []uint16{busy}, hangsUp: true},
		{name: "a literal of 5 MiB", query: "SELECT LENGTH('" + strings.Repeat("x", 5<<20) + "')", errs: []uint16{1153}, hangsUp: true},
		{name: "REPEAT of a gigabyte", query: "SELECT LENGTH(REPEAT('x', 1073741824))", errs: []uint16{1301}},
		{name: "a sort of a billion rows", query: thousand + "SELECT a.x FROM n a, n b, n c ORDER BY a.x * b.x * c.x LIMIT 1000000000",
			errs: []uint16{1038, 1041, timeout}},
		{name: "a grouping of a billion rows", query: thousand + "SELECT a.x * 1000000 + b.x * 1000 + c.x g, COUNT(*) FROM n a, n b, n c GROUP BY g",
			errs: []uint16{1038, 1041, timeout}},
		{name: "a count of a billion rows", query: thousand + "SELECT COUNT(*) FROM n a, n b, n c", errs: []uint16{timeout, busy}},
		{name: "an exponential recursive CTE", query: "WITH RECURSIVE r(x, d) AS (SELECT 1, 1 UNION ALL SELECT x, d+1 FROM r, (SELECT 1 UNION ALL SELECT 2) two WHERE d < 40) SELECT COUNT(*) FROM r",
			errs: []uint16{1038, 1041, timeout}},
	}
}

// 100 connections send mixed and hostile statements for a minute: every
// statement ends as it should (rows, or its clear error), a bystander's
// lookups keep answering, and the server's peak RSS stays under
// hostileLoadPeakRSS. IAMSQL_HOSTILE_SECONDS shortens the run.
func TestServeUnderHostileLoad(t *testing.T) {
	seconds := 60
	if s := os.Getenv("IAMSQL_HOSTILE_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	bin := serveBinaryPath(t)
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("admin:pw:rw\nauditor:pw:ro\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServeBinary(t, bin, nil, "--sandbox", "serve", "--addr", "127.0.0.1:0", "--users-file", users,
		"--statement-timeout", "3s", "--max-connections", "250", "--log-level", "error")

	mix := hostileMix()
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var (
		mu       sync.Mutex
		outcomes = map[string]map[string]int{}
		failures []string
		ran      atomic.Int64
	)
	record := func(name, outcome string, bad bool) {
		mu.Lock()
		defer mu.Unlock()
		if outcomes[name] == nil {
			outcomes[name] = map[string]int{}
		}
		outcomes[name][outcome]++
		if bad && len(failures) < 20 {
			failures = append(failures, name+": "+outcome)
		}
	}
	dsn := func(user string) string {
		return user + ":pw@tcp(" + srv.addr + ")/iam?timeout=10s&readTimeout=120s&writeTimeout=120s"
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := "admin"
			if i%2 == 1 {
				user = "auditor" // read-only users get the same bounds
			}
			db, err := sql.Open("mysql", dsn(user))
			if err != nil {
				record("open", err.Error(), true)
				return
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for n := i; time.Now().Before(deadline); n++ {
				st := mix[n%len(mix)]
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				on := db
				if st.hangsUp {
					// The server hangs up after it: a connection of its own.
					on, _ = sql.Open("mysql", dsn(user))
				}
				got, err := tryScalar(ctx, on, st.query)
				if on != db {
					on.Close()
				}
				cancel()
				ran.Add(1)
				outcome, bad := hostileOutcome(st, got, err)
				record(st.name, outcome, bad)
			}
		}()
	}
	// The bystander: a lookup every 100 ms, always answered correctly.
	bystander, err := sql.Open("mysql", dsn("auditor"))
	if err != nil {
		t.Fatal(err)
	}
	defer bystander.Close()
	var slowest time.Duration
	lookups := 0
	for time.Now().Before(deadline) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, err := tryScalar(ctx, bystander, "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'")
		cancel()
		if err != nil || got != "2" {
			t.Errorf("the bystander's lookup: %q, %v", got, err)
		}
		slowest = max(slowest, time.Since(start))
		lookups++
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()

	// Once the load is over, nothing is left held: a long statement is
	// parsed at once, and a huge sort meets the limit of one statement,
	// not the server's (which other statements would still fill).
	after, err := sql.Open("mysql", dsn("auditor"))
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if got, err := tryScalar(ctx, after, "SELECT LENGTH('"+strings.Repeat("x", 3900<<10)+"')"); err != nil || got != strconv.Itoa(3900<<10) {
		t.Errorf("a long statement after the load: %q, %v", got, err)
	}
	_, err = tryScalar(ctx, after, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000) SELECT a.x FROM n a, n b, n c ORDER BY a.x * b.x * c.x LIMIT 1000000000")
	if me := (*mysql.MySQLError)(nil); !errors.As(err, &me) || me.Number != 1038 {
		t.Errorf("a huge sort after the load: %v, want error 1038 (one statement's limit)", err)
	}

	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("%d statements in %ds on 100 connections; bystander: %d lookups, slowest %v; server peak RSS %d MiB",
		ran.Load(), seconds, lookups, slowest.Round(time.Millisecond), peak>>20)
	for _, st := range mix {
		t.Logf("  %-32s %v", st.name, outcomes[st.name])
	}
	for _, f := range failures {
		t.Errorf("unexpected outcome: %s", f)
	}
	if slowest > 15*time.Second {
		t.Errorf("a bystander's lookup took %v", slowest)
	}
	if peak > hostileLoadPeakRSS {
		t.Errorf("server peak RSS %d MiB, more than %d MiB", peak>>20, hostileLoadPeakRSS>>20)
	}
	select {
	case err := <-srv.exited:
		t.Fatalf("the server exited: %v\n%s", err, srv.stderr)
	default:
	}
	if strings.Contains(srv.stderr.String(), "panic") {
		t.Errorf("the server log has a panic:\n%s", srv.stderr)
	}
}

// tryScalar runs query and returns its first column of its first row.
func tryScalar(ctx context.Context, db *sql.DB, query string) (string, error) {
	var v sql.NullString
	err := db.QueryRowContext(ctx, query).Scan(&v)
	return v.String, err
}

// hostileOutcome names how st ended, and whether that is wrong. Under
// this load any statement may reach the statement timeout (3024): the
// 100 connections keep both cores busy.
func hostileOutcome(st hostileStatement, got string, err error) (string, bool) {
	if err == nil {
		if st.name == "lookup" && got != "AKIAALICE00000000001,AKIAALICE00000000002" {
			return "wrong rows: " + got, true
		}
		return "rows", len(st.errs) > 0 && !st.allowsRows()
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		for _, want := range append(st.errs, 3024) {
			if me.Number == want {
				return fmt.Sprintf("error %d", me.Number), false
			}
		}
		return fmt.Sprintf("error %d: %.200s", me.Number, me.Message), true
	}
	if st.hangsUp && (errors.Is(err, mysql.ErrInvalidConn) || strings.Contains(err.Error(), "bad connection")) {
		return "hung up", false
	}
	return "failed: " + err.Error(), true
}

// allowsRows: statements that may finish in time, or be stopped.
func (st hostileStatement) allowsRows() bool {
	for _, e := range st.errs {
		if e == 3024 || e == 1104 || e == 1041 && st.hangsUp {
			return true
		}
	}
	return false
}

// peakRSS is a process's peak resident memory (VmHWM).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
