package docs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
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

// The example policies of docs/org.md are JSON whose every action is an
// IAM action name (service:Action), with nothing of the permission
// notes they are taken from.
func TestOrgExamplePoliciesAreValid(t *testing.T) {
	page := Org()
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z*]+$`)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(page, -1)
	if len(blocks) < 3 {
		t.Fatalf("docs/org.md has %d JSON policies, want at least 3", len(blocks))
	}
	for _, b := range blocks {
		var doc struct {
			Statement []struct {
				Action any
			}
		}
		if err := json.Unmarshal([]byte(b[1]), &doc); err != nil {
			t.Fatalf("a policy is no JSON: %v\n%s", err, b[1])
		}
		for _, st := range doc.Statement {
			var actions []string
			switch a := st.Action.(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
			for _, a := range actions {
				if !action.MatchString(a) {
					t.Errorf("policy action %q is no IAM action name", a)
				}
			}
		}
	}
	// The write actions the page adds "for changes" are action names too.
	m := regexp.MustCompile(`\(add\n?(.*?) for changes\)`).FindStringSubmatch(strings.ReplaceAll(page, "\n", " "))
	if m == nil {
		t.Fatal("docs/org.md names no write actions")
	}
	for _, a := range strings.Split(m[1], ", ") {
		if a = strings.Trim(a, `" `); !action.MatchString(a) {
			t.Errorf("write action %q is no IAM action name", a)
		}
	}
}
