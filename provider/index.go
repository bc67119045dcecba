package provider

import (
	"fmt"
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

// CanSupport accepts ranges whose first column (region) is a single value;
// other columns may be anything, since the engine re-applies every filter
// (PreciseMatch is false) and a non-point range there simply isn't pushed.
func (i *paramIndex) CanSupport(_ *sql.Context, ranges ...sql.Range) bool {
	for _, r := range ranges {
		mr, ok := r.(sql.MySQLRange)
		if !ok || len(mr) == 0 {
			return false
		}
		if _, ok, _ := pointValue(mr[0]); !ok {
			return false
		}
	}
	return true
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

// paramsFromLookup expands an index lookup into the parameter combinations
// it stands for: one per range. NULL given for a parameter is an error, not
// an empty result.
func paramsFromLookup(r schema.Resource, m schema.Method, idx *paramIndex, lookup sql.IndexLookup) ([]params, error) {
	coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported lookup %T", r.Name, lookup.Ranges)
	}
	var out []params
	for _, rng := range coll {
		p := params{}
		for n, e := range rng {
			if n >= len(idx.cols) {
				break
			}
			v, ok, isNull := pointValue(e)
			if isNull {
				return nil, &schema.MissingParam{Resource: r.Name, Param: idx.cols[n], Method: m}
			}
			if ok {
				p[idx.cols[n]] = v
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// lookupForExpressions builds the lookup for a table's parameter index from
// WHERE conjuncts: `col = constant` and `col IN (constants)` on parameter
// columns. Each combination of values becomes one range, so IN lists fan
// out to one IAM call per value. ok is false when the first index column
// (region) has no value, which leaves the plan a scan that reports the
// missing parameter.
func lookupForExpressions(ctx *sql.Context, idx *paramIndex, exprs []sql.Expression) (sql.IndexLookup, bool, error) {
	values := make([][]any, len(idx.cols))
	for _, e := range exprs {
		col, vals, ok := paramValues(ctx, e)
		if !ok {
			continue
		}
		for i, c := range idx.cols {
			if strings.EqualFold(c, col) {
				if values[i] == nil {
					values[i] = vals
				} else {
					values[i] = intersect(values[i], vals)
				}
			}
		}
	}
	if values[0] == nil {
		return sql.IndexLookup{}, false, nil
	}
	if len(values[0]) == 1 && len(idx.cols) > 1 {
		rest := false
		for _, v := range values[1:] {
			rest = rest || v != nil
		}
		if !rest {
			return sql.IndexLookup{}, false, nil
		}
	}
	ranges := sql.MySQLRangeCollection{nil}
	for i, vals := range values {
		var next sql.MySQLRangeCollection
		for _, r := range ranges {
			if vals == nil {
				next = append(next, append(append(sql.MySQLRange(nil), r...), sql.AllRangeColumnExpr(idx.types[i])))
				continue
			}
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
