package oracle

import (
	"strconv"
	"strings"
)

// Select is one generated SELECT (or a UNION of two) kept in parts, so
// that the shrinker can drop conjuncts, columns and clauses and render what
// is left. Subqueries, derived tables and CTE bodies are rendered text: the
// shrinker works on the outermost statement only.
type Select struct {
	With      []CTE
	Recursive bool
	// Hint is an optimizer hint comment, e.g. "/*+ JOIN_ORDER(k, u) */".
	Hint string
	// Straight is SELECT STRAIGHT_JOIN.
	Straight bool
	Distinct bool
	Items    []Item
	From     []FromItem
	Where    []Cond
	GroupBy  []string
	Having   []Cond
	// Union, when set, is the right side of a set operation; OrderBy, Limit
	// and Offset then apply to the union.
	Union   *SetOp
	OrderBy []Order
	// Limit is -1 when there is none.
	Limit, Offset int
	// Keys lists sets of ORDER BY expressions each of which identifies a
	// result row: ordering by all of one set orders the rows totally. An
	// empty set means the result has at most one row.
	Keys [][]string
}

// Item is one projected expression. Alias is empty for * and t.*.
type Item struct {
	Expr, Alias string
}

// CTE is one common table expression; Body is rendered SQL.
type CTE struct {
	Name string
	Cols []string
	Body string
}

// FromItem is one table reference: the first has an empty Join, the
// others a join keyword ("JOIN", "LEFT JOIN", "CROSS JOIN", ",", ...).
type FromItem struct {
	Join   string
	Source string
	On     []Cond
}

// Cond is one conjunct. Pin marks a region pin, which the shrinker keeps:
// without it the query is no longer valid iamsql.
type Cond struct {
	SQL string
	Pin bool
}

// SetOp is UNION [ALL] with a right-hand SELECT.
type SetOp struct {
	All   bool
	Right *Select
}

// Order is one ORDER BY term.
type Order struct {
	Expr string
	Desc bool
}

// SQL renders the statement.
func (s *Select) SQL() string { return s.render(true) }

// SQLWithoutLimit renders the statement without its outermost LIMIT and
// OFFSET: what the oracle runs to check a LIMIT whose rows the ORDER BY
// does not determine.
func (s *Select) SQLWithoutLimit() string { return s.render(false) }

func (s *Select) render(withLimit bool) string {
	var b strings.Builder
	if len(s.With) > 0 {
		b.WriteString("WITH ")
		if s.Recursive {
			b.WriteString("RECURSIVE ")
		}
		for i, c := range s.With {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			if len(c.Cols) > 0 {
				b.WriteString(" (" + strings.Join(c.Cols, ", ") + ")")
			}
			b.WriteString(" AS (" + c.Body + ")")
		}
		b.WriteString(" ")
	}
	s.renderCore(&b)
	if s.Union != nil {
		b.WriteString(" UNION ")
		if s.Union.All {
			b.WriteString("ALL ")
		}
		s.Union.Right.renderCore(&b)
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range s.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.Expr)
			if o.Desc {
				b.WriteString(" DESC")
			}
		}
	}
	if withLimit && s.Limit >= 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(s.Limit))
		if s.Offset > 0 {
			b.WriteString(" OFFSET " + strconv.Itoa(s.Offset))
		}
	}
	return b.String()
}

// renderCore renders SELECT … HAVING, without set operation, ORDER BY and
// LIMIT.
func (s *Select) renderCore(b *strings.Builder) {
	b.WriteString("SELECT ")
	if s.Hint != "" {
		b.WriteString(s.Hint + " ")
	}
	if s.Straight {
		b.WriteString("STRAIGHT_JOIN ")
	}
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.Expr)
		if it.Alias != "" {
			b.WriteString(" AS " + it.Alias)
		}
	}
	if len(s.From) > 0 {
		b.WriteString(" FROM ")
		for i, f := range s.From {
			if i > 0 {
				if f.Join == "," {
					b.WriteString(", ")
				} else {
					b.WriteString(" " + f.Join + " ")
				}
			}
			b.WriteString(f.Source)
			if len(f.On) > 0 {
				b.WriteString(" ON " + conj(f.On))
			}
		}
	}
	if len(s.Where) > 0 {
		b.WriteString(" WHERE " + conj(s.Where))
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(s.GroupBy, ", "))
	}
	if len(s.Having) > 0 {
		b.WriteString(" HAVING " + conj(s.Having))
	}
}

func conj(cs []Cond) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.SQL
	}
	return strings.Join(parts, " AND ")
}

// OrderDetermined reports whether the ORDER BY orders the result totally,
// so that iamsql's rows must come in exactly the oracle's order: it names
// every projected column (rows that tie are then equal), or every
// expression of one of the row's keys.
func (s *Select) OrderDetermined() bool {
	if len(s.OrderBy) == 0 {
		return false
	}
	by := map[string]bool{}
	for _, o := range s.OrderBy {
		by[o.Expr] = true
	}
	all := len(s.Items) > 0
	for _, it := range s.Items {
		if it.Alias == "" || !by[it.Alias] {
			all = false
			break
		}
	}
	if all {
		return true
	}
	for _, key := range s.Keys {
		covered := true
		for _, e := range key {
			if !by[e] {
				covered = false
				break
			}
		}
		if covered {
			return true
		}
	}
	return false
}

// clone copies the parts the shrinker changes.
func (s *Select) clone() *Select {
	c := *s
	c.With = append([]CTE(nil), s.With...)
	c.Items = append([]Item(nil), s.Items...)
	c.From = make([]FromItem, len(s.From))
	for i, f := range s.From {
		f.On = append([]Cond(nil), f.On...)
		c.From[i] = f
	}
	c.Where = append([]Cond(nil), s.Where...)
	c.GroupBy = append([]string(nil), s.GroupBy...)
	c.Having = append([]Cond(nil), s.Having...)
	c.OrderBy = append([]Order(nil), s.OrderBy...)
	if s.Union != nil {
		u := *s.Union
		u.Right = s.Union.Right.clone()
		c.Union = &u
	}
	return &c
}
