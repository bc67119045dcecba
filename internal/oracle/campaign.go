package oracle

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider"
)

// Options configure a campaign.
type Options struct {
	Accounts []AccountSpec
	// QueriesPerAccount is how many queries each account runs.
	QueriesPerAccount int
	// Seed seeds the generators (each account's generator gets Seed plus
	// its index).
	Seed uint64
	// Shrink tries to reduce each difference kept in full.
	Shrink bool
	// KeepPerCategory is how many differences of one category are kept in
	// full (the rest are counted); 0 means 3.
	KeepPerCategory int
	// Parallel runs the accounts concurrently.
	Parallel bool
	// Progress, when set, receives a line per account finished.
	Progress io.Writer
}

// Difference is one query whose iamsql outcome the oracle contradicts.
type Difference struct {
	Account string
	// Demo: the account is the demo seed, so the SQL can be pasted into
	// `iamsql --sandbox exec`.
	Demo     bool
	Seed     uint64
	Index    int
	Query    *Query
	SQL      string
	Mismatch *Mismatch
	IAMSQL   Outcome
	Oracle   Outcome
	// Shrunk is the smallest form found that still differs the same way
	// (empty when shrinking found nothing smaller or was off).
	Shrunk         string
	ShrunkMismatch *Mismatch
	Category       string
}

// Report is what a campaign found.
type Report struct {
	Queries  int
	Duration time.Duration
	// Shapes counts queries per shape tag.
	Shapes map[string]int
	// Differences kept in full, and the count per category of all.
	Differences []Difference
	Categories  map[string]int
	Total       int
	// BothErrors counts queries on which iamsql and the oracle both failed
	// (the generator should rarely produce them); BothErrorExamples keeps
	// a few.
	BothErrors        int
	BothErrorExamples []string
	// ExpectedErrors counts region-error queries iamsql refused as it must.
	ExpectedErrors int
	// AcceptedInvalid counts queries comparing a parameter column with a
	// value IAM rejects, on which iamsql answered a clear "invalid" error.
	AcceptedInvalid int
	// MaxCallsRatio is the highest IAM calls / CallBound seen (1 is the
	// bound), MaxFullScans the highest calls / one full scan.
	MaxCallsRatio, MaxFullScans float64
	MaxCallsQuery               string
	// MaxContextCallsRatio is the highest calls / CallBound of a query
	// naming a context table or credential_report.
	MaxContextCallsRatio float64
	MaxContextCallsQuery string
	// PerAccount is queries run per account name.
	PerAccount map[string]int
	// RunAlone counts queries that timed out while every account ran at
	// once and were run again alone (see runAccount).
	RunAlone int
}

// Run runs a campaign.
func Run(o Options) (*Report, error) {
	if o.KeepPerCategory == 0 {
		o.KeepPerCategory = 3
	}
	start := time.Now()
	rep := &Report{Shapes: map[string]int{}, Categories: map[string]int{}, PerAccount: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(o.Accounts))
	for i, spec := range o.Accounts {
		run := func() {
			part, err := runAccount(spec, o, o.Seed+uint64(i), o.KeepPerCategory)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			rep.merge(part, o.KeepPerCategory)
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "account %s: %d queries, %d differences\n", spec.Name(), part.Queries, part.Total)
			}
		}
		if o.Parallel {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		} else {
			run()
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	rep.Duration = time.Since(start)
	sort.SliceStable(rep.Differences, func(i, j int) bool { return rep.Differences[i].Category < rep.Differences[j].Category })
	return rep, nil
}

func (r *Report) merge(p *Report, keep int) {
	r.Queries += p.Queries
	for k, v := range p.Shapes {
		r.Shapes[k] += v
	}
	for k, v := range p.PerAccount {
		r.PerAccount[k] += v
	}
	r.Total += p.Total
	for _, d := range p.Differences {
		if r.countKept(d.Category) < keep {
			r.Differences = append(r.Differences, d)
		}
	}
	for k, v := range p.Categories {
		r.Categories[k] += v
	}
	r.BothErrors += p.BothErrors
	for _, e := range p.BothErrorExamples {
		if len(r.BothErrorExamples) < 10 {
			r.BothErrorExamples = append(r.BothErrorExamples, e)
		}
	}
	r.ExpectedErrors += p.ExpectedErrors
	r.AcceptedInvalid += p.AcceptedInvalid
	r.RunAlone += p.RunAlone
	if p.MaxCallsRatio > r.MaxCallsRatio {
		r.MaxCallsRatio, r.MaxCallsQuery = p.MaxCallsRatio, p.MaxCallsQuery
	}
	if p.MaxContextCallsRatio > r.MaxContextCallsRatio {
		r.MaxContextCallsRatio, r.MaxContextCallsQuery = p.MaxContextCallsRatio, p.MaxContextCallsQuery
	}
	r.MaxFullScans = max(r.MaxFullScans, p.MaxFullScans)
}

func (r *Report) countKept(cat string) int {
	n := 0
	for _, d := range r.Differences {
		if d.Category == cat {
			n++
		}
	}
	return n
}

func runAccount(spec AccountSpec, o Options, seed uint64, keep int) (*Report, error) {
	t, err := NewTarget(spec)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	rep := &Report{Shapes: map[string]int{}, Categories: map[string]int{}, PerAccount: map[string]int{}}
	gen := NewGenerator(t.Oracle, seed, t.Regions())
	for i := 0; i < o.QueriesPerAccount; i++ {
		q := gen.Next()
		rep.Queries++
		rep.PerAccount[spec.Name()]++
		for _, s := range q.Shapes {
			rep.Shapes[s]++
		}
		alone.RLock()
		diffs := t.Check(q, rep)
		alone.RUnlock()
		if slices.ContainsFunc(diffs, func(d Difference) bool { return timedOut(d.IAMSQL.Err) }) {
			// QueryTimeout is a ceiling for a hang, not a speed target: a
			// statement that hit it while every account ran at once (on
			// a loaded machine) is a difference only if it does alone.
			alone.Lock()
			rep.RunAlone++
			diffs = t.Check(q, &Report{})
			alone.Unlock()
		}
		for _, d := range diffs {
			d.Seed, d.Index = seed, i
			rep.Total++
			rep.Categories[d.Category]++
			if rep.countKept(d.Category) < keep {
				if o.Shrink {
					t.shrinkDifference(&d)
				}
				rep.Differences = append(rep.Differences, d)
			}
		}
	}
	return rep, nil
}

// Check runs one query on iamsql and the oracle and returns its
// differences; it updates rep's counters (both-error, expected-error,
// accepted-invalid, call ratios).
func (t *Target) Check(q *Query, rep *Report) []Difference {
	sqlText := q.SQL()
	newDiff := func(m *Mismatch, got, want Outcome) Difference {
		d := Difference{Account: t.Spec.Name(), Demo: t.Spec.Demo && !t.Spec.CallerUser && t.Spec.PageSize == 0,
			Query: q, SQL: sqlText, Mismatch: m, IAMSQL: got, Oracle: want}
		d.Category = category(m, q)
		return d
	}
	if q.ExpectError != "" {
		got := t.subject(sqlText)
		var m *Mismatch
		switch {
		case got.Err == nil:
			m = &Mismatch{Kind: "region-not-refused", Detail: fmt.Sprintf("iamsql answered %d rows; a reference without a region pin (or with an invalid region) must be a clear error", len(got.Rows))}
		case !strings.Contains(strings.ToLower(got.Err.Error()), "region"):
			m = &Mismatch{Kind: "region-error-unclear", Detail: "the error does not mention region: " + got.Err.Error()}
		case got.TotalCalls() > 0:
			m = &Mismatch{Kind: "region-error-after-calls", Detail: fmt.Sprintf("refused after %d IAM calls (%s); the check must come before any call", got.TotalCalls(), provider.FormatCalls(got.Calls, "%s×%d"))}
		}
		if m == nil {
			rep.ExpectedErrors++
			return nil
		}
		return []Difference{newDiff(m, got, Outcome{})}
	}
	got, want, e := t.run(q.Sel)
	var diffs []Difference
	m := Compare(got, want, e)
	switch {
	case m == nil && got.Err != nil:
		rep.BothErrors++
		if len(rep.BothErrorExamples) < 10 {
			rep.BothErrorExamples = append(rep.BothErrorExamples, sqlText+"\n    iamsql: "+got.Err.Error()+"\n    oracle: "+want.Err.Error())
		}
	case m != nil && m.Kind == "iamsql-error" && q.InvalidParam && isValidationError(got.Err):
		rep.AcceptedInvalid++
	case m != nil:
		diffs = append(diffs, newDiff(m, got, want))
	}
	calls, bound := got.TotalCalls(), t.CallBound(q)
	ratio := float64(calls) / float64(bound)
	ctxScans := 0
	for table, n := range q.TableRefs {
		ctxScans += n * t.ContextScan[table]
	}
	boundText := fmt.Sprintf("bound %d = %d partitions × (%d refs × full scan %d + context scans %d)", bound, q.Partitions, max(1, q.Refs), t.FullScan, ctxScans)
	if ratio > rep.MaxCallsRatio {
		rep.MaxCallsRatio = ratio
		rep.MaxCallsQuery = fmt.Sprintf("%s\n    %d calls (%s), %s (account %s)",
			sqlText, calls, provider.FormatCalls(got.Calls, "%s×%d"), boundText, t.Spec.Name())
	}
	if ctxScans > 0 && ratio > rep.MaxContextCallsRatio {
		rep.MaxContextCallsRatio = ratio
		rep.MaxContextCallsQuery = fmt.Sprintf("%s\n    %d calls (%s), %s (account %s)",
			sqlText, calls, provider.FormatCalls(got.Calls, "%s×%d"), boundText, t.Spec.Name())
	}
	rep.MaxFullScans = max(rep.MaxFullScans, float64(calls)/float64(t.FullScan))
	if calls > bound {
		cm := &Mismatch{Kind: "calls-over-bound", Detail: fmt.Sprintf("%d IAM calls (%s) > %s",
			calls, provider.FormatCalls(got.Calls, "%s×%d"), boundText)}
		diffs = append(diffs, newDiff(cm, got, want))
	}
	return diffs
}

// run runs a SELECT on both engines with the expectation its shape
// implies.
func (t *Target) run(s *Select) (got, want Outcome, e Expectation) {
	sqlText := s.SQL()
	got = t.subject(sqlText)
	e.Ordered = s.OrderDetermined()
	if s.Limit >= 0 && !e.Ordered {
		e.Subset, e.Limit, e.Offset = true, s.Limit, s.Offset
		want = t.Oracle.Query(s.SQLWithoutLimit())
	} else {
		want = t.Oracle.Query(sqlText)
	}
	return got, want, e
}

// isValidationError reports whether iamsql refused a parameter value as
// invalid (schema.InvalidParam's wording).
// alone lets a query run with no other account's query running.
var alone sync.RWMutex

// timedOut reports whether iamsql stopped a statement at QueryTimeout.
func timedOut(err error) bool {
	var se *mysql.SQLError
	return err != nil && errors.As(provider.ToSQLError(err), &se) && se.Num == provider.ErrNumTimeout
}

func isValidationError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "invalid ")
}

var (
	quotedRe = regexp.MustCompile(`'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|\\.)*"`)
	numberRe = regexp.MustCompile(`\b\d+\b`)
	// Values IAM and go-mysql-server name without quotes.
	valueRe  = regexp.MustCompile(`(with name|access key|on resource:) \S+`)
	lookupRe = regexp.MustCompile(`lookup: \[.*\]`)
)

// category groups differences: for errors the kind and the message with
// its values blanked; for wrong rows and calls the kind and the statement's
// shape (shape:join, shape:window, …), so that each shape keeps examples.
func category(m *Mismatch, q *Query) string {
	switch m.Kind {
	case "iamsql-error", "oracle-error", "region-error-unclear":
		msg := m.Detail
		if i := strings.Index(msg, "\n"); i >= 0 {
			msg = msg[:i]
		}
		msg = quotedRe.ReplaceAllString(msg, "…")
		msg = valueRe.ReplaceAllString(msg, "$1 …")
		msg = lookupRe.ReplaceAllString(msg, "lookup: […]")
		msg = numberRe.ReplaceAllString(msg, "N")
		if len(msg) > 140 {
			msg = msg[:140] + "…"
		}
		return m.Kind + ": " + msg
	}
	for _, s := range q.Shapes {
		if strings.HasPrefix(s, "shape:") {
			return m.Kind + " (" + strings.TrimPrefix(s, "shape:") + ")"
		}
	}
	return m.Kind
}

// ---- shrinking ----

// shrinkDifference looks for a smaller statement that still differs the
// same way (the same category: the same kind, the same error).
func (t *Target) shrinkDifference(d *Difference) {
	if d.Query.ExpectError != "" {
		return
	}
	kind, cat := d.Mismatch.Kind, d.Category
	still := func(s *Select) (*Mismatch, bool) {
		got, want, e := t.run(s)
		if want.Err != nil {
			return nil, false // not a valid statement any more
		}
		if kind == "calls-over-bound" {
			q := *d.Query
			q.Sel = s
			calls := got.TotalCalls()
			if calls > t.CallBound(&q) {
				return &Mismatch{Kind: kind, Detail: fmt.Sprintf("%d IAM calls (%s) > bound %d", calls, provider.FormatCalls(got.Calls, "%s×%d"), t.CallBound(&q))}, true
			}
			return nil, false
		}
		m := Compare(got, want, e)
		if m == nil || category(m, d.Query) != cat {
			return nil, false
		}
		return m, true
	}
	best := d.Query.Sel
	var bestM *Mismatch
	for steps := 0; steps < 200; steps++ {
		improved := false
		for _, c := range candidates(best) {
			if m, ok := still(c); ok {
				best, bestM, improved = c, m, true
				break
			}
		}
		if !improved {
			break
		}
	}
	if bestM != nil {
		d.Shrunk, d.ShrunkMismatch = best.SQL(), bestM
	}
}

// candidates lists the statements one reduction smaller than s.
func candidates(s *Select) []*Select {
	var out []*Select
	add := func(f func(c *Select)) {
		c := s.clone()
		f(c)
		out = append(out, c)
	}
	if s.Union != nil {
		add(func(c *Select) { c.Union = nil })
	}
	for i := range s.With {
		add(func(c *Select) { c.With = append(c.With[:i:i], c.With[i+1:]...) })
	}
	for i, w := range s.Where {
		if !w.Pin {
			add(func(c *Select) { c.Where = append(c.Where[:i:i], c.Where[i+1:]...) })
		}
	}
	for i := range s.Having {
		add(func(c *Select) { c.Having = append(c.Having[:i:i], c.Having[i+1:]...) })
	}
	for fi, f := range s.From {
		for i, on := range f.On {
			if !on.Pin {
				add(func(c *Select) { c.From[fi].On = append(c.From[fi].On[:i:i], c.From[fi].On[i+1:]...) })
			}
		}
	}
	if s.Hint != "" {
		add(func(c *Select) { c.Hint = "" })
	}
	if s.Straight {
		add(func(c *Select) { c.Straight = false })
	}
	if s.Distinct {
		add(func(c *Select) { c.Distinct = false })
	}
	if s.Limit >= 0 {
		add(func(c *Select) { c.Limit, c.Offset = -1, 0 })
	}
	if s.Offset > 0 {
		add(func(c *Select) { c.Offset = 0 })
	}
	if len(s.OrderBy) > 0 {
		add(func(c *Select) { c.OrderBy = nil })
		for i := range s.OrderBy {
			if len(s.OrderBy) > 1 {
				add(func(c *Select) { c.OrderBy = append(c.OrderBy[:i:i], c.OrderBy[i+1:]...) })
			}
		}
	}
	for i := range s.GroupBy {
		add(func(c *Select) { c.GroupBy = append(c.GroupBy[:i:i], c.GroupBy[i+1:]...) })
	}
	if len(s.Items) > 1 {
		for i := range s.Items {
			add(func(c *Select) {
				c.Items = append(c.Items[:i:i], c.Items[i+1:]...)
				if c.Union != nil && i < len(c.Union.Right.Items) {
					r := c.Union.Right
					r.Items = append(r.Items[:i:i], r.Items[i+1:]...)
				}
			})
		}
	}
	return out
}

// ---- printing ----

// Print writes the report: the summary, then every kept difference.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "queries run: %d in %s (%d accounts)\n", r.Queries, r.Duration.Round(time.Millisecond), len(r.PerAccount))
	fmt.Fprintf(w, "differences found: %d\n", r.Total)
	cats := make([]string, 0, len(r.Categories))
	for c := range r.Categories {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if r.Categories[cats[i]] != r.Categories[cats[j]] {
			return r.Categories[cats[i]] > r.Categories[cats[j]]
		}
		return cats[i] < cats[j]
	})
	for _, c := range cats {
		fmt.Fprintf(w, "  %6d  %s\n", r.Categories[c], c)
	}
	fmt.Fprintf(w, "region errors refused as required: %d\n", r.ExpectedErrors)
	fmt.Fprintf(w, "invalid parameter values refused with a clear error (accepted): %d\n", r.AcceptedInvalid)
	fmt.Fprintf(w, "both engines failed: %d\n", r.BothErrors)
	fmt.Fprintf(w, "timed out with every account running, run again alone: %d\n", r.RunAlone)
	for _, e := range r.BothErrorExamples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "max calls ratio: %.3f of the bound (%.2f full scans)\n", r.MaxCallsRatio, r.MaxFullScans)
	if r.MaxCallsQuery != "" {
		fmt.Fprintf(w, "  %s\n", r.MaxCallsQuery)
	}
	fmt.Fprintf(w, "max calls ratio of a query over the context tables: %.3f of the bound\n", r.MaxContextCallsRatio)
	if r.MaxContextCallsQuery != "" {
		fmt.Fprintf(w, "  %s\n", r.MaxContextCallsQuery)
	}
	fmt.Fprintf(w, "shapes covered: %d\n", len(r.Shapes))
	shapes := make([]string, 0, len(r.Shapes))
	for s := range r.Shapes {
		shapes = append(shapes, s)
	}
	sort.Strings(shapes)
	for _, s := range shapes {
		fmt.Fprintf(w, "  %-34s %d\n", s, r.Shapes[s])
	}
	for i, d := range r.Differences {
		fmt.Fprintf(w, "\n--- difference %d/%d [%s]\n", i+1, len(r.Differences), d.Category)
		d.Print(w)
	}
}

// Print writes one difference, ready to reproduce.
func (d Difference) Print(w io.Writer) {
	fmt.Fprintf(w, "account: %s (generator seed %d, query %d)\n", d.Account, d.Seed, d.Index)
	fmt.Fprintf(w, "shapes:  %s\n", strings.Join(d.Query.Shapes, " "))
	fmt.Fprintf(w, "sql:     %s\n", d.SQL)
	if d.Shrunk != "" && d.Shrunk != d.SQL {
		fmt.Fprintf(w, "shrunk:  %s\n", d.Shrunk)
		fmt.Fprintf(w, "         %s\n", indent(d.ShrunkMismatch.String()))
	}
	repro := d.SQL
	if d.Shrunk != "" {
		repro = d.Shrunk
	}
	if d.Demo {
		fmt.Fprintf(w, "repro:   go run ./cmd/iamsql --sandbox exec %q\n", repro)
	}
	fmt.Fprintf(w, "what:    %s\n", indent(d.Mismatch.String()))
	printOutcome(w, "iamsql", d.IAMSQL)
	if d.Oracle.Columns != nil || d.Oracle.Err != nil {
		printOutcome(w, "oracle", d.Oracle)
	}
}

func printOutcome(w io.Writer, name string, o Outcome) {
	calls := ""
	if name == "iamsql" {
		calls = fmt.Sprintf(" (IAM calls: %s)", provider.FormatCalls(o.Calls, "%s×%d"))
	}
	if o.Err != nil {
		fmt.Fprintf(w, "%s: error%s: %v\n", name, calls, o.Err)
		return
	}
	fmt.Fprintf(w, "%s: %d rows%s %v\n", name, len(o.Rows), calls, o.Columns)
	fmt.Fprint(w, FormatRows(o.Rows, 5))
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n         ")
}
