package oracle

import (
	"strconv"

	"github.com/iamsql/iamsql/schema"
)

// The queries over the user-context tables (user_tags, mfa_devices,
// login_profiles, user_groups, user_attached_policies, user_policies) and
// credential_report: joins with users, access_keys and each other on
// UserName (the pushdown of a join), semi- and anti-joins through EXISTS
// and IN over them, and counts per user. Their single-table queries and
// aggregates come from singleTable and aggregate (baseTable).

func (g *Generator) context() *Select {
	g.tag("shape:context")
	switch g.n(10) {
	case 0, 1, 2:
		return g.contextJoin()
	case 3:
		return g.reportJoin()
	case 4, 5, 6:
		return g.contextSemiAnti()
	default:
		return g.contextCount()
	}
}

// contextJoin joins a context table with users, access_keys or another
// context table (on UserName, mostly).
func (g *Generator) contextJoin() *Select {
	g.tag("shape:context-join")
	ct := pickOf(g, contextTables)
	other := pickOf(g, []string{schema.Users.Name, schema.AccessKeys.Name, pickOf(g, contextTables)})
	oa := shortAlias(other)
	if other == ct {
		oa += "2"
	}
	a, b := g.ref(ct, shortAlias(ct)), g.ref(other, oa)
	if g.chance(0.5) {
		a, b = b, a
	}
	s := newSelect()
	g.joinTwo(s, a, b)
	g.hint(s, []string{a.alias, b.alias})
	g.joinItems(s, []*tref{a, b})
	s.Keys = joinKeys([]*tref{a, b})
	g.orderAndLimit(s, refCols([]*tref{a, b}), false)
	return s
}

// reportJoin joins credential_report with users (user = UserName): the
// report's <root_account> line has no user.
func (g *Generator) reportJoin() *Select {
	g.tag("shape:report-join")
	a, b := g.ref(schema.Users.Name, "u"), g.ref(schema.CredentialReport.Name, "cr")
	if g.chance(0.5) {
		a, b = b, a
	}
	s := newSelect()
	on := []Cond{{SQL: a.col(userCol(a)) + " = " + b.col(userCol(b))}}
	g.joinTwoOn(s, a, b, on)
	g.joinItems(s, []*tref{a, b})
	s.Keys = joinKeys([]*tref{a, b})
	g.orderAndLimit(s, refCols([]*tref{a, b}), false)
	return s
}

func userCol(r *tref) string {
	if r.t.name == schema.CredentialReport.Name {
		return "user"
	}
	return "UserName"
}

// contextSemiAnti filters users, access_keys or a context table by
// [NOT] EXISTS / [NOT] IN over a context table.
func (g *Generator) contextSemiAnti() *Select {
	g.tag("shape:context-semi-anti")
	outer := pickOf(g, []string{schema.Users.Name, schema.Users.Name, schema.AccessKeys.Name, pickOf(g, contextTables)})
	inner := pickOf(g, contextTables)
	o := g.ref(outer, shortAlias(outer))
	s := newSelect()
	s.From = []FromItem{{Source: o.source()}}
	s.Where = g.where(o, nil, 1)
	g.ctx = "subquery"
	not := g.chance(0.4)
	notKW := ""
	if not {
		notKW = "NOT "
	}
	byUser := func(r *tref) []string { return []string{r.col("UserName") + " = " + o.col("UserName")} }
	var cond string
	switch g.n(3) {
	case 0:
		if not {
			g.tag("join:anti-not-exists")
		} else {
			g.tag("join:semi-exists")
		}
		cond = notKW + "EXISTS (" + g.subSelect(inner, constant("1"), byUser, 2) + ")"
	case 1:
		if not {
			g.tag("join:anti-not-in")
		} else {
			g.tag("join:semi-in")
		}
		cond = o.col("UserName") + " " + notKW + "IN (" + g.subSelect(inner, colOf("UserName"), nil, 2) + ")"
	default:
		// Users with more than n rows in the context table: a correlated
		// scalar subquery.
		g.tag("subquery:scalar")
		n := strconv.Itoa(g.n(3))
		cond = "(" + g.subSelect(inner, constant("COUNT(*)"), byUser, 1) + ") > " + n
	}
	return g.filteredOuter(s, o, cond)
}

// contextCount counts each user's rows of a context table: users LEFT
// JOIN the table, or the table alone, grouped by UserName.
func (g *Generator) contextCount() *Select {
	g.tag("shape:context-count")
	g.tag("aggregate")
	g.tag("groupby")
	ct := pickOf(g, contextTables)
	x := g.ref(ct, shortAlias(ct))
	s := newSelect()
	counted := x.col(x.t.cols[1].name)
	by := x
	if g.chance(0.6) {
		g.tag("join:left")
		u := g.ref(schema.Users.Name, "u")
		on := []Cond{{SQL: x.col("UserName") + " = " + u.col("UserName")}, x.pin()}
		s.From = []FromItem{{Source: u.source()}, {Join: "LEFT JOIN", Source: x.source(), On: on}}
		s.Where = g.where(u, nil, 1)
		by = u
	} else {
		s.From = []FromItem{{Source: x.source()}}
		s.Where = g.where(x, nil, 2)
	}
	s.GroupBy = []string{by.col("UserName")}
	s.Items = []Item{{Expr: by.col("UserName"), Alias: "uname"}, {Expr: "COUNT(" + counted + ")", Alias: "n"}}
	if g.chance(0.3) {
		s.Items = append(s.Items, Item{Expr: "COUNT(DISTINCT " + x.col("region") + ")", Alias: "nr"})
	}
	if g.chance(0.4) {
		g.tag("having")
		s.Having = []Cond{{SQL: "COUNT(" + counted + ") >= " + strconv.Itoa(g.n(3))}}
	}
	s.Keys = [][]string{{"uname"}}
	g.orderAndLimit(s, nil, false)
	return s
}
