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

// Selection names the parts of a report to print: everything (the zero
// Selection), the findings, the inventory, or some kinds of finding.
type Selection struct {
	part  string   // "", "findings" or "inventory"
	kinds []string // names of kinds of finding; nil: every kind
	named bool     // the kinds were named on the command line
}

// The selections that are not kinds of finding.
var (
	SelectAll       = Selection{}
	SelectFindings  = Selection{part: "findings"}
	SelectInventory = Selection{part: "inventory"}
)

// ParseSelection checks the parts named on the command line: nothing,
// "all", "findings", "inventory", or one or more kinds of finding
// (report root-keys old-keys).
func ParseSelection(args ...string) (Selection, error) {
	var sel Selection
	for _, a := range args {
		name := strings.ToLower(a)
		switch name {
		case "all", "findings", "inventory":
			if len(args) > 1 {
				return Selection{}, fmt.Errorf("%q selects a whole part: give it alone, not with %q", a, strings.Join(args, " "))
			}
			if name != "all" {
				sel.part = name
			}
			continue
		}
		if _, ok := LookupRule(name); !ok {
			return Selection{}, fmt.Errorf("unknown report %q (choose findings, inventory or one or more of %s)", a, strings.Join(KindNames(), ", "))
		}
		if !slices.Contains(sel.kinds, name) {
			sel.kinds, sel.named = append(sel.kinds, name), true
		}
	}
	return sel, nil
}

// String is the selection as the command line gives it.
func (s Selection) String() string {
	if s.part != "" {
		return s.part
	}
	return strings.Join(s.kinds, " ")
}

// Rules are the kinds of finding a selection covers, in report order.
func (s Selection) Rules() []Rule {
	var out []Rule
	for _, ru := range kinds() {
		if s.kinds == nil || slices.Contains(s.kinds, ru.Name) {
			out = append(out, ru)
		}
	}
	return out
}

func (s Selection) showsFindings() bool  { return s.part != "inventory" }
func (s Selection) showsInventory() bool { return s.part == "inventory" || (s.part == "" && !s.named) }

// WithControls narrows a selection to the kinds of finding that evidence
// a control of the filter (--controls cis-3.0 selects what CIS 3.0 asks),
// and expired exemptions.
func (s Selection) WithControls(f ControlFilter) Selection {
	if f == nil {
		return s
	}
	names := []string{} // not nil: no kind may be selected
	for _, ru := range s.Rules() {
		// Expired exemptions are about the policy itself: always kept.
		if len(ControlsOf(ru.Name, f)) > 0 || ru.Name == ExpiredExemptions.Name {
			names = append(names, ru.Name)
		}
	}
	return Selection{part: s.part, kinds: names, named: s.named}
}

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
	flatColumns       = []string{"Finding", "Severity", "Controls", "Account", "UserName", "AccessKeyId", "Status", "CreateDate", "AgeDays", "LastUsedDate", "LastUsedServiceName", "Detail", "Exemption", "Trend"}
	inventoryColumns  = []string{"Account", "UserName", "AccessKeyId", "Status", "CreateDate", "AgeDays", "LastUsedDate", "LastUsedServiceName", "LastUsedRegion", "Findings", "Controls"}
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
	row := append([]any{f.Rule, string(f.Severity), nullable(controlText(f.Controls)), nullable(f.Key.AccountLabel())}, r.findingRow(f)...)
	return append(append(row, nullable(exemptionText(f)), nullable(f.Trend)), f.Key.ContextCells()...)
}

// exemptionText says which exemption covers a finding, if one does.
func exemptionText(f Finding) string {
	e := f.Exemption
	if e == nil {
		return ""
	}
	return fmt.Sprintf("exempted until %s: %s (%s)", e.Expires.Format(time.DateOnly), e.Reason, e.Origin)
}

// keyFindings are, by access key id, its findings (an exempted one named
// so) and the controls they evidence: the inventory's last two columns.
func (r *Report) keyFindings() map[string][2]string {
	names := map[string][]string{}
	controls := map[string][]Control{}
	for _, f := range r.Findings {
		id := f.Key.AccessKeyID
		if id == "" || f.Rule == ExpiredExemptions.Name {
			continue
		}
		name := f.Rule
		if f.Exemption != nil {
			name += " (exempted)"
		}
		names[id] = append(names[id], name)
		for _, c := range f.Controls {
			if !slices.Contains(controls[id], c) {
				controls[id] = append(controls[id], c)
			}
		}
	}
	out := map[string][2]string{}
	for id, n := range names {
		out[id] = [2]string{strings.Join(n, ", "), controlText(controls[id])}
	}
	return out
}

func (r *Report) inventoryRow(k Key, byKey map[string][2]string) []any {
	fc := byKey[k.AccessKeyID]
	return append([]any{nullable(k.AccountLabel()), k.UserName, k.AccessKeyID, k.Status, k.CreateDate, k.AgeDays(r.GeneratedAt),
		dateOrNil(k.LastUsedDate), nullable(k.LastUsedService), nullable(k.LastUsedRegion), fc[0], nullable(fc[1])}, k.ContextCells()...)
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
		r.thresholdFact(),
	}
	if n := len(r.Policy.Exemptions); n > 0 {
		exempted := 0
		for _, f := range r.Findings {
			if f.Exemption != nil {
				exempted++
			}
		}
		facts = append(facts, fmt.Sprintf("Policy: %s, %s exempted, %s.", plural(n, "exemption", "exemptions"),
			plural(exempted, "finding", "findings"), plural(len(r.FindingsOf(ExpiredExemptions.Name)), "expired exemption", "expired exemptions")))
	}
	if b := r.Baseline; b != nil {
		facts = append(facts, b.Fact())
	}
	if r.Source == SourceCredentialReport {
		facts = append(facts, r.SourceNote())
	}
	return facts
}

func (r *Report) thresholdFact() string {
	s := fmt.Sprintf("Thresholds: active keys older than %d days, unused for %d days, inactive keys older than %d days",
		r.Thresholds.MaxKeyAge, r.Thresholds.MaxUnused, r.Thresholds.MaxInactiveAge)
	if g := r.Thresholds.GraceDays; g > 0 {
		s += fmt.Sprintf("; keys created in the last %s are in grace", plural(g, "day", "days"))
	}
	return s + "."
}

// Fact says what changed since the baseline.
func (b *BaselineComparison) Fact() string {
	s := fmt.Sprintf("Since the baseline of %s: %d new, %d still open, %d resolved", b.Since, b.New, b.Open, len(b.Resolved))
	if b.Unchecked > 0 {
		s += fmt.Sprintf(", %d not checked (their users could not be read)", b.Unchecked)
	}
	return s + "."
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
			found := r.FindingsOf(ru.Name)
			// The controls are in each finding's section: a dozen ids
			// would make this table too wide to read.
			rows = append(rows, []any{ru.Name, string(r.SeverityOf(ru.Name)), ru.Describe(r.Thresholds), len(found), exempted(found)})
		}
		if len(r.Incomplete) > 0 {
			rows = append(rows, []any{"incomplete", "", "Parts of the account that could not be read; findings there may be missing.", len(r.Incomplete), nil})
		}
		if err := writeTable(w, f, []string{"Finding", "Severity", "Rule", "Count", "Exempted"}, rows); err != nil {
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
			st.heading(w, fmt.Sprintf("%s (%s): %s, %s", ru.Name, r.SeverityOf(ru.Name), ru.Title, plural(len(found), "finding", "findings")))
			st.para(w, ru.Describe(r.Thresholds)+" "+ru.Remedy)
			if cs := ControlsOf(ru.Name, r.Policy.Controls); len(cs) > 0 {
				st.para(w, "Controls: "+controlText(cs)+".")
			}
			if ru.where != nil {
				st.code(w, ru.SQL(r.Region, r.Thresholds))
			}
			if len(found) == 0 {
				st.para(w, "None.")
				continue
			}
			rows := make([][]any, len(found))
			cols := slices.Clone(findingColumns)
			withExemption, withTrend := exempted(found) > 0, r.Baseline != nil
			for i, fd := range found {
				rows[i] = r.findingRow(fd)
				if r.Org {
					rows[i] = append([]any{fd.Key.AccountLabel()}, rows[i]...)
				}
				if withExemption {
					rows[i] = append(rows[i], nullable(exemptionText(fd)))
				}
				if withTrend {
					rows[i] = append(rows[i], nullable(fd.Trend))
				}
			}
			if r.Org {
				cols = append([]string{"Account"}, cols...)
			}
			if withExemption {
				cols = append(cols, "Exemption")
			}
			if withTrend {
				cols = append(cols, "Trend")
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
	if b := r.Baseline; b != nil && sel.showsFindings() {
		st.heading(w, "resolved since the baseline: "+plural(len(b.Resolved), "finding", "findings"))
		st.para(w, b.Fact())
		if len(b.Resolved) > 0 {
			if err := writeTable(w, f, resolvedColumns, b.resolvedRows()); err != nil {
				return err
			}
		}
	}
	if sel.showsInventory() {
		st.heading(w, fmt.Sprintf("inventory: %s", plural(len(r.Keys), "access key", "access keys")))
		byKey := r.keyFindings()
		rows := make([][]any, len(r.Keys))
		cols := inventoryColumns
		for i, k := range r.Keys {
			rows[i] = r.inventoryRow(k, byKey)[:len(inventoryColumns)] // context is shown with findings
			if !r.Org {                                                // one account: its id is in the title, not on every row
				rows[i] = rows[i][1:]
			}
		}
		if !r.Org {
			cols = cols[1:]
		}
		if err := writeTable(w, f, cols, rows); err != nil {
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
		byKey := r.keyFindings()
		var rows [][]any
		for _, k := range r.Keys {
			rows = append(rows, r.inventoryRow(k, byKey))
		}
		for _, fd := range r.Findings {
			// A finding with no key to attach it to, or about the policy.
			if fd.Key.AccessKeyID == "" || fd.Rule == ExpiredExemptions.Name {
				rows = append(rows, withContext([]any{nullable(fd.Key.Account), fd.Key.UserName, nullable(fd.Key.AccessKeyID), nil, nil, nil, nil, nil, nil,
					fd.Rule + ": " + fd.Detail, nullable(controlText(fd.Controls))}))
			}
		}
		for _, in := range r.Incomplete {
			rows = append(rows, withContext([]any{nullable(r.Account), nullable(in.UserName), nullable(in.AccessKeyID), nil, nil, nil, nil, nil, nil, incompleteLabel(in), nil}))
		}
		return writeTable(w, f, append(slices.Clone(inventoryColumns), ContextColumns...), rows)
	}
	var rows [][]any
	for _, fd := range r.Selected(sel) {
		rows = append(rows, r.flatRow(fd))
	}
	for _, in := range r.Incomplete {
		rows = append(rows, withContext([]any{"incomplete", nil, nil, nullable(r.Account), nullable(in.UserName), nullable(in.AccessKeyID), nil, nil, nil, nil, nil, in.Source + ": " + in.Reason, nil, nil}))
	}
	return writeTable(w, f, append(slices.Clone(flatColumns), ContextColumns...), rows)
}

// jsonDocument is the shape of `-o json`.
type jsonDocument struct {
	GeneratedAt     string           `json:"generatedAt"`
	Region          string           `json:"region"`
	Account         *string          `json:"account"`
	Thresholds      jsonThresholds   `json:"thresholds"`
	Users           *int             `json:"users"`
	Keys            int              `json:"keys"`
	ActiveKeys      int              `json:"activeKeys"`
	InactiveKeys    int              `json:"inactiveKeys"`
	RootKeysPresent *bool            `json:"rootKeysPresent"`
	FindingCounts   map[string]int   `json:"findingCounts,omitempty"`
	Findings        json.RawMessage  `json:"findings,omitempty"`
	Incomplete      json.RawMessage  `json:"incomplete"`
	Inventory       json.RawMessage  `json:"inventory,omitempty"`
	Accounts        json.RawMessage  `json:"accounts,omitempty"`
	ControlSets     []jsonControlSet `json:"controlSets"`
	Baseline        *jsonBaseline    `json:"baseline,omitempty"`
	IAMCalls        map[string]int   `json:"iamCalls"`
	// Source and CredentialReport say where the keys were read from.
	Source           Source                `json:"source"`
	CredentialReport *jsonCredentialReport `json:"credentialReport,omitempty"`
}

type jsonControlSet struct {
	Key       string `json:"key"`
	Framework string `json:"framework"`
	Version   string `json:"version"`
	Source    string `json:"source"`
}

type jsonBaseline struct {
	Path      string          `json:"path"`
	Since     string          `json:"since"`
	New       int             `json:"new"`
	Open      int             `json:"open"`
	Unchecked int             `json:"unchecked"`
	Resolved  json.RawMessage `json:"resolved"`
}

var resolvedColumns = []string{"Finding", "Severity", "Account", "UserName", "AccessKeyId", "Detail"}

func (b *BaselineComparison) resolvedRows() [][]any {
	rows := make([][]any, len(b.Resolved))
	for i, f := range b.Resolved {
		rows[i] = []any{f.Rule, nullable(f.Severity), nullable(f.Account), nullable(f.UserName), nullable(f.AccessKeyID), nullable(f.Detail)}
	}
	return rows
}

func exempted(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Exemption != nil {
			n++
		}
	}
	return n
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
	GraceDays      int `json:"graceDays"`
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
	for _, cs := range ControlSets {
		if r.Policy.Controls.selects(cs.Key) {
			doc.ControlSets = append(doc.ControlSets, jsonControlSet{cs.Key, cs.Framework, cs.Version, cs.Source})
		}
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
	if b := r.Baseline; b != nil {
		doc.Baseline = &jsonBaseline{Path: b.Path, Since: b.Since, New: b.New, Open: b.Open, Unchecked: b.Unchecked}
		if doc.Baseline.Resolved, err = jsonRows(resolvedColumns, b.resolvedRows()); err != nil {
			return err
		}
	}
	if sel.showsInventory() {
		byKey := r.keyFindings()
		rows = rows[:0]
		for _, k := range r.Keys {
			rows = append(rows, r.inventoryRow(k, byKey))
		}
		if doc.Inventory, err = jsonRows(append(slices.Clone(inventoryColumns), ContextColumns...), rows); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Outstanding counts what makes a report fail a --fail-on gate: the
// findings within a selection at or above a severity (any severity when
// min is ""), exempted ones aside, and the incomplete entries (a report
// that could not read everything cannot vouch that nothing was found).
func (r *Report) Outstanding(sel Selection, min Severity) (findings, incomplete int) {
	for _, f := range r.Selected(sel) {
		if f.Exemption == nil && (min == "" || f.Severity.AtLeast(min)) {
			findings++
		}
	}
	return findings, len(r.Incomplete)
}
