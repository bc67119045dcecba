package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/output"
)

// Selection names the part of a report to print: everything (""),
// "findings", "inventory" or one rule's name.
type Selection string

// The selections that are not a rule's name.
const (
	SelectAll       Selection = ""
	SelectFindings  Selection = "findings"
	SelectInventory Selection = "inventory"
)

// ParseSelection checks a selection named on the command line.
func ParseSelection(s string) (Selection, error) {
	switch sel := Selection(strings.ToLower(s)); sel {
	case SelectAll, SelectFindings, SelectInventory:
		return sel, nil
	case "all":
		return SelectAll, nil
	default:
		if _, ok := LookupRule(string(sel)); ok {
			return sel, nil
		}
	}
	return "", fmt.Errorf("unknown report %q (choose findings, inventory or one of %s)", s, strings.Join(RuleNames(), ", "))
}

// Rules are the rules a selection covers.
func (s Selection) Rules() []Rule {
	if ru, ok := LookupRule(string(s)); ok {
		return []Rule{ru}
	}
	return Rules
}

func (s Selection) showsFindings() bool  { return s != SelectInventory }
func (s Selection) showsInventory() bool { return s == SelectAll || s == SelectInventory }

// Selected returns the report's findings within a selection.
func (r *Report) Selected(s Selection) []Finding {
	var out []Finding
	for _, ru := range s.Rules() {
		out = append(out, r.FindingsOf(ru.Name)...)
	}
	return out
}

// Columns of the printed tables.
var (
	findingColumns    = []string{"UserName", "AccessKeyId", "Status", "CreateDate", "AgeDays", "LastUsedDate", "LastUsedServiceName", "Detail"}
	flatColumns       = []string{"Finding", "Severity", "Account", "UserName", "AccessKeyId", "Status", "CreateDate", "AgeDays", "LastUsedDate", "LastUsedServiceName", "Detail"}
	inventoryColumns  = []string{"Account", "UserName", "AccessKeyId", "Status", "CreateDate", "AgeDays", "LastUsedDate", "LastUsedServiceName", "LastUsedRegion", "Findings"}
	incompleteColumns = []string{"Source", "UserName", "AccessKeyId", "Reason"}
	accountColumns    = []string{"Account", "Name", "Users", "Keys", "Active", "RootKeys", "Findings"}
)

// accountRows are the per-account summary rows of an org-mode report,
// then their totals.
func (r *Report) accountRows() [][]any {
	var rows [][]any
	var users, keys, active, findings int
	usersKnown := true
	for _, a := range r.Accounts {
		var u, root any
		if a.Users >= 0 {
			u = a.Users
			users += a.Users
		} else {
			usersKnown = false
		}
		if a.RootKeysPresent != nil {
			root = *a.RootKeysPresent
		}
		rows = append(rows, []any{a.ID, nullable(a.Name), u, a.Keys, a.Active, root, a.Findings})
		keys, active, findings = keys+a.Keys, active+a.Active, findings+a.Findings
	}
	var u, root any = users, nil
	if !usersKnown {
		u = nil
	}
	if r.RootKeysPresent != nil {
		root = *r.RootKeysPresent
	}
	return append(rows, []any{"total", nil, u, keys, active, root, findings})
}

// Write prints the selected part of a report in a text format. Table,
// vertical and markdown print sections (summary, one per finding,
// incomplete entries, inventory); CSV and JSON lines print one table (the
// inventory with each key's findings for everything, else the findings),
// with incomplete entries as rows; JSON prints one document.
func Write(w io.Writer, r *Report, f output.Format, sel Selection) error {
	switch f {
	case output.JSON:
		return writeJSON(w, r, sel)
	case output.CSV, output.JSONL:
		return writeFlat(w, r, f, sel)
	case output.Markdown:
		return writeSections(w, r, f, sel, markdownStyle)
	default:
		return writeSections(w, r, f, sel, plainStyle)
	}
}

// ---- values of rows ----

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func dateOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func (r *Report) findingRow(f Finding) []any {
	k := f.Key
	if k.AccessKeyID == "" {
		return []any{k.UserName, nil, nil, nil, nil, nil, nil, f.Detail}
	}
	return []any{k.UserName, k.AccessKeyID, k.Status, k.CreateDate, k.AgeDays(r.GeneratedAt), dateOrNil(k.LastUsedDate), nullable(k.LastUsedService), f.Detail}
}

func (r *Report) flatRow(f Finding) []any {
	ru, _ := LookupRule(f.Rule)
	return append(append([]any{f.Rule, string(ru.Severity), nullable(f.Key.AccountLabel())}, r.findingRow(f)...), f.Key.ContextCells()...)
}

func (r *Report) inventoryRow(k Key, findings []string) []any {
	return append([]any{nullable(k.AccountLabel()), k.UserName, k.AccessKeyID, k.Status, k.CreateDate, k.AgeDays(r.GeneratedAt),
		dateOrNil(k.LastUsedDate), nullable(k.LastUsedService), nullable(k.LastUsedRegion), strings.Join(findings, ", ")}, k.ContextCells()...)
}

// withContext pads a row of writeFlat that has no key with NULL context.
func withContext(row []any) []any { return append(row, make([]any, len(ContextColumns))...) }

func incompleteRow(in Incomplete) []any {
	return []any{in.Source, nullable(in.UserName), nullable(in.AccessKeyID), in.Reason}
}

// incompleteLabel is how an incomplete entry reads in a single table.
func incompleteLabel(in Incomplete) string { return "incomplete (" + in.Source + "): " + in.Reason }

// ---- sections ----

type sectionStyle struct {
	title   func(w io.Writer, s string) // the report's title
	heading func(w io.Writer, s string) // a section's heading
	para    func(w io.Writer, s string)
	code    func(w io.Writer, s string)
}

var plainStyle = sectionStyle{
	title:   func(w io.Writer, s string) { fmt.Fprintf(w, "%s\n%s\n", s, strings.Repeat("=", len([]rune(s)))) },
	heading: func(w io.Writer, s string) { fmt.Fprintf(w, "\n== %s\n", s) },
	para:    func(w io.Writer, s string) { fmt.Fprintf(w, "%s\n", s) },
	code:    func(io.Writer, string) {}, // the SQL is in docs/reports.md
}

var markdownStyle = sectionStyle{
	title:   func(w io.Writer, s string) { fmt.Fprintf(w, "# %s\n\n", s) },
	heading: func(w io.Writer, s string) { fmt.Fprintf(w, "\n## %s\n\n", s) },
	para:    func(w io.Writer, s string) { fmt.Fprintf(w, "%s\n\n", s) },
	code: func(w io.Writer, s string) {
		fmt.Fprintf(w, "<details><summary>SQL</summary>\n\n```sql\n%s;\n```\n\n</details>\n\n", s)
	},
}

// Title is the report's heading.
func (r *Report) Title() string {
	account := r.Account
	if r.Org {
		return fmt.Sprintf("IAM access key report: organization, %s, %s, %s", plural(len(r.Accounts), "account", "accounts"), r.Region, r.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	}
	if account == "" {
		account = "unknown account"
	} else {
		account = "account " + account
	}
	return fmt.Sprintf("IAM access key report: %s, %s, %s", account, r.Region, r.GeneratedAt.Format("2006-01-02 15:04 UTC"))
}

// Totals counts what the inventory holds.
type Totals struct {
	Keys, Active, Inactive, RootKeys, UsersWithKeys int
}

// Totals counts the inventory.
func (r *Report) Totals() Totals {
	var t Totals
	users := map[string]bool{}
	for _, k := range r.Keys {
		t.Keys++
		if k.Active() {
			t.Active++
		} else {
			t.Inactive++
		}
		if k.Root() {
			t.RootKeys++
		} else {
			users[k.UserName] = true
		}
	}
	t.UsersWithKeys = len(users)
	return t
}

// Facts are the one-line statements the summary opens with.
func (r *Report) Facts() []string {
	t := r.Totals()
	users := "unknown number of IAM users"
	if r.Users >= 0 {
		users = plural(r.Users, "IAM user", "IAM users")
	}
	root := "the root user has no access keys"
	switch {
	case r.RootKeysPresent == nil && t.RootKeys == 0:
		root = "whether the root user has access keys is unknown"
	case t.RootKeys > 0:
		root = "the root user has " + plural(t.RootKeys, "access key", "access keys")
	case *r.RootKeysPresent:
		root = "the root user has access keys"
	}
	facts := []string{
		fmt.Sprintf("%s, %d of them with keys; %s (%d active, %d inactive); %s.",
			users, t.UsersWithKeys, plural(t.Keys, "access key", "access keys"), t.Active, t.Inactive, root),
		fmt.Sprintf("Thresholds: active keys older than %d days, unused for %d days, inactive keys older than %d days.",
			r.Thresholds.MaxKeyAge, r.Thresholds.MaxUnused, r.Thresholds.MaxInactiveAge),
	}
	if r.Source == SourceCredentialReport {
		facts = append(facts, r.SourceNote())
	}
	return facts
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func writeTable(w io.Writer, f output.Format, cols []string, rows [][]any) error {
	tw := output.NewWriter(w, f, cols)
	for _, row := range rows {
		if err := tw.WriteRow(row); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeSections(w io.Writer, r *Report, f output.Format, sel Selection, st sectionStyle) error {
	st.title(w, r.Title())
	for _, fact := range r.Facts() {
		st.para(w, fact)
	}
	if sel.showsFindings() {
		st.heading(w, "Summary")
		var rows [][]any
		for _, ru := range sel.Rules() {
			rows = append(rows, []any{ru.Name, string(ru.Severity), ru.Describe(r.Thresholds), len(r.FindingsOf(ru.Name))})
		}
		if len(r.Incomplete) > 0 {
			rows = append(rows, []any{"incomplete", "", "Parts of the account that could not be read; findings there may be missing.", len(r.Incomplete)})
		}
		if err := writeTable(w, f, []string{"Finding", "Severity", "Rule", "Count"}, rows); err != nil {
			return err
		}
		if r.Org {
			st.heading(w, "accounts: "+plural(len(r.Accounts), "account", "accounts"))
			if err := writeTable(w, f, accountColumns, r.accountRows()); err != nil {
				return err
			}
		}
		for _, ru := range sel.Rules() {
			found := r.FindingsOf(ru.Name)
			st.heading(w, fmt.Sprintf("%s (%s): %s, %s", ru.Name, ru.Severity, ru.Title, plural(len(found), "finding", "findings")))
			st.para(w, ru.Describe(r.Thresholds)+" "+ru.Remedy)
			st.code(w, ru.SQL(r.Region, r.Thresholds))
			if len(found) == 0 {
				st.para(w, "None.")
				continue
			}
			rows := make([][]any, len(found))
			cols := findingColumns
			for i, fd := range found {
				rows[i] = r.findingRow(fd)
				if r.Org {
					rows[i] = append([]any{fd.Key.AccountLabel()}, rows[i]...)
				}
			}
			if r.Org {
				cols = append([]string{"Account"}, cols...)
			}
			if err := writeTable(w, f, cols, rows); err != nil {
				return err
			}
		}
	}
	if len(r.Incomplete) > 0 {
		st.heading(w, fmt.Sprintf("incomplete: %s", plural(len(r.Incomplete), "part of the account could not be read", "parts of the account could not be read")))
		rows := make([][]any, len(r.Incomplete))
		for i, in := range r.Incomplete {
			rows[i] = incompleteRow(in)
		}
		if err := writeTable(w, f, incompleteColumns, rows); err != nil {
			return err
		}
	}
	if sel.showsInventory() {
		st.heading(w, fmt.Sprintf("inventory: %s", plural(len(r.Keys), "access key", "access keys")))
		byKey := r.KeyFindings()
		rows := make([][]any, len(r.Keys))
		for i, k := range r.Keys {
			rows[i] = r.inventoryRow(k, byKey[k.AccessKeyID])[:len(inventoryColumns)] // context is shown with findings
		}
		if err := writeTable(w, f, inventoryColumns, rows); err != nil {
			return err
		}
	}
	return nil
}

// writeFlat prints one table: the inventory with each key's findings when
// everything or the inventory is selected, else the selected findings.
// Incomplete entries are rows too, so a spreadsheet shows them.
func writeFlat(w io.Writer, r *Report, f output.Format, sel Selection) error {
	if sel.showsInventory() {
		byKey := r.KeyFindings()
		var rows [][]any
		for _, k := range r.Keys {
			rows = append(rows, r.inventoryRow(k, byKey[k.AccessKeyID]))
		}
		for _, fd := range r.Findings {
			if fd.Key.AccessKeyID == "" { // a finding with no key to attach it to
				rows = append(rows, withContext([]any{nullable(fd.Key.Account), fd.Key.UserName, nil, nil, nil, nil, nil, nil, nil, fd.Rule + ": " + fd.Detail}))
			}
		}
		for _, in := range r.Incomplete {
			rows = append(rows, withContext([]any{nullable(r.Account), nullable(in.UserName), nullable(in.AccessKeyID), nil, nil, nil, nil, nil, nil, incompleteLabel(in)}))
		}
		return writeTable(w, f, append(slices.Clone(inventoryColumns), ContextColumns...), rows)
	}
	var rows [][]any
	for _, fd := range r.Selected(sel) {
		rows = append(rows, r.flatRow(fd))
	}
	for _, in := range r.Incomplete {
		rows = append(rows, withContext([]any{"incomplete", nil, nullable(r.Account), nullable(in.UserName), nullable(in.AccessKeyID), nil, nil, nil, nil, nil, in.Source + ": " + in.Reason}))
	}
	return writeTable(w, f, append(slices.Clone(flatColumns), ContextColumns...), rows)
}

// jsonDocument is the shape of `-o json`.
type jsonDocument struct {
	GeneratedAt     string          `json:"generatedAt"`
	Region          string          `json:"region"`
	Account         *string         `json:"account"`
	Thresholds      jsonThresholds  `json:"thresholds"`
	Users           *int            `json:"users"`
	Keys            int             `json:"keys"`
	ActiveKeys      int             `json:"activeKeys"`
	InactiveKeys    int             `json:"inactiveKeys"`
	RootKeysPresent *bool           `json:"rootKeysPresent"`
	FindingCounts   map[string]int  `json:"findingCounts,omitempty"`
	Findings        json.RawMessage `json:"findings,omitempty"`
	Incomplete      json.RawMessage `json:"incomplete"`
	Inventory       json.RawMessage `json:"inventory,omitempty"`
	Accounts        json.RawMessage `json:"accounts,omitempty"`
	IAMCalls        map[string]int  `json:"iamCalls"`
	// Source and CredentialReport say where the keys were read from.
	Source           Source                `json:"source"`
	CredentialReport *jsonCredentialReport `json:"credentialReport,omitempty"`
}

type jsonCredentialReport struct {
	GeneratedTime string `json:"generatedTime"`
	Stale         bool   `json:"stale"`
	Users         int    `json:"users"`
	Candidates    int    `json:"candidates"`
	FellBack      bool   `json:"fellBackToLive"`
}

type jsonThresholds struct {
	MaxKeyAge      int `json:"maxKeyAgeDays"`
	MaxUnused      int `json:"maxUnusedDays"`
	MaxInactiveAge int `json:"maxInactiveAgeDays"`
}

func jsonRows(cols []string, rows [][]any) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeTable(&b, output.JSON, cols, rows); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(b.Bytes())), nil
}

func writeJSON(w io.Writer, r *Report, sel Selection) error {
	t := r.Totals()
	doc := jsonDocument{
		GeneratedAt:     r.GeneratedAt.Format(time.RFC3339),
		Region:          r.Region,
		Thresholds:      jsonThresholds(r.Thresholds),
		Source:          r.Source,
		Keys:            t.Keys,
		ActiveKeys:      t.Active,
		InactiveKeys:    t.Inactive,
		RootKeysPresent: r.RootKeysPresent,
		IAMCalls:        r.Calls,
	}
	if r.Account != "" {
		doc.Account = &r.Account
	}
	if r.Users >= 0 {
		doc.Users = &r.Users
	}
	if c := r.CredentialReport; c != nil {
		doc.CredentialReport = &jsonCredentialReport{GeneratedTime: c.GeneratedTime.Format(time.RFC3339), Stale: c.Stale, Users: c.Users, Candidates: c.Candidates, FellBack: c.FellBack}
	}
	var err error
	if sel.showsFindings() {
		doc.FindingCounts = map[string]int{}
		var rows [][]any
		for _, ru := range sel.Rules() {
			found := r.FindingsOf(ru.Name)
			doc.FindingCounts[ru.Name] = len(found)
			for _, fd := range found {
				rows = append(rows, r.flatRow(fd))
			}
		}
		if doc.Findings, err = jsonRows(append(slices.Clone(flatColumns), ContextColumns...), rows); err != nil {
			return err
		}
	}
	var rows [][]any
	for _, in := range r.Incomplete {
		rows = append(rows, incompleteRow(in))
	}
	if doc.Incomplete, err = jsonRows(incompleteColumns, rows); err != nil {
		return err
	}
	if r.Org {
		if doc.Accounts, err = jsonRows(accountColumns, r.accountRows()); err != nil {
			return err
		}
	}
	if sel.showsInventory() {
		byKey := r.KeyFindings()
		rows = rows[:0]
		for _, k := range r.Keys {
			rows = append(rows, r.inventoryRow(k, byKey[k.AccessKeyID]))
		}
		if doc.Inventory, err = jsonRows(append(slices.Clone(inventoryColumns), ContextColumns...), rows); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Outstanding counts what makes a report fail under --fail-on-findings:
// the findings within a selection, and the incomplete entries (a report
// that could not read everything cannot vouch that nothing was found).
func (r *Report) Outstanding(sel Selection) (findings, incomplete int) {
	return len(r.Selected(sel)), len(r.Incomplete)
}
