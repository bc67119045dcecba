package provider

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/internal/suggest"
	"github.com/iamsql/iamsql/schema"
)

// didYouMean is an error message about a name that does not exist, and
// the names it may have been meant as.
type didYouMean struct {
	re         *regexp.Regexp
	candidates func() []string
}

// didYouMeans match go-mysql-server's messages for an unknown table,
// column, function or stored procedure (the first group is the name).
var didYouMeans = sync.OnceValue(func() []didYouMean {
	return []didYouMean{
		{regexp.MustCompile(`^table not found: (\S+)$`), tableNames},
		{regexp.MustCompile(`^column "([^"]+)" could not be found in any table in scope$`), columnNames},
		{regexp.MustCompile(`^table "[^"]+" does not have column "([^"]+)"$`), columnNames},
		{regexp.MustCompile(`^function: '([^']+)' not found$`), functionNames},
		{regexp.MustCompile(`^stored procedure "([^"]+)" does not exist$`), schema.ProcedureNames},
	}
}) // compiled when first needed, not at every start

// withSuggestion adds "; did you mean …?" to an error about an unknown
// table, column, function or procedure when a known one is a likely typo.
func withSuggestion(e *mysql.SQLError) *mysql.SQLError {
	if e == nil || strings.Contains(e.Message, "did you mean") {
		return e
	}
	for _, d := range didYouMeans() {
		m := d.re.FindStringSubmatch(e.Message)
		if m == nil {
			continue
		}
		if s, ok := suggest.Closest(m[1], d.candidates()); ok {
			return mysql.NewSQLError(e.Num, e.State, "%s; did you mean %s?", e.Message, s)
		}
		return e
	}
	return e
}

func tableNames() []string {
	var out []string
	for _, r := range schema.Resources {
		out = append(out, r.Name)
		out = append(out, r.StackQLIDs...)
	}
	return out
}

func columnNames() []string {
	var out []string
	for _, r := range schema.Resources {
		for _, c := range r.Columns {
			if !slices.Contains(out, c.Name) {
				out = append(out, c.Name)
			}
		}
	}
	return out
}

func functionNames() []string {
	out := make([]string, 0, len(builtinFunctions()))
	for name := range builtinFunctions() {
		out = append(out, strings.ToUpper(name))
	}
	for name := range identityFunctions {
		out = append(out, strings.ToUpper(name))
	}
	slices.Sort(out)
	return out
}
