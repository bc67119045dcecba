package provider

import (
	"iter"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/schema"
)

// methodsTable is `methods`: schema's methods as rows, for any client
// (SHOW PROCEDURE STATUS does not list external procedures).
type methodsTable struct{ *table }

func (p *Provider) newMethodsTable() *methodsTable {
	r := schema.Methods
	t := &table{prov: p, res: r, sch: sqlSchema(DatabaseName, r)}
	t.fetch = func(*sql.Context, params, func(string) bool) iter.Seq2[sql.Row, error] {
		return func(yield func(sql.Row, error) bool) {
			for _, res := range schema.Resources {
				for _, m := range res.Methods {
					var proc any
					if m.Procedure != "" {
						proc = m.Signature()
					}
					row := sql.Row{res.Name, m.Name, string(m.Verb), m.Operation, proc,
						strings.Join(m.Required, ", "), strings.Join(m.Optional, ", "), strings.Join(m.Permissions, ", ")}
					if !yield(row, nil) {
						return
					}
				}
			}
		}
	}
	return &methodsTable{table: t}
}

func (t *methodsTable) WithProjections(cols []string) sql.Table {
	return &methodsTable{table: t.table.WithProjections(cols).(*table)}
}
