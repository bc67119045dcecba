package provider

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// runUntilCancelled runs a statement whose context is cancelled after
// cancelAfter and returns its error and how long it ran.
func runUntilCancelled(t *testing.T, w *world, query string, cancelAfter time.Duration) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cancelAfter)
	defer cancel()
	start := time.Now()
	res, err := w.eng.Query(ctx, w.sess, query)
	if err == nil {
		for {
			_, err = res.Next()
			if err != nil {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		res.Close()
	}
	return err, time.Since(start)
}

// Statements whose operators loop over generated rows without returning
// a row for a long time (a COUNT over a cross join, a join whose filter
// rejects every row, a sort, a window) stop when their context ends: each
// of them would run for minutes.
func TestRowSourcesStopAtTheDeadline(t *testing.T) {
	w := newWorld(t, worldOptions{})
	const thousand = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000) "
	const doubling = "WITH RECURSIVE r(x, d) AS (SELECT 1, 1 UNION ALL SELECT x, d+1 FROM r, (SELECT 1 UNION ALL SELECT 2) two WHERE d < 40) "
	for _, q := range []string{
		thousand + "SELECT COUNT(*) FROM n a, n b, n c",
		thousand + "SELECT COUNT(*) FROM n a, n b, n c WHERE a.x + b.x + c.x < 0",
		thousand + "SELECT COUNT(*) FROM n a JOIN n b ON a.x <> b.x JOIN n c ON b.x <> c.x",
		thousand + "SELECT a.x FROM n a, n b, n c ORDER BY a.x * b.x - c.x LIMIT 1",
		doubling + "SELECT COUNT(*) FROM r",
		"SELECT COUNT(*) FROM (VALUES ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8), ROW(9), ROW(10)) a, " +
			"(VALUES ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8), ROW(9), ROW(10)) b, " +
			"information_schema.columns c, information_schema.columns d, information_schema.columns e",
	} {
		err, took := runUntilCancelled(t, w, q, 300*time.Millisecond)
		if err == nil || (!strings.Contains(err.Error(), "interrupted") && !strings.Contains(err.Error(), "canceled")) {
			t.Errorf("%.80s…: err %v after %v, want the cancellation", q, err, took)
		}
		// A generous ceiling: without the guard these ran for minutes.
		if took > 20*time.Second {
			t.Errorf("%.80s…: stopped only after %v", q, took)
		}
	}
}

// Functions whose result can dwarf their arguments refuse a result larger
// than max_allowed_packet before making it, and the functions building
// strings or JSON refuse one after: no chain, recursion or nesting grows a
// value past a packet. Within the bound they answer as before.
func TestValuesAreBoundedByMaxAllowedPacket(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "REPEAT within the bound", query: "SELECT LENGTH(REPEAT('ab', 2000000)), REPEAT('ab', 3)",
			want: [][]string{{"4000000", "ababab"}}, calls: map[string]int{}},
		{name: "REPEAT of a gigabyte", query: "SELECT LENGTH(REPEAT('x', 1000000000))",
			wantErr: "Result of repeat() would be 1000000000 bytes, larger than max_allowed_packet (4194304)", errNum: ErrNumValueTooLarge},
		{name: "SPACE", query: "SELECT LENGTH(SPACE(5000000))",
			wantErr: "Result of space() would be 5000000 bytes", errNum: ErrNumValueTooLarge},
		{name: "LPAD with a wide character", query: "SELECT LENGTH(LPAD('x', 3000000, 'é'))",
			wantErr: "Result of lpad() would be 6000000 bytes", errNum: ErrNumValueTooLarge},
		{name: "RPAD within the bound", query: "SELECT RPAD('ab', 5, '-')",
			want: [][]string{{"ab---"}}, calls: map[string]int{}},
		{name: "REPLACE that multiplies", query: "SELECT LENGTH(REPLACE(REPEAT('a', 1000000), 'a', 'bbbbb'))",
			wantErr: "Result of replace() would be 5000000 bytes", errNum: ErrNumValueTooLarge},
		{name: "REGEXP_REPLACE that multiplies", query: "SELECT LENGTH(REGEXP_REPLACE(REPEAT('a', 1000000), 'a', 'bbbbb'))",
			wantErr: "Result of regexp_replace() would be", errNum: ErrNumValueTooLarge},
		{name: "UNCOMPRESS of a header claiming a gigabyte", query: "SELECT LENGTH(UNCOMPRESS(UNHEX('FFFFFF3F789C030000000001')))",
			wantErr: "Result of uncompress() would be 1073741823 bytes", errNum: ErrNumValueTooLarge},
		{name: "nested HEX", query: "SELECT LENGTH(HEX(HEX(HEX(REPEAT('a', 1000000)))))",
			wantErr: "Result of hex() would be 8000000 bytes", errNum: ErrNumValueTooLarge},
		{name: "CONCAT doubling in a recursive CTE", query: "WITH RECURSIVE r(s, n) AS (SELECT CAST('x' AS CHAR(10)), 1 UNION ALL SELECT CONCAT(s, s), n+1 FROM r WHERE n < 40) SELECT MAX(LENGTH(s)) FROM r",
			wantErr: "Result of concat() would be 8388608 bytes", errNum: ErrNumValueTooLarge},
		{name: "JSON_ARRAY doubling in a recursive CTE", query: "WITH RECURSIVE r(j, n) AS (SELECT JSON_ARRAY(1), 1 UNION ALL SELECT JSON_ARRAY(j, j), n+1 FROM r WHERE n < 60) SELECT MAX(n) FROM r",
			wantErr: "Result of json_array() would be", errNum: ErrNumValueTooLarge},
		{name: "a user variable doubled", setup: []string{"SET @s = REPEAT('x', 3000000)"}, query: "SET @s = CONCAT(@s, @s)",
			wantErr: "Result of concat() would be 6000000 bytes", errNum: ErrNumValueTooLarge},
		{name: "string functions within the bound", query: "SELECT CONCAT('a', 'b'), CONCAT_WS('-', 'a', 'b'), HEX('a'), UPPER('x'), JSON_ARRAY(1, 'a'), JSON_OBJECT('k', 1), REPLACE('abc', 'b', 'xx')",
			want: [][]string{{"ab", "a-b", "61", "X", `[1, "a"]`, `{"k": 1}`, "axxc"}}, calls: map[string]int{}},
	})
}
