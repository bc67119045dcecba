package oracle

import (
	"strconv"
	"strings"

	"github.com/iamsql/iamsql/schema"
)

func newSelect() *Select { return &Select{Limit: -1} }

// singleTableOn builds SELECT … FROM one reference.
func (g *Generator) singleTableOn(r *tref, inner bool) (*Select, []kind) {
	s := newSelect()
	s.From = []FromItem{{Source: r.source()}}
	s.Where = g.where(r, nil, 3)
	var kinds []kind
	if !inner && g.chance(0.12) {
		g.tag("select:star")
		if r.alias != "" && g.chance(0.5) {
			s.Items = []Item{{Expr: r.alias + ".*"}}
		} else {
			s.Items = []Item{{Expr: "*"}}
		}
		if r.t.col("LastUsedDate") != nil {
			g.tag("hydrated:select")
		}
	} else {
		kinds = g.items(s, []*tref{r}, 1+g.n(4))
	}
	if k := r.keys(); k != nil {
		s.Keys = [][]string{k}
	}
	if g.chance(0.08) {
		g.tag("distinct")
		s.Distinct = true
		s.Keys = nil
		g.orderAndLimit(s, nil, inner)
	} else {
		var extra []string
		for _, c := range r.t.cols {
			extra = append(extra, r.col(c.name))
		}
		g.orderAndLimit(s, extra, inner)
	}
	return s, kinds
}

func (g *Generator) singleTable() *Select {
	g.tag("shape:single")
	table := g.baseTable()
	alias := ""
	if g.chance(0.6) {
		alias = shortAlias(table)
	}
	s, _ := g.singleTableOn(g.ref(table, alias), false)
	return s
}

// aggregateOn builds SELECT group…, aggregates… FROM r GROUP BY … HAVING ….
func (g *Generator) aggregateOn(r *tref, inner bool) (*Select, []kind) {
	g.tag("aggregate")
	s := newSelect()
	s.From = []FromItem{{Source: r.source()}}
	s.Where = g.where(r, nil, 2)
	var kinds []kind
	ng := g.n(3)
	var keyAliases []string
	g.ctx = "groupby"
	for i := 0; i < ng; i++ {
		c := g.pickCol(r)
		g.useCol(c)
		e := r.col(c.name)
		k := c.kind
		if c.kind == kDate && g.chance(0.5) {
			e, k = "YEAR("+e+")", kInt
		} else if c.kind == kStr && g.chance(0.2) {
			e = "LOWER(" + e + ")"
		}
		dup := false
		for _, x := range s.GroupBy {
			dup = dup || x == e
		}
		if dup {
			continue
		}
		s.GroupBy = append(s.GroupBy, e)
		alias := "g" + strconv.Itoa(len(s.GroupBy)-1)
		s.Items = append(s.Items, Item{Expr: e, Alias: alias})
		keyAliases = append(keyAliases, alias)
		kinds = append(kinds, k)
	}
	if len(s.GroupBy) > 0 {
		g.tag("groupby")
	}
	g.ctx = "select"
	for i, n := 0, 1+g.n(3); i < n; i++ {
		e, k := g.aggregateExpr(r)
		s.Items = append(s.Items, Item{Expr: e, Alias: "a" + strconv.Itoa(i)})
		kinds = append(kinds, k)
	}
	if g.chance(0.35) {
		g.tag("having")
		g.ctx = "having"
		e, _ := g.aggregateExpr(r)
		for strings.HasPrefix(e, "GROUP_CONCAT") {
			// go-mysql-server v0.20.0 fails on GROUP_CONCAT in HAVING
			// ("table not found", "unable to find field").
			e, _ = g.aggregateExpr(r)
		}
		var cond string
		switch g.n(3) {
		case 0:
			cond = e + " > " + strconv.Itoa(g.n(3))
		case 1:
			cond = e + " IS NOT NULL"
		default:
			cond = "COUNT(*) >= " + strconv.Itoa(1+g.n(2))
		}
		s.Having = append(s.Having, Cond{SQL: cond})
	}
	g.ctx = "select"
	s.Keys = [][]string{keyAliases}
	g.orderAndLimit(s, nil, inner)
	return s, kinds
}

// aggregateExpr is an aggregate over one reference.
func (g *Generator) aggregateExpr(r *tref) (string, kind) {
	c := g.pickCol(r)
	g.useCol(c)
	x := r.col(c.name)
	switch g.n(9) {
	case 0:
		return "COUNT(*)", kInt
	case 1:
		return "COUNT(" + x + ")", kInt
	case 2:
		return "COUNT(DISTINCT " + x + ")", kInt
	case 3:
		return "MIN(" + x + ")", c.kind
	case 4:
		return "MAX(" + x + ")", c.kind
	case 5:
		return "SUM(CASE WHEN " + g.predOn(r, c, 1) + " THEN 1 ELSE 0 END)", kInt
	case 6:
		return "GROUP_CONCAT(" + x + " ORDER BY " + x + ")", kStr
	case 7:
		if c.kind == kDate {
			return "MAX(DATEDIFF(" + nowLiteral + ", " + x + "))", kInt
		}
		if c.kind == kInt {
			return "SUM(" + x + ")", kInt
		}
		return "MAX(LENGTH(" + x + "))", kInt
	default:
		if c.kind == kDate {
			return "MIN(YEAR(" + x + "))", kInt
		}
		return "COUNT(DISTINCT " + x + ")", kInt
	}
}

func (g *Generator) aggregate() *Select {
	g.tag("shape:aggregate")
	table := g.baseTable()
	s, _ := g.aggregateOn(g.ref(table, shortAlias(table)), false)
	return s
}

// hint optionally decorates a join with an optimizer hint or STRAIGHT_JOIN.
func (g *Generator) hint(s *Select, aliases []string) {
	if !g.chance(0.45) {
		return
	}
	perm := g.rng.Perm(len(aliases))
	ordered := make([]string, len(aliases))
	for i, p := range perm {
		ordered[i] = aliases[p]
	}
	a, b := ordered[0], ordered[1]
	switch g.n(8) {
	case 0, 1:
		g.tag("hint:join_order")
		s.Hint = "/*+ JOIN_ORDER(" + strings.Join(ordered, ", ") + ") */"
	case 2:
		g.tag("hint:hash_join")
		s.Hint = "/*+ HASH_JOIN(" + a + ", " + b + ") */"
	case 3:
		g.tag("hint:lookup_join")
		s.Hint = "/*+ LOOKUP_JOIN(" + a + ", " + b + ") */"
	case 4:
		g.tag("hint:merge_join")
		s.Hint = "/*+ MERGE_JOIN(" + a + ", " + b + ") */"
	case 5:
		g.tag("hint:join_fixed_order")
		s.Hint = "/*+ JOIN_FIXED_ORDER */"
	case 6:
		g.tag("hint:straight_join")
		s.Straight = true
	default:
		g.tag("hint:join_order+lookup")
		s.Hint = "/*+ JOIN_ORDER(" + strings.Join(ordered, ", ") + ") LOOKUP_JOIN(" + a + ", " + b + ") */"
	}
}

// joinCond is the ON condition between two references: on UserName when
// both have it, else on region, plus sometimes an extra conjunct.
func (g *Generator) joinCond(a, b *tref) []Cond {
	saved := g.ctx
	g.ctx = "on"
	defer func() { g.ctx = saved }()
	var on []Cond
	ua, ub := a.t.col("UserName"), b.t.col("UserName")
	switch {
	case ua != nil && ub != nil && g.chance(0.85):
		g.tag("join:on-username")
		on = append(on, Cond{SQL: a.col("UserName") + " = " + b.col("UserName")})
	case a.t.col("region") != nil && b.t.col("region") != nil && g.chance(0.7):
		g.tag("join:on-region")
		on = append(on, Cond{SQL: a.col("region") + " = " + b.col("region")})
	default:
		on = append(on, Cond{SQL: g.crossPred(a, b)})
	}
	if g.chance(0.3) {
		switch g.n(3) {
		case 0:
			on = append(on, Cond{SQL: g.crossPred(a, b)})
		case 1:
			on = append(on, Cond{SQL: g.pred(b, 1)})
		default:
			if a.t.col("region") != nil && b.t.col("region") != nil {
				g.tag("join:on-region")
				on = append(on, Cond{SQL: a.col("region") + " = " + b.col("region")})
			}
		}
	}
	return on
}

// crossPred compares columns of the same kind of two references. Strings
// are compared only with the column of the same name: go-mysql-server
// v0.20.0 fails a join on VARCHARs of different sizes when a value does
// not fit the smaller ("string … is too large for column 'varchar(8)'").
func (g *Generator) crossPred(a, b *tref) string {
	for tries := 0; tries < 10; tries++ {
		ca := g.pickCol(a)
		var same []*colInfo
		for i := range b.t.cols {
			if b.t.cols[i].kind == ca.kind && (ca.kind != kStr || b.t.cols[i].name == ca.name) {
				same = append(same, &b.t.cols[i])
			}
		}
		if len(same) == 0 {
			continue
		}
		cb := pickOf(g, same)
		g.useCol(ca)
		g.useCol(cb)
		return a.col(ca.name) + " " + pickOf(g, []string{"=", "<>", "<", ">=", "<=>"}) + " " + b.col(cb.name)
	}
	return "1 = 1"
}

// joinTwo joins two references with a random kind of join, placing each
// pin where it belongs: WHERE for the preserved and inner sides, the ON
// clause for the nullable side of an outer join.
func (g *Generator) joinTwo(s *Select, a, b *tref) { g.joinTwoOn(s, a, b, g.joinCond(a, b)) }

// joinTwoOn is joinTwo with the ON condition given.
func (g *Generator) joinTwoOn(s *Select, a, b *tref, on []Cond) {
	kinds := []string{"JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN", "RIGHT JOIN", "CROSS JOIN", ",", "STRAIGHT_JOIN"}
	kw := pickOf(g, kinds)
	s.From = []FromItem{{Source: a.source()}}
	switch kw {
	case "JOIN", "INNER JOIN", "STRAIGHT_JOIN":
		if kw == "STRAIGHT_JOIN" {
			g.tag("hint:straight_join")
		}
		g.tag("join:inner")
		if !b.t.virtual && g.chance(0.2) {
			g.tag("pin:in-on")
			on = append(on, b.pin())
			s.From = append(s.From, FromItem{Join: kw, Source: b.source(), On: on})
			s.Where = g.where(a, s.Where, 2)
			s.Where = g.wherePreds(b, s.Where, 1)
		} else {
			s.From = append(s.From, FromItem{Join: kw, Source: b.source(), On: on})
			s.Where = g.where(a, s.Where, 2)
			s.Where = g.where(b, s.Where, 1)
		}
	case "LEFT JOIN", "LEFT OUTER JOIN":
		g.tag("join:left")
		if !b.t.virtual {
			on = append(on, b.pin())
		}
		s.From = append(s.From, FromItem{Join: kw, Source: b.source(), On: on})
		s.Where = g.where(a, s.Where, 2)
		if g.chance(0.25) {
			g.tag("join:left-anti")
			s.Where = append(s.Where, Cond{SQL: b.col(b.t.cols[0].name) + " IS NULL"})
		} else if g.chance(0.3) {
			s.Where = g.wherePreds(b, s.Where, 1)
		}
	case "RIGHT JOIN":
		g.tag("join:right")
		if !a.t.virtual {
			on = append(on, a.pin())
		}
		s.From = append(s.From, FromItem{Join: kw, Source: b.source(), On: on})
		s.Where = g.where(b, s.Where, 2)
		if g.chance(0.3) {
			s.Where = g.wherePreds(a, s.Where, 1)
		}
	case "CROSS JOIN":
		g.tag("join:cross")
		s.From = append(s.From, FromItem{Join: kw, Source: b.source()})
		s.Where = g.where(a, s.Where, 1)
		s.Where = g.where(b, s.Where, 1)
		if g.chance(0.5) {
			g.ctx = "where"
			s.Where = append(s.Where, Cond{SQL: g.crossPred(a, b)})
			g.ctx = "select"
		}
	case ",":
		g.tag("join:comma")
		s.From = append(s.From, FromItem{Join: ",", Source: b.source()})
		s.Where = g.where(a, s.Where, 1)
		s.Where = g.where(b, s.Where, 1)
		g.ctx = "where"
		s.Where = append(s.Where, on...)
		g.ctx = "select"
	}
}

// wherePreds adds predicates (no pin) over a reference.
func (g *Generator) wherePreds(r *tref, conds []Cond, maxPreds int) []Cond {
	saved := g.ctx
	g.ctx = "where"
	defer func() { g.ctx = saved }()
	for i, n := 0, 1+g.n(maxPreds); i < n; i++ {
		conds = append(conds, Cond{SQL: g.pred(r, 0)})
	}
	return conds
}

func (g *Generator) joinItems(s *Select, refs []*tref) {
	if g.chance(0.1) {
		g.tag("select:star")
		s.Items = []Item{{Expr: "*"}}
		g.tag("hydrated:select")
		return
	}
	g.items(s, refs, 1+g.n(5))
}

func joinKeys(refs []*tref) [][]string {
	var key []string
	for _, r := range refs {
		k := r.keys()
		if k == nil {
			return nil
		}
		key = append(key, k...)
	}
	return [][]string{key}
}

func refCols(refs []*tref) []string {
	var out []string
	for _, r := range refs {
		for _, c := range r.t.cols {
			out = append(out, r.col(c.name))
		}
	}
	return out
}

func (g *Generator) join() *Select {
	g.tag("shape:join")
	var a, b *tref
	switch g.n(6) {
	case 0:
		a, b = g.ref("access_keys", "k"), g.ref("users", "u")
	case 1:
		a, b = g.ref("access_keys", "k"), g.ref("account_summary", "s")
	case 2:
		a, b = g.ref("users", "u"), g.ref("account_summary", "s")
	default:
		a, b = g.ref("users", "u"), g.ref("access_keys", "k")
	}
	s := newSelect()
	g.joinTwo(s, a, b)
	g.hint(s, []string{a.alias, b.alias})
	g.joinItems(s, []*tref{a, b})
	s.Keys = joinKeys([]*tref{a, b})
	g.orderAndLimit(s, refCols([]*tref{a, b}), false)
	return s
}

func (g *Generator) selfJoin() *Select {
	g.tag("shape:join")
	g.tag("join:self")
	a, b := g.ref("access_keys", "k1"), g.ref("access_keys", "k2")
	s := newSelect()
	on := []Cond{{SQL: "k1.UserName = k2.UserName"}}
	switch g.n(3) {
	case 0:
		on = append(on, Cond{SQL: "k1.AccessKeyId < k2.AccessKeyId"})
	case 1:
		on = append(on, Cond{SQL: "k1.AccessKeyId <> k2.AccessKeyId"})
	default:
		on = append(on, Cond{SQL: "k1.CreateDate <= k2.CreateDate"})
	}
	if g.chance(0.3) {
		g.tag("join:left")
		s.From = []FromItem{{Source: a.source()}, {Join: "LEFT JOIN", Source: b.source(), On: append(on, b.pin())}}
		s.Where = g.where(a, nil, 2)
	} else {
		g.tag("join:inner")
		s.From = []FromItem{{Source: a.source()}, {Join: "JOIN", Source: b.source(), On: on}}
		s.Where = g.where(a, nil, 1)
		s.Where = g.where(b, s.Where, 1)
	}
	g.hint(s, []string{"k1", "k2"})
	g.joinItems(s, []*tref{a, b})
	s.Keys = joinKeys([]*tref{a, b})
	g.orderAndLimit(s, refCols([]*tref{a, b}), false)
	return s
}

func (g *Generator) threeWay() *Select {
	g.tag("shape:join")
	g.tag("join:3way")
	s := newSelect()
	var refs []*tref
	switch g.n(3) {
	case 0:
		u, k, sm := g.ref("users", "u"), g.ref("access_keys", "k"), g.ref("account_summary", "s")
		refs = []*tref{u, k, sm}
		s.From = []FromItem{
			{Source: u.source()},
			{Join: pickOf(g, []string{"JOIN", "LEFT JOIN"}), Source: k.source(), On: []Cond{{SQL: "k.UserName = u.UserName"}, k.pin()}},
			{Join: "JOIN", Source: sm.source(), On: []Cond{{SQL: "s.region = u.region"}}},
		}
		if s.From[1].Join == "LEFT JOIN" {
			g.tag("join:left")
		}
		s.Where = g.where(u, nil, 1)
		s.Where = g.where(sm, s.Where, 1)
	case 1:
		k1, u, k2 := g.ref("access_keys", "k1"), g.ref("users", "u"), g.ref("access_keys", "k2")
		refs = []*tref{k1, u, k2}
		s.From = []FromItem{
			{Source: k1.source()},
			{Join: "JOIN", Source: u.source(), On: []Cond{{SQL: "u.UserName = k1.UserName"}}},
			{Join: pickOf(g, []string{"JOIN", "LEFT JOIN"}), Source: k2.source(), On: []Cond{{SQL: "k2.UserName = u.UserName"}, {SQL: "k2.AccessKeyId <> k1.AccessKeyId"}, k2.pin()}},
		}
		s.Where = g.where(k1, nil, 1)
		s.Where = g.where(u, s.Where, 1)
	default:
		u, k, sm := g.ref("users", "u"), g.ref("access_keys", "k"), g.ref("account_summary", "s")
		refs = []*tref{sm, u, k}
		s.From = []FromItem{
			{Source: sm.source()},
			{Join: "CROSS JOIN", Source: u.source()},
			{Join: "JOIN", Source: k.source(), On: []Cond{{SQL: "k.UserName = u.UserName"}}},
		}
		s.Where = g.where(sm, nil, 1)
		s.Where = g.where(u, s.Where, 1)
		s.Where = g.where(k, s.Where, 1)
	}
	aliases := []string{refs[0].alias, refs[1].alias, refs[2].alias}
	g.hint(s, aliases)
	g.joinItems(s, refs)
	s.Keys = joinKeys(refs)
	g.orderAndLimit(s, refCols(refs), false)
	return s
}

// subSelect renders a subquery over a fresh reference to table with its
// own region pin: SELECT what(r) FROM table r WHERE pin AND corr(r) AND
// random predicates. corr correlates it with the outer query (may be nil).
func (g *Generator) subSelect(table string, what func(r *tref) string, corr func(r *tref) []string, maxPreds int) string {
	saved := g.ctx
	g.ctx = "subquery"
	defer func() { g.ctx = saved }()
	r := g.ref(table, g.alias(shortAlias(table)))
	s := newSelect()
	s.Items = []Item{{Expr: what(r)}}
	s.From = []FromItem{{Source: r.source()}}
	s.Where = append(s.Where, r.pin())
	if corr != nil {
		for _, c := range corr(r) {
			s.Where = append(s.Where, Cond{SQL: c})
		}
	}
	for i, n := 0, g.n(maxPreds+1); i < n; i++ {
		if (table == schema.AccessKeys.Name || isContextTable(table)) && g.chance(0.3) {
			s.Where = append(s.Where, Cond{SQL: g.pushdown(r)})
		} else {
			s.Where = append(s.Where, Cond{SQL: g.pred(r, 1)})
		}
	}
	return s.SQL()
}

func colOf(name string) func(r *tref) string { return func(r *tref) string { return r.col(name) } }

func constant(sql string) func(r *tref) string { return func(*tref) string { return sql } }

func (g *Generator) semiAnti() *Select {
	g.tag("shape:semi-anti")
	outerTable := pickOf(g, []string{"users", "users", "access_keys"})
	innerTable := "access_keys"
	if outerTable == "access_keys" && g.chance(0.6) {
		innerTable = "users"
	}
	o := g.ref(outerTable, shortAlias(outerTable))
	s := newSelect()
	s.From = []FromItem{{Source: o.source()}}
	s.Where = g.where(o, nil, 1)
	g.ctx = "subquery"
	byUser := func(r *tref) []string { return []string{r.col("UserName") + " = " + o.col("UserName")} }
	not := g.chance(0.4)
	notKW := ""
	if not {
		notKW = "NOT "
	}
	var cond string
	switch g.n(7) {
	case 0, 1:
		if not {
			g.tag("join:anti-not-exists")
		} else {
			g.tag("join:semi-exists")
		}
		cond = notKW + "EXISTS (" + g.subSelect(innerTable, constant("1"), byUser, 2) + ")"
	case 2, 3:
		if not {
			g.tag("join:anti-not-in")
		} else {
			g.tag("join:semi-in")
		}
		cond = o.col("UserName") + " " + notKW + "IN (" + g.subSelect(innerTable, colOf("UserName"), nil, 2) + ")"
	case 4:
		// A hydrated column in an IN subquery, NULLs included.
		g.tag("hydrated:in-subquery")
		if not {
			g.tag("join:anti-not-in")
		} else {
			g.tag("join:semi-in")
		}
		if outerTable == schema.AccessKeys.Name {
			cond = o.col("LastUsedServiceName") + " " + notKW + "IN (" + g.subSelect("access_keys", colOf("LastUsedServiceName"), nil, 1) + ")"
		} else {
			neverUsed := func(r *tref) []string { return []string{r.col("LastUsedDate") + " IS NULL"} }
			cond = o.col("UserName") + " " + notKW + "IN (" + g.subSelect("access_keys", colOf("UserName"), neverUsed, 1) + ")"
		}
	case 5:
		g.tag("join:semi-exists")
		g.tag("subquery:uncorrelated")
		cond = notKW + "EXISTS (" + g.subSelect(innerTable, constant("1"), nil, 2) + ")"
	default:
		// Correlated on something other than UserName: no pushdown.
		g.tag("subquery:correlated")
		g.tag("join:semi-exists")
		corr := func(r *tref) []string { return []string{r.col("CreateDate") + " > " + o.col("CreateDate")} }
		if outerTable == schema.AccessKeys.Name && innerTable == schema.AccessKeys.Name {
			corr = func(r *tref) []string {
				return []string{r.col("Status") + " = " + o.col("Status"), r.col("AccessKeyId") + " <> " + o.col("AccessKeyId")}
			}
		}
		cond = notKW + "EXISTS (" + g.subSelect(innerTable, constant("1"), corr, 1) + ")"
	}
	return g.filteredOuter(s, o, cond)
}

func (g *Generator) scalarSubquery() *Select {
	g.tag("shape:scalar-subquery")
	g.tag("subquery:scalar")
	outerTable := pickOf(g, []string{"users", "access_keys"})
	o := g.ref(outerTable, shortAlias(outerTable))
	s := newSelect()
	s.From = []FromItem{{Source: o.source()}}
	s.Where = g.where(o, nil, 1)
	g.items(s, []*tref{o}, 1+g.n(2))
	inner := pickOf(g, []string{"access_keys", "access_keys", "users", "account_summary"})
	var what func(r *tref) string
	var corr func(r *tref) []string
	byUser := func(r *tref) []string { return []string{r.col("UserName") + " = " + o.col("UserName")} }
	latest := false
	switch inner {
	case "access_keys":
		agg := pickOf(g, []string{"COUNT(*)", "MAX(%s.LastUsedDate)", "MIN(%s.CreateDate)", "COUNT(%s.LastUsedDate)", "MAX(%s.LastUsedServiceName)", "MAX(%s.CreateDate)"})
		what = func(r *tref) string { return strings.ReplaceAll(agg, "%s", r.alias) }
		if strings.Contains(agg, "LastUsed") {
			g.tag("hydrated:scalar-subquery")
		}
		if g.chance(0.7) {
			g.tag("subquery:correlated")
			corr = byUser
			latest = agg == "MAX(%s.CreateDate)" && outerTable == "access_keys"
		}
	case "users":
		agg := pickOf(g, []string{"COUNT(*)", "MAX(%s.CreateDate)", "MIN(%s.UserName)"})
		what = func(r *tref) string { return strings.ReplaceAll(agg, "%s", r.alias) }
		if g.chance(0.5) {
			g.tag("subquery:correlated")
			corr = byUser
		}
	default:
		agg := pickOf(g, []string{"MAX(%s.Users)", "MAX(%s.AccountAccessKeysPresent)", "MAX(%s.UsersQuota)", "COUNT(*)"})
		what = func(r *tref) string { return strings.ReplaceAll(agg, "%s", r.alias) }
	}
	sub := g.subSelect(inner, what, corr, 1)
	switch {
	case latest && g.chance(0.6):
		// The latest key of each user.
		g.tag("subquery:in-where")
		s.Where = append(s.Where, Cond{SQL: o.col("CreateDate") + " = (" + sub + ")"})
	case g.chance(0.3):
		g.tag("subquery:in-where")
		s.Where = append(s.Where, Cond{SQL: "(" + sub + ") IS NOT NULL"})
	default:
		s.Items = append(s.Items, Item{Expr: "(" + sub + ")", Alias: "c" + strconv.Itoa(len(s.Items))})
	}
	if k := o.keys(); k != nil {
		s.Keys = [][]string{k}
	}
	g.orderAndLimit(s, refCols([]*tref{o}), false)
	return s
}

// virtualOf describes the result of an inner SELECT as a table: its item
// aliases are its columns, with the kinds and the constants of the columns
// they come from.
func (g *Generator) virtualOf(name string, s *Select, kinds []kind, from *tref) *tableInfo {
	t := &tableInfo{name: name, virtual: true}
	for i, it := range s.Items {
		c := colInfo{name: it.Alias, kind: kinds[i]}
		if from != nil {
			for _, fc := range from.t.cols {
				if it.Expr == from.col(fc.name) {
					c.values = fc.values
					c.hydrated = fc.hydrated
				}
			}
		}
		t.cols = append(t.cols, c)
	}
	return t
}

// innerSelect builds a SELECT for a derived table or CTE: a plain or an
// aggregate one over one iamsql table, always projecting UserName first
// when the table has it, so the outer query can join on it.
func (g *Generator) innerSelect(scope string) (*Select, []kind, *tref) {
	saved := g.ctx
	g.ctx = scope
	g.scope = scope
	defer func() { g.ctx, g.scope = saved, "" }()
	table := pickOf(g, []string{"access_keys", "access_keys", "users", pickOf(g, contextTables)})
	r := g.ref(table, g.alias(shortAlias(table)))
	var s *Select
	var kinds []kind
	if g.chance(0.35) {
		s, kinds = g.aggregateOn(r, true)
		// Keep GROUP BY UserName sometimes so the outer join has a key.
		if g.chance(0.5) {
			s.GroupBy = append([]string{r.col("UserName")}, s.GroupBy...)
			s.Items = append([]Item{{Expr: r.col("UserName"), Alias: "uname"}}, s.Items...)
			kinds = append([]kind{kStr}, kinds...)
			s.Keys = [][]string{append([]string{"uname"}, s.Keys[0]...)}
		}
	} else {
		s, kinds = g.singleTableOn(r, true)
		s.Items = append([]Item{{Expr: r.col("UserName"), Alias: "uname"}}, s.Items...)
		kinds = append([]kind{kStr}, kinds...)
	}
	// The added column may leave the ORDER BY short of determining the
	// rows a LIMIT keeps (more groups; a DISTINCT over more columns).
	if s.Limit >= 0 && !s.OrderDetermined() {
		s.Limit, s.Offset = -1, 0
	}
	return s, kinds, r
}

// outerOver builds the outer query over a virtual table reference, maybe
// joined with a fresh users reference on uname.
func (g *Generator) outerOver(v *tref) *Select {
	s := newSelect()
	refs := []*tref{v}
	if v.t.col("uname") != nil && g.chance(0.4) {
		u := g.ref("users", "u")
		refs = append(refs, u)
		kw := pickOf(g, []string{"JOIN", "LEFT JOIN"})
		on := []Cond{{SQL: v.col("uname") + " = u.UserName"}}
		if kw == "LEFT JOIN" {
			g.tag("join:left")
			on = append(on, u.pin())
			s.From = []FromItem{{Source: v.source()}, {Join: kw, Source: u.source(), On: on}}
		} else {
			g.tag("join:inner")
			s.From = []FromItem{{Source: v.source()}, {Join: kw, Source: u.source(), On: on}}
			s.Where = append(s.Where, u.pin())
		}
		g.hint(s, []string{v.alias, "u"})
	} else {
		s.From = []FromItem{{Source: v.source()}}
	}
	g.ctx = "where"
	for i, n := 0, g.n(3); i < n; i++ {
		s.Where = append(s.Where, Cond{SQL: g.pred(pickOf(g, refs), 0)})
	}
	g.ctx = "select"
	g.items(s, refs, 1+g.n(3))
	g.orderAndLimit(s, nil, false)
	return s
}

func (g *Generator) derived() *Select {
	g.tag("shape:derived")
	g.tag("derived-table")
	inner, kinds, r := g.innerSelect("derived")
	name := "d"
	v := &tref{alias: name, t: g.virtualOf(name, inner, kinds, r)}
	v.t.name = "(" + inner.SQL() + ")"
	return g.outerOver(v)
}

func (g *Generator) cte() *Select {
	g.tag("shape:cte")
	g.tag("cte")
	inner, kinds, r := g.innerSelect("cte")
	name := "kc"
	t := g.virtualOf(name, inner, kinds, r)
	v := &tref{alias: "c", t: t}
	s := g.outerOver(v)
	s.With = []CTE{{Name: name, Body: inner.SQL()}}
	if g.chance(0.25) {
		// A second CTE, unused or joined by the outer query on uname.
		s2, _, _ := g.innerSelect("cte")
		s.With = append(s.With, CTE{Name: "kc2", Body: s2.SQL()})
		if t.col("uname") != nil && s2.Items[0].Alias == "uname" {
			g.tag("cte:two")
			s.From = append(s.From, FromItem{Join: "JOIN", Source: "kc2 c2", On: []Cond{{SQL: "c2.uname = c.uname"}}})
			s.Limit, s.Offset = -1, 0
		}
	}
	return s
}

func (g *Generator) recursiveCTE() *Select {
	g.tag("shape:cte")
	g.tag("cte:recursive")
	s := newSelect()
	s.Recursive = true
	switch g.n(2) {
	case 0:
		// A counter crossed with a table.
		s.With = []CTE{{Name: "n", Cols: []string{"i"}, Body: "SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3"}}
		table := pickOf(g, []string{"access_keys", "users", pickOf(g, contextTables)})
		r := g.ref(table, shortAlias(table))
		s.From = []FromItem{{Source: "n"}, {Join: "JOIN", Source: r.source(), On: []Cond{{SQL: "LENGTH(" + r.col("UserName") + ") > n.i"}}}}
		s.Where = g.where(r, nil, 2)
		s.Items = []Item{{Expr: "n.i", Alias: "c0"}}
		g.items(s, []*tref{r}, 1+g.n(2))
		if k := r.keys(); k != nil {
			s.Keys = [][]string{append([]string{"n.i"}, k...)}
		}
	default:
		// A recursion seeded from a table.
		table := pickOf(g, []string{"access_keys", "users", pickOf(g, contextTables)})
		r := g.ref(table, g.alias(shortAlias(table)))
		base := newSelect()
		base.Items = []Item{{Expr: r.col("UserName")}, {Expr: "0"}}
		base.From = []FromItem{{Source: r.source()}}
		base.Where = g.where(r, nil, 2)
		s.With = []CTE{{Name: "rc", Cols: []string{"name", "depth"}, Body: base.SQL() + " UNION ALL SELECT name, depth + 1 FROM rc WHERE depth < 2"}}
		s.From = []FromItem{{Source: "rc"}}
		s.Items = []Item{{Expr: "rc.name", Alias: "c0"}, {Expr: "rc.depth", Alias: "c1"}}
		if g.chance(0.5) {
			s.Items = append(s.Items, Item{Expr: "COUNT(*)", Alias: "c2"})
			s.GroupBy = []string{"rc.name", "rc.depth"}
		}
	}
	g.orderAndLimit(s, nil, false)
	return s
}

func (g *Generator) union() *Select {
	g.tag("shape:union")
	ta := pickOf(g, []string{"access_keys", "users", pickOf(g, contextTables)})
	tb := pickOf(g, []string{"access_keys", "users", pickOf(g, contextTables)})
	a := g.ref(ta, "a")
	b := g.ref(tb, "b")
	left := newSelect()
	left.From = []FromItem{{Source: a.source()}}
	left.Where = g.where(a, nil, 2)
	right := newSelect()
	right.From = []FromItem{{Source: b.source()}}
	right.Where = g.where(b, nil, 2)
	g.ctx = "union"
	n := 1 + g.n(3)
	for i := 0; i < n; i++ {
		ca := g.pickCol(a)
		g.useCol(ca)
		left.Items = append(left.Items, Item{Expr: a.col(ca.name), Alias: "c" + strconv.Itoa(i)})
		var same []*colInfo
		for j := range b.t.cols {
			if b.t.cols[j].kind == ca.kind {
				same = append(same, &b.t.cols[j])
			}
		}
		if len(same) == 0 {
			right.Items = append(right.Items, Item{Expr: "NULL"})
			continue
		}
		cb := pickOf(g, same)
		g.useCol(cb)
		right.Items = append(right.Items, Item{Expr: b.col(cb.name)})
	}
	g.ctx = "select"
	all := g.chance(0.5)
	if all {
		g.tag("union:all")
	} else {
		g.tag("union:distinct")
	}
	left.Union = &SetOp{All: all, Right: right}
	g.orderAndLimit(left, nil, false)
	// go-mysql-server v0.20.0 applies a UNION's OFFSET before its ORDER
	// BY: the rows then depend on the input order.
	left.Offset = 0
	return left
}

func (g *Generator) window() *Select {
	g.tag("shape:window")
	g.tag("window")
	table := pickOf(g, []string{"access_keys", "access_keys", "users", pickOf(g, contextTables), schema.CredentialReport.Name})
	r := g.ref(table, shortAlias(table))
	s := newSelect()
	s.From = []FromItem{{Source: r.source()}}
	s.Where = g.where(r, nil, 2)
	g.items(s, []*tref{r}, 1+g.n(2))
	g.ctx = "window"
	// A window ORDER BY that ends in the row's key, so ROW_NUMBER, LAG and
	// running aggregates do not depend on the input order.
	keyOrder := func() string {
		c := g.pickCol(r)
		g.useCol(c)
		parts := []string{r.col(c.name) + pickOf(g, []string{"", " DESC"})}
		parts = append(parts, r.keys()...)
		return strings.Join(parts, ", ")
	}
	partition := func() string {
		if g.chance(0.3) {
			return ""
		}
		c := g.pickCol(r)
		g.useCol(c)
		return "PARTITION BY " + r.col(c.name) + " "
	}
	for i, n := 0, 1+g.n(3); i < n; i++ {
		var w string
		switch g.n(8) {
		case 0, 1:
			w = "ROW_NUMBER() OVER (" + partition() + "ORDER BY " + keyOrder() + ")"
		case 2:
			c := g.pickCol(r)
			g.useCol(c)
			w = pickOf(g, []string{"RANK()", "DENSE_RANK()"}) + " OVER (" + partition() + "ORDER BY " + r.col(c.name) + ")"
		case 3:
			w = "COUNT(*) OVER (" + strings.TrimSpace(partition()) + ")"
		case 4:
			c := g.pickCol(r)
			g.useCol(c)
			w = pickOf(g, []string{"MAX", "MIN", "COUNT"}) + "(" + r.col(c.name) + ") OVER (" + strings.TrimSpace(partition()) + ")"
		case 5:
			c := g.pickCol(r)
			g.useCol(c)
			w = pickOf(g, []string{"LAG", "LEAD"}) + "(" + r.col(c.name) + ") OVER (" + partition() + "ORDER BY " + keyOrder() + ")"
		case 6:
			w = "SUM(CASE WHEN " + g.pred(r, 1) + " THEN 1 ELSE 0 END) OVER (" + partition() + "ORDER BY " + keyOrder() + ")"
		default:
			c := g.pickCol(r)
			g.useCol(c)
			w = "FIRST_VALUE(" + r.col(c.name) + ") OVER (" + partition() + "ORDER BY " + keyOrder() + ")"
		}
		s.Items = append(s.Items, Item{Expr: w, Alias: "c" + strconv.Itoa(len(s.Items))})
	}
	g.ctx = "select"
	if k := r.keys(); k != nil {
		s.Keys = [][]string{k}
	}
	if r.t.col("UserName") != nil && r.t.col("CreateDate") != nil && g.chance(0.3) {
		// The latest key per user, through a derived table.
		g.tag("derived-table")
		inner := s
		inner.Items = append(inner.Items, Item{Expr: "ROW_NUMBER() OVER (PARTITION BY " + r.col("UserName") + " ORDER BY " + strings.Join(append([]string{r.col("CreateDate") + " DESC"}, r.keys()...), ", ") + ")", Alias: "rn"})
		outer := newSelect()
		outer.From = []FromItem{{Source: "(" + inner.SQL() + ") w"}}
		outer.Where = []Cond{{SQL: "w.rn = 1"}}
		for _, it := range inner.Items {
			if it.Alias != "rn" {
				outer.Items = append(outer.Items, Item{Expr: "w." + it.Alias, Alias: it.Alias})
			}
		}
		g.orderAndLimit(outer, nil, false)
		return outer
	}
	g.orderAndLimit(s, refCols([]*tref{r}), false)
	return s
}

// regionError builds a statement iamsql must refuse: a reference that does
// not pin region with = or IN, or pins a region that does not exist.
func (g *Generator) regionError() *Select {
	g.tag("shape:region-error")
	table := g.baseTable()
	r := &tref{alias: shortAlias(table), t: g.tables[table]}
	s := newSelect()
	s.Items = []Item{{Expr: r.col(r.t.cols[0].name), Alias: "c0"}}
	s.From = []FromItem{{Source: r.source()}}
	g.refs++
	g.ctx = "where"
	switch g.n(9) {
	case 0:
		g.tag("error:no-region")
		if c := g.pickCol(r); c.name != "region" {
			s.Where = []Cond{{SQL: g.predOn(r, c, 0)}}
		}
	case 1:
		g.tag("error:region-not-pinned")
		s.Where = []Cond{{SQL: r.col("region") + pickOf(g, []string{" LIKE 'us-%'", " <> 'eu-west-1'", " IS NOT NULL", " > 'a'", " BETWEEN 'a' AND 'z'"})}}
	case 2:
		g.tag("error:region-not-pinned")
		// An OR with a predicate on a column that is not a parameter: an
		// OR of region pins, or with a predicate that is never true
		// (AccessKeyId BETWEEN 'b' AND 'a'), would still pin it.
		var others []*colInfo
		for i := range r.t.cols {
			if c := &r.t.cols[i]; !c.param && c.name != "region" {
				others = append(others, c)
			}
		}
		other := pickOf(g, others)
		s.Where = []Cond{{SQL: "(" + r.col("region") + " = 'us-east-1' OR " + r.col(other.name) + " IS NOT NULL)"}}
	case 3, 4:
		g.tag("error:invalid-region")
		bad := pickOf(g, []string{"us-east-9", "US-EAST-1", "useast1", "", "mars-1", "us-east-1 ", "eu-west"})
		if g.chance(0.5) {
			s.Where = []Cond{{SQL: r.col("region") + " = " + quote(bad)}}
		} else {
			s.Where = []Cond{{SQL: r.col("region") + " IN ('us-east-1', " + quote(bad) + ")"}}
		}
	case 5, 6:
		// A join whose second reference is not pinned.
		g.tag("error:join-side-not-pinned")
		ok := g.ref("users", "u")
		g.refs--
		k := &tref{alias: "k", t: g.tables["access_keys"]}
		s.From = []FromItem{{Source: ok.source()}, {Join: pickOf(g, []string{"JOIN", "LEFT JOIN"}), Source: k.source(), On: []Cond{{SQL: "k.UserName = u.UserName"}}}}
		s.Where = []Cond{ok.pin()}
		s.Items = []Item{{Expr: "u.UserName", Alias: "c0"}, {Expr: "k.AccessKeyId", Alias: "c1"}}
	default:
		// A subquery whose reference is not pinned.
		g.tag("error:subquery-not-pinned")
		ok := g.ref("users", "u")
		g.refs--
		s.From = []FromItem{{Source: ok.source()}}
		s.Where = []Cond{ok.pin(), {SQL: pickOf(g, []string{"", "NOT "}) + "EXISTS (SELECT 1 FROM access_keys k WHERE k.UserName = u.UserName)"}}
		s.Items = []Item{{Expr: "u.UserName", Alias: "c0"}}
	}
	g.ctx = "select"
	return s
}

// filteredOuter finishes a select over the one table o filtered by cond
// (a subquery's condition): its items, keys, order and limit.
func (g *Generator) filteredOuter(s *Select, o *tref, cond string) *Select {
	g.ctx = "select"
	s.Where = append(s.Where, Cond{SQL: cond})
	g.items(s, []*tref{o}, 1+g.n(3))
	if k := o.keys(); k != nil {
		s.Keys = [][]string{k}
	}
	g.orderAndLimit(s, refCols([]*tref{o}), false)
	return s
}
