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
	var member, mgmt, memberRead, memberWrite, orgRead []string
	for _, r := range schema.Resources {
		for _, m := range r.Methods {
			for _, perm := range m.Permissions {
				line := "`" + r.Name + "` " + string(m.Verb) + ": " + perm
				// The actions themselves, for the example policies: a
				// permission is "a:X[, b:Y] (when it is needed)".
				actions, _, _ := strings.Cut(perm, " (")
				for _, action := range strings.Split(actions, ",") {
					action = strings.TrimSpace(action)
					if r.List != nil && r.List.Organization {
						orgRead = addAction(orgRead, action)
					} else if m.Verb == schema.Select {
						memberRead = addAction(memberRead, action)
					} else {
						memberWrite = addAction(memberWrite, action)
					}
				}
				if r.List != nil && r.List.Organization {
					mgmt = append(mgmt, line)
				} else if !slices.Contains(member, line) {
					member = append(member, line)
				}
			}
		}
	}
	memberWrite = slices.DeleteFunc(memberWrite, func(a string) bool { return slices.Contains(memberRead, a) })
	data := map[string]any{
		"Role":               provider.DefaultOrgRole,
		"AccountConcurrency": provider.DefaultAccountConcurrency,
		"MaxAttempts":        awsiam.DefaultMaxAttempts,
		"AccountID":          schema.AccountIDColumn,
		"Member":             member,
		"Management":         mgmt,
		"WarnPartial":        provider.WarnPartial,
		"NoteLeftOut":        provider.NoteAccountsLeftOut,
		"MemberRead":         quoted(memberRead),
		"MemberWrite":        quoted(memberWrite),
		"OrgRead":            quoted(orgRead),
	}
	var b strings.Builder
	if err := orgTemplate.Execute(&b, data); err != nil {
		panic(err) // the template names a field Org does not give
	}
	return b.String()
}

// addAction adds an IAM action ("iam:ListUsers") to a sorted set; text
// that is no action ("the permissions of SELECT …") is left out.
func addAction(set []string, action string) []string {
	svc, name, ok := strings.Cut(action, ":")
	if !ok || svc == "" || name == "" || strings.ContainsAny(action, " ()") {
		return set
	}
	if i, found := slices.BinarySearch(set, action); !found {
		set = slices.Insert(set, i, action)
	}
	return set
}

// quoted is actions as the items of a JSON list.
func quoted(actions []string) string {
	q := make([]string, len(actions))
	for i, a := range actions {
		q[i] = `"` + a + `"`
	}
	return strings.Join(q, ", ")
}
