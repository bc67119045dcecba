package provider

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/aggregation"
	"github.com/dolthub/go-mysql-server/sql/iters"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/semaphore"
)

// Memory held by running statements.
//
// go-mysql-server holds rows in memory wherever an operator needs all of
// its input before it answers — a sort, a grouping or aggregate, a window,
// DISTINCT, UNION DISTINCT, a recursive CTE, the cached inner side of a
// join, a subquery's result — and it has no limit of its own: one ORDER BY
// over a cross join of generated rows held 570 MB after 3 s (four at once
// 1.3 GB), and without a timeout it grows until the machine has no memory
// left. iamsql counts, per statement, the rows that flow into these
// operators (an estimate of their size, see rowBytes) and refuses a
// statement that would hold more than MaxStatementMemory (error 1038), or
// that would take all running statements together past MaxHeldMemory
// (error 1041; the first freeHeld bytes of a statement are not refused for
// that). An operator's rows count until its own rows are closed
// (a join's cached side and a subquery's result: until the statement
// ends). A grouping counts its groups, DISTINCT its distinct rows, ORDER
// BY … LIMIT n its top n rows; an aggregate that keeps values
// (JSON_ARRAYAGG, GROUP_CONCAT, COUNT(DISTINCT …)) every row it reads. The largest inventories iamsql
// is made for hold far less: the rows of 20,000 keys with every column are
// about 12 MiB.
const (
	MaxStatementMemory = 96 << 20
	MaxHeldMemory      = 128 << 20

	// ErrNumOutOfSortMemory is MySQL's ER_OUT_OF_SORTMEMORY.
	ErrNumOutOfSortMemory = 1038
	// ErrNumOutOfResources is MySQL's ER_OUT_OF_RESOURCES.
	ErrNumOutOfResources = 1041
)

// heldMemory is what all running statements hold (estimated bytes).
var heldMemory atomic.Int64

// The limits in force (tests lower them to reach them sooner).
var (
	statementMemoryLimit int64 = MaxStatementMemory
	heldMemoryLimit      int64 = MaxHeldMemory
)

// HeldMemory is the estimate of what running statements hold now.
func HeldMemory() int64 { return heldMemory.Load() }

// memAccount is what one statement holds.
type memAccount struct {
	held atomic.Int64

	mu sync.Mutex
	// feeds maps the inputs of the statement's holding operators to the
	// holding that pays for their rows.
	feeds map[sql.Node]*holding
	// all are the statement's holdings, released when it ends.
	all []*holding
	// results hold the results of its subqueries.
	results map[sql.Node]*holding
}

// holding is what one operator of a statement holds.
type holding struct {
	acct *memAccount
	how  holds
	n    atomic.Int64

	mu   sync.Mutex
	rows int64
	seen map[uint64]struct{}
}

// memoryOf is the account of the statement ctx runs, or a new one for
// work outside a statement.
func memoryOf(ctx *sql.Context) *memAccount {
	if s := sessionOf(ctx); s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stmt != nil && s.stmtKey == keyOf(ctx) {
			return &s.stmt.mem
		}
	}
	return &memAccount{}
}

func (a *memAccount) newHolding(how holds) *holding {
	h := &holding{acct: a, how: how}
	a.mu.Lock()
	a.all = append(a.all, h)
	a.mu.Unlock()
	return h
}

// resultOf is the holding that pays for the result of subquery q. A
// subquery run again (once per outer row, when it is correlated) replaces
// its previous result, and go-mysql-server keeps one that is not until the
// statement ends: either way the statement holds one result of q.
func (a *memAccount) resultOf(q sql.Node) *holding {
	if !keyable(q) {
		return a.newHolding(holds{what: "a subquery's result"})
	}
	a.mu.Lock()
	h := a.results[q]
	a.mu.Unlock()
	if h != nil {
		h.release()
		return h
	}
	h = a.newHolding(holds{what: "a subquery's result"})
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.results == nil {
		a.results = map[sql.Node]*holding{}
	}
	a.results[q] = h
	return h
}

// keyable says whether n can key a map: nodes are pointers but for a
// few (plan.ShowWarnings is a slice), which feed nothing that counts.
func keyable(n sql.Node) bool {
	return n != nil && reflect.TypeOf(n).Kind() == reflect.Pointer
}

// feed makes h pay for the rows of input.
func (a *memAccount) feed(input sql.Node, h *holding) {
	if !keyable(input) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.feeds == nil {
		a.feeds = map[sql.Node]*holding{}
	}
	a.feeds[input] = h
}

// payer is the holding that pays for n's rows, if any.
func (a *memAccount) payer(n sql.Node) *holding {
	if !keyable(n) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.feeds[n]
}

// releaseAll releases everything the statement holds (it has ended).
func (a *memAccount) releaseAll() {
	a.mu.Lock()
	all := a.all
	a.all, a.feeds, a.results = nil, nil, nil
	a.mu.Unlock()
	for _, h := range all {
		h.release()
	}
}

// freeHeld is what a statement may hold whatever others hold: ordinary
// statements (a join of a few thousand rows) are never refused because
// large ones fill MaxHeldMemory.
const freeHeld = 256 << 10

// charge counts n more bytes held by h, or refuses them.
func (h *holding) charge(n int64) error {
	held := h.acct.held.Add(n)
	if held > statementMemoryLimit {
		h.acct.held.Add(-n)
		return mysql.NewSQLError(ErrNumOutOfSortMemory, "HY001",
			"statement stopped: %s would hold more than %d MiB of rows in memory (iamsql's limit per statement; no more IAM calls were made); read fewer rows: a WHERE that narrows the tables, a LIMIT, or fewer joined tables",
			h.how.what, statementMemoryLimit>>20)
	}
	if heldMemory.Add(n) > heldMemoryLimit && held > freeHeld {
		heldMemory.Add(-n)
		h.acct.held.Add(-n)
		return mysql.NewSQLError(ErrNumOutOfResources, "HY000",
			"statement stopped: running statements together would hold more than %d MiB of rows in memory (iamsql's limit for the whole process); try again when fewer large statements run",
			heldMemoryLimit>>20)
	}
	h.n.Add(n)
	return nil
}

// release gives back everything h holds.
func (h *holding) release() {
	h.mu.Lock()
	h.rows, h.seen = 0, nil
	h.mu.Unlock()
	n := h.n.Swap(0)
	h.acct.held.Add(-n)
	heldMemory.Add(-n)
}

// give gives back n of the bytes h holds (a part of what it holds that
// its operator let go of).
func (h *holding) give(n int64) {
	if n == 0 {
		return
	}
	h.n.Add(-n)
	h.acct.held.Add(-n)
	heldMemory.Add(-n)
}

// holds says how n holds its inputs' rows, if it does.
type holds struct {
	// what names n in an error.
	what string
	// cached is set when what n holds outlives its rows (a join's cached
	// side is read again for each outer row).
	cached bool
	// key, when set, is what n keeps of a row, and it keeps one per
	// distinct key (a grouping keeps its groups, DISTINCT its distinct
	// rows), with perKey bytes more; else n keeps every row.
	key    func(ctx *sql.Context, row sql.Row) (sql.Row, error)
	perKey int64
	// first, when positive, is how many rows n keeps at most (ORDER BY
	// with LIMIT keeps the top rows).
	first int64
}

func wholeRow(_ *sql.Context, row sql.Row) (sql.Row, error) { return row, nil }

// holdsInputs says whether and how n holds its inputs' rows.
func holdsInputs(ctx *sql.Context, n sql.Node) (holds, bool) {
	switch n := n.(type) {
	case *plan.Sort:
		return holds{what: "sorting"}, true
	case *plan.TopN:
		limit, err := iters.GetInt64Value(ctx, n.Limit)
		if err != nil || limit <= 0 {
			return holds{}, false // go-mysql-server reports it
		}
		return holds{what: "sorting", first: limit}, true
	case *plan.GroupBy:
		if buffersRows(n.SelectedExprs) {
			return holds{what: "aggregating"}, true
		}
		if len(n.GroupByExprs) == 0 {
			return holds{}, false // one row of aggregates
		}
		exprs := n.GroupByExprs
		return holds{what: "grouping", perKey: groupBytes(len(n.SelectedExprs)), key: func(ctx *sql.Context, row sql.Row) (sql.Row, error) {
			key := make(sql.Row, len(exprs))
			for i, e := range exprs {
				v, err := e.Eval(ctx, row)
				if err != nil {
					return nil, err
				}
				key[i] = v
			}
			return key, nil
		}}, true
	case *plan.Window:
		return holds{what: "a window function"}, true
	case *plan.Distinct:
		return holds{what: "DISTINCT", key: wholeRow}, true
	case *plan.SetOp:
		switch {
		case n.SetOpType == plan.IntersectType:
			return holds{what: "INTERSECT", key: wholeRow}, true
		case n.SetOpType == plan.ExceptType:
			return holds{what: "EXCEPT", key: wholeRow}, true
		case n.Distinct:
			return holds{what: "UNION DISTINCT", key: wholeRow}, true
		}
	case *plan.CachedResults, *plan.HashLookup:
		return holds{what: "a join", cached: true}, true
	}
	return holds{}, false
}

// buffersRows says whether an aggregate among exprs keeps values of
// every row it reads (JSON_ARRAYAGG, GROUP_CONCAT, COUNT(DISTINCT …), …).
func buffersRows(exprs []sql.Expression) bool {
	found := false
	for _, e := range exprs {
		transform.InspectExpr(e, func(e sql.Expression) bool {
			switch e.(type) {
			case *aggregation.JsonArray, *aggregation.JSONObjectAgg, *aggregation.GroupConcat,
				*aggregation.CountDistinct, *expression.DistinctExpression:
				found = true
			}
			return found
		})
	}
	return found
}

// holdsOwnRows says whether n holds the rows it produces (a recursive CTE
// keeps each round's rows to produce the next).
func holdsOwnRows(n sql.Node) (holds, bool) {
	if _, ok := n.(*plan.RecursiveCte); ok {
		return holds{what: "a recursive CTE"}, true
	}
	return holds{}, false
}

// chargedIter charges the rows its operator keeps to a holding.
type chargedIter struct {
	sql.RowIter
	h *holding
}

func (it *chargedIter) Next(ctx *sql.Context) (sql.Row, error) {
	row, err := it.RowIter.Next(ctx)
	if err == nil {
		if cerr := it.h.keep(ctx, row); cerr != nil {
			return nil, cerr
		}
	}
	return row, err
}

// keep charges what h's operator keeps of row.
func (h *holding) keep(ctx *sql.Context, row sql.Row) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.how.first > 0 {
		if h.rows >= h.how.first {
			return nil
		}
		h.rows++
	}
	kept := row
	extra := int64(0)
	if h.how.key != nil {
		key, err := h.how.key(ctx, row)
		if err != nil {
			return err
		}
		sum, err := sql.HashOf(ctx, key)
		if err != nil {
			return err
		}
		if _, dup := h.seen[sum]; dup {
			return nil
		}
		if h.seen == nil {
			h.seen = map[uint64]struct{}{}
		}
		h.seen[sum] = struct{}{}
		kept, extra = key, 16+h.how.perKey
	}
	return h.charge(rowBytes(kept) + extra)
}

// releasingIter releases a holding when its rows are closed.
type releasingIter struct {
	sql.RowIter
	h *holding
}

func (it *releasingIter) Close(ctx *sql.Context) error {
	defer it.h.release()
	return it.RowIter.Close(ctx)
}

// rowBytes estimates what a row takes in memory, as measured on
// go-mysql-server's sort and grouping: the row's slice and its slot in
// the operator (48), and per value its interface and boxed value (24),
// plus the bytes of strings, byte slices and decimals; times and JSON
// documents count as fixed sizes.
func rowBytes(row sql.Row) int64 {
	n := int64(48 + 24*len(row))
	for _, v := range row {
		switch v := v.(type) {
		case string:
			n += int64(len(v))
		case []byte:
			n += int64(len(v)) + 8
		case decimal.Decimal:
			n += 32
		case time.Time:
			n += 16
		case types.JSONDocument, sql.JSONWrapper:
			n += 128
		}
	}
	return n
}

// groupBytes is what go-mysql-server keeps per group besides its key: a
// map entry and a buffer per aggregate (measured: about 450 bytes for a
// group with one COUNT).
func groupBytes(aggregates int) int64 { return 192 + 128*int64(aggregates) }

// Statement text. A statement's text, its tokens and the tree the parser
// builds from them stay in memory until the statement ends: about 4 bytes
// per byte of text (its copies) and 128 per token, as measured (50-120
// bytes per token for expressions, IN lists and function calls). A
// statement of more than parseFreeWeight by that measure waits for its
// share of parseBudget before it is parsed (its statement timeout runs),
// and gives it back when its command is answered; so a hundred
// connections sending statements of megabytes parse a few at a time.
const (
	parseFreeWeight = 1 << 20
	parseBudget     = 48 << 20
)

var parsing = semaphore.NewWeighted(parseBudget)

// parseWeight estimates what parsing query keeps in memory.
func parseWeight(query string) int64 {
	tokens := int64(0)
	for i := 0; i < len(query); {
		_, i = nextToken(query, i)
		tokens++
	}
	return min(int64(len(query))*4+tokens*128, parseBudget)
}

// holdParse waits until the budget covers parsing query. In a session the
// share is held until the session's command ends (ReleaseParse); outside
// one, release gives it back.
func holdParse(ctx context.Context, query string) (release func(), err error) {
	w := parseWeight(query)
	if w <= parseFreeWeight {
		return func() {}, nil
	}
	var s *Session
	if sctx, ok := ctx.(*sql.Context); ok {
		s = sessionOf(sctx)
	}
	if s != nil {
		s.ReleaseParse() // a command parses again: one share per session
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := parsing.Acquire(ctx, w); err != nil {
		return nil, err
	}
	if s == nil {
		return func() { parsing.Release(w) }, nil
	}
	s.mu.Lock()
	s.parseHeld += w
	s.mu.Unlock()
	return func() {}, nil
}

// ReleaseParse gives back what the session's statement text held of the
// parse budget; callers call it when a command has been answered.
func (s *Session) ReleaseParse() {
	s.mu.Lock()
	w := s.parseHeld
	s.parseHeld = 0
	s.mu.Unlock()
	if w > 0 {
		parsing.Release(w)
	}
}
