package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/iamsql/iamsql/schema"
)

// Engine is the SQL engine the shell, exec and the server share: GMS over
// the iam database, with the StackQL front-end and iamsql's plan gate.
type Engine struct {
	SQL      *sqle.Engine
	Provider *Provider
	nextID   atomic.Uint32
}

// NewEngine builds the engine. It makes no IAM call and loads no AWS
// configuration: that happens on the first statement that needs it.
func NewEngine(cfg Config) *Engine {
	registerVariables()
	p := NewProvider(cfg)
	a := analyzer.NewBuilder(p).Build()
	// Every statement's plan passes the gate on its way to execution: the
	// server's, the shell's, prepared ones, simple DML alike.
	// Its row sources check the statement's context (guard.go).
	a.ExecBuilder = &gate{inner: newGuardedBuilder(), p: p}
	e := sqle.New(a, &sqle.Config{})
	e.Parser = frontEnd{inner: sql.GlobalParser}
	return &Engine{SQL: e, Provider: p}
}

// The session variables iamsql adds.
const varAllowRootKeys = "iamsql_allow_root_keys"

var registerOnce sync.Once

func registerVariables() {
	registerOnce.Do(func() {
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{&sql.MysqlSystemVariable{
			Name:    varAllowRootKeys,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemBoolType(varAllowRootKeys),
			Default: int8(0),
		}, callBudgetVariable(), maxAllowedPacketVariable()})
	})
}

// allowRootKeys reports whether this session may create root access keys:
// --allow-root-keys, or SET iamsql_allow_root_keys = 1.
func (p *Provider) allowRootKeys(ctx *sql.Context) bool {
	if p.allowRoot {
		return true
	}
	v, err := ctx.GetSessionVariable(ctx, varAllowRootKeys)
	return err == nil && fmt.Sprint(v) == "1"
}

// NewSession starts a session (a connection, a shell) with iam as its
// current database.
func (e *Engine) NewSession(user, address string) *Session {
	base := sql.NewBaseSessionWithClientServer("iamsql", sql.Client{User: user, Address: address}, e.nextID.Add(1))
	base.SetCurrentDatabase(DatabaseName)
	s := NewSession(base)
	s.local = true
	return s
}

// Result is a running statement.
type Result struct {
	Schema sql.Schema
	Rows   sql.RowIter
	// Ctx is the statement's context; close Rows with it.
	Ctx *sql.Context
	// Stats counts the statement's IAM calls as they happen.
	Stats *CallStats
}

// Next returns the next row; io.EOF at the end. Errors carry MySQL numbers.
func (r *Result) Next() (row sql.Row, err error) {
	defer recoverEngine(&err)
	row, err = r.Rows.Next(r.Ctx)
	if err != nil {
		return nil, scrubSecrets(r.Ctx, ToSQLError(err))
	}
	return row, nil
}

// Close finishes the statement.
func (r *Result) Close() (err error) {
	defer recoverEngine(&err)
	if s := sessionOf(r.Ctx); s != nil {
		defer s.ReleaseParse()
	}
	return scrubSecrets(r.Ctx, ToSQLError(r.Rows.Close(r.Ctx)))
}

// recoverEngine turns a panic inside go-mysql-server (some statements
// crash its planner or iterators) into an error, so the shell and exec
// report it and go on.
func recoverEngine(err *error) {
	if v := recover(); v != nil {
		*err = mysql.NewSQLError(ErrNumUnknown, mysql.SSUnknownSQLState, "internal error in the SQL engine: %v", v)
	}
}

// Query runs one statement in a session. Cancelling ctx cancels the
// statement and its in-flight IAM calls. On error the Result still carries
// the statement's call counts.
func (e *Engine) Query(ctx context.Context, s *Session, query string) (res *Result, err error) {
	defer recoverEngine(&err)
	defer func() {
		if err != nil && s != nil {
			s.ReleaseParse() // no Result to close
		}
	}()
	stats := &CallStats{}
	sctx := sql.NewContext(WithCallStats(ctx, stats), sql.WithSession(s), sql.WithQuery(query))
	// Rewriting here (the parser does it too) keeps the MySQL error
	// numbers of front-end errors, which GMS would turn into syntax errors.
	rewritten, rerr := Rewrite(query)
	if rerr != nil {
		return &Result{Ctx: sctx, Stats: stats}, ToSQLError(rerr)
	}
	if StatementKind(rewritten) == "DELIMITER" {
		return &Result{Ctx: sctx, Stats: stats}, mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError,
			"DELIMITER is a command of the mysql client that iamsql does not have: end each statement with ;")
	}
	// The statement is parsed once, here, and the engine runs what was
	// parsed. One with nothing in it for the engine (comments only, or an
	// executable comment for a later MySQL) is an error, as in MySQL,
	// never a silent no-op.
	var sch sql.Schema
	var rows sql.RowIter
	parsed, _, _, perr := e.SQL.Parser.ParseWithOptions(sctx, rewritten, ';', false, sql.LoadSqlMode(sctx).ParserOptions())
	switch {
	case errors.Is(perr, ast.ErrEmpty):
		return &Result{Ctx: sctx, Stats: stats}, emptyStatementError(query)
	case errors.As(perr, new(*LimitError)) || errors.As(perr, new(*PacketTooLargeError)):
		// Beyond a statement limit (limits.go): refused without planning.
		return &Result{Ctx: sctx, Stats: stats}, ToSQLError(perr)
	case perr != nil:
		// The engine reports the syntax error, with its number.
		sch, rows, _, err = e.SQL.Query(sctx, rewritten)
	default:
		sch, rows, _, err = e.SQL.QueryWithBindings(sctx, rewritten, parsed, nil, nil)
	}
	if err != nil {
		return &Result{Ctx: sctx, Stats: stats}, scrubSecrets(sctx, ToSQLError(err))
	}
	return &Result{Schema: sch, Rows: rows, Ctx: sctx, Stats: stats}, nil
}

// gate is the engine's executor builder: every statement's final plan
// passes here before it runs. It checks the plan before any IAM call
// (required parameters, read-only, safe updates, UPDATE's new status,
// whose connection a KILL ends), learns what the statement needs (the columns it names, the join
// lookups a parent scan should fetch ahead), and opens the statement's
// scope of IAM answers (statement.go) for as long as its rows are read.
type gate struct {
	inner sql.NodeExecBuilder
	p     *Provider
}

func (g *gate) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	switch n := n.(type) {
	case *plan.Kill:
		if err := checkKill(ctx, n); err != nil {
			return nil, err
		}
	case *plan.PrepareQuery, *plan.DeallocateQuery:
		notePrepared(ctx, n)
	}
	s := sessionOf(ctx)
	if s == nil {
		return g.inner.Build(ctx, n, r)
	}
	st, fresh := s.beginStatement(ctx, g.p)
	if !fresh {
		// A subquery of the running statement: go-mysql-server keeps
		// its result (for IN, and to reuse it) until the statement ends.
		iter, err := g.inner.Build(ctx, n, r)
		if err != nil || iter == nil {
			return iter, err
		}
		return &chargedIter{RowIter: iter, h: st.mem.resultOf(n)}, nil
	}
	st.budget = g.p.budgetFor(ctx)
	n, err := rewritePlan(ctx, n)
	if err != nil {
		s.endStatement(st)
		return nil, ToSQLError(err)
	}
	c := &planCheck{ctx: ctx, p: g.p, st: st, readOnly: g.p.readOnly || s.ReadOnly}
	if err := c.check(n); err != nil {
		s.endStatement(st)
		return nil, ToSQLError(err)
	}
	iter, err := g.inner.Build(ctx, n, r)
	if err != nil {
		s.endStatement(st)
		return nil, err
	}
	return &statementIter{RowIter: iter, end: func() { s.endStatement(st) }}, nil
}

// statementIter ends the statement's scope when its rows are closed. It
// lets go-mysql-server reach the iterator it wraps (MutableRowIter), which
// it inspects to count a DML statement's affected rows.
type statementIter struct {
	sql.RowIter
	end func()
}

var _ sql.MutableRowIter = (*statementIter)(nil)

func (s *statementIter) Close(ctx *sql.Context) error {
	defer s.end()
	return s.RowIter.Close(ctx)
}

func (s *statementIter) GetChildIter() sql.RowIter { return s.RowIter }

func (s *statementIter) WithChildIter(child sql.RowIter) sql.RowIter {
	return &statementIter{RowIter: child, end: s.end}
}

// planCheck walks a statement's plan (and its subqueries' plans).
type planCheck struct {
	ctx      *sql.Context
	p        *Provider
	st       *statement
	readOnly bool

	// lookups and instances pair each join's lookup into a child table
	// with the parent table its key comes from.
	lookups   []pendingLookup
	instances map[sql.TableId]*tableInstance
	// need is what the plan is known to cost before it runs.
	need neededCalls
}

func (c *planCheck) check(n sql.Node) error {
	if plan.NodeRepresentsSelect(n) {
		// A table's rows may reach the result as they are.
		for _, col := range n.Schema() {
			c.st.refs[strings.ToLower(col.Name)] = true
		}
	}
	if err := c.walk(n); err != nil {
		return err
	}
	if err := c.st.budget.refuse(c.need.calls()); err != nil {
		return err
	}
	c.linkLookups()
	c.st.keepAnswers(!c.readsOnce(n))
	return nil
}

// oneRange reports whether a table node reads one range (region IN (…)
// reads the same answers once per region).
func (c *planCheck) oneRange(n sql.Node) bool {
	ita, ok := n.(*plan.IndexedTableAccess)
	if !ok || !ita.IsStatic() {
		return false
	}
	lookup, err := ita.GetLookup(c.ctx, nil)
	if err != nil {
		return false
	}
	coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	return ok && len(coll) == 1
}

// readsOnce reports whether the statement reads iamsql's tables through
// one plain scan or lookup only, outside any join, subquery or union:
// then no answer is read twice, and the statement need not keep them
// (a full scan of a large account streams in constant memory).
func (c *planCheck) readsOnce(n sql.Node) bool {
	tables, once := 0, true
	transform.Inspect(n, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.JoinNode, *plan.SetOp, *plan.RecursiveCte, *plan.SubqueryAlias:
			once = false
		case *plan.ResolvedTable, *plan.IndexedTableAccess:
			if t, ok := iamTable(n); ok && t.res.List != nil {
				tables++
				once = once && c.oneRange(n)
			}
		}
		if ex, ok := n.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				transform.InspectExpr(e, func(e sql.Expression) bool {
					if _, ok := e.(*plan.Subquery); ok {
						once = false
					}
					return !once
				})
			}
		}
		return once
	})
	return once && tables <= 1
}

func (c *planCheck) walk(n sql.Node) error {
	switch n := n.(type) {
	case *plan.ShowColumns, *plan.ShowCreateTable, *plan.ShowIndexes, *plan.DescribeQuery:
		return nil // they describe a table or a plan; no IAM call
	case *plan.InsertInto:
		if t, ok := iamTable(n.Destination); ok {
			if err := c.insertInto(t); err != nil {
				return err
			}
			c.noteCreates(n.Source)
		}
		// Its destination is written, not read: only the source is.
		for _, e := range n.Expressions() {
			if err := c.expression(e); err != nil {
				return err
			}
		}
		return c.walk(n.Source)
	case *plan.DeleteFrom:
		if err := c.mutation(n, schema.Delete, deleteTargets(n)); err != nil {
			return err
		}
	case *plan.Update:
		if err := c.mutation(n, schema.Update, updateTargets(n)); err != nil {
			return err
		}
	case *plan.Call:
		if c.readOnly {
			if ref, ok := schema.LookupMethod(n.Name); ok && ref.Method.Mutating {
				return &ReadOnlyError{Statement: "CALL " + n.Name}
			}
		}
	case *plan.ResolvedTable:
		if t, ok := innerTable(n.Table); ok && t.res.List != nil && !t.res.List.Organization {
			return paramError(&schema.MissingParam{Resource: t.res.Name, Param: "region", Method: t.selectMethod()})
		}
	case *plan.IndexedTableAccess:
		if t, ok := innerTable(n.TableNode.UnderlyingTable()); ok {
			if err := c.indexedAccess(n, t); err != nil {
				return err
			}
		}
		c.noteInstance(n)
	case *plan.TableAlias:
		c.noteInstance(n)
	case *plan.Filter:
		c.noteFilter(n)
		if err := c.nullRegion(n.Expression); err != nil {
			return err
		}
	}
	if ex, ok := n.(sql.Expressioner); ok {
		for _, e := range ex.Expressions() {
			if err := c.expression(e); err != nil {
				return err
			}
		}
	}
	for _, child := range n.Children() {
		if err := c.walk(child); err != nil {
			return err
		}
	}
	return nil
}

// expression records the columns an expression names and checks the plans
// of its subqueries.
func (c *planCheck) expression(e sql.Expression) error {
	var err error
	transform.InspectExpr(e, func(e sql.Expression) bool {
		switch e := e.(type) {
		case *expression.GetField:
			c.st.refs[strings.ToLower(e.Name())] = true
		case *plan.Subquery:
			if err == nil && e.Query != nil {
				err = c.walk(e.Query)
			}
		}
		return err != nil
	})
	return err
}

// nullRegion refuses `region = NULL` (or IN (NULL)): a region left
// unsaid, not a contradiction that matches nothing.
func (c *planCheck) nullRegion(e sql.Expression) error {
	for _, e := range expression.SplitConjunction(e) {
		var col sql.Expression
		var values []sql.Expression
		switch e := e.(type) {
		case *expression.Equals:
			col, values = e.Left(), []sql.Expression{e.Right()}
			if _, ok := col.(*expression.GetField); !ok {
				col, values = e.Right(), []sql.Expression{e.Left()}
			}
		case *expression.InTuple:
			if tuple, ok := e.Right().(expression.Tuple); ok {
				col, values = e.Left(), tuple
			}
		}
		gf, ok := col.(*expression.GetField)
		if !ok || !strings.EqualFold(gf.Name(), "region") {
			continue
		}
		inst := c.instanceOf(gf)
		if inst == nil || inst.t.res.List == nil {
			continue
		}
		for _, v := range values {
			if cv, ok := constant(c.ctx, v); ok && cv == nil {
				return paramError(&schema.MissingParam{Resource: inst.t.res.Name, Param: "region", Method: inst.t.selectMethod()})
			}
		}
	}
	return nil
}

// instanceOf finds the iamsql table a column reads, among the nodes seen.
func (c *planCheck) instanceOf(gf *expression.GetField) *tableInstance {
	if inst := c.instances[gf.TableId()]; inst != nil {
		return inst
	}
	for _, inst := range c.instances {
		if strings.EqualFold(inst.t.res.Name, gf.Table()) {
			return inst
		}
	}
	return nil
}

// indexedAccess checks a lookup into an iamsql table: a constant region
// must be a valid region name; a join's lookup into a child on its
// parent's key is fetched ahead by the parent's scans.
func (c *planCheck) indexedAccess(n *plan.IndexedTableAccess, t *table) error {
	if t.res.List == nil {
		return nil
	}
	if n.IsStatic() {
		lookup, err := n.GetLookup(c.ctx, nil)
		if err != nil {
			return err
		}
		coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
		if !ok {
			return nil
		}
		for _, r := range coll {
			// A range that reads nothing is no read (rewritePlan made
			// sure the region of an empty lookup is pinned).
			if len(r) == 0 || slices.ContainsFunc(r, emptyRange) {
				continue
			}
			v, point, isNull := pointValue(r[0])
			if isNull || !point {
				return paramError(&schema.MissingParam{Resource: t.res.Name, Param: "region", Method: t.selectMethod()})
			}
			if err := schema.Validate("region", v); err != nil {
				return paramError(err)
			}
		}
		c.noteFetches(n, t, lookup)
		return nil
	}
	l := t.res.List
	idx, ok := n.Index().(*paramIndex)
	exprs := n.Expressions()
	if l.Parent == "" || !ok || len(exprs) < 2 || len(idx.cols) < 2 || !strings.EqualFold(idx.cols[1], l.ParentKey) {
		return nil
	}
	key, ok := exprs[1].(*expression.GetField)
	if !ok || !strings.EqualFold(key.Name(), l.ParentKey) {
		return nil
	}
	cl := childLookup{child: t}
	if v, ok := constant(c.ctx, exprs[0]); ok && v != nil {
		cl.region = fmt.Sprint(v)
		if schema.Validate("region", cl.region) != nil {
			return nil // the lookup reports it
		}
	}
	c.lookups = append(c.lookups, pendingLookup{cl, key.TableId(), l.Parent})
	return nil
}

// pendingLookup is a child lookup whose parent table is found once the
// whole plan is walked.
type pendingLookup struct {
	childLookup
	parentID sql.TableId
	parent   string
}

// tableInstance is an iamsql table as one plan node reads it, and the
// condition a Filter right above it applies to its rows.
type tableInstance struct {
	t      *table
	filter sql.Expression
}

// noteInstance records the iamsql table a node reads, by table id.
func (c *planCheck) noteInstance(n sql.Node) {
	id := tableID(n)
	t, ok := iamTable(n)
	if !ok || id == 0 {
		return
	}
	if c.instances == nil {
		c.instances = map[sql.TableId]*tableInstance{}
	}
	if c.instances[id] == nil {
		c.instances[id] = &tableInstance{t: t}
	}
}

// noteFilter records a filter that applies to one iamsql table's rows
// alone (no subquery in it), right above its node.
func (c *planCheck) noteFilter(f *plan.Filter) {
	child := f.Child
	id := tableID(child)
	if _, ok := iamTable(child); !ok || id == 0 {
		return
	}
	simple := true
	transform.InspectExpr(f.Expression, func(e sql.Expression) bool {
		switch e := e.(type) {
		case *plan.Subquery:
			simple = false
		case *expression.GetField:
			simple = simple && e.TableId() == id
		}
		return !simple
	})
	if !simple {
		return
	}
	c.noteInstance(child)
	c.instances[id].filter = f.Expression
}

// linkLookups hands each join lookup to the scans of its parent table.
func (c *planCheck) linkLookups() {
	for _, pl := range c.lookups {
		inst := c.instances[pl.parentID]
		if inst == nil || inst.t.res.Name != pl.parent {
			continue
		}
		cl := pl.childLookup
		cl.filter = inst.filter
		if c.st.prefetch == nil {
			c.st.prefetch = map[*table][]childLookup{}
		}
		c.st.prefetch[inst.t] = append(c.st.prefetch[inst.t], cl)
	}
}

// insertInto checks an INSERT's destination.
func (c *planCheck) insertInto(t *table) error {
	if _, ok := t.res.Method(schema.Insert); !ok {
		return unsupportedVerb(t.res, schema.Insert)
	}
	if c.readOnly {
		return &ReadOnlyError{Statement: "INSERT INTO " + t.res.Name}
	}
	return nil
}

// mutation checks an UPDATE or DELETE of iamsql tables: the verb exists,
// the engine is writable, a constant new Status is valid, and — MySQL's
// safe updates, on unless the session sets sql_safe_updates = 0 — the
// WHERE clause names the keys (AccessKeyId or UserName), so that no
// statement changes every key of the account by accident.
func (c *planCheck) mutation(n sql.Node, verb schema.Verb, targets []sql.Node) error {
	for _, target := range targets {
		t, ok := iamTable(target)
		if !ok {
			continue
		}
		if c.readOnly {
			return &ReadOnlyError{Statement: string(verb) + " " + t.res.Name}
		}
		m, ok := t.res.Method(verb)
		if !ok {
			return unsupportedVerb(t.res, verb)
		}
		if isScan(target) && t.res.List != nil {
			return paramError(&schema.MissingParam{Resource: t.res.Name, Param: "region", Method: m})
		}
		if verb == schema.Update {
			if err := checkSetStatus(c.ctx, n, t); err != nil {
				return err
			}
		}
		named, err := keyConstraints(c.ctx, n, target, t, m)
		if err != nil {
			return err
		}
		if len(m.OneOf) > 0 && safeUpdates(c.ctx) && !slices.ContainsFunc(m.OneOf, func(c string) bool { return named[c] }) {
			return paramError(&schema.MissingParam{Resource: t.res.Name, Method: m})
		}
		if c.p.inOrgMode() && !named[schema.AccountIDColumn] {
			// Org mode: a mutation names its account, never all of them.
			return paramError(fmt.Errorf("%s: in org mode %s must name its account (add account_id = '…' to WHERE): it never changes several accounts", t.res.Name, verb))
		}
	}
	return nil
}

// checkSetStatus refuses, before any IAM call, an UPDATE that sets a
// column other than Status or a constant Status that is not valid.
func checkSetStatus(ctx *sql.Context, n sql.Node, t *table) error {
	var err error
	transform.Inspect(n, func(n sql.Node) bool {
		us, ok := n.(*plan.UpdateSource)
		if !ok || err != nil {
			return err == nil
		}
		for _, e := range us.UpdateExprs {
			sf, ok := e.(*expression.SetField)
			if !ok {
				continue
			}
			gf, ok := sf.LeftChild.(*expression.GetField)
			if !ok || !strings.EqualFold(gf.Table(), t.res.Name) && !strings.EqualFold(gf.Table(), tableName(n)) {
				continue
			}
			if !strings.EqualFold(gf.Name(), "Status") {
				err = paramError(fmt.Errorf("access_keys: UPDATE can change only Status, not %s", gf.Name()))
				return false
			}
			if v, ok := constant(ctx, sf.RightChild); ok {
				s := "NULL"
				if v != nil {
					s = fmt.Sprint(v)
				}
				if verr := schema.Validate("Status", s); verr != nil {
					err = paramError(verr)
					return false
				}
			}
		}
		return true
	})
	return err
}

// safeUpdates reports the session's sql_safe_updates.
func safeUpdates(ctx *sql.Context) bool {
	v, err := ctx.GetSessionVariable(ctx, "sql_safe_updates")
	return err != nil || fmt.Sprint(v) != "0"
}

// keyConstraints reads what a DML statement's WHERE and join conditions
// say about its target's parameter columns: which ones it constrains with
// `col = …`, `col <=> …` or `col IN (…)` (a list or a subquery) as a
// conjunct — or with a lookup pinning them — and, where the values are
// constants, whether they are valid: an invalid or NULL key in an UPDATE
// or DELETE is an error before any IAM call, not an empty match.
func keyConstraints(ctx *sql.Context, n sql.Node, target sql.Node, t *table, m schema.Method) (map[string]bool, error) {
	id, name := tableID(target), tableName(target)
	column := func(e sql.Expression) (string, bool) {
		gf, ok := e.(*expression.GetField)
		if !ok {
			return "", false
		}
		if id != 0 && gf.TableId() != 0 {
			if gf.TableId() != id {
				return "", false
			}
		} else if !strings.EqualFold(gf.Table(), name) {
			return "", false
		}
		c, ok := t.res.Column(gf.Name())
		return c.Name, ok && c.Param
	}
	named := map[string]bool{}
	var err error
	check := func(col string, values ...sql.Expression) {
		named[col] = true
		for _, v := range values {
			cv, ok := constant(ctx, v)
			switch {
			case !ok || err != nil:
			case cv == nil:
				err = paramError(&schema.MissingParam{Resource: t.res.Name, Param: col, Method: m})
			default:
				if verr := schema.Validate(col, fmt.Sprint(cv)); verr != nil {
					err = paramError(verr)
				}
			}
		}
	}
	conjuncts := func(e sql.Expression) {
		for _, e := range expression.SplitConjunction(e) {
			switch e := e.(type) {
			case *expression.Equals:
				if col, ok := column(e.Left()); ok {
					check(col, e.Right())
				} else if col, ok := column(e.Right()); ok {
					check(col, e.Left())
				}
			case *expression.NullSafeEquals:
				if col, ok := column(e.Left()); ok {
					check(col, e.Right())
				} else if col, ok := column(e.Right()); ok {
					check(col, e.Left())
				}
			case *expression.InTuple, *expression.HashInTuple:
				in := e.(interface {
					Left() sql.Expression
					Right() sql.Expression
				})
				if col, ok := column(in.Left()); ok {
					if tuple, ok := in.Right().(expression.Tuple); ok {
						check(col, tuple...)
					} else {
						check(col)
					}
				}
			case *plan.InSubquery:
				if col, ok := column(e.Left()); ok {
					check(col)
				}
			}
		}
	}
	transform.Inspect(n, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.Filter:
			conjuncts(n.Expression)
		case *plan.JoinNode:
			if n.Filter != nil {
				conjuncts(n.Filter)
			}
		case *plan.IndexedTableAccess:
			if id == 0 || n.Id() == id {
				for _, col := range append(slices.Clone(m.OneOf), schema.AccountIDColumn) {
					if lookupPins(ctx, n, []string{col}) {
						named[col] = true
					}
				}
			}
		}
		return err == nil
	})
	return named, err
}

// lookupPins reports whether an indexed access pins one of cols: a join
// lookup keyed on it, or a static lookup whose every range names values.
func lookupPins(ctx *sql.Context, n *plan.IndexedTableAccess, cols []string) bool {
	idx, ok := n.Index().(*paramIndex)
	if !ok {
		return false
	}
	pinned := func(i int) bool {
		if !n.IsStatic() {
			return i < len(n.Expressions())
		}
		lookup, err := n.GetLookup(ctx, nil)
		if err != nil {
			return false
		}
		coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
		if !ok || len(coll) == 0 {
			return false
		}
		for _, r := range coll {
			if i >= len(r) {
				return false
			}
			if _, point, isNull := pointValue(r[i]); !point && !isNull {
				return false
			}
		}
		return true
	}
	for i, c := range idx.cols {
		for _, want := range cols {
			if strings.EqualFold(c, want) && pinned(i) {
				return true
			}
		}
	}
	return false
}

// deleteTargets are the table nodes a DELETE deletes from, as the plan
// reads them (explicit targets, DELETE t FROM …, are found by name).
func deleteTargets(n *plan.DeleteFrom) []sql.Node {
	var out []sql.Node
	for _, t := range n.GetDeleteTargets() {
		target := tableNode(t)
		if t != n.Child {
			if found := namedTableNode(n.Child, tableName(target)); found != nil {
				target = found
			}
		}
		out = append(out, target)
	}
	return out
}

// namedTableNode finds the table node of a name below n (not in
// subqueries); name "" finds the first.
func namedTableNode(n sql.Node, name string) sql.Node {
	var found sql.Node
	transform.Inspect(n, func(n sql.Node) bool {
		if found != nil {
			return false
		}
		switch n.(type) {
		case *plan.TableAlias, *plan.ResolvedTable, *plan.IndexedTableAccess:
			if name == "" || strings.EqualFold(tableName(n), name) {
				found = n
				return false
			}
		case *plan.SubqueryAlias:
			return false
		}
		return true
	})
	return found
}

// updateTargets are the table nodes an UPDATE changes: those its SET
// clauses name.
func updateTargets(n *plan.Update) []sql.Node {
	var names []string
	transform.Inspect(n, func(n sql.Node) bool {
		if us, ok := n.(*plan.UpdateSource); ok {
			for _, e := range us.UpdateExprs {
				if sf, ok := e.(*expression.SetField); ok {
					if gf, ok := sf.LeftChild.(*expression.GetField); ok {
						names = append(names, strings.ToLower(gf.Table()))
					}
				}
			}
		}
		return true
	})
	var out []sql.Node
	transform.Inspect(n, func(n sql.Node) bool {
		switch n.(type) {
		case *plan.TableAlias, *plan.ResolvedTable, *plan.IndexedTableAccess:
			for _, name := range names {
				if strings.EqualFold(tableName(n), name) {
					out = append(out, n)
					return false
				}
			}
		case *plan.SubqueryAlias:
			return false
		}
		return true
	})
	return out
}

// tableNode finds the table node at or below n (through filters and the
// like, not into subqueries), or n itself.
func tableNode(n sql.Node) sql.Node {
	if found := namedTableNode(n, ""); found != nil {
		return found
	}
	return n
}

// isScan reports whether a table node reads its table without a lookup.
func isScan(n sql.Node) bool {
	if a, ok := n.(*plan.TableAlias); ok {
		n = a.Child
	}
	_, ok := n.(*plan.ResolvedTable)
	return ok
}

func tableID(n sql.Node) sql.TableId {
	if t, ok := n.(plan.TableIdNode); ok {
		return t.Id()
	}
	return 0
}

func tableName(n sql.Node) string {
	if nn, ok := n.(sql.Nameable); ok {
		return nn.Name()
	}
	return ""
}

// iamTable finds iamsql's table at or below a table node.
func iamTable(n sql.Node) (*table, bool) {
	var found *table
	transform.Inspect(tableNode(n), func(n sql.Node) bool {
		var tn sql.Table
		switch n := n.(type) {
		case *plan.ResolvedTable:
			tn = n.Table
		case *plan.IndexedTableAccess:
			tn = n.TableNode.UnderlyingTable()
		default:
			return found == nil
		}
		if t, ok := innerTable(tn); ok {
			found = t
		}
		return false
	})
	return found, found != nil
}

// innerTable finds iamsql's table behind a GMS table node, if any.
func innerTable(t sql.Table) (*table, bool) {
	switch t := t.(type) {
	case *table:
		return t, true
	case sql.TableWrapper:
		return innerTable(t.Underlying())
	}
	return nil, false
}
