package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

const thousandRows = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000) "

// Operators that hold rows (sort, grouping, DISTINCT, set operations, a
// subquery's result, a recursive CTE) stop a statement that would hold
// more than MaxStatementMemory; those that keep less than they read (an
// aggregate without values to keep, a grouping with few groups, ORDER BY
// with a small LIMIT) do not, whatever they read. Whatever happens, the
// statement gives back all it held.
func TestStatementMemoryIsBounded(t *testing.T) {
	w := newWorld(t, worldOptions{})
	// The limit itself, once; then each operator against a lower limit
	// (low: reached sooner) and statements that read k thousand rows
	// without keeping them: 8 MiB and 250 (250,000 rows, 24 MB in a
	// sort). With the race detector, where a million rows through the
	// engine take minutes, 1 MiB and 30 from the start.
	low, k := int64(8<<20), 250
	if raceDetector {
		low, k = 1<<20, 30
		lowerMemoryLimits(t, low, 2*low)
	}
	r := w.exec(thousandRows + "SELECT a.x, b.x, c.x FROM n a, n b, n c ORDER BY a.x * b.x * c.x")
	if r.errNum != ErrNumOutOfSortMemory || !strings.Contains(r.err.Error(), fmt.Sprintf("sorting would hold more than %d MiB of rows in memory (iamsql's limit per statement", statementMemoryLimit>>20)) {
		t.Errorf("a sort of a billion rows: errno %d, err %v", r.errNum, r.err)
	}
	// A sort of half a million rows and a subquery of 100,000 fit in it.
	for q, want := range map[string]string{
		thousandRows + "SELECT COUNT(*) FROM (SELECT a.x, b.x y FROM n a, n b WHERE b.x <= 500 ORDER BY a.x DESC, y) s": "500000\n",
		thousandRows + "SELECT COUNT(*) FROM n WHERE x IN (SELECT a.x * b.x FROM n a, n b WHERE b.x < 100)":             "1000\n",
	} {
		if raceDetector {
			break
		}
		r := w.exec(q)
		if r.err != nil || rowsString(r.rows) != want {
			t.Errorf("%.100s…: rows %q, err %v; want %q", q, rowsString(r.rows), r.err, want)
		}
	}
	// Each operator, against a lower limit (reached sooner).
	lowerMemoryLimits(t, low, 2*low)
	for _, tc := range []struct {
		query, what string
	}{
		{thousandRows + "SELECT a.x, b.x, c.x FROM n a, n b, n c ORDER BY a.x * b.x * c.x", "sorting"},
		{thousandRows + "SELECT COUNT(*) FROM (SELECT DISTINCT a.x, b.x, c.x FROM n a, n b, n c) d", "DISTINCT"},
		{thousandRows + "SELECT a.x * 1000000 + b.x * 1000 + c.x g, COUNT(*) FROM n a, n b, n c GROUP BY g", "grouping"},
		{thousandRows + "SELECT JSON_LENGTH(JSON_ARRAYAGG(a.x)) FROM n a, n b, n c", "aggregating"},
		{thousandRows + "SELECT COUNT(DISTINCT a.x, b.x, c.x) FROM n a, n b, n c", "aggregating"},
		{thousandRows + "SELECT COUNT(*) FROM n WHERE x IN (SELECT a.x * b.x * c.x FROM n a, n b, n c)", "a subquery's result"},
		{thousandRows + "SELECT COUNT(*) FROM (SELECT a.x, b.x y, c.x z FROM n a, n b, n c UNION SELECT 1, 2, 3) u", "UNION DISTINCT"},
		{thousandRows + "SELECT a.x, ROW_NUMBER() OVER (ORDER BY a.x) FROM n a, n b, n c", "a window function"},
		{"WITH RECURSIVE r(x, d) AS (SELECT 1, 1 UNION ALL SELECT x, d+1 FROM r, (SELECT 1 UNION ALL SELECT 2) two WHERE d < 40) SELECT COUNT(*) FROM r", "a recursive CTE"},
	} {
		r = w.exec(tc.query)
		if r.errNum != ErrNumOutOfSortMemory || !strings.Contains(r.err.Error(), fmt.Sprintf("%s would hold more than %d MiB", tc.what, low>>20)) {
			t.Errorf("%.100s…: errno %d, err %v", tc.query, r.errNum, r.err)
		}
		if held := HeldMemory(); held != 0 {
			t.Errorf("%.100s…: %d bytes still counted as held after the statement", tc.query, held)
		}
	}
	// Operators that keep less than they read are charged for what they
	// keep: these read more rows than the limit holds.
	quarter := fmt.Sprintf(" FROM n a, n b WHERE b.x <= %d", k)
	for q, want := range map[string]string{
		thousandRows + "SELECT COUNT(*), MAX(a.x)" + quarter:                                       fmt.Sprintf("%d | 1000\n", 1000*k),
		thousandRows + "SELECT a.x % 3 m, COUNT(*)" + quarter + " GROUP BY m ORDER BY m":           fmt.Sprintf("0 | %d\n1 | %d\n2 | %d\n", 333*k, 334*k, 333*k),
		thousandRows + "SELECT a.x, b.x" + quarter + " ORDER BY a.x * b.x DESC, a.x LIMIT 2":       fmt.Sprintf("1000 | %d\n999 | %d\n", k, k),
		thousandRows + "SELECT COUNT(*) FROM (SELECT DISTINCT a.x % 7, b.x % 11" + quarter + ") d": "77\n",
	} {
		r := w.exec(q)
		if r.err != nil || rowsString(r.rows) != want {
			t.Errorf("%.100s…: rows %q, err %v; want %q", q, rowsString(r.rows), r.err, want)
		}
		if held := HeldMemory(); held != 0 {
			t.Errorf("%.100s…: %d bytes still counted as held after the statement", q, held)
		}
	}
	// A statement cancelled while it holds rows gives them back too.
	err, _ := runUntilCancelled(t, w, thousandRows+"SELECT a.x FROM n a, n b ORDER BY a.x * b.x", 50*time.Millisecond)
	if err == nil {
		t.Error("the cancelled sort finished")
	}
	if held := HeldMemory(); held != 0 {
		t.Errorf("%d bytes still counted as held after a cancelled statement", held)
	}
}

// Statements together hold at most MaxHeldMemory: the one that would go
// beyond it is refused (1041), and what the others hold is untouched.
func lowerMemoryLimits(t *testing.T, statement, held int64) {
	statementMemoryLimit, heldMemoryLimit = statement, held
	t.Cleanup(func() { statementMemoryLimit, heldMemoryLimit = MaxStatementMemory, MaxHeldMemory })
}

func TestHeldMemoryIsBoundedAcrossStatements(t *testing.T) {
	var accounts []*memAccount
	defer func() {
		for _, a := range accounts {
			a.releaseAll()
		}
	}()
	charge := func(n int64) error {
		a := &memAccount{}
		accounts = append(accounts, a)
		return a.newHolding(holds{what: "sorting"}).charge(n)
	}
	for range 3 {
		if err := charge(MaxHeldMemory / 3); err != nil {
			t.Fatal(err)
		}
	}
	// A statement's first freeHeld bytes are not refused for others'.
	if err := charge(freeHeld); err != nil {
		t.Fatalf("a small statement: %v", err)
	}
	err := charge(freeHeld + 1)
	if me, ok := err.(*mysql.SQLError); !ok || me.Num != ErrNumOutOfResources || !strings.Contains(me.Message, "128 MiB") {
		t.Fatalf("beyond MaxHeldMemory: %v", err)
	}
	if got := HeldMemory(); got != MaxHeldMemory/3*3+freeHeld {
		t.Errorf("held %d, want %d", got, MaxHeldMemory/3*3+freeHeld)
	}
	accounts[0].releaseAll()
	if err := charge(MaxHeldMemory/3 - freeHeld); err != nil {
		t.Errorf("after a statement ended: %v", err)
	}

	// Concurrent statements through the engine: each within the limit
	// runs, none leaks.
	w := newWorld(t, worldOptions{})
	for _, a := range accounts {
		a.releaseAll()
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess := w.eng.NewSession("test", "")
			res, err := w.eng.Query(context.Background(), sess, thousandRows+"SELECT COUNT(*) FROM (SELECT a.x, b.x y FROM n a, n b WHERE b.x <= 150 ORDER BY a.x DESC, y) s")
			if err == nil {
				_, err = res.Next()
				res.Close()
			}
			if err != nil {
				t.Errorf("concurrent sort: %v", err)
			}
		}()
	}
	wg.Wait()
	if held := HeldMemory(); held != 0 {
		t.Errorf("%d bytes still counted as held", held)
	}
}
