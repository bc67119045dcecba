package provider

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/schema"
)

// The per-statement IAM call budget. Within a statement each distinct IAM
// call is made once (statement.go), so no plan over the account's own
// users and keys costs more than one full scan of every table it names.
// What can cost more is a statement that invents what it looks up — a
// recursive CTE or a long IN list of user names or key ids that do not
// exist — and each of those lookups is an IAM call. The budget stops such
// a statement before it throttles the account's IAM API for everyone.
//
// By default a statement may make CallBudgetScans full scans' worth of
// calls of the accounts iamsql has seen (ListUsers pages, a ListAccessKeys
// per user and the root user, a GetAccessKeyLastUsed per key at IAM's quota
// of two keys per user, GetAccountSummary), and at least CallBudgetFloor.
// The full-scan cost grows as the statement lists users, so the inventory
// of any account fits. --call-budget N (Config.CallBudget) or SET
// iamsql_call_budget = N set a fixed budget instead; read-only sessions
// may lower theirs but not raise it above the engine's.
const (
	// CallBudgetFloor is the least budget of the default: 10,000 calls
	// (about 6 minutes of IAM's documented rate for ListAccessKeys, a few
	// seconds of a bursting client).
	CallBudgetFloor = 10_000
	// CallBudgetScans is how many full scans of the account the default
	// budget allows.
	CallBudgetScans = 3
	// ErrNumCallBudget is MySQL's ER_TOO_BIG_SELECT, the error of its own
	// per-statement work limit (max_join_size).
	ErrNumCallBudget = 1104

	varCallBudget = "iamsql_call_budget"
)

// callBudgetVariable is the session variable SET iamsql_call_budget = N;
// 0 (the default) means the engine's budget.
func callBudgetVariable() sql.SystemVariable {
	return &sql.MysqlSystemVariable{
		Name:    varCallBudget,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
		Dynamic: true,
		Type:    types.NewSystemIntType(varCallBudget, 0, 1<<40, false),
		Default: int64(0),
	}
}

// BudgetError says a statement was stopped, or refused, at its IAM call
// budget.
type BudgetError struct {
	// Budget is the statement's budget; Need, when the statement was
	// refused before its first call, the fewest calls its plan needs.
	Budget, Need int64
	// Why says where the budget came from.
	Why string
	// ReadOnly is set when the session may not raise its budget.
	ReadOnly bool
}

func (e *BudgetError) Error() string {
	what := fmt.Sprintf("statement stopped at its IAM call budget of %d calls (%s); the calls beyond it were not made", e.Budget, e.Why)
	if e.Need > 0 {
		what = fmt.Sprintf("statement refused: it needs at least %d IAM calls, more than its call budget of %d (%s); no IAM call was made", e.Need, e.Budget, e.Why)
	}
	raise := max(2*e.Budget, e.Need)
	if e.ReadOnly {
		return fmt.Sprintf("%s. A read-only user cannot raise it: the server's operator can, with serve --call-budget %d", what, raise)
	}
	return fmt.Sprintf("%s. To allow more, SET iamsql_call_budget = %d (or start iamsql with --call-budget %d)", what, raise, raise)
}

// budgetExempt marks a context whose calls the budget never refuses:
// deleting again keys a statement created (custody comes first).
type budgetExempt struct{}

func exemptFromBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, budgetExempt{}, true)
}

func isExemptFromBudget(ctx context.Context) bool {
	return ctx.Value(budgetExempt{}) != nil
}

// callBudget counts one statement's IAM calls against its budget.
type callBudget struct {
	p *Provider
	// fixed is a budget set by the flag or the session; 0: the default.
	fixed    int64
	why      string
	readOnly bool
	used     atomic.Int64
}

// budgetFor is the budget of the statement ctx starts.
func (p *Provider) budgetFor(ctx *sql.Context) *callBudget {
	b := &callBudget{p: p, readOnly: p.readOnly}
	if s := sessionOf(ctx); s != nil && s.ReadOnly {
		b.readOnly = true
	}
	engine, engineWhy := int64(p.callBudget), "--call-budget"
	if engine <= 0 {
		engine, engineWhy = 0, ""
	}
	b.fixed, b.why = engine, engineWhy
	if v, err := ctx.GetSessionVariable(ctx, varCallBudget); err == nil {
		if n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64); err == nil && n > 0 {
			switch {
			case !b.readOnly:
				b.fixed, b.why = n, "iamsql_call_budget"
			case n < b.limit():
				// A read-only session may lower its budget, never raise it.
				b.fixed, b.why = n, "iamsql_call_budget"
			}
		}
	}
	return b
}

// limit is the budget now: fixed, or the default for what iamsql knows of
// the account's size.
func (b *callBudget) limit() int64 {
	if b.fixed > 0 {
		return b.fixed
	}
	return max(CallBudgetFloor, CallBudgetScans*b.p.fullScanCost())
}

// describe says where the budget comes from, for its error.
func (b *callBudget) describe() string {
	if b.fixed > 0 {
		return "set by " + b.why
	}
	users := b.p.knownUsers()
	return fmt.Sprintf("the default: %d full scans of an account of %d users, at least %d", CallBudgetScans, users, CallBudgetFloor)
}

// spend counts one IAM call, or refuses it when the budget is spent.
func (b *callBudget) spend() error {
	if b == nil {
		return nil
	}
	if n := b.used.Add(1); n > b.limit() {
		b.used.Add(-1)
		return &BudgetError{Budget: b.limit(), Why: b.describe(), ReadOnly: b.readOnly}
	}
	return nil
}

// refuse is the error for a plan that needs more than the budget.
func (b *callBudget) refuse(need int64) error {
	if need <= b.limit() {
		return nil
	}
	return &BudgetError{Budget: b.limit(), Need: need, Why: b.describe(), ReadOnly: b.readOnly}
}

// charge counts a mutating call (CreateAccessKey, UpdateAccessKey,
// DeleteAccessKey) against the budget of the statement ctx runs, unless
// it deletes again a key the statement created.
func (p *Provider) charge(ctx *sql.Context) error {
	if isExemptFromBudget(ctx) {
		return nil
	}
	return statementOf(ctx, p).budget.spend()
}

// accountSize is what iamsql has seen of the accounts it reads: the most
// users one ListUsers listing of a partition returned.
type accountSize struct {
	mu    sync.Mutex
	users map[string]int64
}

// noteUsers records that a listing of partition part has returned n users
// so far.
func (p *Provider) noteUsers(part string, n int64) {
	p.size.mu.Lock()
	defer p.size.mu.Unlock()
	if p.size.users == nil {
		p.size.users = map[string]int64{}
	}
	p.size.users[part] = max(p.size.users[part], n)
}

func (p *Provider) knownUsers() int64 {
	p.size.mu.Lock()
	defer p.size.mu.Unlock()
	var n int64
	for _, u := range p.size.users {
		n += u
	}
	return n
}

// fullScanCost is the IAM calls of a full scan of every table of the
// accounts seen: per partition, ListUsers pages, a ListAccessKeys per user
// and for the root user, a GetAccessKeyLastUsed per key (two per user at
// most) and GetAccountSummary.
func (p *Provider) fullScanCost() int64 {
	page := int64(p.pageSize)
	if page <= 0 {
		page = 100
	}
	p.size.mu.Lock()
	defer p.size.mu.Unlock()
	var cost int64
	for _, users := range p.size.users {
		cost += (users+page-1)/page + 3*(users+1) + 1
	}
	return cost
}

// budgetSQLError gives a BudgetError its MySQL number.
func budgetSQLError(e *BudgetError) error {
	return mysql.NewSQLError(ErrNumCallBudget, "42000", "%s", e.Error())
}

// neededCalls is the fewest IAM calls a plan is known to make before it
// runs: one per distinct fetch its constant lookups name (regions of one
// partition share them) and one CreateAccessKey per row an INSERT ...
// VALUES inserts. Joins and subqueries are not counted: what they fetch
// depends on rows, and the budget stops them as they run.
type neededCalls struct {
	fetches map[string]bool
	creates int64
}

func (n *neededCalls) fetch(res string, p *partition) {
	if n.fetches == nil {
		n.fetches = map[string]bool{}
	}
	part, _ := schema.Partition(p.prm["region"])
	others := params{}
	for k, v := range p.prm {
		if k != "region" {
			others[k] = v
		}
	}
	n.fetches[res+"\x00"+part+"\x00"+others.String()] = true
}

func (n *neededCalls) calls() int64 { return int64(len(n.fetches)) + n.creates }

// noteFetches counts the fetches of a constant lookup.
func (c *planCheck) noteFetches(n *plan.IndexedTableAccess, t *table, lookup sql.IndexLookup) {
	idx, ok := n.Index().(*paramIndex)
	if !ok || lookup.IsEmptyRange {
		return
	}
	parts, err := t.partitions(c.ctx, idx, lookup)
	if err != nil {
		return // the lookup reports it
	}
	for _, p := range parts {
		c.need.fetch(t.res.Name, p)
	}
}

// noteCreates counts the rows an INSERT ... VALUES creates (the engine
// may project the VALUES onto the table's columns).
func (c *planCheck) noteCreates(source sql.Node) {
	if p, ok := source.(*plan.Project); ok {
		source = p.Child
	}
	if v, ok := source.(*plan.Values); ok {
		c.need.creates += int64(len(v.ExpressionTuples))
	}
}
