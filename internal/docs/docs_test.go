package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/schema"
)

func TestCheckedInDocsMatchSchema(t *testing.T) {
	for name, want := range Files() {
		got, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatalf("docs/%s: %v (run make docs)", name, err)
		}
		if string(got) != want {
			t.Errorf("docs/%s is out of date with schema/: run make docs", name)
		}
	}
}

func TestEveryColumnAndMethodIsDocumented(t *testing.T) {
	for _, r := range schema.Resources {
		if r.Doc == "" {
			t.Errorf("%s has no doc", r.Name)
		}
		page := Render(r)
		for _, c := range r.Columns {
			if c.Doc == "" {
				t.Errorf("%s.%s has no doc", r.Name, c.Name)
			}
			if !strings.Contains(page, "`"+c.Name+"`") {
				t.Errorf("%s page misses column %s", r.Name, c.Name)
			}
		}
		for _, m := range r.Methods {
			if m.Doc == "" || len(m.Permissions) == 0 {
				t.Errorf("%s.%s lacks doc or permissions", r.Name, m.Name)
			}
			if !strings.Contains(page, "`"+m.Name+"`") {
				t.Errorf("%s page misses method %s", r.Name, m.Name)
			}
		}
	}
}
