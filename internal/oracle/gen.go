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
	// AccessKeyId, region) with = or IN to a value IAM would reject, or
	// that is no region. A clear "invalid …" error from iamsql is then as
	// acceptable as the oracle's rows (DESIGN: values are validated before
	// they are sent).
	InvalidParam bool
	// Refs is the number of table references to iamsql tables; Partitions
	// the number of partitions their pinned regions span. Together they
	// bound the IAM calls (see CallBound).
	Refs, Partitions int
	// TableRefs counts the references by table (the context tables' add
	// their own scan to the bound).
	TableRefs map[string]int
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
	// param: UserName and AccessKeyId, the parameters a filter may push
	// down besides region.
	param bool
	// validated: iamsql validates a value given for it (the parameters
	// and region), so an invalid one may be a clear error.
	validated bool
	values    []any
}

// tableInfo is a table (an iamsql table, or a derived table or CTE, which
// are virtual: they need no region pin).
type tableInfo struct {
	name    string
	cols    []colInfo
	key     []string // the columns that identify a row within one region
	virtual bool
	// accounts: its rows are several accounts' (org mode), and a row is
	// its key's value in a region and an account.
	accounts bool
}

func (t *tableInfo) col(name string) *colInfo {
	for i := range t.cols {
		if t.cols[i].name == name {
			return &t.cols[i]
		}
	}
	return nil
}

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
	for _, c := range r.t.key {
		k = append(k, r.col(c))
	}
	if r.t.accounts {
		k = append(k, r.col(schema.AccountIDColumn))
	}
	if !r.t.virtual && len(r.regions) > 1 {
		k = append(k, r.col("region"))
	}
	if r.t.virtual && len(r.t.key) == 0 {
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
	shapes map[string]bool
	refs   int
	// tableRefs counts the references by table.
	tableRefs map[string]int
	regions   map[string]bool
	invalid   bool
	neg       bool   // inside an odd number of NOTs
	ctx       string // where an expression goes: select, where, on, …
	scope     string // "derived", "cte" while building one, else ""
	nextID    int
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
		for _, c := range r.Columns {
			if c.Key && c.Name != "region" && c.Name != schema.AccountIDColumn {
				t.key = append(t.key, c.Name) // a row is these columns' values in a region
			}
			ci := colInfo{name: c.Name, hydrated: c.Hydrate != "", param: c.Param && c.Name != "region", validated: c.Param}
			switch c.Type {
			case schema.Datetime:
				ci.kind = kDate
			case schema.BigInt, schema.Boolean:
				ci.kind = kInt
			default:
				ci.kind = kStr
			}
			ci.values = o.distinctValues(r.Name, c.Name)
			if c.Name == schema.AccountIDColumn && len(ci.values) > 1 {
				t.accounts = true
			}
			ci.values = append(ci.values, o.Extra[c.Name]...)
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
	g.tableRefs = map[string]int{}
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
		{16, g.context},
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
	q.TableRefs = g.tableRefs
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
	g.tableRefs[table]++
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
	switch x := g.n(15); {
	case x < 6:
		return schema.AccessKeys.Name
	case x < 9:
		return schema.Users.Name
	case x < 10:
		return schema.AccountSummary.Name
	case x < 14:
		return pickOf(g, contextTables)
	default:
		return schema.CredentialReport.Name
	}
}

func isContextTable(name string) bool {
	for _, t := range contextTables {
		if t == name {
			return true
		}
	}
	return false
}

func shortAlias(table string) string {
	switch table {
	case schema.AccessKeys.Name:
		return "k"
	case schema.Users.Name:
		return "u"
	case schema.AccountSummary.Name:
		return "s"
	case schema.UserTags.Name:
		return "ut"
	case schema.MFADevices.Name:
		return "mf"
	case schema.LoginProfiles.Name:
		return "lp"
	case schema.UserGroups.Name:
		return "gr"
	case schema.UserAttachedPolicies.Name:
		return "ap"
	case schema.UserPolicies.Name:
		return "ip"
	case schema.CredentialReport.Name:
		return "cr"
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
			switch x := pickOf(g, vals).(type) {
			case int64:
				v = x
			case int8: // a BOOLEAN column's
				v = int64(x)
			}
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
	return quote(s), s
}

func (g *Generator) validParam(name, v string) bool { return schema.Validate(name, v) == nil }

// markInvalid records that a parameter column (region included) is
// compared by = or IN with a value iamsql must refuse.
func (g *Generator) markInvalid(c *colInfo, raw []string) {
	if !c.validated || (g.ctx != "where" && g.ctx != "on" && g.ctx != "subquery") {
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
	if key == nil && g.chance(0.5) {
		g.tag("pushdown:username-in")
		n := 1 + g.n(4)
		ls := make([]string, n)
		for i := range ls {
			ls[i], _ = one(user)
		}
		return r.col("UserName") + " IN (" + strings.Join(ls, ", ") + ")"
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

// accountPushdown is a predicate on account_id, which iamsql pushes down
// as the accounts to read: = or IN, of the account's id, a near miss or
// an invalid value.
func (g *Generator) accountPushdown(r *tref, acct *colInfo) string {
	one := func() string {
		l, raw := g.lit(acct)
		g.markInvalid(acct, []string{raw})
		return l
	}
	if g.chance(0.6) {
		g.tag("pushdown:account-eq")
		return r.col(schema.AccountIDColumn) + " = " + one()
	}
	g.tag("pushdown:account-in")
	return r.col(schema.AccountIDColumn) + " IN (" + one() + ", " + one() + ")"
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
		if !r.t.virtual && (r.t.name == schema.AccessKeys.Name || isContextTable(r.t.name)) && g.chance(0.3) {
			conds = append(conds, Cond{SQL: g.pushdown(r)})
			continue
		}
		if acct := r.t.col(schema.AccountIDColumn); acct != nil && !r.t.virtual && g.chance(0.15) {
			conds = append(conds, Cond{SQL: g.accountPushdown(r, acct)})
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
