package docs

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/iamsql/iamsql/internal/rotate"
)

// rotationPage is docs/rotation.md: how a key is rotated, the last-used
// lag, and examples that TestRotationGuideExamplesRun (cmd/iamsql) runs.
//
//go:embed rotation.md.tmpl
var rotationPage string

var rotationTemplate = template.Must(template.New("rotation.md").Parse(rotationPage))

// Rotation renders docs/rotation.md.
func Rotation() string {
	data := map[string]any{
		"PropagationWait":  rotate.DefaultPropagationWait,
		"LastUsedLag":      fmt.Sprintf("%d hours", rotate.LastUsedLag/time.Hour),
		"LastUsedLagShort": fmt.Sprintf("%dh", rotate.LastUsedLag/time.Hour),
		"CustodyWait":      rotate.DefaultCustodyWait,
	}
	var b strings.Builder
	if err := rotationTemplate.Execute(&b, data); err != nil {
		panic(err) // the template names a field Rotation does not give
	}
	return b.String()
}
