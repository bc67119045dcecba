package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/iamsql/iamsql/schema"
)

// rewritePlan adjusts a statement's final plan before the gate checks it
// and it runs, so that its answer never depends on how it was planned:
//
//   - LIMIT 0 reads no table: the plan under it is replaced by an empty
//     relation of its schema (schema-only work needs no region and makes
//     no IAM call; go-mysql-server also crashes on some aggregates there).
//   - A table the planner left as a plain scan, though the statement pins
//     its region where the planner did not push it (IN in an outer join's
//     ON clause, a hash join, …), is read per pinned region: the conditions
//     stay in the plan, so this only says which regions can produce rows.
//   - An anti-join the planner rewrote as a left lookup join keeps NOT IN's
//     treatment of NULLs (see excludeNulls).
func rewritePlan(ctx *sql.Context, n sql.Node) (sql.Node, error) {
	return rewriteNode(ctx, n, nil)
}

// rewriteNode rewrites n; pins are conjuncts that hold for every row n
// contributes to the result (a row failing one is dropped above).
func rewriteNode(ctx *sql.Context, n sql.Node, pins []sql.Expression) (sql.Node, error) {
	if l, ok := n.(*plan.Limit); ok && isZero(ctx, l.Limit) {
		return l.WithChildren(plan.NewEmptyTableWithSchema(l.Child.Schema()))
	}
	switch nn := n.(type) {
	case *plan.ResolvedTable:
		return pinScan(ctx, nn, nn.Id(), pins)
	case *plan.IndexedTableAccess:
		if err := emptyLookupPinned(ctx, nn, nn.Id(), pins); err != nil {
			return nil, err
		}
	case *plan.TableAlias:
		switch child := nn.Child.(type) {
		case *plan.ResolvedTable:
			pinned, err := pinScan(ctx, child, nn.Id(), pins)
			if err != nil {
				return nil, err
			}
			return nn.WithChildren(pinned)
		case *plan.IndexedTableAccess:
			if err := emptyLookupPinned(ctx, child, nn.Id(), pins); err != nil {
				return nil, err
			}
		}
	case *plan.Filter:
		if fixed := excludeNulls(nn); fixed != nil {
			n = fixed
		} else if fixed := reindexOverSetOp(nn); fixed != nil {
			n = fixed
		}
	}
	n, err := rewriteExpressions(ctx, n)
	if err != nil {
		return nil, err
	}
	children := n.Children()
	if len(children) == 0 {
		return n, nil
	}
	out := make([]sql.Node, len(children))
	for i, c := range children {
		if out[i], err = rewriteNode(ctx, c, childPins(n, i, pins)); err != nil {
			return nil, err
		}
	}
	return n.WithChildren(out...)
}

// childPins are the conjuncts that restrict child i of n: those inherited
// (a WHERE above rejects a NULL-extended row as it rejects any other),
// a Filter's own, and a join's condition on the side whose rows it does
// not preserve unmatched. Nodes that change what a row is (grouping,
// windows, limits, unions, subquery boundaries) pass nothing down.
func childPins(n sql.Node, i int, pins []sql.Expression) []sql.Expression {
	switch n := n.(type) {
	case *plan.Filter:
		return append(append([]sql.Expression(nil), pins...), expression.SplitConjunction(n.Expression)...)
	case *plan.Project, *plan.TableAlias, *plan.Sort, *plan.Distinct, *plan.OrderedDistinct, *plan.HashLookup, *plan.CachedResults:
		return pins
	case *plan.JoinNode:
		out := append([]sql.Expression(nil), pins...)
		if n.Filter == nil {
			return out
		}
		var own bool
		switch op := n.Op; {
		case op.IsFullOuter():
		case op.IsLeftOuter(), op.IsAnti():
			own = i == 1 // the left side's unmatched rows are kept
		case op.IsRightOuter():
			own = i == 0
		case op.IsSemi(), op.IsInner(), op.IsLookup(), op.IsHash(), op.IsMerge(), op.IsRange():
			own = true // an inner join in some physical form
		}
		if own {
			out = append(out, expression.SplitConjunction(n.Filter)...)
		}
		return out
	}
	return nil
}

// pinScan turns a plain scan of an iamsql table whose region the pins fix
// (`region = …` or `region IN (…)` on this table) into a read of those
// regions. Without such a pin it stays a scan, which the gate refuses
// with "requires region".
func pinScan(ctx *sql.Context, rt *plan.ResolvedTable, id sql.TableId, pins []sql.Expression) (sql.Node, error) {
	t, ok := innerTable(rt.Table)
	if !ok || t.res.List == nil || len(t.indexes) == 0 {
		return rt, nil
	}
	idx := t.indexes[0]
	var regions []string
	found := false
	for _, p := range pins {
		col, vals, ok := paramValues(ctx, p)
		if !ok || !strings.EqualFold(col, idx.cols[0]) || !refersTo(p, id) {
			continue
		}
		var these []string
		for _, v := range vals {
			if v != nil {
				these = append(these, fmt.Sprint(v))
			}
		}
		if !found {
			regions, found = these, true
			continue
		}
		regions = intersectStrings(regions, these)
	}
	if !found {
		return rt, nil
	}
	ranges := sql.MySQLRangeCollection{}
	for _, r := range regions {
		if err := schema.Validate(idx.cols[0], r); err != nil {
			return nil, paramError(err)
		}
		ranges = append(ranges, sql.MySQLRange{sql.ClosedRangeColumnExpr(r, r, idx.types[0])})
	}
	lookup := sql.IndexLookup{Index: idx, Ranges: ranges, IsEmptyRange: len(ranges) == 0}
	return plan.NewStaticIndexedAccessForTableNode(ctx, rt, lookup)
}

// emptyLookupPinned refuses a lookup the planner proved empty (a
// contradiction such as `AccessKeyId BETWEEN 'B' AND 'A'` empties every
// column of its range, region included) when nothing pins the table's
// region: the same query read as a full scan needs its region, so the
// answer must not depend on the planner having seen the contradiction.
func emptyLookupPinned(ctx *sql.Context, n *plan.IndexedTableAccess, id sql.TableId, pins []sql.Expression) error {
	t, ok := innerTable(n.TableNode.UnderlyingTable())
	if !ok || t.res.List == nil || !n.IsStatic() {
		return nil
	}
	lookup, err := n.GetLookup(ctx, nil)
	if err != nil {
		return nil // the plan check reports it
	}
	coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok || (!lookup.IsEmptyRange && !slices.ContainsFunc(coll, func(r sql.MySQLRange) bool {
		return len(r) == 0 || slices.ContainsFunc(r, emptyRange)
	})) {
		return nil
	}
	for _, p := range pins {
		if col, _, ok := paramValues(ctx, p); ok && strings.EqualFold(col, "region") && refersTo(p, id) {
			return nil
		}
	}
	return paramError(&schema.MissingParam{Resource: t.res.Name, Param: "region", Method: t.selectMethod()})
}

// refersTo reports whether e's columns belong to the table id.
func refersTo(e sql.Expression, id sql.TableId) bool {
	ok := false
	transform.InspectExpr(e, func(e sql.Expression) bool {
		if gf, isGF := e.(*expression.GetField); isGF {
			ok = gf.TableId() == id
			return !ok
		}
		return false
	})
	return ok
}

func intersectStrings(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// rewriteExpressions rewrites the plans of n's subqueries.
func rewriteExpressions(ctx *sql.Context, n sql.Node) (sql.Node, error) {
	if _, ok := n.(sql.Expressioner); !ok {
		return n, nil
	}
	out, _, err := transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		sq, ok := e.(*plan.Subquery)
		if !ok || sq.Query == nil {
			return e, transform.SameTree, nil
		}
		q, err := rewriteNode(ctx, sq.Query, nil)
		if err != nil {
			return nil, transform.SameTree, err
		}
		return sq.WithQuery(q), transform.NewTree, nil
	})
	return out, err
}

func isZero(ctx *sql.Context, e sql.Expression) bool {
	v, ok := constant(ctx, e)
	return ok && v == "0"
}

// excludeNulls repairs go-mysql-server's rewrite of an anti-join (NOT IN
// a subquery) into a left join: FILTER(right IS NULL) over LEFT JOIN of a
// projection of the right side's compared columns. Its logical form
// (LeftOuterExcludeNulls) drops a row whose comparison is NULL, as NOT IN
// does; the physical forms v0.20.0 turns it into (nested loop, lookup,
// merge: JoinType.AsLookup, AsMerge and the memo's plain left join) forget
// that and keep the row. They run on the same row-by-row executor as the
// nested loop (a merge join's sorted inputs are just inputs to it), so
// giving the join its operator back is enough.
func excludeNulls(f *plan.Filter) *plan.Filter {
	j, ok := f.Child.(*plan.JoinNode)
	if !ok {
		return nil
	}
	op := plan.JoinTypeLeftOuterExcludeNulls
	switch j.Op {
	case plan.JoinTypeLeftOuter, plan.JoinTypeLeftOuterLookup, plan.JoinTypeLeftOuterMerge:
	case plan.JoinTypeLeftOuterHash:
		op = plan.JoinTypeLeftOuterHashExcludeNulls
	default:
		return nil
	}
	right, ok := j.Right().(*plan.Project)
	if !ok {
		return nil
	}
	conds := expression.SplitConjunction(f.Expression)
	if len(conds) != len(right.Projections) {
		return nil
	}
	for i, c := range conds {
		isNull, ok := c.(*expression.IsNull)
		if !ok {
			return nil
		}
		gf, ok1 := isNull.Child.(*expression.GetField)
		pf, ok2 := right.Projections[i].(*expression.GetField)
		if !ok1 || !ok2 || !strings.EqualFold(gf.Table(), pf.Table()) || !strings.EqualFold(gf.Name(), pf.Name()) {
			return nil
		}
	}
	nj := *j
	nj.Op = op
	out, err := f.WithChildren(&nj)
	if err != nil {
		return nil
	}
	return out.(*plan.Filter)
}

// reindexOverSetOp repairs a filter go-mysql-server v0.20.0 pushes from a
// derived table into the UNION it wraps: it names the first branch's
// column but keeps that column's position in its table, not in the
// union's rows, so a branch that lists columns in another order than its
// table would be filtered on the wrong column. The union's columns are
// the first branch's names: the filter's columns are found there by name.
func reindexOverSetOp(f *plan.Filter) *plan.Filter {
	so, ok := f.Child.(*plan.SetOp)
	if !ok {
		return nil
	}
	sch := so.Schema()
	changed := false
	e, _, err := transform.Expr(f.Expression, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		gf, ok := e.(*expression.GetField)
		if !ok {
			return e, transform.SameTree, nil
		}
		at := -1
		for i, c := range sch {
			if strings.EqualFold(c.Name, gf.Name()) {
				if at >= 0 {
					return e, transform.SameTree, nil // ambiguous: leave it
				}
				at = i
			}
		}
		if at < 0 || at == gf.Index() {
			return e, transform.SameTree, nil
		}
		changed = true
		return gf.WithIndex(at), transform.NewTree, nil
	})
	if err != nil || !changed {
		return nil
	}
	out, err := f.WithExpressions(e)
	if err != nil {
		return nil
	}
	return out.(*plan.Filter)
}
