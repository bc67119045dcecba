package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Baseline is an earlier report's findings, read from its own JSON output
// (`iamsql report -o json`), to compare a run with.
type Baseline struct {
	Path        string
	GeneratedAt string
	// Account is the account the earlier report ran in ("" if unknown).
	Account string
	// Rules are the rules the earlier report looked for (its selection):
	// only their findings can be new or resolved.
	Rules    []string
	Findings []BaselineFinding
}

// BaselineFinding is one finding of the earlier report.
type BaselineFinding struct {
	Rule, Severity, Account, UserName, AccessKeyID, Detail string
}

func (f BaselineFinding) id() string {
	return f.Rule + "\x00" + f.Account + "\x00" + f.UserName + "\x00" + f.AccessKeyID
}

func findingID(f Finding) string {
	return BaselineFinding{Rule: f.Rule, Account: f.Key.Account, UserName: f.Key.UserName, AccessKeyID: f.Key.AccessKeyID}.id()
}

// MaxBaselineSize bounds the file read: a report of 100,000 keys is a few
// tens of MiB.
const MaxBaselineSize = 256 << 20

// LoadBaseline reads an earlier report's JSON output.
func LoadBaseline(path string) (*Baseline, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxBaselineSize+1))
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	if len(data) > MaxBaselineSize {
		return nil, fmt.Errorf("baseline %s: larger than %d MiB", path, MaxBaselineSize>>20)
	}
	b, err := ParseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	b.Path = path
	return b, nil
}

// ParseBaseline reads the JSON document of an earlier report.
func ParseBaseline(data []byte) (*Baseline, error) {
	var doc struct {
		GeneratedAt   *string            `json:"generatedAt"`
		Account       *string            `json:"account"`
		FindingCounts map[string]int     `json:"findingCounts"`
		Findings      *[]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not the JSON output of iamsql report (-o json): %w", err)
	}
	if doc.GeneratedAt == nil || doc.Findings == nil || doc.FindingCounts == nil {
		return nil, errors.New("not the JSON output of iamsql report with findings (make it with report -o json, not report inventory -o json)")
	}
	b := &Baseline{GeneratedAt: *doc.GeneratedAt}
	if doc.Account != nil {
		b.Account = *doc.Account
	}
	for rule := range doc.FindingCounts {
		b.Rules = append(b.Rules, rule)
	}
	slices.Sort(b.Rules)
	for i, raw := range *doc.Findings {
		var row struct {
			Finding, Severity, Detail string
			Account, UserName         *string
			AccessKeyID               *string `json:"AccessKeyId"`
		}
		if err := json.Unmarshal(raw, &row); err != nil || row.Finding == "" {
			return nil, fmt.Errorf("finding %d: not a finding row of iamsql report", i+1)
		}
		if row.Finding == "incomplete" {
			continue
		}
		f := BaselineFinding{Rule: row.Finding, Severity: row.Severity, Detail: row.Detail}
		if row.Account != nil {
			f.Account, _, _ = strings.Cut(*row.Account, " ") // "id (name)" in org mode
		}
		if row.UserName != nil {
			f.UserName = *row.UserName
		}
		if row.AccessKeyID != nil {
			f.AccessKeyID = *row.AccessKeyID
		}
		b.Findings = append(b.Findings, f)
	}
	return b, nil
}

// BaselineComparison is what changed since the baseline.
type BaselineComparison struct {
	Path, Since string
	New, Open   int
	// Resolved are the baseline's findings this report no longer has.
	Resolved []BaselineFinding
	// Unchecked are baseline findings about users this report could not
	// read: neither resolved nor still open.
	Unchecked int
}

// compare marks each finding new or still open, and lists the resolved.
// A baseline of another account would call every finding new and every
// old one resolved: it is refused.
func (r *Report) compare(b *Baseline) error {
	if b.Account != "" && r.Account != "" && b.Account != r.Account {
		return &BaselineMismatch{fmt.Sprintf("baseline %s is a report of account %s, this one of account %s", b.Path, b.Account, r.Account)}
	}
	c := &BaselineComparison{Path: b.Path, Since: b.GeneratedAt}
	before := map[string]bool{}
	for _, f := range b.Findings {
		before[f.id()] = true
	}
	now := map[string]bool{}
	for i := range r.Findings {
		f := &r.Findings[i]
		now[findingID(*f)] = true
		if !slices.Contains(b.Rules, f.Rule) {
			continue // the baseline did not look for it
		}
		if before[findingID(*f)] {
			f.Trend, c.Open = "open", c.Open+1
		} else {
			f.Trend, c.New = "new", c.New+1
		}
	}
	unread := map[string]bool{}
	for _, in := range r.Incomplete {
		if in.UserName != "" {
			unread[in.UserName] = true
		}
	}
	for _, f := range b.Findings {
		switch {
		case now[f.id()]:
		case unread[f.UserName]:
			c.Unchecked++
		default:
			c.Resolved = append(c.Resolved, f)
		}
	}
	r.Baseline = c
	return nil
}

// BaselineMismatch is a baseline that cannot be compared with the report:
// a usage error, not a failed report.
type BaselineMismatch struct{ msg string }

func (e *BaselineMismatch) Error() string { return e.msg }
