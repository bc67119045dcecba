package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/iamsql/iamsql/provider"
)

// WriteHTML prints the report as one self-contained HTML page: inline CSS
// and an inline SVG chart, no script, nothing fetched (its
// Content-Security-Policy forbids it). It shows the summary, the key-age
// chart, the selected findings with their SQL, incomplete entries and,
// for everything or the inventory, every key.
func WriteHTML(w io.Writer, r *Report, sel Selection) error {
	return pageTemplate().Execute(w, r.htmlPage(sel))
}

type htmlPage struct {
	R           *Report
	Title       string
	Facts       []string
	Total       int // findings in the selection
	Exempted    int // of them, exempted by the policy
	Flagged     int // distinct keys (or key owners) they concern
	Cards       []htmlCard
	Chart       template.HTML
	Buckets     []AgeBucket
	Rules       []htmlRule
	Incomplete  []Incomplete
	Inventory   []htmlKey
	ShowInv     bool
	OpenInv     bool
	Calls       string
	Generated   string
	Command     string
	ActiveCol   string
	InactiveCol string
	Baseline    *BaselineComparison
	Resolved    [][]any
}

type htmlCard struct {
	Label, Value, Note, Class, Href string
}

type htmlRule struct {
	Rule
	Severity    Severity // under the policy
	Description string
	SQL         string // "" for a finding that is not a condition on a key
	Controls    string
	Rows        []htmlKey
	Exempted    int
}

type htmlKey struct {
	Key
	Age      int
	Created  string
	LastUsed string // date, or empty
	Where    string // service and region of the last use
	Detail   string
	Findings []htmlTag
	Unknown  bool   // no key id: the owner's keys could not be listed, or an exemption's subject
	Missing  string // what stands in the key's cells then
	// Of a finding: its controls, exemption and trend.
	Controls, Exemption, Trend string
}

// htmlTag is one finding of a key in the inventory.
type htmlTag struct {
	Name     string
	Severity Severity
	Exempted bool
}

// inventoryOpenMax is the largest inventory shown expanded; a longer one
// starts collapsed so the findings stay in view.
const inventoryOpenMax = 200

func (r *Report) htmlKey(k Key, detail string, findings []htmlTag) htmlKey {
	h := htmlKey{Key: k, Detail: detail, Findings: findings, Unknown: k.AccessKeyID == "", Missing: "not listed"}
	if h.Unknown {
		return h
	}
	h.Age = k.AgeDays(r.GeneratedAt)
	h.Created = k.CreateDate.Format(time.DateOnly)
	if k.LastUsedDate != nil {
		h.LastUsed = k.LastUsedDate.Format(time.DateOnly)
		h.Where = strings.Trim(k.LastUsedService+", "+k.LastUsedRegion, ", ")
	}
	return h
}

func (r *Report) htmlPage(sel Selection) htmlPage {
	t := r.Totals()
	p := htmlPage{
		R:           r,
		Title:       r.Title(),
		Facts:       r.Facts(),
		Buckets:     r.AgeHistogram(),
		Incomplete:  r.Incomplete,
		ShowInv:     sel.showsInventory(),
		OpenInv:     len(r.Keys) <= inventoryOpenMax,
		Generated:   r.GeneratedAt.Format("2006-01-02 15:04:05 UTC"),
		ActiveCol:   colourActive,
		InactiveCol: colourInactive,
	}
	p.Chart = template.HTML(ageChartSVG(p.Buckets)) // built from numbers and escaped labels only
	users := "?"
	if r.Users >= 0 {
		users = fmt.Sprint(r.Users)
	}
	p.Cards = append(p.Cards,
		htmlCard{Label: "IAM users", Value: users, Note: fmt.Sprintf("%d with access keys", t.UsersWithKeys), Class: "neutral"},
		htmlCard{Label: "Access keys", Value: fmt.Sprint(t.Keys), Note: fmt.Sprintf("%d active, %d inactive", t.Active, t.Inactive), Class: "neutral", Href: "#inventory"},
	)
	flagged := map[string]bool{}
	if sel.showsFindings() {
		for _, ru := range sel.Rules() {
			found := r.FindingsOf(ru.Name)
			p.Total += len(found)
			p.Exempted += exempted(found)
			sev := r.SeverityOf(ru.Name)
			hr := htmlRule{Rule: ru, Severity: sev, Description: ru.Describe(r.Thresholds), Controls: controlText(ControlsOf(ru.Name, r.Policy.Controls)), Exempted: exempted(found)}
			if ru.where != nil {
				hr.SQL = ru.SQL(r.Region, r.Thresholds) + ";"
			}
			users := map[string]bool{}
			for _, f := range found {
				h := r.htmlKey(f.Key, f.Detail, nil)
				if f.Rule == ExpiredExemptions.Name && h.Unknown {
					h.Missing = "an exemption of the policy, no one key"
				}
				h.Controls, h.Exemption, h.Trend = controlText(f.Controls), exemptionText(f), f.Trend
				hr.Rows = append(hr.Rows, h)
				flagged[f.Key.Account+"/"+f.Key.UserName+"/"+f.Key.AccessKeyID] = true
				users[f.Key.Account+"/"+f.Key.UserName] = true
			}
			p.Rules = append(p.Rules, hr)
			class := "ok"
			if len(found) > 0 {
				class = "sev-" + string(sev)
			}
			card := htmlCard{Label: ru.Short, Value: fmt.Sprint(len(found)), Note: ru.Name + " · " + string(sev), Class: class, Href: "#" + ru.Name}
			if ru.Name == "two-active-keys" {
				// A finding per key, and the card counts what to fix: users.
				card.Label, card.Value = "Users with two active keys", fmt.Sprint(len(users))
				card.Note = plural(len(found), "key", "keys") + " · " + card.Note
			}
			if n := exempted(found); n > 0 {
				card.Note += fmt.Sprintf(" · %d exempted", n)
			}
			p.Cards = append(p.Cards, card)
		}
	}
	p.Flagged = len(flagged)
	if len(r.Incomplete) > 0 {
		p.Cards = append(p.Cards, htmlCard{Label: "Could not be read", Value: fmt.Sprint(len(r.Incomplete)), Note: "incomplete: findings may be missing", Class: "warn", Href: "#incomplete"})
	}
	if b := r.Baseline; b != nil && sel.showsFindings() {
		p.Baseline, p.Resolved = b, b.resolvedRows()
		p.Cards = append(p.Cards,
			htmlCard{Label: "New", Value: fmt.Sprint(b.New), Note: "since " + b.Since, Class: map[bool]string{true: "ok", false: "sev-high"}[b.New == 0], Href: "#findings"},
			htmlCard{Label: "Still open", Value: fmt.Sprint(b.Open), Note: "since " + b.Since, Class: "neutral", Href: "#findings"},
			htmlCard{Label: "Resolved", Value: fmt.Sprint(len(b.Resolved)), Note: "since " + b.Since, Class: "ok", Href: "#resolved"})
	}
	if p.ShowInv {
		tags := map[string][]htmlTag{}
		for _, f := range r.Findings {
			if f.Key.AccessKeyID != "" && f.Rule != ExpiredExemptions.Name {
				tags[f.Key.AccessKeyID] = append(tags[f.Key.AccessKeyID], htmlTag{f.Rule, f.Severity, f.Exemption != nil})
			}
		}
		for _, k := range r.Keys {
			p.Inventory = append(p.Inventory, r.htmlKey(k, "", tags[k.AccessKeyID]))
		}
	}
	p.Calls = provider.FormatCalls(r.Calls, "%s × %d")
	what := sel.String()
	if what != "" {
		what += " "
	}
	p.Command = fmt.Sprintf("iamsql report %s--region %s --max-key-age %d --max-unused %d --max-inactive-age %d -o html",
		what, r.Region, r.Thresholds.MaxKeyAge, r.Thresholds.MaxUnused, r.Thresholds.MaxInactiveAge)
	return p
}

// pageTemplate is parsed when a page is first written, not in package
// init: every iamsql run links this package (about 1,200 allocations).
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(pageHTML))
})

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="iamsql report">
<title>{{.Title}}</title>
<style>
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc;
  --critical:#b91c1c; --high:#c2410c; --medium:#a16207; --low:#475569; --ok:#15803d; --warn:#b45309; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header .meta { color: var(--muted); margin: 0; }
header .meta b { color: var(--ink); font-weight: 600; }
.verdict { margin: 20px 0; padding: 14px 18px; border-radius: 10px; font-size: 16px; border: 1px solid; }
.verdict.bad { background: #fef2f2; border-color: #fecaca; color: #7f1d1d; }
.verdict.good { background: #f0fdf4; border-color: #bbf7d0; color: #14532d; }
.verdict .facts { display:block; font-size: 13px; color: var(--ink); opacity: .8; margin-top: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(124px, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { display:block; background: #fff; border: 1px solid var(--line); border-top: 4px solid var(--line); border-radius: 10px;
  padding: 12px 14px; color: inherit; text-decoration: none; }
.card .value { font-size: 28px; font-weight: 700; line-height: 1.1; }
.card .label { font-weight: 600; margin-top: 2px; }
.card .note { color: var(--muted); font-size: 12px; }
.card.neutral { border-top-color: #1d4ed8; }
.card.ok { border-top-color: var(--ok); } .card.ok .value { color: var(--ok); }
.card.warn { border-top-color: var(--warn); } .card.warn .value { color: var(--warn); }
.card.sev-critical { border-top-color: var(--critical); } .card.sev-critical .value { color: var(--critical); }
.card.sev-high { border-top-color: var(--high); } .card.sev-high .value { color: var(--high); }
.card.sev-medium { border-top-color: var(--medium); } .card.sev-medium .value { color: var(--medium); }
.card.sev-low { border-top-color: var(--low); } .card.sev-low .value { color: var(--low); }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 18px 0; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 16px; margin: 0; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
article { border-top: 1px solid var(--line); padding: 16px 0 6px; }
article:first-of-type { border-top: 0; padding-top: 4px; }
article p { margin: 6px 0; }
.remedy { color: var(--muted); }
.badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  padding: 2px 8px; border-radius: 999px; color: #fff; }
.badge.critical { background: var(--critical); } .badge.high { background: var(--high); }
.badge.medium { background: var(--medium); } .badge.low { background: var(--low); }
.count { color: var(--muted); font-weight: 500; font-size: 14px; }
.none { color: var(--ok); font-weight: 600; }
.chart { display: flex; gap: 28px; align-items: flex-start; flex-wrap: wrap; }
.chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; white-space: nowrap; position: sticky; top: 0; }
td.date, span.date, #inventory-table td { white-space: nowrap; }
#inventory-table td:last-child { white-space: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
tbody tr:nth-child(even) { background: #fafcff; }
.status { font-weight: 600; } .status.Active { color: #1d4ed8; } .status.Inactive { color: var(--muted); }
.never { color: var(--muted); font-style: italic; }
.tag { display:inline-block; font-size: 11px; padding: 1px 6px; margin: 1px 2px 1px 0; border-radius: 4px; background: #fee2e2; color: #7f1d1d; white-space: nowrap; }
.tag.low { background: #e2e8f0; color: #334155; } .tag.medium { background: #fef3c7; color: #713f12; }
.tag.high { background: #ffedd5; color: #7c2d12; }
details summary { cursor: pointer; color: #1d4ed8; margin: 4px 0; }
pre.sql { background: #0f172a; color: #e2e8f0; padding: 12px 14px; border-radius: 8px; overflow-x: auto; font-size: 12.5px; line-height: 1.45; }
#incomplete { border-color: #fcd34d; background: #fffbeb; }
#incomplete h2 { color: var(--warn); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
footer code { font-size: 12px; }
@media (max-width: 700px) { main { padding: 16px 10px 32px; } section { padding: 12px 10px; } header h1 { font-size: 21px; }
  .cards { grid-template-columns: repeat(auto-fit, minmax(104px, 1fr)); } }
.exempt { color: var(--muted); font-style: italic; }
.trend-new { color: var(--high); font-weight: 600; }
.tag.exempted { text-decoration: line-through; opacity: .7; }
@media print { body { background: #fff; } section { break-inside: avoid-page; } th { position: static; } }
</style>
</head>
<body>
<main>
<header>
<h1>IAM access key report</h1>
<p class="meta">{{if .R.Org}}Organization: <b>{{len .R.Accounts}} accounts</b>{{else}}Account <b>{{with .R.Account}}{{.}}{{else}}unknown{{end}}</b>{{end}} · region <b>{{.R.Region}}</b> · generated <b>{{.Generated}}</b></p>
</header>

{{if or .Total .Incomplete}}<div class="verdict bad" id="verdict"><b>{{.Total}} finding{{if ne .Total 1}}s{{end}} on {{.Flagged}} access key{{if ne .Flagged 1}}s{{end}} need{{if eq .Total 1}}s{{end}} attention{{if .Exempted}} ({{.Exempted}} exempted by the policy){{end}}</b>{{if .Incomplete}} — and {{len .Incomplete}} part{{if ne (len .Incomplete) 1}}s{{end}} of the account could not be read, so the report is incomplete{{end}}.
{{else}}<div class="verdict good" id="verdict"><b>No findings.</b>
{{end}}<span class="facts">{{range .Facts}}{{.}} {{end}}</span></div>

<div class="cards" id="summary">
{{range .Cards}}<a class="card {{.Class}}"{{with .Href}} href="{{.}}"{{end}}><div class="value">{{.Value}}</div><div class="label">{{.Label}}</div><div class="note">{{.Note}}</div></a>
{{end}}</div>

<section id="key-age">
<h2>Key age</h2>
<div class="chart">
{{.Chart}}
<div class="scroll"><table id="age-table" style="width:auto">
<thead><tr><th>Age</th><th class="num">Active</th><th class="num">Inactive</th></tr></thead>
<tbody>{{range .Buckets}}<tr><td>{{.Label}}</td><td class="num">{{.Active}}</td><td class="num">{{.Inactive}}</td></tr>{{end}}</tbody>
</table></div>
</div>
</section>

{{if .R.Org}}<section id="accounts">
<h2>Accounts</h2>
<div class="scroll"><table class="accounts" id="account-table">
<thead><tr><th>Account</th><th>Name</th><th class="num">IAM users</th><th class="num">Access keys</th><th class="num">Active</th><th>Root keys</th><th class="num">Findings</th></tr></thead>
<tbody>
{{range .R.Accounts}}<tr data-account="{{.ID}}"><td class="id">{{.ID}}</td><td>{{.Name}}</td><td class="num">{{if ge .Users 0}}{{.Users}}{{else}}?{{end}}</td><td class="num">{{.Keys}}</td><td class="num">{{.Active}}</td><td>{{with .RootKeysPresent}}{{if .}}yes{{else}}no{{end}}{{else}}?{{end}}</td><td class="num">{{.Findings}}</td></tr>
{{end}}</tbody>
</table></div>
</section>
{{end}}

{{if .Rules}}<section id="findings">
<h2>Findings</h2>
{{range .Rules}}<article id="{{.Name}}">
<h3><span class="badge {{.Severity}}">{{.Severity}}</span> {{.Title}} <span class="count">{{len .Rows}}{{if .Exempted}} ({{.Exempted}} exempted){{end}} · <code>{{.Name}}</code></span></h3>
<p>{{.Description}}</p>
<p class="remedy">{{.Remedy}}</p>
{{with .Controls}}<p class="controls">Controls: <code>{{.}}</code></p>{{end}}
{{if .Rows}}<div class="scroll"><table class="findings" id="finding-{{.Name}}">
<thead><tr>{{if $.R.Org}}<th>Account</th>{{end}}<th>User</th><th>Access key</th><th>Status</th><th>Created</th><th class="num">Age (days)</th><th>Last used</th><th>Detail</th>{{if $.Baseline}}<th>Trend</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr data-key="{{.AccessKeyID}}" data-user="{{.UserName}}"{{if .Exemption}} class="exempt"{{end}}>{{if $.R.Org}}<td>{{.AccountLabel}}</td>{{end}}{{if .Unknown}}<td>{{.UserName}}</td><td colspan="5" class="never">{{.Missing}}</td>{{else}}<td>{{.UserName}}</td><td class="id">{{.AccessKeyID}}</td><td class="status {{.Status}}">{{.Status}}</td><td class="date">{{.Created}}</td><td class="num">{{.Age}}</td><td>{{if .LastUsed}}<span class="date">{{.LastUsed}}</span>{{with .Where}} <span class="never">({{.}})</span>{{end}}{{else if .LastUsedUnknown}}<span class="never">unknown</span>{{else}}<span class="never">never</span>{{end}}</td>{{end}}<td>{{.Detail}}{{with .ContextSummary}}<div class="context">{{.}}</div>{{end}}{{with .Exemption}}<br><span class="exempt">{{.}}</span>{{end}}</td>{{if $.Baseline}}<td class="trend-{{.Trend}}">{{.Trend}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{else}}<p class="none">None.</p>
{{end}}{{if .SQL}}<details><summary>The same check in SQL</summary><pre class="sql">{{.SQL}}</pre></details>{{end}}
</article>
{{end}}</section>
{{end}}

{{if .Incomplete}}<section id="incomplete">
<h2>Incomplete: {{len .Incomplete}} part{{if ne (len .Incomplete) 1}}s{{end}} of the account could not be read</h2>
<p>Findings about these users or keys may be missing. Check the permissions of the identity running the report, then run it again.</p>
<div class="scroll"><table id="incomplete-table">
<thead><tr><th>Source</th><th>User</th><th>Access key</th><th>Reason</th></tr></thead>
<tbody>
{{range .Incomplete}}<tr data-user="{{.UserName}}"><td>{{.Source}}</td><td>{{.UserName}}</td><td class="id">{{.AccessKeyID}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody>
</table></div>
</section>
{{end}}

{{with .Baseline}}<section id="resolved">
<h2>Resolved since the baseline: {{len .Resolved}}</h2>
<p>{{.Fact}}</p>
{{if $.Resolved}}<div class="scroll"><table id="resolved-table">
<thead><tr><th>Finding</th><th>Severity</th><th>Account</th><th>User</th><th>Access key</th><th>Detail then</th></tr></thead>
<tbody>
{{range $.Resolved}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>{{else}}<p class="none">None.</p>{{end}}
</section>
{{end}}

{{if .ShowInv}}<section id="inventory">
<h2>Inventory: {{len .Inventory}} access key{{if ne (len .Inventory) 1}}s{{end}}</h2>
<details{{if .OpenInv}} open{{end}}><summary>Every access key in the account, with its findings</summary>
<div class="scroll"><table id="inventory-table">
<thead><tr>{{if .R.Org}}<th>Account</th>{{end}}<th>User</th><th>Access key</th><th>Status</th><th>Created</th><th class="num">Age (days)</th><th>Last used</th><th>Service</th><th>Region</th><th>Findings</th></tr></thead>
<tbody>
{{range .Inventory}}<tr data-key="{{.AccessKeyID}}">{{if $.R.Org}}<td>{{.AccountLabel}}</td>{{end}}<td>{{.UserName}}</td><td class="id">{{.AccessKeyID}}</td><td class="status {{.Status}}">{{.Status}}</td><td class="date">{{.Created}}</td><td class="num">{{.Age}}</td><td class="date">{{if .LastUsed}}{{.LastUsed}}{{else if .LastUsedUnknown}}<span class="never">unknown</span>{{else}}<span class="never">never</span>{{end}}</td><td>{{.LastUsedService}}</td><td>{{.LastUsedRegion}}</td><td>{{range .Findings}}<span class="tag {{.Severity}}{{if .Exempted}} exempted{{end}}"{{if .Exempted}} title="exempted"{{end}}>{{.Name}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table></div>
</details>
</section>
{{end}}

<footer>
<p>Thresholds: active keys older than {{.R.Thresholds.MaxKeyAge}} days, unused for {{.R.Thresholds.MaxUnused}} days, inactive keys older than {{.R.Thresholds.MaxInactiveAge}} days. Ages are whole days since creation, in UTC.</p>
<p>Generated by <code>{{.Command}}</code>. IAM calls: {{.Calls}}.</p>
</footer>
</main>
</body>
</html>
`
