package oracle

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Outcome is one statement's result on one engine, normalized.
type Outcome struct {
	Columns []string
	// Rows are normalized cells (see Normalize); NULL is Null.
	Rows [][]string
	Err  error
	// Calls are the IAM calls the statement made, by operation (iamsql
	// only).
	Calls map[string]int
}

// TotalCalls sums Calls.
func (o Outcome) TotalCalls() int {
	n := 0
	for _, v := range o.Calls {
		n += v
	}
	return n
}

// Null is the normalized form of SQL NULL: a string no IAM value holds.
const Null = "\x00NULL"

// Normalize maps a value onto one canonical string, so that the two
// engines' answers compare equal when SQL says they are: times as UTC with
// microseconds (trailing zeros dropped), every numeric type as its decimal
// value (1, 1.0 and int8(1) are the same), bytes as text.
func Normalize(v any) string {
	switch v := v.(type) {
	case nil:
		return Null
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		s := v.UTC().Format("2006-01-02 15:04:05.000000")
		s = strings.TrimRight(s, "0")
		return strings.TrimSuffix(s, ".")
	case bool:
		if v {
			return "1"
		}
		return "0"
	case int:
		return strconv.FormatInt(int64(v), 10)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float32:
		return normFloat(float64(v))
	case float64:
		return normFloat(v)
	case types.JSONDocument:
		s, err := v.JSONString()
		if err != nil {
			return fmt.Sprintf("json?%v", err)
		}
		return s
	case fmt.Stringer:
		// decimal.Decimal among others: its String drops trailing zeros.
		return v.String()
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// normFloat writes integral floats as integers and others in the shortest
// form, so that a float 2 and a decimal 2.0000 (whose String drops trailing
// zeros) compare equal.
func normFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// NormalizeRow normalizes every cell of a row.
func NormalizeRow(row sql.Row) []string {
	out := make([]string, len(row))
	for i, v := range row {
		out[i] = Normalize(v)
	}
	return out
}

// Expectation says how iamsql's rows must relate to the oracle's.
type Expectation struct {
	// Ordered: the ORDER BY determines the order; compare as sequences.
	Ordered bool
	// Subset: the statement has a LIMIT whose rows the ORDER BY does not
	// determine. The oracle ran it without LIMIT; iamsql's rows must be
	// exactly Count of those rows (a sub-multiset).
	Subset        bool
	Limit, Offset int
}

// Mismatch is how iamsql's outcome differs from the oracle's.
type Mismatch struct {
	// Kind is one of: iamsql-error, oracle-error, columns, count,
	// missing-rows, extra-rows, rows, order.
	Kind   string
	Detail string
}

func (m *Mismatch) String() string { return m.Kind + ": " + m.Detail }

// Compare checks iamsql's outcome (got) against the oracle's (want).
// Both failing is not a mismatch (the caller counts it).
func Compare(got, want Outcome, e Expectation) *Mismatch {
	switch {
	case got.Err != nil && want.Err != nil:
		return nil
	case got.Err != nil:
		return &Mismatch{Kind: "iamsql-error", Detail: got.Err.Error()}
	case want.Err != nil:
		return &Mismatch{Kind: "oracle-error", Detail: want.Err.Error()}
	}
	if e.Subset && e.Limit == 0 && len(got.Columns) == 0 && len(got.Rows) == 0 {
		// go-mysql-server answers LIMIT 0 with no columns at all.
		return nil
	}
	if len(want.Columns) == 0 && len(want.Rows) == 0 && len(got.Rows) == 0 {
		// The oracle's LIMIT 0 (no columns); iamsql keeps the schema.
		return nil
	}
	if len(got.Columns) != len(want.Columns) {
		return &Mismatch{Kind: "columns", Detail: fmt.Sprintf("iamsql has %d columns %v, the oracle %d %v", len(got.Columns), got.Columns, len(want.Columns), want.Columns)}
	}
	for i := range got.Columns {
		if !strings.EqualFold(got.Columns[i], want.Columns[i]) {
			return &Mismatch{Kind: "columns", Detail: fmt.Sprintf("column %d is %q in iamsql, %q in the oracle", i+1, got.Columns[i], want.Columns[i])}
		}
	}
	if e.Subset {
		n := len(want.Rows) - e.Offset
		if n < 0 {
			n = 0
		}
		if n > e.Limit {
			n = e.Limit
		}
		if len(got.Rows) != n {
			return &Mismatch{Kind: "count", Detail: fmt.Sprintf("LIMIT %d OFFSET %d of %d rows: iamsql returned %d rows, want %d", e.Limit, e.Offset, len(want.Rows), len(got.Rows), n)}
		}
		_, extra := multisetDiff(got.Rows, want.Rows)
		if len(extra) > 0 {
			return &Mismatch{Kind: "extra-rows", Detail: "rows that are not in the oracle's result:\n" + FormatRows(extra, 5)}
		}
		return nil
	}
	missing, extra := multisetDiff(got.Rows, want.Rows)
	switch {
	case len(missing) > 0 && len(extra) > 0:
		return &Mismatch{Kind: "rows", Detail: fmt.Sprintf("iamsql %d rows, oracle %d; missing from iamsql:\n%sextra in iamsql:\n%s",
			len(got.Rows), len(want.Rows), FormatRows(missing, 5), FormatRows(extra, 5))}
	case len(missing) > 0:
		return &Mismatch{Kind: "missing-rows", Detail: fmt.Sprintf("iamsql %d rows, oracle %d; missing from iamsql:\n%s", len(got.Rows), len(want.Rows), FormatRows(missing, 5))}
	case len(extra) > 0:
		return &Mismatch{Kind: "extra-rows", Detail: fmt.Sprintf("iamsql %d rows, oracle %d; extra in iamsql:\n%s", len(got.Rows), len(want.Rows), FormatRows(extra, 5))}
	}
	if e.Ordered {
		for i := range got.Rows {
			if rowKey(got.Rows[i]) != rowKey(want.Rows[i]) {
				return &Mismatch{Kind: "order", Detail: fmt.Sprintf("row %d differs under a determining ORDER BY: iamsql %s, oracle %s",
					i+1, FormatRow(got.Rows[i]), FormatRow(want.Rows[i]))}
			}
		}
	}
	return nil
}

func rowKey(r []string) string { return strings.Join(r, "\x01") }

// multisetDiff returns the rows of want missing from got, and the rows of
// got that want does not have, counting duplicates.
func multisetDiff(got, want [][]string) (missing, extra [][]string) {
	count := map[string]int{}
	byKey := map[string][]string{}
	for _, r := range want {
		k := rowKey(r)
		count[k]++
		byKey[k] = r
	}
	for _, r := range got {
		k := rowKey(r)
		if count[k] > 0 {
			count[k]--
			continue
		}
		extra = append(extra, r)
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for i := 0; i < count[k]; i++ {
			missing = append(missing, byKey[k])
		}
	}
	return missing, extra
}

// FormatRow renders a normalized row for a report.
func FormatRow(r []string) string {
	cells := make([]string, len(r))
	for i, c := range r {
		if c == Null {
			cells[i] = "NULL"
		} else {
			cells[i] = strconv.Quote(c)
		}
	}
	return "(" + strings.Join(cells, ", ") + ")"
}

// FormatRows renders at most max rows, one a line, saying how many more.
func FormatRows(rows [][]string, max int) string {
	var b strings.Builder
	for i, r := range rows {
		if i == max {
			fmt.Fprintf(&b, "  … %d more\n", len(rows)-max)
			break
		}
		b.WriteString("  " + FormatRow(r) + "\n")
	}
	if len(rows) == 0 {
		b.WriteString("  (no rows)\n")
	}
	return b.String()
}
