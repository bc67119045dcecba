package oracle

import (
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamsql/iamsql/schema"
)

// Query is one generated statement with what the campaign needs to judge
// iamsql's answer.
type Query struct {
	Sel *Select
	// Shapes tag the constructs the statement covers (join:left,
	// hydrated:where, window, …), for the coverage report.
	Shapes []string
	// ExpectError is "region" for a statement iamsql must refuse because a
	// table reference does not pin region (or pins an invalid one). The
	// oracle is not consulted for those.
	ExpectError string
	// InvalidParam: the statement compares a parameter column (UserName,
	// AccessKeyId) with = or IN to a value IAM would reject. A clear
	// "invalid …" error from iamsql is then as acceptable as the oracle's
	// rows (DESIGN: values are validated before they are sent).
	InvalidParam bool
	// Refs is the number of table references to iamsql tables; Partitions
	// the number of partitions their pinned regions span. Together they
	// bound the IAM calls (see CallBound).
	Refs, Partitions int
}

// SQL is the statement's text.
func (q *Query) SQL() string { return q.Sel.SQL() }

type kind int

const (
	kStr kind = iota
	kDate
	kInt
)

// colInfo is a column the generator can use, with the constants it draws
// for it.
type colInfo struct {
	name     string
	kind     kind
	hydrated bool
	param    bool
	values   []any
}

// tableInfo is a table (an iamsql table, or a derived table or CTE, which
// are virtual: they need no region pin).
type tableInfo struct {
	name    string
	cols    []colInfo
	key     string // the column that identifies a row within one region
	virtual bool
}

func (t *tableInfo) col(name string) *colInfo {
	for i := range t.cols {
		if t.cols[i].name == name {
			return &t.cols[i]
		}
	}
	return nil
}

// skipColumns are columns the generator leaves alone: users.PathPrefix is
// a parameter that filters ListUsers by path, not a column with a value of
// its own (it is being removed from the schema).
var skipColumns = map[string]bool{"users.PathPrefix": true}

// tref is one table reference in a query.
type tref struct {
	alias   string // "" → columns are unqualified
	t       *tableInfo
	regions []string
}

func (r *tref) col(name string) string {
	if r.alias == "" {
		return name
	}
	return r.alias + "." + name
}

func (r *tref) source() string {
	if r.alias == "" {
		return r.t.name
	}
	return r.t.name + " " + r.alias
}

// keys are the expressions that identify this reference's rows.
func (r *tref) keys() []string {
	var k []string
	if r.t.key != "" {
		k = append(k, r.col(r.t.key))
	}
	if !r.t.virtual && len(r.regions) > 1 {
		k = append(k, r.col("region"))
	}
	if r.t.virtual && r.t.key == "" {
		return nil
	}
	return k
}

// pin is the region conjunct every reference to an iamsql table carries.
func (r *tref) pin() Cond {
	if len(r.regions) == 1 {
		return Cond{SQL: r.col("region") + " = " + quote(r.regions[0]), Pin: true}
	}
	q := make([]string, len(r.regions))
	for i, reg := range r.regions {
		q[i] = quote(reg)
	}
	return Cond{SQL: r.col("region") + " IN (" + strings.Join(q, ", ") + ")", Pin: true}
}

// Generator produces random SELECTs over one account's tables,
// deterministically from its seed.
type Generator struct {
	rng    *mrand.Rand
	tables map[string]*tableInfo
	// pool holds each column name's values across tables (UserName from
	// users and access_keys alike).
	pool map[string][]any

	// universe is the regions queries pin (Regions, or a part of it).
	universe []string

	// per query
	shapes  map[string]bool
	refs    int
	regions map[string]bool
	invalid bool
	neg     bool   // inside an odd number of NOTs
	ctx     string // where an expression goes: select, where, on, …
	scope   string // "derived", "cte" while building one, else ""
	nextID  int
}

// NewGenerator builds a generator whose constants come from the oracle's
// rows and whose queries pin regions of universe (a subset of Regions,
// us-east-1 first).
func NewGenerator(o *Oracle, seed uint64, universe []string) *Generator {
	g := &Generator{
		rng:      mrand.New(mrand.NewPCG(seed, seed^0xd1ff)),
		tables:   map[string]*tableInfo{},
		pool:     map[string][]any{},
		universe: universe,
	}
	for _, r := range oracleTables {
		t := &tableInfo{name: r.Name}
		switch r.Name {
		case schema.AccessKeys.Name:
			t.key = "AccessKeyId"
		case schema.Users.Name:
			t.key = "UserName"
		}
		for _, c := range r.Columns {
			if skipColumns[r.Name+"."+c.Name] {
				continue
			}
			ci := colInfo{name: c.Name, hydrated: c.Hydrated != "", param: c.Param && c.Name != "region"}
			switch c.Type {
			case schema.Datetime:
				ci.kind = kDate
			case schema.BigInt, schema.Boolean:
				ci.kind = kInt
			default:
				ci.kind = kStr
			}
			ci.values = o.distinctValues(r.Name, c.Name)
			t.cols = append(t.cols, ci)
			g.pool[c.Name] = append(g.pool[c.Name], ci.values...)
		}
		g.tables[r.Name] = t
	}
	for name, vs := range g.pool {
		g.pool[name] = dedupe(vs)
	}
	return g
}

func dedupe(vs []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, v := range vs {
		k := fmt.Sprint(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func (g *Generator) n(k int) int           { return g.rng.IntN(k) }
func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }
func (g *Generator) tag(s string)          { g.shapes[s] = true }

func pickOf[T any](g *Generator, xs []T) T { return xs[g.n(len(xs))] }

// Next generates one query.
func (g *Generator) Next() *Query {
	g.shapes = map[string]bool{}
	g.refs = 0
	g.regions = map[string]bool{}
	g.invalid = false
	g.nextID = 0
	g.ctx = "select"
	g.scope = ""
	g.neg = false
	q := &Query{}
	builders := []struct {
		weight int
		build  func() *Select
	}{
		{20, g.singleTable},
		{9, g.aggregate},
		{14, g.join},
		{4, g.selfJoin},
		{5, g.threeWay},
		{10, g.semiAnti},
		{6, g.scalarSubquery},
		{6, g.derived},
		{6, g.cte},
		{2, g.recursiveCTE},
		{6, g.union},
		{7, g.window},
	}
	total := 3 // the region-error queries
	for _, b := range builders {
		total += b.weight
	}
	pick := g.n(total)
	if pick < 3 {
		q.Sel = g.regionError()
		q.ExpectError = "region"
	} else {
		pick -= 3
		for _, b := range builders {
			if pick < b.weight {
				q.Sel = b.build()
				break
			}
			pick -= b.weight
		}
	}
	q.InvalidParam = g.invalid
	q.Refs = g.refs
	parts := map[string]bool{}
	for r := range g.regions {
		if p, ok := schema.Partition(r); ok {
			parts[p] = true
		}
	}
	q.Partitions = max(1, len(parts))
	if q.Sel.Limit >= 0 {
		g.tag("limit")
		if q.Sel.Offset > 0 {
			g.tag("offset")
		}
	}
	if len(q.Sel.OrderBy) > 0 {
		if q.Sel.OrderDetermined() {
			g.tag("orderby:total")
		} else {
			g.tag("orderby:partial")
		}
	}
	for s := range g.shapes {
		q.Shapes = append(q.Shapes, s)
	}
	sort.Strings(q.Shapes)
	return q
}

// ---- references and regions ----

func (g *Generator) alias(prefix string) string {
	g.nextID++
	return prefix + strconv.Itoa(g.nextID)
}

// ref makes a reference to an iamsql table with its region choice.
func (g *Generator) ref(table, alias string) *tref {
	t := g.tables[table]
	r := &tref{alias: alias, t: t, regions: g.pickRegions()}
	g.refs++
	g.tag("table:" + table)
	if len(r.regions) > 1 {
		g.tag("region:in")
	}
	for _, reg := range r.regions {
		g.regions[reg] = true
	}
	return r
}

func (g *Generator) pickRegions() []string {
	switch x := g.n(20); {
	case x < 12:
		return []string{g.universe[0]}
	case x < 15:
		return []string{pickOf(g, g.universe)}
	default:
		perm := g.rng.Perm(len(g.universe))
		n := min(len(g.universe), 2+g.n(2))
		out := make([]string, n)
		for i := range out {
			out[i] = g.universe[perm[i]]
		}
		return out
	}
}

// baseTable picks an iamsql table: mostly access_keys.
func (g *Generator) baseTable() string {
	switch x := g.n(10); {
	case x < 6:
		return schema.AccessKeys.Name
	case x < 9:
		return schema.Users.Name
	default:
		return schema.AccountSummary.Name
	}
}

func shortAlias(table string) string {
	switch table {
	case schema.AccessKeys.Name:
		return "k"
	case schema.Users.Name:
		return "u"
	case schema.AccountSummary.Name:
		return "s"
	}
	return "t"
}

// ---- constants ----

func quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func dateLit(t time.Time) string { return "'" + t.UTC().Format("2006-01-02 15:04:05") + "'" }

// lit draws a constant for a column: one of its values, a near miss (a
// prefix, another case, a second off, a day off), or an odd value (empty,
// with a space, NULL-ish text). It returns the SQL literal and the raw
// string for validation.
func (g *Generator) lit(c *colInfo) (string, string) {
	vals := g.pool[c.name]
	if c.name == "region" {
		vals = nil
		for _, r := range append(append([]string(nil), Regions...), "ap-south-1", "us-east-2") {
			vals = append(vals, r)
		}
	}
	switch c.kind {
	case kDate:
		var t time.Time
		if len(vals) > 0 && g.chance(0.8) {
			t = pickOf(g, vals).(time.Time)
		} else {
			t = Now.Add(-time.Duration(g.n(1000)) * 24 * time.Hour)
		}
		switch g.n(8) {
		case 0:
			t = t.Add(time.Second)
		case 1:
			t = t.Add(-time.Second)
		case 2:
			t = t.Add(24 * time.Hour)
		case 3:
			d := "'" + t.Format("2006-01-02") + "'"
			return d, d
		}
		return dateLit(t), ""
	case kInt:
		v := int64(g.n(3))
		if len(vals) > 0 && g.chance(0.8) {
			v = pickOf(g, vals).(int64)
		}
		v += int64(g.n(3) - 1)
		return strconv.FormatInt(v, 10), ""
	}
	var s string
	if len(vals) > 0 && g.chance(0.85) {
		s = fmt.Sprint(pickOf(g, vals))
		switch g.n(10) {
		case 0:
			if len(s) > 1 {
				s = s[:len(s)-1]
			}
		case 1:
			s += pickOf(g, []string{"s", "by", "1", "_", "x"})
		case 2:
			s = strings.ToUpper(s)
		case 3:
			s = strings.ToLower(s)
		case 4:
			if len(s) > 0 {
				s = strings.ToUpper(s[:1]) + s[1:]
			}
		}
	} else {
		s = pickOf(g, []string{"", "a b", "NULL", "none", "x", "root", "Active", "inactive", "ünï", "bob ", " bob", "o'brien", "50%", "a_b"})
	}
	if c.param && !g.validParam(c.name, s) {
		// Only = and IN count (the caller says so by calling markInvalid).
		return quote(s), s
	}
	return quote(s), s
}

func (g *Generator) validParam(name, v string) bool { return schema.Validate(name, v) == nil }

// markInvalid records that a parameter column is compared by = or IN with
// a value IAM would reject.
func (g *Generator) markInvalid(c *colInfo, raw []string) {
	if !c.param || (g.ctx != "where" && g.ctx != "on" && g.ctx != "subquery") {
		return // only a filter can be pushed down
	}
	for _, v := range raw {
		if !g.validParam(c.name, v) {
			g.invalid = true
			g.tag("pred:invalid-param")
		}
	}
}

// ---- expressions ----

// useCol records the use of a column in the current context.
func (g *Generator) useCol(c *colInfo) {
	if c.hydrated {
		g.tag("hydrated:" + g.ctx)
		if g.scope != "" {
			g.tag("hydrated:" + g.scope)
		}
	}
}

func (g *Generator) pickCol(r *tref) *colInfo {
	// Weight the parameter columns of access_keys (the pushdowns) and the
	// hydrated ones.
	cols := r.t.cols
	if !r.t.virtual && g.chance(0.35) {
		var pref []*colInfo
		for i := range cols {
			if cols[i].param || cols[i].hydrated {
				pref = append(pref, &cols[i])
			}
		}
		if len(pref) > 0 {
			return pickOf(g, pref)
		}
	}
	return &cols[g.n(len(cols))]
}

// expr is a projected expression over one reference.
func (g *Generator) expr(r *tref) (string, kind, *colInfo) {
	c := g.pickCol(r)
	g.useCol(c)
	x := r.col(c.name)
	if g.chance(0.55) {
		return x, c.kind, c
	}
	g.tag("expr:function")
	switch c.kind {
	case kStr:
		switch g.n(9) {
		case 0:
			return "LOWER(" + x + ")", kStr, nil
		case 1:
			return "UPPER(" + x + ")", kStr, nil
		case 2:
			return "CONCAT(" + x + ", '|')", kStr, nil
		case 3:
			return "LENGTH(" + x + ")", kInt, nil
		case 4:
			return "SUBSTRING(" + x + ", 1, 3)", kStr, nil
		case 5:
			return "COALESCE(" + x + ", 'none')", kStr, nil
		case 6:
			return "IFNULL(" + x + ", '-')", kStr, nil
		case 7:
			return x + " IS NULL", kInt, nil
		default:
			return "CASE WHEN " + g.predOn(r, c, 0) + " THEN 'yes' ELSE 'no' END", kStr, nil
		}
	case kDate:
		switch g.n(8) {
		case 0:
			return "DATE(" + x + ")", kDate, nil
		case 1:
			return "YEAR(" + x + ")", kInt, nil
		case 2:
			return "DATEDIFF(" + nowLiteral + ", " + x + ")", kInt, nil
		case 3:
			return "DATE_FORMAT(" + x + ", '%Y-%m')", kStr, nil
		case 4:
			return "DATE_ADD(" + x + ", INTERVAL 1 DAY)", kDate, nil
		case 5:
			return "TIMESTAMPDIFF(DAY, " + x + ", " + nowLiteral + ")", kInt, nil
		case 6:
			return x + " IS NULL", kInt, nil
		default:
			return "CASE WHEN " + g.predOn(r, c, 0) + " THEN 1 ELSE 0 END", kInt, nil
		}
	default:
		switch g.n(3) {
		case 0:
			return x + " + 1", kInt, nil
		case 1:
			return x + " * 2", kInt, nil
		default:
			return "CASE WHEN " + g.predOn(r, c, 0) + " THEN 'y' ELSE 'n' END", kStr, nil
		}
	}
}

// pred is a random predicate over one reference.
func (g *Generator) pred(r *tref, depth int) string {
	if depth < 2 && g.chance(0.2) {
		switch g.n(4) {
		case 0:
			g.tag("pred:not")
			g.neg = !g.neg
			p := g.pred(r, depth+1)
			g.neg = !g.neg
			return "NOT (" + p + ")"
		case 1, 2:
			g.tag("pred:or")
			return "(" + g.pred(r, depth+1) + " OR " + g.pred(r, depth+1) + ")"
		default:
			g.tag("pred:and")
			return "(" + g.pred(r, depth+1) + " AND " + g.pred(r, depth+1) + ")"
		}
	}
	return g.predOn(r, g.pickCol(r), depth)
}

// predOn is a random predicate over one column.
func (g *Generator) predOn(r *tref, c *colInfo, depth int) string {
	g.useCol(c)
	x := r.col(c.name)
	// An equality (or, under NOT, an inequality) may be pushed down to
	// IAM, which validates the value first.
	eq := func(op string) string {
		l, raw := g.lit(c)
		if ((op == "=" || op == "<=>") && !g.neg) || ((op == "<>" || op == "!=") && g.neg) {
			g.markInvalid(c, []string{raw})
		}
		return x + " " + op + " " + l
	}
	in := func(not bool) string {
		n := 1 + g.n(4)
		lits := make([]string, n)
		raws := make([]string, n)
		for i := range lits {
			lits[i], raws[i] = g.lit(c)
		}
		if not == g.neg {
			g.markInvalid(c, raws)
		}
		if !not {
			g.tag("pred:in")
			return x + " IN (" + strings.Join(lits, ", ") + ")"
		}
		g.tag("pred:not-in")
		return x + " NOT IN (" + strings.Join(lits, ", ") + ")"
	}
	switch g.n(14) {
	case 0:
		g.tag("pred:is-null")
		return x + " IS NULL"
	case 1:
		g.tag("pred:is-null")
		return x + " IS NOT NULL"
	case 2, 3:
		g.tag("pred:eq")
		return eq("=")
	case 4:
		g.tag("pred:ne")
		return eq(pickOf(g, []string{"<>", "!="}))
	case 5:
		return in(false)
	case 6:
		return in(true)
	case 7:
		g.tag("pred:range")
		return eq(pickOf(g, []string{"<", "<=", ">", ">="}))
	case 8:
		g.tag("pred:between")
		a, _ := g.lit(c)
		b, _ := g.lit(c)
		not := ""
		if g.chance(0.2) {
			not = "NOT "
		}
		return x + " " + not + "BETWEEN " + a + " AND " + b
	case 9:
		g.tag("pred:null-safe")
		if g.chance(0.3) {
			return x + " <=> NULL"
		}
		return eq("<=>")
	}
	// Functions and LIKE, by kind.
	switch c.kind {
	case kStr:
		l, raw := g.lit(c)
		switch g.n(8) {
		case 0, 1:
			g.tag("pred:like")
			pat := raw
			switch g.n(4) {
			case 0:
				pat = prefix(raw) + "%"
			case 1:
				pat = "%" + suffix(raw)
			case 2:
				pat = "%" + middle(raw) + "%"
			default:
				pat = strings.Replace(raw, string(firstRune(raw)), "_", 1)
			}
			not := ""
			if g.chance(0.25) {
				not = "NOT "
			}
			return x + " " + not + "LIKE " + quote(pat)
		case 2:
			g.tag("pred:function")
			return "LOWER(" + x + ") = " + quote(strings.ToLower(raw))
		case 3:
			g.tag("pred:function")
			return "UPPER(" + x + ") = " + quote(strings.ToUpper(raw))
		case 4:
			g.tag("pred:function")
			return "LENGTH(" + x + ") " + pickOf(g, []string{">", "<", "="}) + " " + strconv.Itoa(len(raw))
		case 5:
			g.tag("pred:function")
			return "SUBSTRING(" + x + ", 1, 3) = " + quote(prefix(raw))
		case 6:
			g.tag("pred:function")
			return "COALESCE(" + x + ", 'none') = " + l
		default:
			g.tag("pred:regexp")
			return x + " REGEXP " + quote("^"+regexpQuote(prefix(raw)))
		}
	case kDate:
		l, _ := g.lit(c)
		switch g.n(6) {
		case 0:
			g.tag("pred:function")
			return "DATEDIFF(" + nowLiteral + ", " + x + ") " + pickOf(g, []string{">", "<", ">="}) + " " + strconv.Itoa(pickOf(g, []int{0, 1, 30, 90, 365}))
		case 1:
			g.tag("pred:function")
			return "YEAR(" + x + ") = " + strconv.Itoa(2023+g.n(4))
		case 2:
			g.tag("pred:function")
			return "DATE(" + x + ") = DATE(" + l + ")"
		case 3:
			g.tag("pred:function")
			return x + " > DATE_SUB(" + nowLiteral + ", INTERVAL " + strconv.Itoa(pickOf(g, []int{1, 30, 90, 400})) + " DAY)"
		case 4:
			g.tag("pred:function")
			return "TIMESTAMPDIFF(DAY, " + x + ", " + nowLiteral + ") < " + strconv.Itoa(pickOf(g, []int{2, 60, 100, 365}))
		default:
			g.tag("pred:function")
			return "COALESCE(" + x + ", '1970-01-01') < " + l
		}
	default:
		l, _ := g.lit(c)
		g.tag("pred:function")
		return x + " + 1 > " + l
	}
}

func prefix(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return s
	}
	return string(r[:(len(r)+1)/2])
}

func suffix(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return s
	}
	return string(r[len(r)/2:])
}

func middle(s string) string {
	r := []rune(s)
	if len(r) <= 2 {
		return s
	}
	return string(r[len(r)/3 : 2*len(r)/3+1])
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 'x'
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pushdown is a predicate iamsql may push down to IAM: UserName = / IN,
// AccessKeyId = / IN, an OR of them, or both together.
func (g *Generator) pushdown(r *tref) string {
	user := r.t.col("UserName")
	key := r.t.col("AccessKeyId")
	if user == nil {
		return g.pred(r, 0)
	}
	one := func(c *colInfo) (string, string) {
		l, raw := g.lit(c)
		g.markInvalid(c, []string{raw})
		return l, raw
	}
	switch x := g.n(10); {
	case x < 3 || key == nil:
		g.tag("pushdown:username-eq")
		l, _ := one(user)
		return r.col("UserName") + " = " + l
	case x < 5:
		g.tag("pushdown:username-in")
		n := 1 + g.n(4)
		ls := make([]string, n)
		for i := range ls {
			ls[i], _ = one(user)
		}
		return r.col("UserName") + " IN (" + strings.Join(ls, ", ") + ")"
	case x < 7:
		g.tag("pushdown:keyid-eq")
		l, _ := one(key)
		return r.col("AccessKeyId") + " = " + l
	case x < 8:
		g.tag("pushdown:keyid-in")
		a, _ := one(key)
		b, _ := one(key)
		return r.col("AccessKeyId") + " IN (" + a + ", " + b + ")"
	case x < 9:
		g.tag("pushdown:username-or")
		a, _ := one(user)
		b, _ := one(user)
		return "(" + r.col("UserName") + " = " + a + " OR " + r.col("UserName") + " = " + b + ")"
	default:
		g.tag("pushdown:username-and-keyid")
		a, _ := one(user)
		b, _ := one(key)
		return r.col("UserName") + " = " + a + " AND " + r.col("AccessKeyId") + " = " + b
	}
}

// where adds a reference's pin and some random predicates to conds.
func (g *Generator) where(r *tref, conds []Cond, maxPreds int) []Cond {
	saved := g.ctx
	g.ctx = "where"
	defer func() { g.ctx = saved }()
	if !r.t.virtual {
		conds = append(conds, r.pin())
	}
	for i, n := 0, g.n(maxPreds+1); i < n; i++ {
		if !r.t.virtual && r.t.name == schema.AccessKeys.Name && g.chance(0.3) {
			conds = append(conds, Cond{SQL: g.pushdown(r)})
			continue
		}
		conds = append(conds, Cond{SQL: g.pred(r, 0)})
	}
	return conds
}

// items adds n projected expressions over the references.
func (g *Generator) items(s *Select, refs []*tref, n int) []kind {
	saved := g.ctx
	g.ctx = "select"
	defer func() { g.ctx = saved }()
	var kinds []kind
	for i := 0; i < n; i++ {
		r := pickOf(g, refs)
		e, k, _ := g.expr(r)
		s.Items = append(s.Items, Item{Expr: e, Alias: "c" + strconv.Itoa(len(s.Items))})
		kinds = append(kinds, k)
	}
	return kinds
}

// orderAndLimit gives s an ORDER BY (over its item aliases and, when
// allowed, other expressions) and a LIMIT. In a subquery (inner) a LIMIT is
// kept only when the ORDER BY determines its rows.
func (g *Generator) orderAndLimit(s *Select, extra []string, inner bool) {
	saved := g.ctx
	g.ctx = "orderby"
	defer func() { g.ctx = saved }()
	var aliases []string
	for _, it := range s.Items {
		if it.Alias != "" {
			aliases = append(aliases, it.Alias)
		}
	}
	if g.chance(0.55) {
		var by []string
		switch g.n(4) {
		case 0:
			by = append(by, aliases...)
		case 1:
			if len(s.Keys) > 0 {
				by = append(by, pickOf(g, s.Keys)...)
			}
			if len(aliases) > 0 && g.chance(0.5) {
				by = append([]string{pickOf(g, aliases)}, by...)
			}
		default:
			cands := append(append([]string(nil), aliases...), extra...)
			for i, n := 0, 1+g.n(3); i < n && len(cands) > 0; i++ {
				by = append(by, pickOf(g, cands))
			}
		}
		seen := map[string]bool{}
		for _, e := range by {
			if seen[e] {
				continue
			}
			seen[e] = true
			if strings.Contains(e, "LastUsed") {
				g.tag("hydrated:orderby")
			}
			s.OrderBy = append(s.OrderBy, Order{Expr: e, Desc: g.chance(0.3)})
		}
		// Shuffle the order of ORDER BY terms a little.
		if len(s.OrderBy) > 1 && g.chance(0.3) {
			s.OrderBy[0], s.OrderBy[1] = s.OrderBy[1], s.OrderBy[0]
		}
	}
	if g.chance(0.3) {
		s.Limit = g.n(6)
		if g.chance(0.35) {
			s.Offset = 1 + g.n(4)
		}
		if inner && !s.OrderDetermined() {
			s.Limit, s.Offset = -1, 0
		}
	}
}

// ---- statement shapes ----

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
func (g *Generator) joinTwo(s *Select, a, b *tref) {
	on := g.joinCond(a, b)
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
		if table == schema.AccessKeys.Name && g.chance(0.3) {
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
	g.ctx = "select"
	s.Where = append(s.Where, Cond{SQL: cond})
	g.items(s, []*tref{o}, 1+g.n(3))
	if k := o.keys(); k != nil {
		s.Keys = [][]string{k}
	}
	g.orderAndLimit(s, refCols([]*tref{o}), false)
	return s
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
					if fc.name == "UserName" {
						// The generator joins derived tables on it.
						c.name = it.Alias
					}
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
	table := pickOf(g, []string{"access_keys", "access_keys", "users"})
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
		}
	} else {
		s, kinds = g.singleTableOn(r, true)
		s.Items = append([]Item{{Expr: r.col("UserName"), Alias: "uname"}}, s.Items...)
		kinds = append([]kind{kStr}, kinds...)
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
		table := pickOf(g, []string{"access_keys", "users"})
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
		table := pickOf(g, []string{"access_keys", "users"})
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
	ta := pickOf(g, []string{"access_keys", "users"})
	tb := pickOf(g, []string{"access_keys", "users"})
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
	table := pickOf(g, []string{"access_keys", "access_keys", "users"})
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
	if g.chance(0.3) {
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
		if g.chance(0.5) {
			s.Where = []Cond{{SQL: g.pred(r, 0)}}
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
