package provider

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/schema"
)

// paramIndex is a virtual index over a resource's parameter columns. It
// stores nothing: it exists so go-mysql-server hands the equality ranges of
// a WHERE clause (or a join key) to LookupPartitions, which turns each
// combination of parameter values into one IAM call.
type paramIndex struct {
	db, table string
	name      string
	cols      []string
	types     []sql.Type
}

var _ sql.OrderedIndex = (*paramIndex)(nil)

// Order is None: rows come in IAM's order, not the index's, so the
// engine must keep every ORDER BY.
func (i *paramIndex) Order() sql.IndexOrder { return sql.IndexOrderNone }
func (i *paramIndex) Reversible() bool      { return false }

func newParamIndex(db string, r schema.Resource, sch sql.Schema, cols ...string) *paramIndex {
	idx := &paramIndex{db: db, table: r.Name, name: "by_" + strings.ToLower(strings.Join(cols, "_")), cols: cols}
	for _, c := range cols {
		idx.types = append(idx.types, sch[sch.IndexOfColName(c)].Type)
	}
	return idx
}

func (i *paramIndex) ID() string       { return i.name }
func (i *paramIndex) Database() string { return i.db }
func (i *paramIndex) Table() string    { return i.table }
func (i *paramIndex) Expressions() []string {
	out := make([]string, len(i.cols))
	for n, c := range i.cols {
		out[n] = i.table + "." + c
	}
	return out
}
func (i *paramIndex) IsUnique() bool                        { return false }
func (i *paramIndex) IsSpatial() bool                       { return false }
func (i *paramIndex) IsFullText() bool                      { return false }
func (i *paramIndex) IsVector() bool                        { return false }
func (i *paramIndex) Comment() string                       { return "API parameters pushed down to IAM" }
func (i *paramIndex) IndexType() string                     { return "IAM" }
func (i *paramIndex) IsGenerated() bool                     { return false }
func (i *paramIndex) PrefixLengths() []uint16               { return nil }
func (i *paramIndex) CanSupportOrderBy(sql.Expression) bool { return false }
func (i *paramIndex) ColumnExpressionTypes() []sql.ColumnExpressionType {
	out := make([]sql.ColumnExpressionType, len(i.cols))
	for n, c := range i.cols {
		out[n] = sql.ColumnExpressionType{Expression: i.table + "." + c, Type: i.types[n]}
	}
	return out
}

// CanSupport accepts any range: the planner may build a lookup of any
// shape while planning (a null-safe join key, a merge join's scan) and
// fails the statement if refused. A lookup whose region is not one value
// is refused where it is read — before any IAM call for a static lookup
// (planCheck), or by LookupPartitions — with "requires region".
//
// go-mysql-server assumes an index lookup returns rows in the index's
// order (it drops an ORDER BY, or plans a merge join, on that promise), so
// a lookup on an index of several columns comes sorted by them (sortRows).
// A full scan per region is the region index's, whose rows need no order.
func (i *paramIndex) CanSupport(_ *sql.Context, ranges ...sql.Range) bool {
	for _, r := range ranges {
		if _, ok := r.(sql.MySQLRange); !ok {
			return false
		}
	}
	return true
}

// emptyRange reports a range no value falls in (region = 'a' AND region
// = 'b'): its lookup has no rows.
func emptyRange(e sql.MySQLRangeColumnExpr) bool {
	empty, err := e.IsEmpty()
	return err == nil && empty
}

// sortRows orders a lookup's rows by the index's columns.
func (i *paramIndex) sortRows(sch sql.Schema, rows []sql.Row) {
	pos := make([]int, len(i.cols))
	for n, c := range i.cols {
		pos[n] = sch.IndexOfColName(c)
	}
	slices.SortStableFunc(rows, func(a, b sql.Row) int {
		for _, p := range pos {
			if r := strings.Compare(str(a[p]), str(b[p])); r != 0 {
				return r
			}
		}
		return 0
	})
}

// pointValue reports whether a column range is a single value, and which.
// isNull is true when the value is NULL.
func pointValue(e sql.MySQLRangeColumnExpr) (value string, ok bool, isNull bool) {
	if _, null := e.LowerBound.(sql.BelowNull); null {
		if _, null2 := e.UpperBound.(sql.AboveNull); null2 {
			return "", true, true
		}
	}
	lo, ok1 := e.LowerBound.(sql.Below)
	hi, ok2 := e.UpperBound.(sql.Above)
	if !ok1 || !ok2 {
		return "", false, false
	}
	if fmt.Sprint(lo.Key) != fmt.Sprint(hi.Key) {
		return "", false, false
	}
	v, _, err := types.LongText.Convert(nil, lo.Key)
	if err != nil || v == nil {
		return "", false, false
	}
	return fmt.Sprint(v), true, false
}

// params is one combination of API parameter values; absent keys were not
// given.
type params map[string]string

// String renders the values in a stable order (a partition's key).
func (p params) String() string {
	keys := slices.Sorted(maps.Keys(p))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q;", k, p[k])
	}
	return b.String()
}

// lookupForExpressions builds a lookup from WHERE conjuncts: `col =
// constant` and `col IN (constants)` on parameter columns, on the first
// index whose second column they pin. Each combination of values becomes one
// range, so IN lists fan out to one fetch per value. ok is false when
// region has no value, which leaves the plan a scan that reports the
// missing parameter, and when only one region is given, which leaves the
// choice to go-mysql-server's own planning (a join on UserName then
// becomes a lookup join).
func lookupForExpressions(ctx *sql.Context, indexes []*paramIndex, exprs []sql.Expression) (sql.IndexLookup, bool, error) {
	values := map[string][]any{}
	for _, e := range exprs {
		col, vals, ok := paramValues(ctx, e)
		if !ok {
			continue
		}
		col = strings.ToLower(col)
		if prev, seen := values[col]; seen {
			vals = intersect(prev, vals)
		}
		values[col] = vals
	}
	region := strings.ToLower(indexes[0].cols[0])
	if values[region] == nil {
		return sql.IndexLookup{}, false, nil
	}
	// The first index (after region's own) whose column has values:
	// indexes come cheapest lookup first.
	idx := indexes[0]
	for _, cand := range indexes[1:] {
		if values[strings.ToLower(cand.cols[1])] != nil {
			idx = cand
			break
		}
	}
	if idx == indexes[0] && len(values[region]) == 1 {
		return sql.IndexLookup{}, false, nil
	}
	ranges := sql.MySQLRangeCollection{nil}
	for i, col := range idx.cols {
		vals := values[strings.ToLower(col)]
		var next sql.MySQLRangeCollection
		for _, r := range ranges {
			for _, v := range vals {
				var ce sql.MySQLRangeColumnExpr
				if v == nil {
					ce = sql.NullRangeColumnExpr(idx.types[i])
				} else {
					ce = sql.ClosedRangeColumnExpr(v, v, idx.types[i])
				}
				next = append(next, append(append(sql.MySQLRange(nil), r...), ce))
			}
		}
		if len(next) > maxFanOut {
			return sql.IndexLookup{}, false, fmt.Errorf("%s: the IN lists ask for %d combinations of parameters; at most %d are allowed in one statement", idx.table, len(next), maxFanOut)
		}
		ranges = next
	}
	empty := len(ranges) == 0
	return sql.IndexLookup{Index: idx, Ranges: ranges, IsEmptyRange: empty}, true, nil
}

// maxFanOut bounds how many parameter combinations one table access may
// expand into.
const maxFanOut = 10000

func intersect(a, b []any) []any {
	var out []any
	for _, x := range a {
		for _, y := range b {
			if fmt.Sprint(x) == fmt.Sprint(y) {
				out = append(out, x)
				break
			}
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// paramValues recognises `column = constant`, `constant = column` and
// `column IN (constants)`.
func paramValues(ctx *sql.Context, e sql.Expression) (string, []any, bool) {
	switch e := e.(type) {
	case *expression.Equals:
		if col, ok := e.Left().(*expression.GetField); ok {
			if v, ok := constant(ctx, e.Right()); ok {
				return col.Name(), []any{v}, true
			}
		}
		if col, ok := e.Right().(*expression.GetField); ok {
			if v, ok := constant(ctx, e.Left()); ok {
				return col.Name(), []any{v}, true
			}
		}
	case *expression.InTuple:
		return inValues(ctx, e.Left(), e.Right())
	case *expression.HashInTuple:
		return inValues(ctx, e.Left(), e.Right())
	}
	return "", nil, false
}

func inValues(ctx *sql.Context, left, right sql.Expression) (string, []any, bool) {
	col, ok := left.(*expression.GetField)
	if !ok {
		return "", nil, false
	}
	tuple, ok := right.(expression.Tuple)
	if !ok {
		return "", nil, false
	}
	var vals []any
	for _, el := range tuple {
		v, ok := constant(ctx, el)
		if !ok {
			return "", nil, false
		}
		vals = append(vals, v)
	}
	return col.Name(), vals, true
}

// constant evaluates an expression that refers to no column, no bind
// variable and no subquery, as a string (or nil for NULL).
func constant(ctx *sql.Context, e sql.Expression) (any, bool) {
	isConst := true
	transform.InspectExpr(e, func(e sql.Expression) bool {
		switch e.(type) {
		case *expression.GetField, *expression.BindVar, *expression.ProcedureParam, sql.NonDeterministicExpression:
			isConst = false
		}
		if _, ok := e.(sql.FunctionExpression); ok {
			if nd, ok := e.(sql.NonDeterministicExpression); ok && nd.IsNonDeterministic() {
				isConst = false
			}
		}
		return !isConst
	})
	if !isConst || !e.Resolved() {
		return nil, false
	}
	v, err := e.Eval(ctx, nil)
	if err != nil {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return nil, false
	}
	return fmt.Sprint(s), true
}
