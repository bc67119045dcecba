package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/schema"
)

// Engine is the SQL engine the shell, exec and the server share: GMS over
// the iam database, with the StackQL front-end and iamsql's plan checks.
type Engine struct {
	SQL      *sqle.Engine
	Provider *Provider
	nextID   atomic.Uint32
}

// ruleCheckParams is the id of iamsql's plan check (outside GMS's range).
const ruleCheckParams analyzer.RuleId = 10000

// The plan check runs last for every statement. GMS analyzes simple
// INSERT, UPDATE and DELETE statements with batches of their own that
// include only the package-level OnceAfterAll rules, so the rule is added
// there (before any analyzer is built) rather than through a Builder.
func init() {
	analyzer.OnceAfterAll = append(analyzer.OnceAfterAll, analyzer.Rule{
		Id: ruleCheckParams,
		Apply: func(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
			p, ok := a.Catalog.DbProvider.(*Provider)
			if !ok {
				return n, transform.SameTree, nil
			}
			s := sessionOf(ctx)
			readOnly := p.readOnly || (s != nil && s.ReadOnly)
			if err := walkPlan(ctx, n, schema.Select, readOnly); err != nil {
				return n, transform.SameTree, ToSQLError(err)
			}
			if s != nil {
				s.setInventory(planInventory(ctx, p, n))
			}
			return n, transform.SameTree, nil
		},
	})
}

// NewEngine builds the engine. It makes no IAM call and loads no AWS
// configuration: that happens on the first statement that needs it.
func NewEngine(cfg Config) *Engine {
	p := NewProvider(cfg)
	b := analyzer.NewBuilder(p)
	// GMS drops an ORDER BY over an index prefix on the assumption that an
	// index scan returns rows in index order; iamsql's parameter indexes do
	// not (IAM decides the order), so that rule is removed.
	for _, r := range analyzer.OnceAfterDefault {
		if r.Id.String() == "replaceIdxSort" {
			b.RemoveOnceAfterRule(r.Id)
		}
	}
	e := sqle.New(b.Build(), &sqle.Config{})
	e.Parser = frontEnd{inner: sql.GlobalParser}
	return &Engine{SQL: e, Provider: p}
}

// NewSession starts a session (a connection, a shell) with iam as its
// current database.
func (e *Engine) NewSession(user, address string) *Session {
	base := sql.NewBaseSessionWithClientServer("iamsql", sql.Client{User: user, Address: address}, e.nextID.Add(1))
	base.SetCurrentDatabase(DatabaseName)
	return NewSession(base)
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
	stats := &CallStats{}
	sctx := sql.NewContext(WithCallStats(ctx, stats), sql.WithSession(s), sql.WithQuery(query))
	// Rewriting here (the parser does it too) keeps the MySQL error
	// numbers of front-end errors, which GMS would turn into syntax errors.
	rewritten, rerr := Rewrite(query)
	if rerr != nil {
		return &Result{Ctx: sctx, Stats: stats}, ToSQLError(rerr)
	}
	sch, rows, _, err := e.SQL.Query(sctx, rewritten)
	if err != nil {
		return &Result{Ctx: sctx, Stats: stats}, scrubSecrets(sctx, ToSQLError(err))
	}
	return &Result{Schema: sch, Rows: rows, Ctx: sctx, Stats: stats}, nil
}

// innerTable finds iamsql's table behind a GMS table node, if any.
func innerTable(t sql.Table) (*table, bool) {
	switch t := t.(type) {
	case *accessKeysTable:
		return t.table, true
	case *usersTable:
		return t.table, true
	case *accountSummaryTable:
		return t.table, true
	case *createdKeysTable:
		return t.table, true
	case *methodsTable:
		return t.table, true
	case *table:
		return t, true
	case sql.TableWrapper:
		return innerTable(t.Underlying())
	}
	return nil, false
}

// walkPlan refuses, before any IAM call, a plan that would call a method
// without its required parameters, or that would change IAM on a
// read-only engine.
func walkPlan(ctx *sql.Context, n sql.Node, verb schema.Verb, readOnly bool) error {
	switch n := n.(type) {
	case *plan.ShowColumns, *plan.ShowCreateTable, *plan.ShowIndexes, *plan.DescribeQuery:
		return nil // these describe a table or plan; they make no IAM call
	case *plan.InsertInto:
		if t, ok := resolvedIamTable(n.Destination); ok && readOnly && t.res.Name == schema.AccessKeys.Name {
			return &ReadOnlyError{Statement: "INSERT INTO " + t.res.Name}
		}
		return walkPlan(ctx, n.Source, schema.Select, readOnly)
	case *plan.DeleteFrom:
		verb = schema.Delete
		if err := checkMutation(n, verb, readOnly); err != nil {
			return err
		}
	case *plan.Update:
		verb = schema.Update
		if err := checkMutation(n, verb, readOnly); err != nil {
			return err
		}
	case *plan.Call:
		if readOnly {
			if ref, ok := schema.LookupMethod(n.Name); ok && ref.Method.Mutating {
				return &ReadOnlyError{Statement: "CALL " + n.Name}
			}
		}
	case *plan.ResolvedTable:
		if t, ok := innerTable(n.Table); ok {
			return checkAccess(t, verb, nil)
		}
	case *plan.IndexedTableAccess:
		if t, ok := innerTable(n.TableNode.UnderlyingTable()); ok {
			return checkAccess(t, verb, constrained(ctx, n))
		}
		return nil
	}
	for _, c := range n.Children() {
		if err := walkPlan(ctx, c, verb, readOnly); err != nil {
			return err
		}
	}
	return nil
}

func resolvedIamTable(n sql.Node) (*table, bool) {
	var found *table
	transform.Inspect(n, func(n sql.Node) bool {
		var tn sql.Table
		switch n := n.(type) {
		case *plan.ResolvedTable:
			tn = n.Table
		case *plan.IndexedTableAccess:
			tn = n.TableNode.UnderlyingTable()
		default:
			return true
		}
		if t, ok := innerTable(tn); ok {
			found = t
			return false
		}
		return true
	})
	return found, found != nil
}

// constrained lists the parameter columns an indexed access gives values
// for: the non-full ranges of a static lookup, or the key prefix of a join
// lookup.
func constrained(ctx *sql.Context, n *plan.IndexedTableAccess) map[string]bool {
	idx, ok := n.Index().(*paramIndex)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	if !n.IsStatic() {
		for i := range n.Expressions() {
			if i < len(idx.cols) {
				out[idx.cols[i]] = true
			}
		}
		return out
	}
	lookup, err := n.GetLookup(ctx, nil)
	if err != nil {
		return out
	}
	coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok || len(coll) == 0 {
		return out
	}
	// A parameter is given only when every range names single values for
	// it: `AccessKeyId IS NOT NULL` or `> 'A'` is not an AccessKeyId.
	for i, col := range idx.cols {
		given := true
		for _, r := range coll {
			if i >= len(r) {
				given = false
				break
			}
			if _, ok, isNull := pointValue(r[i]); !ok && !isNull {
				given = false
			}
		}
		if given {
			out[col] = true
		}
	}
	return out
}

// checkAccess enforces the required parameters of the method a verb maps
// to, for the ones that come from WHERE (parameter columns).
func checkAccess(t *table, verb schema.Verb, given map[string]bool) error {
	m, ok := t.res.Method(verb)
	if !ok {
		if verb == schema.Select {
			return nil
		}
		if t.res.SessionScoped {
			return paramError(errors.New(t.res.Name + " is read-only: it lists the keys this connection created"))
		}
		return paramError(errors.New(t.res.Name + " does not support " + string(verb)))
	}
	// A scan (no lookup at all) means the first index column, region, was
	// not given: name that rather than whatever comes first in Required.
	if given == nil && len(t.indexes) > 0 {
		first := t.indexes[0].cols[0]
		for _, req := range m.Required {
			if req == first {
				return paramError(&schema.MissingParam{Resource: t.res.Name, Param: first, Method: m})
			}
		}
	}
	for _, req := range m.Required {
		if c, ok := t.res.Column(req); ok && c.Param && !given[req] {
			return paramError(&schema.MissingParam{Resource: t.res.Name, Param: req, Method: m})
		}
	}
	return nil
}

// checkMutation refuses an UPDATE or DELETE of an iamsql table on a
// read-only engine, and one that filters on a column fetched only for
// SELECT (its value would be NULL here, and the wrong keys could change).
func checkMutation(n sql.Node, verb schema.Verb, readOnly bool) error {
	t, ok := resolvedIamTable(n)
	if !ok {
		return nil
	}
	if readOnly {
		return &ReadOnlyError{Statement: string(verb) + " " + t.res.Name}
	}
	var bad string
	transform.InspectExpressions(n, func(e sql.Expression) bool {
		if gf, ok := e.(*expression.GetField); ok {
			if c, ok := t.res.Column(gf.Name()); ok && c.Hydrated != "" {
				bad = c.Name
				return false
			}
		}
		return true
	})
	if bad != "" {
		return paramError(fmt.Errorf("%s: %s cannot filter on %s; SELECT the keys first, then %s them by AccessKeyId", t.res.Name, verb, bad, strings.ToLower(string(verb))))
	}
	return nil
}
