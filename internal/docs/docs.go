// Package docs renders docs/<resource>.md from the declarative resources in
// package schema, in the structure of StackQL's provider docs: overview,
// fields, methods with their SQL verbs and required parameters, examples.
package docs

import (
	"fmt"
	"strings"

	"github.com/iamsql/iamsql/schema"
)

// FileName is where a resource's page lives under docs/.
func FileName(r schema.Resource) string { return r.Name + ".md" }

// Render returns a resource's page.
func Render(r schema.Resource) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from schema/ by `make docs`; do not edit. -->\n")
	p("# %s\n\n", r.Name)
	p("## Overview\n\n")
	p("| | |\n|:--|:--|\n")
	p("| **Name** | `%s` |\n", r.Name)
	p("| **Type** | %s |\n", map[bool]string{true: "Session table (memory only)", false: "Resource"}[r.SessionScoped])
	if len(r.StackQLIDs) > 0 {
		ids := make([]string, len(r.StackQLIDs))
		for i, id := range r.StackQLIDs {
			ids[i] = "`" + id + "`"
		}
		p("| **Id** | %s |\n", strings.Join(ids, ", "))
	}
	p("\n%s\n\n", r.Doc)
	if l := r.List; l != nil {
		p("**Rows.** A full scan (`WHERE region = …`) is the table: ")
		if l.Parent != "" {
			p("`%s` once per row of [`%s`](%s.md) (its `%s`)", l.Operation, l.Parent, l.Parent, l.ParentKey)
			if l.RootCaller {
				p(", plus the caller's own when the caller is the root user")
			}
		} else {
			p("`%s`, all pages", l.Operation)
		}
		p(". Conditions on the API parameters (`=`, `IN`, a join) only narrow the IAM calls: they return exactly the rows of the full scan they select.\n\n")
	}

	p("## Fields\n\n")
	p("| Name | Datatype | Description |\n|:-----|:---------|:------------|\n")
	for _, c := range r.Columns {
		typ := string(c.Type)
		if c.Size > 0 {
			typ = fmt.Sprintf("%s(%d)", c.Type, c.Size)
		}
		var notes []string
		if c.Key {
			notes = append(notes, "identifies the row")
		}
		if c.Param {
			notes = append(notes, "API parameter: = and IN in WHERE or a join narrow the IAM calls")
		}
		if c.Hydrate != "" {
			notes = append(notes, "fetched with "+c.Hydrate+" only when used")
		}
		if c.Sensitive {
			notes = append(notes, "sensitive: never logged")
		}
		if len(c.Enum) > 0 {
			notes = append(notes, "one of "+strings.Join(c.Enum, ", "))
		}
		desc := escape(c.Doc)
		if len(notes) > 0 {
			desc += " _(" + strings.Join(notes, "; ") + ")_"
		}
		p("| `%s` | `%s` | %s |\n", c.Name, typ, desc)
	}
	p("\n")

	if len(r.Methods) > 0 {
		p("## Methods\n\n")
		p("| Name | Accessible by | IAM operation | Required Params | Optional Params | Description |\n")
		p("|:-----|:--------------|:--------------|:----------------|:----------------|:------------|\n")
		for _, m := range r.Methods {
			access := "`" + string(m.Verb) + "`"
			if m.Procedure != "" {
				access += ", `CALL " + m.Signature() + "`"
			}
			required := codeList(m.Required)
			if len(m.OneOf) > 0 {
				required += "; and " + strings.Join(codes(m.OneOf), " or ") + " (safe updates)"
			}
			p("| `%s` | %s | `%s` | %s | %s | %s |\n", m.Name, access, m.Operation, required, codeList(m.Optional), escape(m.Doc))
		}
		p("\n")
		for _, m := range r.Methods {
			if len(m.Arguments) == 0 {
				continue
			}
			p("Arguments of `%s` that are not fields:\n\n", m.Procedure)
			for _, a := range m.Arguments {
				p("- `%s`: %s\n", a.Name, a.Doc)
			}
			p("\n")
		}
		p("### IAM permissions\n\n")
		for _, m := range r.Methods {
			p("- `%s` (%s): %s\n", m.Name, m.Verb, strings.Join(m.Permissions, ", "))
		}
		p("\n")
	}

	if len(r.Examples) > 0 {
		p("## Examples\n\n")
		p("Every example runs in the test suite against the sandbox account (`iamsql --sandbox`).\n\n")
		for _, ex := range r.Examples {
			p("### %s\n\n```sql\n%s\n```\n\n", ex.Title, ex.SQL)
		}
	}
	return b.String()
}

func codeList(names []string) string {
	if len(names) == 0 {
		return "—"
	}
	return strings.Join(codes(names), ", ")
}

func codes(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

func escape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// Index renders docs/README.md: one line per resource.
func Index() string {
	var b strings.Builder
	b.WriteString("<!-- Generated from schema/ by `make docs`; do not edit. -->\n# iamsql resources\n\n")
	b.WriteString("| Table | StackQL id | Description |\n|:--|:--|:--|\n")
	for _, r := range schema.Resources {
		ids := strings.Join(r.StackQLIDs, ", ")
		if ids == "" {
			ids = "—"
		}
		first, _, _ := strings.Cut(r.Doc, ". ")
		fmt.Fprintf(&b, "| [`%s`](%s) | %s | %s. |\n", r.Name, FileName(r), ids, strings.TrimSuffix(escape(first), "."))
	}
	b.WriteString("\nThe security reports of `iamsql report`, and the SQL each finding runs, are in [reports.md](reports.md).\n")
	b.WriteString("\nOrg mode — every account of an AWS Organization (or of several profiles) in one query, and the permissions it needs — is in [org.md](org.md).\n")
	b.WriteString("\nRotating keys safely — plan, apply, continue, finish, rollback, the sinks, the last-used lag and the fault cases — is in [rotation.md](rotation.md).\n")
	b.WriteString("\nWhat becomes of a created key's secret — delivered once, or the key deleted again — under every failure, and what you see after a crash, is in [custody.md](custody.md).\n")
	return b.String()
}

// Files returns every generated file by name.
func Files() map[string]string {
	out := map[string]string{"README.md": Index(), "reports.md": Reports(), "custody.md": Custody(), "org.md": Org(), "rotation.md": Rotation()}
	for _, r := range schema.Resources {
		out[FileName(r)] = Render(r)
	}
	return out
}
