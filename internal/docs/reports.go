package docs

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/iamsql/iamsql/internal/report"
)

// reportsPage is docs/reports.md with the SQL left to the rules: each
// rule's statement and the report's inventory statement are rendered from
// internal/report, so the page shows the one definition the report runs.
//
//go:embed reports.md.tmpl
var reportsPage string

// docRegion is the region the page's statements are written for.
const docRegion = "us-east-1"

func sqlBlock(stmt string) string { return "```sql\n" + stmt + ";\n```" }

var reportsTemplate = template.Must(template.New("reports.md").Funcs(template.FuncMap{
	"ruleList": func() string { return strings.Join(codes(report.RuleNames()), ", ") },
	"sql": func(name string) (string, error) {
		ru, ok := report.LookupRule(name)
		if !ok {
			return "", fmt.Errorf("no rule %q", name)
		}
		return sqlBlock(ru.SQL(docRegion, report.DefaultThresholds)), nil
	},
	"summary":   func() string { return report.SummarySQL(docRegion) },
	"inventory": func() string { return sqlBlock(report.InventorySQL(docRegion, report.DefaultThresholds)) },
}).Parse(reportsPage))

// Reports renders docs/reports.md.
func Reports() string {
	var b strings.Builder
	if err := reportsTemplate.Execute(&b, nil); err != nil {
		panic(err) // the template names a rule that does not exist
	}
	return b.String()
}
