package docs

import (
	_ "embed"
	"strings"
	"text/template"

	"github.com/iamsql/iamsql/provider"
)

// custodyPage is docs/custody.md: the secret-custody promise and what a
// user sees when something fails, with the figures iamsql runs with.
//
//go:embed custody.md.tmpl
var custodyPage string

var custodyTemplate = template.Must(template.New("custody.md").Parse(custodyPage))

// Custody renders docs/custody.md.
func Custody() string {
	outcomes := codes([]string{provider.OutcomeDelivered, provider.OutcomeRolledBack, provider.OutcomeOrphaned, provider.OutcomeUnknown, provider.OutcomeFailed})
	data := map[string]any{
		"Wait":        provider.DefaultCustodyWait,
		"NoteCreated": provider.NoteCreatedKeys,
		"Placeholder": provider.SecretPlaceholder,
		"Outcomes":    strings.Join(outcomes, ", "),
	}
	var b strings.Builder
	if err := custodyTemplate.Execute(&b, data); err != nil {
		panic(err) // the template names a field Custody does not give
	}
	return b.String()
}
