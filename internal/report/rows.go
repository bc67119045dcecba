package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/provider"
)

// rowReader reads the rows of one statement into values of a struct type
// T by column name, never by position. Each column goes to the field
// whose `sql` tag (or, untagged, whose name) is the column's name, case
// aside as in MySQL; an embedded struct's fields count as T's own; a field
// tagged `sql:"-"` is no column's. A map field tagged `sql:"*"` takes every
// column no other field names, by name. A result column no field takes,
// or a field no column fills, is an error before the first row is read:
// the statement and the struct disagree.
//
// NULL reads as the field's zero value (a nil pointer; in the map, the
// zero value under the column's name).
type rowReader[T any] struct {
	cols []rowColumn // one per result column, in the result's order
}

// rowColumn says where a result column goes: the field at index (a path
// through embedded structs), or the `sql:"*"` map when rest is set.
type rowColumn struct {
	name  string
	index []int
	rest  bool
}

// structColumns are the columns a struct type reads.
type structColumns struct {
	fields map[string][]int  // lower-cased column name → field
	names  map[string]string // lower-cased → as the struct spells it
	rest   []int             // the `sql:"*"` map, if any
}

func columnsOf(typ reflect.Type) (structColumns, error) {
	sc := structColumns{fields: map[string][]int{}, names: map[string]string{}}
	if typ.Kind() != reflect.Struct {
		return sc, fmt.Errorf("rows are read into structs, not %s", typ)
	}
	var walk func(t reflect.Type, prefix []int) error
	walk = func(t reflect.Type, prefix []int) error {
		for i := range t.NumField() {
			f := t.Field(i)
			index := append(append([]int(nil), prefix...), i)
			tag, tagged := f.Tag.Lookup("sql")
			switch {
			case tag == "-":
			case f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct:
				if err := walk(f.Type, index); err != nil {
					return err
				}
			case !f.IsExported():
			case tag == "*":
				if f.Type.Kind() != reflect.Map || f.Type.Key().Kind() != reflect.String || sc.rest != nil {
					return fmt.Errorf("%s.%s: only one map[string]… field may take the other columns", typ, f.Name)
				}
				sc.rest = index
			default:
				name := f.Name
				if tag != "" {
					name = tag
				}
				key := strings.ToLower(name)
				if _, dup := sc.fields[key]; dup {
					return fmt.Errorf("%s: two fields read column %q", typ, name)
				}
				sc.fields[key], sc.names[key] = index, name
			}
		}
		return nil
	}
	return sc, walk(typ, nil)
}

func newRowReader[T any](sch gmssql.Schema) (*rowReader[T], error) {
	typ := reflect.TypeFor[T]()
	sc, err := columnsOf(typ)
	if err != nil {
		return nil, err
	}
	rd := &rowReader[T]{}
	seen := map[string]bool{}
	for _, c := range sch {
		key := strings.ToLower(c.Name)
		if seen[key] {
			return nil, fmt.Errorf("the result has two columns named %q", c.Name)
		}
		seen[key] = true
		index, ok := sc.fields[key]
		switch {
		case ok:
			rd.cols = append(rd.cols, rowColumn{name: c.Name, index: index})
		case sc.rest != nil:
			rd.cols = append(rd.cols, rowColumn{name: c.Name, index: sc.rest, rest: true})
		default:
			return nil, fmt.Errorf("the result's column %q has no field in %s", c.Name, typ)
		}
	}
	for key, name := range sc.names {
		if !seen[key] {
			return nil, fmt.Errorf("%s reads column %q, which the result does not have", typ, name)
		}
	}
	return rd, nil
}

// columnOf returns how to get, from a T, the value of a column T reads.
func columnOf[T any](column string) (func(*T) any, error) {
	typ := reflect.TypeFor[T]()
	sc, err := columnsOf(typ)
	if err != nil {
		return nil, err
	}
	index, ok := sc.fields[strings.ToLower(column)]
	if !ok {
		return nil, fmt.Errorf("%s reads no column %q", typ, column)
	}
	return func(v *T) any { return reflect.ValueOf(v).Elem().FieldByIndex(index).Interface() }, nil
}

// read converts one row.
func (rd *rowReader[T]) read(row gmssql.Row) (T, error) {
	var out T
	if len(row) != len(rd.cols) {
		return out, fmt.Errorf("a row of %d values for %d columns", len(row), len(rd.cols))
	}
	v := reflect.ValueOf(&out).Elem()
	for i, c := range rd.cols {
		f := v.FieldByIndex(c.index)
		var err error
		if c.rest {
			if f.IsNil() {
				f.Set(reflect.MakeMap(f.Type()))
			}
			e := reflect.New(f.Type().Elem()).Elem()
			if err = assign(e, row[i]); err == nil {
				f.SetMapIndex(reflect.ValueOf(c.name), e)
			}
		} else {
			err = assign(f, row[i])
		}
		if err != nil {
			return out, fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return out, nil
}

var timeType = reflect.TypeFor[time.Time]()

// dateTimeLayouts are how go-mysql-server renders a DATETIME as text
// (it does so for the columns of a UNION).
var dateTimeLayouts = []string{"2006-01-02 15:04:05.999999999", time.DateOnly}

// assign stores a value of a row in a field, converting between the
// engine's Go types and the field's: a mismatch is an error, never a
// guess.
func assign(f reflect.Value, v any) error {
	if v == nil {
		f.SetZero()
		return nil
	}
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if err := assign(p.Elem(), v); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case f.Type() == timeType:
		switch v := v.(type) {
		case time.Time:
			f.Set(reflect.ValueOf(v.UTC()))
			return nil
		case string:
			for _, layout := range dateTimeLayouts {
				if t, err := time.Parse(layout, v); err == nil {
					f.Set(reflect.ValueOf(t))
					return nil
				}
			}
		}
	case f.Kind() == reflect.String:
		switch v := v.(type) {
		case string:
			f.SetString(v)
			return nil
		case []byte:
			f.SetString(string(v))
			return nil
		}
	case f.Kind() == reflect.Bool:
		switch {
		case rv.Kind() == reflect.Bool:
			f.SetBool(rv.Bool())
			return nil
		case rv.CanInt():
			f.SetBool(rv.Int() != 0)
			return nil
		}
	case f.CanInt():
		switch {
		case rv.CanInt():
			f.SetInt(rv.Int())
			return nil
		case rv.CanUint() && rv.Uint() <= math.MaxInt64:
			f.SetInt(int64(rv.Uint()))
			return nil
		case rv.CanFloat() && rv.Float() == math.Trunc(rv.Float()):
			// SUM(…) OVER (…) is a float in go-mysql-server.
			f.SetInt(int64(rv.Float()))
			return nil
		}
	}
	return fmt.Errorf("cannot read %T %v into %s", v, v, f.Type())
}

// querier runs the report's statements in one session, counting their IAM
// calls.
type querier struct {
	eng   *provider.Engine
	sess  *provider.Session
	calls map[string]int
}

// query runs one statement and hands each of its rows to each, read into a
// T (see rowReader). started, when set, sees the running statement.
func query[T any](ctx context.Context, q *querier, stmt string, started func(*provider.Result), each func(T) error) (err error) {
	res, err := q.eng.Query(ctx, q.sess, stmt)
	defer func() {
		if res != nil && res.Stats != nil {
			for op, n := range res.Stats.Snapshot() {
				q.calls[op] += n
			}
		}
	}()
	if err != nil {
		return err
	}
	rd, err := newRowReader[T](res.Schema)
	if err != nil {
		res.Close()
		return err
	}
	if started != nil {
		started(res)
	}
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			var v T
			if v, err = rd.read(row); err == nil {
				err = each(v)
			}
		}
		if err != nil {
			res.Close()
			return err
		}
	}
	return res.Close()
}
