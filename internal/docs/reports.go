package docs

import (
	"embed"
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

// Examples are the files docs/reports.md shows whole: the team's policy
// file and its daily CI job. cmd/iamsql's TestDocsDailyReportJobRuns runs
// the job as the page shows it.
//
//go:embed examples
var Examples embed.FS

func example(name string) (string, error) {
	b, err := Examples.ReadFile("examples/" + name)
	return strings.TrimRight(string(b), "\n"), err
}

// controlTable is the mapping of findings to controls, a row per
// framework version, a column per finding.
func controlTable() string {
	var b strings.Builder
	b.WriteString("| `--controls` | Framework | Version |")
	for _, ru := range report.Rules {
		b.WriteString(" `" + ru.Name + "` |")
	}
	b.WriteString("\n|:--|:--|:--|" + strings.Repeat(":--|", len(report.Rules)) + "\n")
	for _, cs := range report.ControlSets {
		fmt.Fprintf(&b, "| `%s` | %s | %s |", cs.Key, cs.Framework, cs.Version)
		for _, ru := range report.Rules {
			ids := cs.Rules[ru.Name]
			if len(ids) == 0 {
				b.WriteString(" – |")
				continue
			}
			b.WriteString(" " + strings.Join(ids, ", ") + " |")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// controlSources cites each mapping: its file and commit.
func controlSources() string {
	var b strings.Builder
	for _, cs := range report.ControlSets {
		file, commit, _ := strings.Cut(cs.Source, "@")
		fmt.Fprintf(&b, "- `%s`: `%s` at commit `%s`\n", cs.Key, strings.TrimPrefix(file, "github.com/prowler-cloud/prowler/"), commit)
	}
	return strings.TrimRight(b.String(), "\n")
}

// docRegion is the region the page's statements are written for.
const docRegion = "us-east-1"

func sqlBlock(stmt string) string { return "```sql\n" + stmt + ";\n```" }

var reportsTemplate = template.Must(template.New("reports.md").Funcs(template.FuncMap{
	"sql": func(name string) (string, error) {
		ru, ok := report.LookupRule(name)
		if !ok {
			return "", fmt.Errorf("no rule %q", name)
		}
		return sqlBlock(ru.SQL(docRegion, report.DefaultThresholds)), nil
	},
	"summary":   func() string { return report.SummarySQL(docRegion) },
	"inventory": func() string { return sqlBlock(report.InventorySQL(docRegion, report.DefaultThresholds)) },
	"example":   example,
	"controls":  controlTable,
	"sources":   controlSources,
	"kinds":     func() string { return strings.Join(codes(report.KindNames()), ", ") },
	"sets":      func() string { return strings.Join(codes(report.ControlSetKeys()), ", ") },
}).Parse(reportsPage))

// Reports renders docs/reports.md.
func Reports() string {
	var b strings.Builder
	if err := reportsTemplate.Execute(&b, nil); err != nil {
		panic(err) // the template names a rule that does not exist
	}
	return b.String()
}
