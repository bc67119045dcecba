package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// Statement limits. go-mysql-server plans a statement (planbuilder,
// analyzer, join ordering) without ever looking at its context: once
// planning has begun, neither a statement timeout nor Ctrl-C nor SIGTERM
// can stop it, and its cost grows faster than the statement's size in
// several shapes — with the square of an expression's depth (`1+1+…+1`:
// 800 terms took 0.39 s of CPU, 8,000 terms 33 s), with the cube of a
// UNION's branches, exponentially with nested subqueries and with the
// tables of one join. So that every statement is planned well within the
// second a deadline allows, iamsql refuses, before planning, a statement
// beyond any of these limits. Each was measured on a 2-core machine
// (README: Limits): at a limit, the costliest shape found plans in about
// 0.05-0.25 s of CPU.
const (
	// MaxStatementBytes is the longest statement, as MySQL's
	// max_allowed_packet (which the server sets to the same).
	MaxStatementBytes = 4 << 20
	// maxExprDepth: a chain of 256 '+' plans in about 0.04 s (800: 0.39 s,
	// 1,600: 1.7 s; NOT and CASE chains cost less per level). A level of
	// AND, OR or XOR counts one eighth: a chain of 2,048 ORs plans in
	// about 0.06 s (6,400: 0.49 s).
	maxExprDepth    = 256
	logicalPerLevel = 8
	// maxExprNodes bounds an expression's nodes, arithmetic operators
	// and window functions counting weightArithmetic each (a balanced sum
	// of 12,800 terms: 0.45 s; 32,768 OR'ed conditions on a table: 0.73
	// s).
	maxExprNodes = 20_000
	// maxExprWork bounds the sum, over expression nodes, of weight ×
	// depth: several long chains cost as much as one deeper chain (two
	// chains of 250 '+' plan in 0.07 s, in two UNION branches 0.13 s).
	maxExprWork = 750_000
	// maxInList is the most values of one IN list (a lookup of more than
	// 10,000 parameter combinations is refused anyway).
	maxInList = 10_000
	// maxSubqueries bounds subqueries in expressions (scalar, IN, EXISTS):
	// 64 plan in 0.03 s, 256 in 0.26 s, 512 in 1.1 s.
	maxSubqueries = 64
	// maxSubqueryWork bounds the sum over those subqueries of 7^(depth-1)
	// (each level of nesting costs about 7 times the one above): seven
	// chains of four nested subqueries.
	maxSubqueryWork = 7 * (1 + 7 + 49 + 343)
	// maxSubqueryDepth bounds subqueries nested in subqueries'
	// expressions: `SELECT 1 + (SELECT 1 + (…))` 4 deep plans in 0.02
	// s, 5 in 0.15 s, 6 in 1.0 s, 7 in 5.2 s. Derived tables (FROM (…))
	// and CTEs do not count: 64 nested derived tables plan in 6 ms.
	maxSubqueryDepth = 4
	// maxQueryBlocks bounds the SELECTs of a statement (subqueries,
	// derived tables, CTEs, UNION branches).
	maxQueryBlocks = 256
	// maxSetOpWork bounds the sum over UNION/INTERSECT/EXCEPT trees of
	// the square of their branches: one UNION of 64 SELECTs plans in
	// 0.05 s, 128 in 0.28 s, 256 in 2.1 s.
	maxSetOpWork = 64 * 64
	// maxJoinTables bounds the tables of one join: go-mysql-server orders
	// joins of up to 15 tables by trying every order; 8 tables plan in
	// 0.01-0.04 s, 9 in 0.08-0.16 s, 10 in 1.3-2.8 s, 11 in 7 s.
	maxJoinTables = 8
	// maxJoinWork bounds the sum over joins of 3^(tables-1): many joins
	// cost as one of 8 tables (64 UNION branches of 5-table joins: 0.39
	// s).
	maxJoinWork = 2187

	weightArithmetic = 8

	// ErrNumStatementLimit is MySQL's ER_CAPACITY_EXCEEDED.
	ErrNumStatementLimit = 3170
	// ErrNumPacketTooLarge is MySQL's ER_NET_PACKET_TOO_LARGE.
	ErrNumPacketTooLarge = 1153
)

// LimitError refuses a statement beyond one of the statement limits.
type LimitError struct {
	// What is limited, as the user sees the statement.
	What      string
	Got, Max  int
	Guideline string
}

// limitPrefix starts every LimitError's message: go-mysql-server keeps
// only the text of an error of the parser, and the message gives it its
// number back (limitErrorNumber).
const limitPrefix = "statement refused before planning: "

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s%s is %d, more than the %d iamsql plans (%s; a statement is planned without any check of its timeout, so planning is bounded by these limits; no IAM call was made)",
		limitPrefix, e.What, e.Got, e.Max, e.Guideline)
}

// PacketTooLargeError refuses a statement longer than MaxStatementBytes.
type PacketTooLargeError struct{ Size, Max int }

const packetPrefix = "Got a packet bigger than 'max_allowed_packet' bytes"

func (e *PacketTooLargeError) Error() string {
	return fmt.Sprintf("%s: the statement has %d bytes, max_allowed_packet is %d", packetPrefix, e.Size, e.Max)
}

// limitErrorNumber is the MySQL number and state of an error whose
// message is one of the statement limits'.
func limitErrorNumber(msg string) (int, string, bool) {
	switch {
	case strings.HasPrefix(msg, limitPrefix):
		return ErrNumStatementLimit, "HY000", true
	case strings.HasPrefix(msg, packetPrefix):
		return ErrNumPacketTooLarge, "08S01", true
	}
	return 0, "", false
}

// CheckStatementSize refuses a statement longer than max_allowed_packet
// before it is parsed.
func CheckStatementSize(query string) error {
	if len(query) > MaxStatementBytes {
		return &PacketTooLargeError{Size: len(query), Max: MaxStatementBytes}
	}
	return nil
}

// checkLimits refuses a parsed statement beyond a statement limit.
func checkLimits(stmt ast.Statement) error {
	if stmt == nil {
		return nil
	}
	s := &shape{}
	err := s.walk(stmt, walkState{})
	if errors.Is(err, errStopWalk) {
		err = nil
	}
	if err != nil {
		return err
	}
	return s.check()
}

// shape is what checkLimits counts in a statement.
type shape struct {
	exprNodes, exprWork     int
	subqueries, queryBlocks int
	subqueryWork            int
	setOpWork, joinWork     int
	limit                   *LimitError
}

// walkState is where the walk is.
type walkState struct {
	// exprDepth is in eighths of a level (logicalPerLevel).
	exprDepth     int
	subqueryDepth int
	// inTable is set for the child of a table expression: a subquery
	// there is a derived table, anywhere else an expression.
	inTable bool
	inSetOp bool
}

var errStopWalk = errors.New("stop")

func (s *shape) fail(what string, got, limit int, guideline string) error {
	s.limit = &LimitError{What: what, Got: got, Max: limit, Guideline: guideline}
	return s.limit
}

func (s *shape) check() error {
	switch {
	case s.limit != nil:
		return s.limit
	case s.exprNodes > maxExprNodes:
		return s.fail("the size of its expressions (nodes; arithmetic and window functions count 8)", s.exprNodes, maxExprNodes, "shorten the expressions or split the statement")
	case s.exprWork > maxExprWork:
		return s.fail("the work of its deep expressions (the sum of each node's depth)", s.exprWork, maxExprWork, "use shorter chains of operators")
	case s.subqueries > maxSubqueries:
		return s.fail("the number of its subqueries in expressions", s.subqueries, maxSubqueries, "use a join or a derived table")
	case s.subqueryWork > maxSubqueryWork:
		return s.fail("the work of its nested subqueries (the sum of 7^(depth-1))", s.subqueryWork, maxSubqueryWork, "use joins or derived tables (FROM (SELECT …)) instead of nested subqueries")
	case s.queryBlocks > maxQueryBlocks:
		return s.fail("the number of its SELECTs", s.queryBlocks, maxQueryBlocks, "split the statement")
	case s.setOpWork > maxSetOpWork:
		return s.fail("the work of its UNIONs (the sum of the squares of their branches)", s.setOpWork, maxSetOpWork, "split the UNION into several statements")
	case s.joinWork > maxJoinWork:
		return s.fail("the work of its joins (the sum of 3^(tables-1) over its joins)", s.joinWork, maxJoinWork, "join fewer tables per statement")
	}
	return nil
}

// children are a node's direct children.
func children(n ast.SQLNode) []ast.SQLNode {
	var out []ast.SQLNode
	first := true
	_ = ast.Walk(func(c ast.SQLNode) (bool, error) {
		if first {
			first = false
			return true, nil
		}
		out = append(out, c)
		return false, nil
	}, n)
	return out
}

func (s *shape) walk(n ast.SQLNode, at walkState) error {
	if n == nil {
		return nil
	}
	switch n := n.(type) {
	case *ast.Subquery:
		if !at.inTable {
			s.subqueries++
			at.subqueryDepth++
			if at.subqueryDepth > maxSubqueryDepth {
				return s.fail("the nesting of its subqueries in expressions", at.subqueryDepth, maxSubqueryDepth, "use joins or derived tables (FROM (SELECT …)) instead of nested subqueries")
			}
			s.subqueryWork += pow(7, at.subqueryDepth-1)
		}
		at.exprDepth, at.inTable, at.inSetOp = 0, false, false
		return s.walkChildren(n, at)
	case *ast.AliasedTableExpr:
		at.inTable = true
		return s.walkChildren(n, at)
	case *ast.Select:
		s.queryBlocks++
		if s.queryBlocks > maxQueryBlocks {
			return s.fail("the number of its SELECTs", s.queryBlocks, maxQueryBlocks, "split the statement")
		}
		if t := countTables(n.From); t > 1 {
			if t > maxJoinTables {
				return s.fail("the number of tables in one join", t, maxJoinTables, "join fewer tables per SELECT")
			}
			s.joinWork += pow(3, t-1)
		}
		at.inSetOp = false
		return s.walkChildren(n, at)
	case *ast.SetOp:
		if !at.inSetOp {
			k := setOpBranches(n)
			s.setOpWork += k * k
			if s.setOpWork > maxSetOpWork {
				return s.fail("the work of its UNIONs (the sum of the squares of their branches)", s.setOpWork, maxSetOpWork, "split the UNION into several statements")
			}
		}
		at.inSetOp = true
		return s.walkChildren(n, at)
	case *ast.ParenSelect:
		return s.walkChildren(n, at)
	case ast.ValTuple:
		if len(n) > maxInList {
			return s.fail("the length of an IN list", len(n), maxInList, "split the list over several statements")
		}
	}
	at.inTable = false
	if _, ok := n.(ast.Expr); ok {
		w := exprWeight(n)
		switch n.(type) {
		case *ast.AndExpr, *ast.OrExpr, *ast.XorExpr:
			at.exprDepth++
		default:
			at.exprDepth += logicalPerLevel
		}
		if at.exprDepth > maxExprDepth*logicalPerLevel {
			return s.fail("the nesting depth of its expressions", (at.exprDepth+logicalPerLevel-1)/logicalPerLevel, maxExprDepth, "use shorter chains of operators or nested functions, IN (…) rather than OR")
		}
		s.exprNodes += w
		s.exprWork += w * at.exprDepth / logicalPerLevel
		if s.exprNodes > 4*maxExprNodes || s.exprWork > 4*maxExprWork {
			return s.check() // no need to count further
		}
	}
	at.inSetOp = false
	return s.walkChildren(n, at)
}

func (s *shape) walkChildren(n ast.SQLNode, at walkState) error {
	for _, c := range children(n) {
		if err := s.walk(c, at); err != nil {
			return err
		}
	}
	return nil
}

// exprWeight is how much a node counts: arithmetic and window functions
// cost several times what other nodes do to plan.
func exprWeight(n ast.SQLNode) int {
	switch n := n.(type) {
	case *ast.BinaryExpr:
		return weightArithmetic
	case *ast.FuncExpr:
		if n.Over != nil {
			return weightArithmetic
		}
	}
	return 1
}

// countTables counts the tables one FROM joins (not those inside its
// subqueries).
func countTables(from ast.TableExprs) int {
	n := 0
	var count func(t ast.TableExpr)
	count = func(t ast.TableExpr) {
		switch t := t.(type) {
		case *ast.JoinTableExpr:
			count(t.LeftExpr)
			count(t.RightExpr)
		case *ast.ParenTableExpr:
			for _, e := range t.Exprs {
				count(e)
			}
		case nil:
		default:
			n++
		}
	}
	for _, t := range from {
		count(t)
	}
	return n
}

// setOpBranches counts the SELECTs a tree of set operations combines.
func setOpBranches(n ast.SelectStatement) int {
	switch n := n.(type) {
	case *ast.SetOp:
		return setOpBranches(n.Left) + setOpBranches(n.Right)
	case *ast.ParenSelect:
		return setOpBranches(n.Select)
	}
	return 1
}

func pow(base, n int) int {
	r := 1
	for i := 0; i < n; i++ {
		r *= base
	}
	return r
}

// maxAllowedPacketVariable is @@max_allowed_packet: MaxStatementBytes
// (go-mysql-server says 1 GiB), read-only, so that clients that size
// their packets by it (go-sql-driver with maxAllowedPacket=0) and users
// read what is enforced.
func maxAllowedPacketVariable() sql.SystemVariable {
	return &sql.MysqlSystemVariable{
		Name:    "max_allowed_packet",
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
		Dynamic: false,
		Type:    types.NewSystemUintType("max_allowed_packet", 1024, 1073741824),
		Default: uint64(MaxStatementBytes),
	}
}
