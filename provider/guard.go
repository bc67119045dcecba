package provider

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// Execution guards: what keeps a running statement within its deadline
// and within memory where go-mysql-server alone would not.
//
// Cancellation: go-mysql-server's operators (joins, aggregation, sorting,
// recursive CTEs) loop over their inputs without looking at the context,
// so a COUNT(*) over a cross join of generated rows ran for minutes past
// its timeout. Every row source of a plan — table scans and lookups, the
// rows a CTE, VALUES or JSON_TABLE produces, the cached rows of a join's
// inner side — checks the statement's context before each row, so every
// loop stops within a row of the deadline, a Ctrl-C or a shutdown.
//
// Values: functions whose result can be far larger than their arguments
// (REPEAT, SPACE, LPAD, RPAD, REPLACE, REGEXP_REPLACE, UNCOMPRESS) refuse,
// before they allocate it, a result larger than max_allowed_packet, and
// the functions that build strings or JSON from others (CONCAT, HEX,
// JSON_ARRAY, …) refuse one after, so no chain of them can grow a value
// beyond a few times that size. MySQL bounds the same functions by
// max_allowed_packet (it returns NULL with warning 1301; iamsql fails the
// statement with error 1301, so the result is never silently wrong).
const (
	// MaxValueBytes is the largest value a function may produce.
	MaxValueBytes = MaxStatementBytes
	// ErrNumValueTooLarge is MySQL's ER_WARN_ALLOWED_PACKET_OVERFLOWED.
	ErrNumValueTooLarge = 1301
)

// newGuardedBuilder is go-mysql-server's executor builder with the row
// sources of every plan checking the statement's context.
func newGuardedBuilder() sql.NodeExecBuilder {
	g := &sourceGuard{building: map[sql.Node]int{}}
	g.builder = rowexec.NewOverrideBuilder(g)
	return g.builder
}

// sourceGuard wraps the iterators of row sources. go-mysql-server asks it
// first for every node it builds; it builds a source through the same
// builder (so the source's own inputs are guarded too) and wraps it.
type sourceGuard struct {
	builder sql.NodeExecBuilder

	mu       sync.Mutex
	building map[sql.Node]int
}

func isRowSource(n sql.Node) bool {
	switch n.(type) {
	case *plan.ResolvedTable, *plan.IndexedTableAccess, *plan.RecursiveTable, *plan.CachedResults,
		*plan.HashLookup, *plan.ValueDerivedTable, *plan.JSONTable, *plan.Values:
		return true
	}
	return false
}

func (g *sourceGuard) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	source := isRowSource(n)
	inputs, holdsInput := holdsInputs(ctx, n)
	own, holdsOwnRows := holdsOwnRows(n)
	mem := memoryOf(ctx)
	payer := mem.payer(n)
	if !source && !holdsInput && !holdsOwnRows && payer == nil || !g.enter(n) {
		return nil, nil // go-mysql-server builds it
	}
	defer g.leave(n)
	// Memory (memory.go): an operator that holds its inputs pays for
	// their rows; one that holds its own rows pays for those.
	var mine *holding
	if holdsInput {
		mine = mem.newHolding(inputs)
		for _, c := range n.Children() {
			mem.feed(c, mine)
		}
	}
	iter, err := g.builder.Build(ctx, n, row)
	if err != nil || iter == nil {
		return iter, err
	}
	if source {
		iter = &checkedIter{RowIter: iter}
	}
	if payer != nil {
		iter = &chargedIter{RowIter: iter, h: payer}
	}
	if holdsOwnRows {
		h := mem.newHolding(own)
		iter = &releasingIter{RowIter: &chargedIter{RowIter: iter, h: h}, h: h}
	}
	if mine != nil && !inputs.cached {
		iter = &releasingIter{RowIter: iter, h: mine}
	}
	return iter, nil
}

// enter marks n as being built here; false when it already is (the
// builder asks again for the node it is building).
func (g *sourceGuard) enter(n sql.Node) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.building[n] > 0 {
		return false
	}
	g.building[n]++
	return true
}

func (g *sourceGuard) leave(n sql.Node) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.building[n]--; g.building[n] <= 0 {
		delete(g.building, n)
	}
}

// checkedIter checks the statement's context before each row.
type checkedIter struct {
	sql.RowIter
}

func (it *checkedIter) Next(ctx *sql.Context) (sql.Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return it.RowIter.Next(ctx)
}

// boundedFunctions are the functions whose results are bounded, by name:
// pre, when set, tells from the arguments how large the result would be.
var boundedFunctions = map[string]func(ctx *sql.Context, args []any) (int64, bool){
	"repeat": func(ctx *sql.Context, a []any) (int64, bool) {
		s, ok1 := stringArg(a, 0)
		n, ok2 := intArg(ctx, a, 1)
		return int64(len(s)) * max(n, 0), ok1 && ok2
	},
	"space": func(ctx *sql.Context, a []any) (int64, bool) {
		n, ok := intArg(ctx, a, 0)
		return max(n, 0), ok
	},
	"lpad": padBound,
	"rpad": padBound,
	"replace": func(ctx *sql.Context, a []any) (int64, bool) {
		s, ok1 := stringArg(a, 0)
		from, ok2 := stringArg(a, 1)
		to, ok3 := stringArg(a, 2)
		if !ok1 || !ok2 || !ok3 || from == "" {
			return int64(len(s)), ok1
		}
		return int64(len(s)) + int64(strings.Count(s, from))*int64(max(len(to)-len(from), 0)), true
	},
	"regexp_replace": func(ctx *sql.Context, a []any) (int64, bool) {
		s, ok1 := stringArg(a, 0)
		repl, ok2 := stringArg(a, 2)
		return int64(len(s)) + int64(len(s)+1)*int64(len(repl)), ok1 && ok2
	},
	"uncompress": func(ctx *sql.Context, a []any) (int64, bool) {
		s, ok := stringArg(a, 0)
		if !ok || len(s) < 4 {
			return 0, false
		}
		return int64(binary.LittleEndian.Uint32([]byte(s[:4])) & 0x3FFFFFFF), true
	},
	// Checked after: their results are at most a few times their
	// arguments.
	"concat": nil, "concat_ws": nil, "hex": nil, "to_base64": nil, "lower": nil, "lcase": nil,
	"upper": nil, "ucase": nil, "quote": nil, "char": nil, "reverse": nil, "unhex": nil, "from_base64": nil,
	"json_array": nil, "json_object": nil, "json_merge": nil, "json_merge_patch": nil, "json_merge_preserve": nil,
	"json_set": nil, "json_insert": nil, "json_replace": nil, "json_array_append": nil, "json_array_insert": nil,
	"json_quote": nil,
}

// padBound is LPAD's and RPAD's result size: len characters of the
// padding's width.
func padBound(ctx *sql.Context, a []any) (int64, bool) {
	n, ok := intArg(ctx, a, 1)
	if !ok {
		return 0, false
	}
	width := int64(1)
	if pad, ok := stringArg(a, 2); ok && pad != "" {
		width = int64((len(pad) + utf8.RuneCountInString(pad) - 1) / utf8.RuneCountInString(pad))
	}
	if s, ok := stringArg(a, 0); ok && s != "" {
		width = max(width, int64((len(s)+utf8.RuneCountInString(s)-1)/utf8.RuneCountInString(s)))
	}
	return max(n, 0) * width, true
}

var builtinFunctions = sync.OnceValue(function.NewRegistry)

// Function implements sql.FunctionProvider: the bounded functions in
// place of go-mysql-server's (which the catalog consults after this).
func (p *Provider) Function(_ *sql.Context, name string) (sql.Function, bool) {
	name = strings.ToLower(name)
	pre, ok := boundedFunctions[name]
	if !ok {
		return nil, false
	}
	inner, ok := builtinFunctions()[name]
	if !ok {
		return nil, false
	}
	return sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		e, err := inner.NewInstance(args)
		if err != nil {
			return nil, err
		}
		return &boundedValue{Expression: e, name: name, pre: pre}, nil
	}}, true
}

var _ sql.FunctionProvider = (*Provider)(nil)

// boundedValue is a function whose result may not exceed MaxValueBytes.
type boundedValue struct {
	sql.Expression
	name string
	pre  func(*sql.Context, []any) (int64, bool)
}

var (
	_ sql.FunctionExpression         = (*boundedValue)(nil)
	_ sql.CollationCoercible         = (*boundedValue)(nil)
	_ sql.NonDeterministicExpression = (*boundedValue)(nil)
)

func (b *boundedValue) FunctionName() string { return b.name }

func (b *boundedValue) Description() string {
	if f, ok := b.Expression.(sql.FunctionExpression); ok {
		return f.Description()
	}
	return b.name
}

func (b *boundedValue) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	if c, ok := b.Expression.(sql.CollationCoercible); ok {
		return c.CollationCoercibility(ctx)
	}
	return sql.Collation_Default, 4
}

func (b *boundedValue) IsNonDeterministic() bool {
	if n, ok := b.Expression.(sql.NonDeterministicExpression); ok {
		return n.IsNonDeterministic()
	}
	return false
}

func (b *boundedValue) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	e, err := b.Expression.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &boundedValue{Expression: e, name: b.name, pre: b.pre}, nil
}

func (b *boundedValue) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	e := b.Expression
	if b.pre != nil {
		children := e.Children()
		args := make([]any, len(children))
		lits := make([]sql.Expression, len(children))
		for i, c := range children {
			v, err := c.Eval(ctx, row)
			if err != nil {
				return nil, err
			}
			args[i] = v
			lits[i] = expression.NewLiteral(v, c.Type())
		}
		if n, ok := b.pre(ctx, args); ok && n > MaxValueBytes {
			return nil, valueTooLarge(b.name, n)
		}
		var err error
		if e, err = e.WithChildren(lits...); err != nil {
			return nil, err
		}
	}
	v, err := e.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	if n := valueSize(v, MaxValueBytes); n > MaxValueBytes {
		return nil, valueTooLarge(b.name, int64(n))
	}
	return v, nil
}

func valueTooLarge(name string, n int64) error {
	return mysql.NewSQLError(ErrNumValueTooLarge, "HY000",
		"Result of %s() would be %d bytes, larger than max_allowed_packet (%d): iamsql refuses values larger than a packet", name, n, MaxValueBytes)
}

// valueSize is a value's size in bytes, counted up to just past limit (a
// JSON document can share one part many times: its size is not walked
// further than needed).
func valueSize(v any, limit int) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	case types.JSONDocument:
		return jsonSize(v.Val, limit)
	}
	return 0
}

func jsonSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch v := v.(type) {
		case string:
			n += len(v) + 2
		case map[string]any:
			n += 2
			for k, e := range v {
				n += len(k) + 4
				walk(e)
				if n > limit {
					return
				}
			}
		case []any:
			n += 2
			for _, e := range v {
				n++
				walk(e)
				if n > limit {
					return
				}
			}
		case types.JSONDocument:
			walk(v.Val)
		default:
			n += 8
		}
	}
	walk(v)
	return n
}

func stringArg(a []any, i int) (string, bool) {
	if i >= len(a) || a[i] == nil {
		return "", false
	}
	switch v := a[i].(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return fmt.Sprint(a[i]), true
}

func intArg(ctx *sql.Context, a []any, i int) (int64, bool) {
	if i >= len(a) || a[i] == nil {
		return 0, false
	}
	v, _, err := types.Int64.Convert(ctx, a[i])
	if err != nil {
		return 0, false
	}
	n, ok := v.(int64)
	return n, ok
}
