package provider

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// Rows are built from the SDK's items by field name, as schema.Column.From
// says (CloudQuery's transform by struct field, Steampipe's FromField):
// a column reads a field of the listed item (AccessKeyMetadata.CreateDate),
// or of a hydrate call's answer (GetAccessKeyLastUsedOutput's
// AccessKeyLastUsed.LastUsedDate). Paths may cross pointers and maps
// (GetAccountSummaryOutput's SummaryMap.Users).

// fieldValue reads a dotted field path of v as a SQL value: strings,
// string enums and *string as string, times as UTC time.Time, integers as
// int64, booleans as bool; nil pointers, absent map keys and empty paths
// as NULL.
func fieldValue(v any, path string) (any, error) {
	rv := reflect.ValueOf(v)
	for _, name := range strings.Split(path, ".") {
		rv = reflect.Indirect(rv)
		if !rv.IsValid() {
			return nil, nil
		}
		switch rv.Kind() {
		case reflect.Struct:
			idx, ok := fieldIndex(rv.Type(), name)
			if !ok {
				return nil, fmt.Errorf("internal: %s has no field %s", rv.Type(), name)
			}
			rv = rv.Field(idx)
		case reflect.Map:
			rv = rv.MapIndex(reflect.ValueOf(name))
			if !rv.IsValid() {
				return nil, nil
			}
		default:
			return nil, fmt.Errorf("internal: cannot read %s of a %s", name, rv.Type())
		}
	}
	return sqlValue(rv)
}

func sqlValue(rv reflect.Value) (any, error) {
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	if t, ok := rv.Interface().(time.Time); ok {
		return t.UTC(), nil
	}
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	return nil, fmt.Errorf("internal: no SQL value for a %s", rv.Type())
}

var fieldIndexes sync.Map // fieldKey → int

type fieldKey struct {
	t    reflect.Type
	name string
}

func fieldIndex(t reflect.Type, name string) (int, bool) {
	k := fieldKey{t, name}
	if i, ok := fieldIndexes.Load(k); ok {
		return i.(int), true
	}
	f, ok := t.FieldByName(name)
	if !ok || len(f.Index) != 1 {
		return 0, false
	}
	fieldIndexes.Store(k, f.Index[0])
	return f.Index[0], true
}

// rowBuilder builds a resource's full-schema rows.
type rowBuilder struct {
	t *table
	// hydrates are the hydrate calls this read makes (the columns it
	// needs), in schema order.
	hydrates []string
}

// row builds the row of one item: listed fields, the echoed parameters,
// and the columns of the hydrate answers given (by call name); columns
// of calls not made are NULL.
func (b rowBuilder) row(item any, prm params, answers map[string]any) (sql.Row, error) {
	row := make(sql.Row, len(b.t.res.Columns))
	for i, c := range b.t.res.Columns {
		var err error
		switch {
		case c.Echo:
			row[i] = prm[c.Name]
		case c.Hydrate != "":
			if a, ok := answers[c.Hydrate]; ok && a != nil {
				row[i], err = fieldValue(a, c.Field())
			}
		default:
			row[i], err = fieldValue(item, c.Field())
		}
		if err != nil {
			return nil, err
		}
	}
	return row, nil
}
