package provider

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/schema"
)

// procedure builds the stored procedure of a schema method. Arguments are
// positional, required first then optional (schema.Method.Params); the
// argument count is checked here so the error can name the signature.
func (p *Provider) procedure(ref schema.ProcedureRef) sql.ExternalStoredProcedureDetails {
	m := ref.Method
	// Errors name the procedure, whatever SQL verb the method also has.
	asCall := m
	asCall.Verb = schema.Exec
	var resultSchema sql.Schema
	if len(m.Returns) > 0 {
		full := sqlSchema(DatabaseName, schema.CreatedAccessKeys)
		for _, name := range m.Returns {
			resultSchema = append(resultSchema, full[full.IndexOfColName(name)])
		}
	}
	fnInner := func(ctx *sql.Context, args ...string) (sql.RowIter, error) {
		names := m.Params()
		if len(args) < len(m.Required) || len(args) > len(names) {
			return nil, paramError(fmt.Errorf("%s: expected %s, got %d argument(s)", m.Procedure, m.Signature(), len(args)))
		}
		prm := map[string]string{}
		for i, a := range args {
			prm[names[i]] = a
		}
		for _, req := range m.Required {
			if strings.TrimSpace(prm[req]) == "" {
				return nil, paramError(&schema.MissingParam{Resource: ref.Resource.Name, Param: req, Method: asCall})
			}
		}
		if m.Mutating {
			if err := p.checkWritable(ctx, m.Operation); err != nil {
				return nil, err
			}
		}
		// A key named by id alone may belong to anyone: find its owner.
		if _, ok := prm["AccessKeyId"]; ok && prm["UserName"] == "" {
			for _, param := range m.Required {
				if err := schema.Validate(param, prm[param]); err != nil {
					return nil, paramError(err)
				}
			}
			owner, err := p.ownerOf(ctx, prm["region"], prm["AccessKeyId"])
			if err != nil {
				return nil, err
			}
			prm["UserName"] = owner
		}
		switch m.Operation {
		case "CreateAccessKey":
			k, err := p.createAccessKey(ctx, prm["region"], prm["UserName"])
			if err != nil {
				return nil, err
			}
			return sql.RowsToRowIter(k.Row()), nil
		case "UpdateAccessKey":
			return nil, p.updateAccessKey(ctx, m, prm["AccessKeyId"], prm["Status"], prm["region"], prm["UserName"])
		case "DeleteAccessKey":
			return nil, p.deleteAccessKey(ctx, m, prm["AccessKeyId"], prm["region"], prm["UserName"])
		}
		return nil, fmt.Errorf("%s: no implementation for %s", m.Procedure, m.Operation)
	}
	fn := func(ctx *sql.Context, args ...string) (sql.RowIter, error) {
		it, err := fnInner(ctx, args...)
		return it, scrubSecrets(ctx, ToSQLError(err))
	}
	return sql.ExternalStoredProcedureDetails{
		Name:     m.Procedure,
		Schema:   resultSchema,
		Function: fn,
		ReadOnly: !m.Mutating,
	}
}
