package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/schema"
)

// table is every iamsql table: one generic type driven by its
// schema.Resource. Its full scan (Partitions) defines its rows — every
// item of the account, through the parent listing when the resource has
// one. A lookup (LookupPartitions) pinning parameter columns is an
// optimization that returns exactly the subset of those rows the pinned
// values select, in the order of its index, as go-mysql-server assumes of
// an index lookup. Columns are read from the SDK's items by field name
// (rows.go); hydrated columns are fetched only when the statement needs
// them.
type table struct {
	p   *Provider
	res schema.Resource
	b   *binding
	// local answers a table kept in iamsql (methods, created_access_keys,
	// rotations).
	local func(*sql.Context) ([]sql.Row, error)
	sch   sql.Schema
	// indexes: by region alone (a full scan per region), then by region
	// and each other parameter column.
	indexes []*paramIndex

	// projection is the subset of columns the query needs (nil = all).
	projection []string
	// projSch is the projection's schema, computed once: GMS asks for a
	// table's schema many times per statement.
	projSch sql.Schema
	// lookup is set on the IndexedTable returned by IndexedAccess.
	lookup *sql.IndexLookup
}

var (
	_ sql.Table                 = (*table)(nil)
	_ sql.CommentedTable        = (*table)(nil)
	_ sql.IndexAddressableTable = (*table)(nil)
	_ sql.IndexedTable          = (*table)(nil)
	_ sql.ProjectedTable        = (*table)(nil)
	_ sql.PrimaryKeyTable       = (*table)(nil)
	_ sql.StatisticsTable       = (*table)(nil)
	_ sql.IndexSearchableTable  = (*table)(nil)
	_ sql.InsertableTable       = (*table)(nil)
	_ sql.UpdatableTable        = (*table)(nil)
	_ sql.DeletableTable        = (*table)(nil)
)

// newTable builds the table of a resource.
func (p *Provider) newTable(r schema.Resource, local func(*sql.Context) ([]sql.Row, error)) *table {
	t := &table{p: p, res: r, b: bindings[r.Name], local: local, sch: sqlSchema(DatabaseName, r)}
	if r.List != nil && len(r.LookupColumns()) > 0 {
		// One index for region alone, and one for region and each other
		// parameter: a lookup that covers its whole index is what the
		// planner prefers for a join. The parent's key comes first, its
		// lookup being the cheapest (one listing).
		cols := r.LookupColumns()
		slices.SortStableFunc(cols[1:], func(a, b string) int {
			return cmp.Compare(boolInt(!strings.EqualFold(a, r.List.ParentKey)), boolInt(!strings.EqualFold(b, r.List.ParentKey)))
		})
		t.indexes = append(t.indexes, newParamIndex(DatabaseName, r, t.sch, cols[0]))
		for _, c := range cols[1:] {
			t.indexes = append(t.indexes, newParamIndex(DatabaseName, r, t.sch, cols[0], c))
		}
		if pk := r.List.ParentKey; pk != "" && t.spansAccounts() {
			// A join on the account and the parent's key (users JOIN
			// access_keys ON both) looks up one user in one account, not
			// the user in every account of the organization.
			t.indexes = append(t.indexes, newParamIndex(DatabaseName, r, t.sch, cols[0], schema.AccountIDColumn, pk))
		}
	}
	return t
}

// sqlSchema derives the GMS schema of a resource.
func sqlSchema(db string, r schema.Resource) sql.Schema {
	sch := make(sql.Schema, 0, len(r.Columns))
	for _, c := range r.Columns {
		col := &sql.Column{
			Name:           c.Name,
			Type:           sqlType(c),
			Nullable:       true, // INSERT leaves the key to IAM
			PrimaryKey:     c.Key,
			Source:         r.Name,
			DatabaseSource: db,
			Comment:        c.Doc,
		}
		if c.Default != "" {
			col.Default, _ = sql.NewColumnDefaultValue(expression.NewLiteral(c.Default, col.Type), col.Type, true, false, false)
		}
		sch = append(sch, col)
	}
	return sch
}

func sqlType(c schema.Column) sql.Type {
	switch c.Type {
	case schema.Datetime:
		return types.DatetimeMaxPrecision
	case schema.BigInt:
		return types.Int64
	case schema.Boolean:
		return types.Boolean
	default:
		size := int64(c.Size)
		if size == 0 {
			size = 255
		}
		return types.MustCreateStringWithDefaults(sqltypesVarchar, size)
	}
}

func (t *table) Name() string               { return t.res.Name }
func (t *table) String() string             { return t.res.Name }
func (t *table) Collation() sql.CollationID { return sql.Collation_Default }
func (t *table) Comment() string            { return t.res.Doc }

func (t *table) Schema() sql.Schema {
	if t.projection == nil {
		return t.sch
	}
	return t.projSch
}

// PrimaryKeySchema is the full schema with the key columns schema names
// (Column.Key): the planner derives index statistics and row identity
// (UPDATE with a join or an IN subquery) from it.
func (t *table) PrimaryKeySchema() sql.PrimaryKeySchema {
	return sql.NewPrimaryKeySchema(t.sch)
}

func (t *table) WithProjections(cols []string) sql.Table {
	cp := *t
	cp.projection, cp.projSch = cols, nil
	if cols != nil {
		cp.projSch = make(sql.Schema, 0, len(cols))
		for _, name := range cols {
			if i := t.sch.IndexOfColName(name); i >= 0 {
				cp.projSch = append(cp.projSch, t.sch[i])
			}
		}
	}
	return &cp
}

func (t *table) Projections() []string { return t.projection }

// RowCount is a plausible size so that joins plan as lookups into this
// table (one IAM call per outer row) rather than scans.
func (t *table) RowCount(*sql.Context) (uint64, bool, error) { return 1000, false, nil }
func (t *table) DataLength(*sql.Context) (uint64, error)     { return 1000 * 128, nil }

func (t *table) GetIndexes(*sql.Context) ([]sql.Index, error) {
	out := make([]sql.Index, len(t.indexes))
	for i, idx := range t.indexes {
		out[i] = idx
	}
	return out, nil
}

// PreciseMatch is false: the engine keeps every WHERE filter and applies it
// to the fetched rows.
func (t *table) PreciseMatch() bool { return false }

// SkipIndexCosting is false so that, when LookupForExpressions declines
// (only region is given), go-mysql-server's own planning runs: for a join
// on UserName it builds a lookup join, whose lookups a parent scan fetches
// ahead (see childLookup).
func (t *table) SkipIndexCosting() bool { return false }

// LookupForExpressions pushes WHERE equalities and IN lists on parameter
// columns down as a lookup.
func (t *table) LookupForExpressions(ctx *sql.Context, exprs ...sql.Expression) (sql.IndexLookup, *sql.FuncDepSet, sql.Expression, bool, error) {
	if len(t.indexes) == 0 {
		return sql.IndexLookup{}, nil, nil, false, nil
	}
	lookup, ok, err := lookupForExpressions(ctx, t.indexes, exprs)
	return lookup, nil, nil, ok, err
}

// IndexedAccess is called while planning: it must make no IAM call.
func (t *table) IndexedAccess(_ *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	if _, ok := lookup.Index.(*paramIndex); !ok {
		return nil
	}
	cp := *t
	cp.lookup = &lookup
	return &cp
}

// selectMethod is the resource's SELECT method (its required params).
func (t *table) selectMethod() schema.Method {
	m, _ := t.res.Method(schema.Select)
	return m
}

// Partitions is a scan without a lookup: no region was pinned.
func (t *table) Partitions(*sql.Context) (sql.PartitionIter, error) {
	if t.local != nil {
		return &partitionIter{parts: []*partition{{}}}, nil
	}
	if t.res.List.Organization {
		// Organizations is read once, not per region.
		return &partitionIter{parts: []*partition{{prm: params{}}}}, nil
	}
	return nil, paramError(&schema.MissingParam{Resource: t.res.Name, Param: "region", Method: t.selectMethod()})
}

func (t *table) LookupPartitions(ctx *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	idx, ok := lookup.Index.(*paramIndex)
	if !ok {
		return nil, fmt.Errorf("%s: lookup on unknown index %v", t.res.Name, lookup.Index)
	}
	if lookup.IsEmptyRange {
		return &partitionIter{}, nil
	}
	parts, err := t.partitions(ctx, idx, lookup)
	if err != nil {
		return nil, paramError(err)
	}
	return &partitionIter{parts: parts, ahead: t.lookAhead(parts)}, nil
}

// partition is one fetch: a region, and the other parameters a lookup
// pins (none for a full scan).
type partition struct {
	key []byte
	prm params
	// sorted is set for a lookup on the index of several columns: its
	// rows come sorted by them (see paramIndex.CanSupport).
	sorted *paramIndex
	// none is set for a lookup value no row can have (NULL, an invalid
	// name): the partition has no rows and makes no call.
	none bool
}

func (p *partition) Key() []byte { return p.key }

type partitionIter struct {
	parts []*partition
	i     int
	// ahead, when set, is run before the first partition is handed out
	// (lookahead.go).
	ahead func(*sql.Context)
}

func (it *partitionIter) Next(ctx *sql.Context) (sql.Partition, error) {
	if f := it.ahead; f != nil {
		it.ahead = nil
		f(ctx)
	}
	if it.i >= len(it.parts) {
		return nil, ioEOF
	}
	p := it.parts[it.i]
	it.i++
	return p, nil
}

func (it *partitionIter) Close(*sql.Context) error { return nil }

// partitions turns a lookup's ranges into fetches, in the index's order.
// region must be a valid region name (a clear error otherwise); a value
// of another parameter that no row can have (NULL, an invalid name)
// makes a fetch without rows.
func (t *table) partitions(ctx *sql.Context, idx *paramIndex, lookup sql.IndexLookup) ([]*partition, error) {
	coll, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported lookup %T", t.res.Name, lookup.Ranges)
	}
	m := t.selectMethod()
	var parts []*partition
	seen := map[string]bool{}
	sess := sessionOf(ctx)
	for _, rng := range coll {
		if slices.ContainsFunc(rng, emptyRange) {
			continue // a contradiction: no rows
		}
		p := &partition{prm: params{}}
		if len(idx.cols) > 1 {
			p.sorted = idx
		}
		for n, e := range rng {
			if n >= len(idx.cols) {
				break
			}
			col := idx.cols[n]
			v, point, isNull := pointValue(e)
			if point && sess.holdsSecret(v) {
				// It would land in CloudTrail, whatever IAM answers.
				return nil, fmt.Errorf("refusing to send a secret access key to IAM as %s", col)
			}
			switch {
			case n == 0 && (isNull || !point):
				return nil, &schema.MissingParam{Resource: t.res.Name, Param: col, Method: m}
			case n == 0:
				if err := schema.Validate(col, v); err != nil {
					return nil, err
				}
				p.prm[col] = v
			case isNull:
				p.none = true
			case point:
				if err := schema.Validate(col, v); err != nil {
					t.noteImpossible(ctx, col, err)
					p.none = true
				}
				p.prm[col] = v
			}
		}
		p.key = []byte(p.prm.String())
		if p.none || seen[string(p.key)] {
			continue
		}
		seen[string(p.key)] = true
		parts = append(parts, p)
	}
	parts = disjointParts(parts, idx.cols)
	slices.SortStableFunc(parts, func(a, b *partition) int {
		for _, c := range idx.cols {
			va, oka := a.prm[c]
			vb, okb := b.prm[c]
			if r := cmp.Compare(boolInt(oka), boolInt(okb)); r != 0 {
				return r
			}
			if r := strings.Compare(va, vb); r != 0 {
				return r
			}
		}
		return 0
	})
	return parts, nil
}

// disjointParts merges fetches whose rows overlap, so that no row is
// returned twice: a range that pins a column (account_id = X) and one that
// does not (account_id <> X OR …, which spans the column) make fetches of
// the same rows. Two fetches overlap when no column pins them to
// different values; they are replaced by one that pins only what they
// both pin alike (every row of both, and the filter above the lookup
// keeps the rows the ranges select), until no two overlap.
func disjointParts(parts []*partition, cols []string) []*partition {
	overlap := func(a, b *partition) bool {
		for _, c := range cols {
			va, oka := a.prm[c]
			vb, okb := b.prm[c]
			if oka && okb && va != vb {
				return false
			}
		}
		return true
	}
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(parts) && !merged; i++ {
			for j := i + 1; j < len(parts) && !merged; j++ {
				a, b := parts[i], parts[j]
				if !overlap(a, b) {
					continue
				}
				m := &partition{prm: params{}, sorted: a.sorted}
				for c, v := range a.prm {
					if w, ok := b.prm[c]; ok && w == v {
						m.prm[c] = v
					}
				}
				m.key = []byte(m.prm.String())
				parts[i] = m
				parts = slices.Delete(parts, j, j+1)
				merged = true
			}
		}
	}
	return parts
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noteImpossible tells the user that a value was looked up that no row
// can have, so the empty answer is not silent.
func (t *table) noteImpossible(ctx *sql.Context, col string, err error) {
	statementOf(ctx, t.p).note(ctx, &sql.Warning{Level: "Note", Code: NoteNoSuchValue,
		Message: fmt.Sprintf("%s: %v; no %s row has it", t.res.Name, err, col)})
}

func (t *table) PartitionRows(ctx *sql.Context, part sql.Partition) (sql.RowIter, error) {
	p := part.(*partition)
	if t.local != nil {
		rows, err := t.local(ctx)
		if err != nil {
			return nil, err
		}
		return sql.RowsToRowIter(t.project(rows)...), nil
	}
	st := statementOf(ctx, t.p)
	key, b := t.readOf(st, p.prm)
	if rows, ok := st.built(key); ok {
		// Read before in this statement (a nested loop's inner table, a
		// join's lookup of the same key): no iterator machinery.
		if p.sorted != nil {
			p.sorted.sortRows(t.sch, rows)
		}
		return sql.RowsToRowIter(t.project(rows)...), nil
	}
	rows := st.once(key, func() iter.Seq2[sql.Row, error] { return t.fetch(ctx, st, b, key.part, p.prm) })
	if p.sorted != nil {
		// The order an index lookup promises.
		var all []sql.Row
		for row, err := range rows {
			if err != nil {
				return nil, scrubSecrets(ctx, ToSQLError(err))
			}
			all = append(all, row)
		}
		p.sorted.sortRows(t.sch, all)
		return sql.RowsToRowIter(t.project(all)...), nil
	}
	return newSeqIter(rows, t.projector()), nil
}

// readOf names the read of a partition (its rows are built once per
// statement, see statement.once) and the builder of its rows.
func (t *table) readOf(st *statement, prm params) (scanKey, rowBuilder) {
	part, _ := schema.Partition(prm["region"])
	b := rowBuilder{t: t, hydrates: t.hydrates(st)}
	return scanKey{table: t.res.Name, part: part, hydrates: strings.Join(b.hydrates, ","), prm: prm.String()}, b
}

// fetch streams the full-schema rows of one partition: a lookup's, or a
// full scan's.
func (t *table) fetch(ctx *sql.Context, st *statement, b rowBuilder, part string, prm params) iter.Seq2[sql.Row, error] {
	if t.spansAccounts() {
		if _, account := splitScope(part); account == "" {
			if t.p.inOrgMode() {
				return t.acrossAccounts(ctx, st, b, part, prm)
			}
			aprm, ok, err := t.withAccount(ctx, st, part, prm)
			if err != nil || !ok {
				return errSeq(err)
			}
			prm = aprm
		}
	}
	// The parameters every row echoes (region, account_id); the others
	// are a lookup's.
	echo := params{"region": prm["region"]}
	if a, ok := prm[schema.AccountIDColumn]; ok {
		echo[schema.AccountIDColumn] = a
	}
	if len(prm) > len(echo) && t.b.lookup != nil {
		items, ok, err := t.b.lookup(ctx, st, part, prm)
		if err != nil && t.res.List.Parent != "" {
			// As in a full scan: a user that does not exist has no rows,
			// one IAM refuses to list is left out with a warning.
			key := prm[t.res.List.ParentKey]
			if code := iamCode(err); code == "NoSuchEntity" && key != "" {
				st.note(ctx, &sql.Warning{Level: "Note", Code: NoteNoSuchValue,
					Message: fmt.Sprintf("%s: there is no %s %s (no rows)", t.res.Name, strings.TrimSuffix(t.res.List.Parent, "s"), key)})
				return errSeq(nil)
			}
			err = t.skipParent(ctx, st, t.res.List.Parent, key, err)
			if err == nil {
				return errSeq(nil)
			}
		}
		if err != nil {
			return errSeq(err)
		}
		if ok {
			return b.lookupRows(ctx, st, part, prm, items)
		}
		// The lookup can't be answered directly: scan, keep the matches.
		key, _ := t.readOf(st, echo)
		key.part = part
		return t.matching(st.once(key, func() iter.Seq2[sql.Row, error] { return b.scan(ctx, st, part, echo) }), prm)
	}
	return b.scan(ctx, st, part, prm)
}

// lookupRows builds the rows of a lookup's items: those whose pinned
// parameters match (IAM finds 'Alice' for alice; the lookup of 'Alice'
// has only rows whose UserName is 'Alice').
func (b rowBuilder) lookupRows(ctx *sql.Context, st *statement, part string, prm params, items []any) iter.Seq2[sql.Row, error] {
	t := b.t
	return func(yield func(sql.Row, error) bool) {
		rows, err := b.materialize(ctx, st, part, prm, items)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, r := range rows {
			if t.matches(r, prm) && !yield(r, nil) {
				return
			}
		}
	}
}

// matching keeps the rows whose pinned parameters equal prm's.
func (t *table) matching(rows iter.Seq2[sql.Row, error], prm params) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		for row, err := range rows {
			if err == nil && !t.matches(row, prm) {
				continue
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

func (t *table) matches(row sql.Row, prm params) bool {
	for col, v := range prm {
		if i := t.sch.IndexOfColName(col); i < 0 || str(row[i]) != v {
			return false
		}
	}
	return true
}

// yieldRows hands rows, or err, to yield; it reports whether the reader
// wants more.
func yieldRows(yield func(sql.Row, error) bool) func([]sql.Row, error) bool {
	return func(rows []sql.Row, err error) bool {
		if err != nil {
			yield(nil, err)
			return false
		}
		for _, r := range rows {
			if !yield(r, nil) {
				return false
			}
		}
		return true
	}
}

// errSeq yields err, or nothing when err is nil.
func errSeq(err error) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		if err != nil {
			yield(nil, err)
		}
	}
}

// hydrates lists the hydrate calls this read needs: those of columns the
// planner projects, or — where it handed no projection, which means all
// columns — those the statement refers to at all.
func (t *table) hydrates(st *statement) []string {
	var out []string
	for _, c := range t.res.Columns {
		if c.Hydrate == "" || slices.Contains(out, c.Hydrate) {
			continue
		}
		if t.needs(st, c.Name) {
			out = append(out, c.Hydrate)
		}
	}
	return out
}

func (t *table) needs(st *statement, col string) bool {
	if t.projection != nil {
		return slices.ContainsFunc(t.projection, func(p string) bool { return strings.EqualFold(p, col) })
	}
	return st == nil || st.refersTo(col)
}

// scan streams the full scan of a resource in one partition (one region).
func (b rowBuilder) scan(ctx *sql.Context, st *statement, part string, prm params) iter.Seq2[sql.Row, error] {
	t := b.t
	if l := t.res.List; l.Parent != "" {
		return b.childScan(ctx, st, part, prm)
	}
	items := t.b.scan(ctx, st, part)
	if cls := st.childLookupsOf(t); len(cls) > 0 {
		items = t.prefetching(ctx, st, part, prm, items, cls)
	}
	return func(yield func(sql.Row, error) bool) {
		for item, err := range items {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yieldRows(yield)(b.materialize(ctx, st, part, prm, []any{item})) {
				return
			}
		}
	}
}

// window is how far a scan of a scope fetches ahead of its reader: twice
// the bound of its calls in flight; in org mode four times its account's,
// so that a call waiting out throttling (or a ListUsers page) seldom
// holds back the calls behind it.
func (p *Provider) window(scope string) int {
	if _, account := splitScope(scope); account != "" {
		return 4 * p.org.cfg.AccountConcurrency
	}
	return 2 * p.concurrency
}

// prefetching streams a parent's items while fetching, ahead of the
// reader and concurrently, what a join will look up in each child for
// them (every user's keys), so a lookup join costs one round of
// concurrent calls rather than one call after the other.
func (t *table) prefetching(ctx *sql.Context, st *statement, part string, prm params, items iter.Seq2[any, error], cls []childLookup) iter.Seq2[any, error] {
	b := rowBuilder{t: t}
	project := t.projector()
	return ordered(ctx, items, t.p.window(part), func(c context.Context, item any) (any, error) {
		for _, cl := range cls {
			if cl.filter != nil {
				row, err := b.row(item, prm, nil)
				if err != nil {
					return item, err
				}
				if project != nil {
					row = project(row)
				}
				if ok, err := sql.EvaluateCondition(ctx, cl.filter, row); err != nil || !sql.IsTrue(ok) {
					continue // the join never looks this row up
				}
			}
			key, err := fieldValue(item, cl.child.res.List.ParentKey)
			if err != nil || key == nil {
				return item, err
			}
			region, cpart := cl.region, part
			if region == "" {
				region = prm["region"]
			} else {
				p, _ := schema.Partition(region)
				_, account := splitScope(part)
				cpart = scopeOf(p, account)
			}
			cprm := params{"region": region, cl.child.res.List.ParentKey: fmt.Sprint(key)}
			// Errors are the lookup's to report when it is made.
			_, _ = cl.child.prefetch(ctx.WithContext(c), st, cpart, cprm)
		}
		return item, nil
	})
}

// prefetch answers a lookup into memory (the statement's memo keeps it).
func (t *table) prefetch(ctx *sql.Context, st *statement, part string, prm params) (bool, error) {
	items, ok, err := t.b.lookup(ctx, st, part, prm)
	if err != nil || !ok {
		return ok, err
	}
	_, err = rowBuilder{t: t, hydrates: t.hydrates(st)}.materialize(ctx, st, part, prm, items)
	return true, err
}

// childScan is the full scan of a resource listed per parent row: the
// parent's listing, one concurrent listing per parent row (fetched ahead
// of the reader, in parent order), then the caller's own items when the
// caller is the root user. If the parent listing is denied, the caller's
// own items are listed instead, with a warning: the result is partial.
func (b rowBuilder) childScan(ctx *sql.Context, st *statement, part string, prm params) iter.Seq2[sql.Row, error] {
	t := b.t
	l := t.res.List
	st.scanned(part)
	parents := bindings[l.Parent].scan(ctx, st, part)
	perParent := ordered(ctx, parents, t.p.window(part), func(c context.Context, parent any) ([]sql.Row, error) {
		key, err := fieldValue(parent, l.ParentKey)
		if err != nil || key == nil {
			return nil, err
		}
		cctx := ctx.WithContext(c)
		items, err := t.b.children(c, st, part, fmt.Sprint(key))
		if err != nil {
			return nil, t.skipParent(cctx, st, l.Parent, fmt.Sprint(key), err)
		}
		rows, err := b.materialize(cctx, st, part, prm, items)
		st.forgetParent(l.Operation, part, fmt.Sprint(key), items, b.hydrates)
		return rows, err
	})
	return func(yield func(sql.Row, error) bool) {
		own := l.RootCaller
		for rows, err := range perParent {
			if err != nil {
				if !t.parentDenied(ctx, st, part, l, err) {
					yield(nil, err)
					return
				}
				own = true // the caller's own keys stand in for the scan
				break
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		}
		if !own {
			return
		}
		if l.RootCaller && !t.listingDenied(st, part) {
			root, err := t.p.callerIsRoot(ctx, part)
			if err != nil {
				yield(nil, err)
				return
			}
			if !root {
				return
			}
		}
		items, err := t.b.children(ctx, st, part, "")
		if err != nil {
			if t.listingDenied(st, part) && iamCode(err) == "ValidationError" {
				// A role has no keys of its own ("Must specify userName
				// when calling with non-User credentials").
				return
			}
			yield(nil, err)
			return
		}
		yieldRows(yield)(b.materialize(ctx, st, part, prm, items))
	}
}

// skipParent decides what a failed child listing means: a parent deleted
// meanwhile has no rows (a note); one IAM refuses to list is left out with
// a warning that the result is partial; any other error fails the scan.
func (t *table) skipParent(ctx *sql.Context, st *statement, parent, key string, err error) error {
	switch code := iamCode(err); code {
	case "NoSuchEntity":
		st.note(ctx, &sql.Warning{Level: "Note", Code: NoteUserGone,
			Message: fmt.Sprintf("%s: %s %s was deleted during the query (it has no rows here)", t.res.Name, parent, key)})
		return nil
	case "AccessDenied":
		st.incomplete(ctx, Incomplete{Table: t.res.Name, Operation: t.res.List.Operation, Code: code, UserName: key,
			Reason: fmt.Sprintf("the %s of user %s could not be listed: %v", childWhat(t.res.Name), key, err)})
		return nil
	}
	return err
}

// childWhat names a child table's items in a message: keys for
// access_keys, else the table's name (user_tags).
func childWhat(table string) string {
	if table == schema.AccessKeys.Name {
		return "keys"
	}
	return table
}

// parentDenied reports whether a scan's parent listing was refused, and
// records the partial result it leads to.
func (t *table) parentDenied(ctx *sql.Context, st *statement, part string, l *schema.Listing, err error) bool {
	var ie *IAMError
	if !errors.As(err, &ie) || ie.Code != "AccessDenied" {
		return false
	}
	if pl := bindings[l.Parent]; pl == nil || ie.Operation != schema.Users.List.Operation {
		return false
	}
	st.denyListing(part)
	st.incomplete(ctx, Incomplete{Table: t.res.Name, Operation: ie.Operation, Code: ie.Code,
		Reason: fmt.Sprintf("%s was denied (%s): only the caller's own access keys are listed", ie.Operation, ie.Message)})
	return true
}

func (t *table) listingDenied(st *statement, part string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.usersDenied[part]
}

// materialize builds the rows of items, making the hydrate calls the
// read needs concurrently (within the statement's bound). A key deleted
// meanwhile has no row (a note); a hydrate call IAM refuses leaves its
// columns NULL, with a warning that the result is partial.
func (b rowBuilder) materialize(ctx *sql.Context, st *statement, part string, prm params, items []any) ([]sql.Row, error) {
	answers := make([]map[string]any, len(items))
	if len(b.hydrates) > 0 && len(items) > 0 {
		errs := make([]error, len(items))
		var wg sync.WaitGroup
		for i, item := range items {
			answers[i] = map[string]any{}
			for _, h := range b.hydrates {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := b.t.b.hydrate[h](ctx, st, part, item)
					if err != nil {
						errs[i] = err
						return
					}
					st.mu.Lock()
					answers[i][h] = a
					st.mu.Unlock()
				}()
			}
		}
		wg.Wait()
		for i, err := range errs {
			if err == nil {
				continue
			}
			id, _ := fieldValue(items[i], "AccessKeyId")
			switch code := iamCode(err); code {
			case "NoSuchEntity":
				st.note(ctx, &sql.Warning{Level: "Note", Code: NoteKeyGone,
					Message: fmt.Sprintf("%s: %v was deleted during the query (it has no row here)", b.t.res.Name, id)})
				items[i] = nil
			case "AccessDenied":
				st.incomplete(ctx, Incomplete{Table: b.t.res.Name, Operation: "GetAccessKeyLastUsed", Code: code, AccessKeyID: fmt.Sprint(id),
					Reason: fmt.Sprintf("the last use of %v is unknown: %v", id, err)})
			default:
				return nil, err
			}
		}
	}
	rows := make([]sql.Row, 0, len(items))
	for i, item := range items {
		if item == nil {
			continue
		}
		row, err := b.row(item, prm, answers[i])
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	b.t.p.rowsBuilt.Add(int64(len(rows)))
	return rows, nil
}

// project maps full-schema rows onto the projected schema, in place.
func (t *table) project(rows []sql.Row) []sql.Row {
	if p := t.projector(); p != nil {
		for i, r := range rows {
			rows[i] = p(r)
		}
	}
	return rows
}

// projector maps a full-schema row onto the projected schema.
func (t *table) projector() func(sql.Row) sql.Row {
	if t.projection == nil {
		return nil
	}
	idx := make([]int, 0, len(t.projection))
	for _, name := range t.projection {
		if i := t.sch.IndexOfColName(name); i >= 0 {
			idx = append(idx, i)
		}
	}
	return func(full sql.Row) sql.Row {
		out := make(sql.Row, len(idx))
		for n, i := range idx {
			out[n] = full[i]
		}
		return out
	}
}

// seqIter adapts a pull-converted iterator to sql.RowIter. Closing it stops
// the producer, which cancels whatever it had in flight.
type seqIter struct {
	next    func() (sql.Row, error, bool)
	stop    func()
	project func(sql.Row) sql.Row
}

func newSeqIter(seq iter.Seq2[sql.Row, error], project func(sql.Row) sql.Row) *seqIter {
	next, stop := iter.Pull2(seq)
	return &seqIter{next: next, stop: stop, project: project}
}

func (s *seqIter) Next(ctx *sql.Context) (sql.Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, scrubSecrets(ctx, ToSQLError(err))
	}
	row, err, ok := s.next()
	if !ok {
		return nil, ioEOF
	}
	if err != nil {
		return nil, scrubSecrets(ctx, ToSQLError(err))
	}
	if s.project != nil {
		row = s.project(row)
	}
	return row, nil
}

func (s *seqIter) Close(*sql.Context) error {
	s.stop()
	return nil
}

// Inserter creates keys (access_keys); other tables refuse INSERT before
// any IAM call (the plan check says so first).
func (t *table) Inserter(*sql.Context) sql.RowInserter {
	if _, ok := t.res.Method(schema.Insert); !ok || t.res.Name != schema.AccessKeys.Name {
		return refusingEditor{t, schema.Insert}
	}
	return &keyInserter{t: t}
}

// Updater changes keys' status (access_keys).
func (t *table) Updater(*sql.Context) sql.RowUpdater {
	if _, ok := t.res.Method(schema.Update); !ok || t.res.Name != schema.AccessKeys.Name {
		return refusingEditor{t, schema.Update}
	}
	return &keyEditor{t: t, verb: schema.Update}
}

// Deleter deletes keys (access_keys).
func (t *table) Deleter(*sql.Context) sql.RowDeleter {
	if _, ok := t.res.Method(schema.Delete); !ok || t.res.Name != schema.AccessKeys.Name {
		return refusingEditor{t, schema.Delete}
	}
	return &keyEditor{t: t, verb: schema.Delete}
}

// refusingEditor is the editor of a table that has no such verb.
type refusingEditor struct {
	t    *table
	verb schema.Verb
}

func (r refusingEditor) err() error                               { return unsupportedVerb(r.t.res, r.verb) }
func (r refusingEditor) StatementBegin(*sql.Context)              {}
func (r refusingEditor) DiscardChanges(*sql.Context, error) error { return nil }
func (r refusingEditor) StatementComplete(*sql.Context) error     { return nil }
func (r refusingEditor) Close(*sql.Context) error                 { return nil }
func (r refusingEditor) Insert(*sql.Context, sql.Row) error       { return r.err() }
func (r refusingEditor) Update(*sql.Context, sql.Row, sql.Row) error {
	return r.err()
}
func (r refusingEditor) Delete(*sql.Context, sql.Row) error { return r.err() }

// unsupportedVerb is the error for a verb a table has no method for.
func unsupportedVerb(r schema.Resource, verb schema.Verb) error {
	if r.SessionScoped {
		return paramError(fmt.Errorf("%s doesn't support %s: it lists the keys this connection created", r.Name, verb))
	}
	return paramError(fmt.Errorf("%s doesn't support %s", r.Name, verb))
}
