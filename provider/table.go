package provider

import (
	"fmt"
	"iter"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/schema"
)

// fetchFunc streams the full-schema rows for one parameter combination.
// need reports whether a column is used by the query, so expensive
// per-row calls can be skipped.
type fetchFunc func(ctx *sql.Context, p params, need func(col string) bool) iter.Seq2[sql.Row, error]

// table is a virtual table generated from a schema.Resource. Each SELECT
// becomes one fetch per combination of parameter values pushed down through
// a paramIndex; rows stream from IAM page by page.
type table struct {
	prov    *Provider
	res     schema.Resource
	sch     sql.Schema
	indexes []*paramIndex
	fetch   fetchFunc
	// fetchAll, set instead of fetch, returns a partition's rows at once
	// (a user's keys: two at most). It runs on the caller's goroutine, which
	// is cheaper than a streaming iterator's coroutine per partition.
	fetchAll func(ctx *sql.Context, p params, need func(col string) bool) ([]sql.Row, error)
	// merge, when set, combines parameter combinations one call can serve.
	merge func([]params) []params

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
	_ sql.IndexAddressableTable = (*table)(nil)
	_ sql.IndexedTable          = (*table)(nil)
	_ sql.ProjectedTable        = (*table)(nil)
	_ sql.PrimaryKeyTable       = (*table)(nil)
	_ sql.StatisticsTable       = (*table)(nil)
	_ sql.IndexSearchableTable  = (*table)(nil)
)

// SkipIndexCosting is false so that, when LookupForExpressions declines
// (only the first parameter is given), GMS's own planning runs: for a
// join on UserName it builds a lookup join, one call per outer row, which
// a static lookup would turn into a wrong "caller's keys" hash join.
func (t *table) SkipIndexCosting() bool { return false }

// LookupForExpressions pushes WHERE equalities and IN lists on parameter
// columns down as one lookup on the table's parameter index.
func (t *table) LookupForExpressions(ctx *sql.Context, exprs ...sql.Expression) (sql.IndexLookup, *sql.FuncDepSet, sql.Expression, bool, error) {
	if len(t.indexes) == 0 {
		return sql.IndexLookup{}, nil, nil, false, nil
	}
	lookup, ok, err := lookupForExpressions(ctx, t.indexes[0], exprs)
	return lookup, nil, nil, ok, err
}

// sqlSchema derives the GMS schema of a resource.
func sqlSchema(db string, r schema.Resource) sql.Schema {
	sch := make(sql.Schema, 0, len(r.Columns))
	for _, c := range r.Columns {
		sch = append(sch, &sql.Column{
			Name:           c.Name,
			Type:           sqlType(c),
			Nullable:       true,
			Source:         r.Name,
			DatabaseSource: db,
			Comment:        c.Doc,
		})
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

// PrimaryKeySchema is the full schema (there is no primary key): the
// planner derives index statistics from it.
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

// need reports whether the query uses a column. Without a projection the
// rows feed an UPDATE or DELETE, which needs only the key's identity, so
// columns that cost extra calls are not fetched (walkPlan refuses filters
// on them in those statements).
func (t *table) need(col string) bool {
	if t.projection == nil {
		c, _ := t.res.Column(col)
		return c.Hydrated == ""
	}
	for _, p := range t.projection {
		if strings.EqualFold(p, col) {
			return true
		}
	}
	return false
}

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
// to the fetched rows, so a range we can't push down is still honoured.
func (t *table) PreciseMatch() bool { return false }

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

// Partitions is a scan without any usable parameter: the required ones are
// missing.
func (t *table) Partitions(*sql.Context) (sql.PartitionIter, error) {
	m := t.selectMethod()
	if len(m.Required) > 0 {
		return nil, paramError(&schema.MissingParam{Resource: t.res.Name, Param: m.Required[0], Method: m})
	}
	return &partitionIter{parts: []params{{}}}, nil
}

func (t *table) LookupPartitions(_ *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	idx, ok := lookup.Index.(*paramIndex)
	if !ok {
		return nil, fmt.Errorf("%s: lookup on unknown index %v", t.res.Name, lookup.Index)
	}
	m := t.selectMethod()
	combos, err := paramsFromLookup(t.res, m, idx, lookup)
	if err != nil {
		return nil, paramError(err)
	}
	for _, p := range combos {
		if err := checkParams(t.res, m, p); err != nil {
			return nil, paramError(err)
		}
	}
	if t.merge != nil {
		combos = t.merge(combos)
	}
	return &partitionIter{parts: combos}, nil
}

// checkParams enforces a method's required parameters and validates every
// value, before any IAM call.
func checkParams(r schema.Resource, m schema.Method, p params) error {
	for _, req := range m.Required {
		if v, ok := p[req]; !ok || v == "" {
			if _, isCol := r.Column(req); isCol || m.Verb == schema.Exec {
				return &schema.MissingParam{Resource: r.Name, Param: req, Method: m}
			}
		}
	}
	for k, v := range p {
		if err := schema.Validate(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) PartitionRows(ctx *sql.Context, part sql.Partition) (sql.RowIter, error) {
	p := part.(*partition).p
	if t.fetchAll != nil {
		rows, err := t.fetchAll(ctx, p, t.need)
		if err != nil {
			return nil, scrubSecrets(ctx, ToSQLError(err))
		}
		if project := t.projector(); project != nil {
			for i, r := range rows {
				rows[i] = project(r)
			}
		}
		return sql.RowsToRowIter(rows...), nil
	}
	seq := t.fetch(ctx, p, t.need)
	return newSeqIter(seq, t.projector()), nil
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

type partition struct {
	key []byte
	p   params
}

func (p *partition) Key() []byte { return p.key }

type partitionIter struct {
	parts []params
	i     int
}

func (it *partitionIter) Next(*sql.Context) (sql.Partition, error) {
	if it.i >= len(it.parts) {
		return nil, ioEOF
	}
	p := it.parts[it.i]
	it.i++
	return &partition{key: []byte(fmt.Sprint(it.i, p)), p: p}, nil
}

func (it *partitionIter) Close(*sql.Context) error { return nil }

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
