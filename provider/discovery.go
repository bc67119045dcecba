package provider

import (
	"fmt"
	"strings"

	"github.com/iamsql/iamsql/internal/suggest"
	"github.com/iamsql/iamsql/schema"
)

// StackQL's discovery statements, answered from package schema with
// StackQL's columns and no IAM call:
//
//	SHOW SERVICES [IN aws] [LIKE 'pattern']                    id, name, title
//	SHOW [EXTENDED] RESOURCES [IN aws.iam_api] [LIKE 'pattern'] name, id [, description]
//	SHOW [EXTENDED] METHODS IN aws.iam_api.access_keys [LIKE …] MethodName, RequiredParams, SQLVerb [, description]
//	DESCRIBE EXTENDED aws.iam_api.access_keys                  name, type, description
//
// (Plain DESCRIBE keeps MySQL's answer.) Each becomes a SELECT over
// literal rows, so LIKE and the MySQL protocol work as for any query.

// rewriteDiscovery recognises a discovery statement; ok is false for any
// other statement.
func rewriteDiscovery(toks []token, sig []int) (q string, ok bool, err error) {
	k := 1
	switch {
	case isWords(toks, sig, 0, "SHOW"):
	case isWords(toks, sig, 0, "DESCRIBE", "EXTENDED"), isWords(toks, sig, 0, "DESC", "EXTENDED"):
		parts, next := qualifiedName(toks, sig, 2)
		if len(parts) == 0 || next != len(sig) {
			return "", false, nil
		}
		res, err := discoveryResource(strings.Join(parts, "."))
		if err != nil {
			return "", true, err
		}
		var rows [][]string
		for _, c := range res.Columns {
			rows = append(rows, []string{c.Name, columnType(c), c.Doc})
		}
		return literalRows([]string{"name", "type", "description"}, rows, "", ""), true, nil
	default:
		return "", false, nil
	}
	extended := isWords(toks, sig, k, "EXTENDED")
	if extended {
		k++
	}
	var what string
	switch {
	case isWords(toks, sig, k, "SERVICES") && !extended:
		what = "SERVICES"
	case isWords(toks, sig, k, "RESOURCES"):
		what = "RESOURCES"
	case isWords(toks, sig, k, "METHODS"):
		what = "METHODS"
	default:
		return "", false, nil
	}
	k++
	var in string
	if isWords(toks, sig, k, "IN") {
		parts, next := qualifiedName(toks, sig, k+1)
		if len(parts) == 0 {
			return "", true, fmt.Errorf("SHOW %s IN: expected a name, as in SHOW RESOURCES IN aws.iam_api", what)
		}
		in, k = strings.Join(parts, "."), next
	}
	like := ""
	switch {
	case k == len(sig):
	case isWords(toks, sig, k, "LIKE") && k+2 == len(sig) && toks[sig[k+1]].kind == tokString:
		like = toks[sig[k+1]].text
	default:
		return "", false, nil // the engine reports the syntax error
	}

	switch what {
	case "SERVICES":
		if in != "" && !strings.EqualFold(in, "aws") {
			return "", true, fmt.Errorf("SHOW SERVICES IN %s: iamsql has the provider aws only", in)
		}
		var rows [][]string
		for _, s := range schema.Services {
			rows = append(rows, []string{s.ID, s.Name(), s.Title})
		}
		return literalRows([]string{"id", "name", "title"}, rows, "name", like), true, nil
	case "RESOURCES":
		if in != "" && !knownService(in) {
			return "", true, unknownName("service", in, serviceIDs())
		}
		var rows [][]string
		for _, r := range schema.Resources {
			id := ""
			for _, sid := range r.StackQLIDs {
				if in == "" || strings.EqualFold(schema.ServiceOf(sid), in) {
					id = sid
					break
				}
			}
			switch {
			case id == "" && in != "":
				continue // not in that service
			case id == "":
				id = r.Name // iamsql's own tables (methods, created_access_keys)
			}
			row := []string{r.Name, id}
			if extended {
				row = append(row, r.Doc)
			}
			rows = append(rows, row)
		}
		cols := []string{"name", "id"}
		if extended {
			cols = append(cols, "description")
		}
		return literalRows(cols, rows, "name", like), true, nil
	default: // METHODS
		if in == "" {
			return "", true, fmt.Errorf("SHOW METHODS needs IN and a resource, as in SHOW METHODS IN aws.iam_api.access_keys")
		}
		res, err := discoveryResource(in)
		if err != nil {
			return "", true, err
		}
		var rows [][]string
		for _, m := range res.Methods {
			row := []string{m.Name, strings.Join(m.Required, ", "), string(m.Verb)}
			if extended {
				row = append(row, m.Doc)
			}
			rows = append(rows, row)
		}
		cols := []string{"MethodName", "RequiredParams", "SQLVerb"}
		if extended {
			cols = append(cols, "description")
		}
		return literalRows(cols, rows, "MethodName", like), true, nil
	}
}

// discoveryResource finds a resource by table name or StackQL id.
func discoveryResource(name string) (schema.Resource, error) {
	if res, ok := schema.Lookup(name); ok {
		return res, nil
	}
	return schema.Resource{}, unknownName("resource", name, tableNames())
}

func knownService(id string) bool {
	for _, s := range schema.Services {
		if strings.EqualFold(s.ID, id) {
			return true
		}
	}
	return false
}

func serviceIDs() []string {
	out := make([]string, len(schema.Services))
	for i, s := range schema.Services {
		out[i] = s.ID
	}
	return out
}

// unknownName is error 1146 for a name that names nothing, with the
// nearest known one.
func unknownName(kind, name string, known []string) error {
	msg := fmt.Sprintf("unknown %s %s", kind, name)
	if s, ok := suggest.Closest(name, known); ok {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	return &UnknownNameError{msg}
}

// UnknownNameError is a StackQL name (a service, a resource) that names
// nothing iamsql has.
type UnknownNameError struct{ msg string }

func (e *UnknownNameError) Error() string { return e.msg }

// columnType is a column's SQL type as DESCRIBE shows it.
func columnType(c schema.Column) string { return strings.ToLower(sqlType(c).String()) }

// literalRows is a SELECT of rows of strings under cols, filtered by a
// LIKE pattern (a string token, as written) on column likeCol, in order.
func literalRows(cols []string, rows [][]string, likeCol, like string) string {
	var b strings.Builder
	for i, row := range rows {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s AS `%s`", sqlString(v), cols[j])
		}
	}
	q := "SELECT * FROM (" + b.String() + ") AS discovery"
	if like != "" {
		q += " WHERE `" + likeCol + "` LIKE " + like
	}
	return q
}

// sqlString quotes s as a MySQL string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}
