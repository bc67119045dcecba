package provider

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/schema"
)

// methodRows are the rows of `methods`: schema's methods, for any client
// (SHOW PROCEDURE STATUS does not list external procedures). No IAM call.
func methodRows(*sql.Context) []sql.Row {
	var rows []sql.Row
	for _, res := range schema.Resources {
		for _, m := range res.Methods {
			var proc any
			if m.Procedure != "" {
				proc = m.Signature()
			}
			required := strings.Join(m.Required, ", ")
			if len(m.OneOf) > 0 {
				required += "; one of " + strings.Join(m.OneOf, ", ") + " (safe updates)"
			}
			rows = append(rows, sql.Row{res.Name, m.Name, string(m.Verb), m.Operation, proc,
				required, strings.Join(m.Optional, ", "), strings.Join(m.Permissions, ", ")})
		}
	}
	return rows
}
