package docs

import (
	_ "embed"
	"slices"
	"strings"
	"text/template"

	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// orgPage is docs/org.md: org mode, its flags and defaults, and the
// permissions it needs in the management and member accounts (the
// member accounts' list is the tables' own, from schema/).
//
//go:embed org.md.tmpl
var orgPage string

var orgTemplate = template.Must(template.New("org.md").Parse(orgPage))

// Org renders docs/org.md.
func Org() string {
	var member, mgmt []string
	for _, r := range schema.Resources {
		for _, m := range r.Methods {
			if m.Verb == schema.Exec {
				continue // procedures are refused in org mode
			}
			for _, perm := range m.Permissions {
				line := "`" + r.Name + "` " + string(m.Verb) + ": " + perm
				if r.List != nil && r.List.Organization {
					mgmt = append(mgmt, line)
				} else if !slices.Contains(member, line) {
					member = append(member, line)
				}
			}
		}
	}
	data := map[string]any{
		"Role":               provider.DefaultOrgRole,
		"AccountConcurrency": provider.DefaultAccountConcurrency,
		"MaxAttempts":        awsiam.DefaultMaxAttempts,
		"AccountID":          schema.AccountIDColumn,
		"Member":             member,
		"Management":         mgmt,
		"WarnPartial":        provider.WarnPartial,
	}
	var b strings.Builder
	if err := orgTemplate.Execute(&b, data); err != nil {
		panic(err) // the template names a field Org does not give
	}
	return b.String()
}
