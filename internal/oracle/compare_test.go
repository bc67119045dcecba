package oracle

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/shopspring/decimal"

	"github.com/iamsql/iamsql/provider"
)

func TestNormalizeGivesOneFormPerValue(t *testing.T) {
	ts := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, Null},
		{"alice", "alice"},
		{[]byte("alice"), "alice"},
		{ts, "2025-03-04 05:06:07"},
		{ts.Add(250 * time.Millisecond), "2025-03-04 05:06:07.25"},
		{ts.In(time.FixedZone("X", 3600)), "2025-03-04 05:06:07"},
		{int8(1), "1"},
		{int64(-5), "-5"},
		{uint64(7), "7"},
		{float64(2), "2"},
		{float64(2.5), "2.5"},
		{decimal.RequireFromString("2.0000"), "2"},
		{decimal.RequireFromString("1.2500"), "1.25"},
		{true, "1"},
		{types.MustJSON(`{"a": 1}`), `{"a": 1}`},
	} {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if Normalize(nil) == Normalize("NULL") {
		t.Error("NULL and the string 'NULL' normalize alike")
	}
}

func outcome(rows ...[]string) Outcome {
	return Outcome{Columns: []string{"a", "b"}, Rows: rows}
}

func TestCompareCatchesEveryKindOfDifference(t *testing.T) {
	r1, r2, r3 := []string{"alice", "1"}, []string{"bob", "2"}, []string{"carol", Null}
	for _, tt := range []struct {
		name      string
		got, want Outcome
		e         Expectation
		kind      string // "" = equal
	}{
		{"same rows in another order, unordered", outcome(r2, r1, r3), outcome(r1, r2, r3), Expectation{}, ""},
		{"a missing row", outcome(r1, r3), outcome(r1, r2, r3), Expectation{}, "missing-rows"},
		{"an extra row", outcome(r1, r2, r3, r2), outcome(r1, r2, r3), Expectation{}, "extra-rows"},
		{"a duplicate lost", outcome(r1, r2), outcome(r1, r2, r2), Expectation{}, "missing-rows"},
		{"a different value", outcome(r1, []string{"bob", "3"}), outcome(r1, r2), Expectation{}, "rows"},
		{"NULL is not the string NULL", outcome(r1, []string{"carol", "NULL"}), outcome(r1, r3), Expectation{}, "rows"},
		{"wrong order under a determining ORDER BY", outcome(r2, r1), outcome(r1, r2), Expectation{Ordered: true}, "order"},
		{"right order under a determining ORDER BY", outcome(r1, r2), outcome(r1, r2), Expectation{Ordered: true}, ""},
		{"a column missing", Outcome{Columns: []string{"a"}, Rows: [][]string{{"alice"}}}, outcome(r1), Expectation{}, "columns"},
		{"a column renamed", Outcome{Columns: []string{"a", "c"}, Rows: [][]string{r1}}, outcome(r1), Expectation{}, "columns"},
		{"column names compare case-insensitively", Outcome{Columns: []string{"A", "B"}, Rows: [][]string{r1}}, outcome(r1), Expectation{}, ""},
		{"iamsql fails alone", Outcome{Err: errors.New("boom")}, outcome(r1), Expectation{}, "iamsql-error"},
		{"the oracle fails alone", outcome(r1), Outcome{Err: errors.New("boom")}, Expectation{}, "oracle-error"},
		{"both fail", Outcome{Err: errors.New("a")}, Outcome{Err: errors.New("b")}, Expectation{}, ""},
		{"LIMIT: any rows of the full result", outcome(r3, r1), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2}, ""},
		{"LIMIT: too few rows", outcome(r1), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2}, "count"},
		{"LIMIT: too many rows", outcome(r1, r2, r3), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2}, "count"},
		{"LIMIT: a row not in the result", outcome(r1, []string{"dave", "4"}), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2}, "extra-rows"},
		{"LIMIT: a row twice", outcome(r1, r1), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2}, "extra-rows"},
		{"LIMIT OFFSET past the end", outcome(), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2, Offset: 5}, ""},
		{"LIMIT OFFSET near the end", outcome(r2), outcome(r1, r2, r3), Expectation{Subset: true, Limit: 2, Offset: 2}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := Compare(tt.got, tt.want, tt.e)
			switch {
			case tt.kind == "" && m != nil:
				t.Errorf("want equal, got %v", m)
			case tt.kind != "" && m == nil:
				t.Errorf("want a %s mismatch, got none", tt.kind)
			case tt.kind != "" && m.Kind != tt.kind:
				t.Errorf("want a %s mismatch, got %v", tt.kind, m)
			}
		})
	}
}

func TestOrderDeterminedNeedsEveryColumnOrAKey(t *testing.T) {
	items := []Item{{Expr: "k.AccessKeyId", Alias: "c0"}, {Expr: "k.Status", Alias: "c1"}}
	keys := [][]string{{"k.AccessKeyId", "k.region"}}
	for _, tt := range []struct {
		name  string
		s     Select
		total bool
	}{
		{"no ORDER BY", Select{Items: items, Keys: keys}, false},
		{"every column", Select{Items: items, OrderBy: []Order{{Expr: "c1"}, {Expr: "c0", Desc: true}}}, true},
		{"some columns", Select{Items: items, OrderBy: []Order{{Expr: "c1"}}}, false},
		{"a whole key", Select{Items: items, Keys: keys, OrderBy: []Order{{Expr: "k.region"}, {Expr: "k.AccessKeyId"}}}, true},
		{"part of a key", Select{Items: items, Keys: keys, OrderBy: []Order{{Expr: "k.AccessKeyId"}}}, false},
		{"star is never every column", Select{Items: []Item{{Expr: "*"}}, OrderBy: []Order{{Expr: "k.AccessKeyId"}}}, false},
		{"an empty key: at most one row", Select{Items: items, Keys: [][]string{{}}, OrderBy: []Order{{Expr: "c1"}}}, true},
	} {
		if got := tt.s.OrderDetermined(); got != tt.total {
			t.Errorf("%s: OrderDetermined = %v, want %v", tt.name, got, tt.total)
		}
	}
}

func TestSelectRendersAndDropsOnlyTheOuterLimit(t *testing.T) {
	s := &Select{
		Hint:    "/*+ JOIN_ORDER(k, u) */",
		Items:   []Item{{Expr: "k.AccessKeyId", Alias: "c0"}},
		From:    []FromItem{{Source: "users u"}, {Join: "LEFT JOIN", Source: "access_keys k", On: []Cond{{SQL: "k.UserName = u.UserName"}, {SQL: "k.region = 'us-east-1'", Pin: true}}}},
		Where:   []Cond{{SQL: "u.region = 'us-east-1'", Pin: true}, {SQL: "u.UserName IN (SELECT x.UserName FROM users x WHERE x.region = 'us-east-1' LIMIT 1)"}},
		OrderBy: []Order{{Expr: "c0", Desc: true}},
		Limit:   2, Offset: 1,
	}
	want := "SELECT /*+ JOIN_ORDER(k, u) */ k.AccessKeyId AS c0 FROM users u LEFT JOIN access_keys k ON k.UserName = u.UserName AND k.region = 'us-east-1' " +
		"WHERE u.region = 'us-east-1' AND u.UserName IN (SELECT x.UserName FROM users x WHERE x.region = 'us-east-1' LIMIT 1) ORDER BY c0 DESC"
	if got := s.SQL(); got != want+" LIMIT 2 OFFSET 1" {
		t.Errorf("SQL:\n%s\nwant\n%s LIMIT 2 OFFSET 1", got, want)
	}
	if got := s.SQLWithoutLimit(); got != want {
		t.Errorf("SQLWithoutLimit:\n%s\nwant\n%s", got, want)
	}
}

func TestOnlyATimeoutIsRunAgainAlone(t *testing.T) {
	timeout := mysql.NewSQLError(provider.ErrNumTimeout, "HY000", "Query execution was interrupted, maximum statement execution time exceeded")
	for _, c := range []struct {
		err  error
		want bool
	}{
		{timeout, true},
		{fmt.Errorf("reading: %w", timeout), true},
		{mysql.NewSQLError(1105, "HY000", "maximum statement execution time exceeded"), false},
		{errors.New("access_keys: SELECT requires region"), false},
		{nil, false},
	} {
		if got := timedOut(c.err); got != c.want {
			t.Errorf("timedOut(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
