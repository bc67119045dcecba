package provider

import (
	"testing"

	"github.com/iamsql/iamsql/schema"
)

// TestDocumentedExamplesRun runs every example of docs/ (they come from
// schema/) against the demo account, in order, in one session.
func TestDocumentedExamplesRun(t *testing.T) {
	w := newWorld(t, worldOptions{})
	org := newOrgWorld(t, orgWorldOptions{seed: "org:demo"})
	n := 0
	for _, r := range schema.Resources {
		for _, ex := range r.Examples {
			exec := w.exec
			if r.Name == schema.Accounts.Name {
				// Organizations answers in an organization's management account.
				exec = org.exec
			}
			if res := exec(ex.SQL); res.err != nil {
				t.Errorf("%s example %q: %v", r.Name, ex.Title, res.err)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d examples", n)
	}
}
