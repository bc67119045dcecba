package provider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// An inventory is the statement shape `users JOIN access_keys ON
// k.UserName = u.UserName`. GMS runs it as a lookup join: for each user
// row, one lookup into access_keys, one at a time. To answer an account of
// thousands of users in seconds, the users scan fetches each user's keys
// ahead of the join, concurrently (bounded by Config.Concurrency), while
// rows still stream in users order and read-ahead stays bounded.
//
// The rule for failures: a user whose keys cannot be listed because IAM
// answers NoSuchEntity (deleted during the query) or AccessDenied is
// skipped, and a Note warning names the user; a key deleted during the
// query is skipped the same way; a key whose last use is AccessDenied keeps
// its row with NULL last-used columns and a warning. Any other error fails
// the statement.
type inventory struct {
	p       *Provider
	region  string
	hydrate bool
	// usersTable is the name or alias the join key refers to.
	usersTable string

	mu      sync.Mutex
	pending map[string]*userKeys
}

// Warning codes of inventory notes.
const (
	NoteUserSkipped    = 4101
	NoteKeySkipped     = 4102
	NoteLastUsedDenied = 4103
)

type userKeys struct {
	done  chan struct{}
	rows  []sql.Row
	err   error
	notes []*sql.Warning
}

// planInventory recognises an inventory join in a plan: a non-static
// lookup into access_keys keyed by (constant region, users.UserName), with
// no filter on the users side beyond its parameters and no LIMIT (read-
// ahead would then make calls the result doesn't need).
func planInventory(ctx *sql.Context, p *Provider, n sql.Node) *inventory {
	var inv *inventory
	usersNames := map[string]bool{}
	usable := true
	transform.Inspect(n, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.Limit, *plan.TopN:
			usable = false
		case *plan.TableAlias:
			if t, ok := aliasedTable(n); ok && t.res.Name == schema.Users.Name {
				usersNames[strings.ToLower(n.Name())] = true
			}
		case *plan.Filter:
			if filtersOnlyUsersParams(n) {
				return true
			}
			if t, ok := resolvedIamTable(n.Child); ok && t.res.Name == schema.Users.Name {
				usable = false
			}
		case *plan.IndexedTableAccess:
			t, ok := innerTable(n.TableNode.UnderlyingTable())
			if !ok {
				return true
			}
			if t.res.Name == schema.Users.Name {
				usersNames[strings.ToLower(t.res.Name)] = true
				return true
			}
			if t.res.Name != schema.AccessKeys.Name || n.IsStatic() {
				return true
			}
			exprs := n.Expressions()
			if len(exprs) < 2 {
				return true
			}
			region, ok := constant(ctx, exprs[0])
			gf, isField := exprs[1].(*expression.GetField)
			if !ok || region == nil || !isField || !strings.EqualFold(gf.Name(), "UserName") {
				return true
			}
			inv = &inventory{p: p, region: fmt.Sprint(region), hydrate: needsLastUsed(t.need), pending: map[string]*userKeys{}}
			inv.usersTable = strings.ToLower(gf.Table())
		}
		return true
	})
	if inv == nil || !usable || !usersNames[inv.usersTable] || schema.Validate("region", inv.region) != nil {
		return nil
	}
	return inv
}

func aliasedTable(n *plan.TableAlias) (*table, bool) {
	switch c := n.Child.(type) {
	case *plan.ResolvedTable:
		return innerTable(c.Table)
	case *plan.IndexedTableAccess:
		return innerTable(c.TableNode.UnderlyingTable())
	}
	return nil, false
}

// filtersOnlyUsersParams reports whether a filter over the users table
// tests only its parameter columns, which the lookup already satisfies.
func filtersOnlyUsersParams(f *plan.Filter) bool {
	t, ok := resolvedIamTable(f.Child)
	if !ok || t.res.Name != schema.Users.Name {
		return false
	}
	only := true
	transform.InspectExpr(f.Expression, func(e sql.Expression) bool {
		if gf, ok := e.(*expression.GetField); ok {
			if c, ok := t.res.Column(gf.Name()); !ok || !c.Param {
				only = false
			}
		}
		return !only
	})
	return only
}

// take hands the join the keys fetched ahead for a user; ok is false when
// none were (the caller then fetches directly).
func (inv *inventory) take(ctx *sql.Context, user string) ([]sql.Row, error, bool) {
	inv.mu.Lock()
	uk, ok := inv.pending[user]
	delete(inv.pending, user)
	inv.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	select {
	case <-uk.done:
	case <-ctx.Done():
		return nil, ctx.Err(), true
	}
	for _, w := range uk.notes {
		ctx.Session.Warn(w)
	}
	return uk.rows, uk.err, true
}

// users streams users rows while fetching each user's keys ahead. window
// bounds how many users are fetched but not yet consumed.
func (inv *inventory) users(ctx *sql.Context, list iter.Seq2[sql.Row, error], userCol int) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		api, err := inv.p.clients.For(ctx, inv.region)
		if err != nil {
			yield(nil, err)
			return
		}
		gctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		sem := make(chan struct{}, inv.p.concurrency)
		type item struct {
			row sql.Row
			err error
		}
		window := make(chan item, 2*inv.p.concurrency)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(window)
			for row, err := range list {
				if err == nil {
					inv.launch(gctx, &wg, sem, api, fmt.Sprint(row[userCol]))
				}
				select {
				case window <- item{row, err}:
				case <-gctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		for it := range window {
			if !yield(it.row, it.err) || it.err != nil {
				return
			}
		}
	}
}

// acquire takes a concurrency slot for one IAM call.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// launch starts fetching one user's keys (and their last use).
func (inv *inventory) launch(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}, api awsiam.API, user string) {
	uk := &userKeys{done: make(chan struct{})}
	inv.mu.Lock()
	inv.pending[user] = uk
	inv.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(uk.done)
		if uk.err = acquire(ctx, sem); uk.err != nil {
			return
		}
		rows, err := inv.p.listKeys(ctx, api, inv.region, user, "", false, nil)
		<-sem
		if err != nil {
			if code := iamCode(err); code == "NoSuchEntity" || code == "AccessDenied" {
				uk.notes = append(uk.notes, &sql.Warning{Level: "Note", Code: NoteUserSkipped,
					Message: fmt.Sprintf("user %s skipped: %s (its keys are not in this result)", user, err)})
				return // no rows, no error
			}
			uk.err = err
			return
		}
		if inv.hydrate {
			rows, uk.notes, uk.err = inv.hydrateRows(ctx, sem, api, rows)
		}
		uk.rows = rows
	}()
}

// hydrateRows fills the last-used columns, one concurrent call per key.
func (inv *inventory) hydrateRows(ctx context.Context, sem chan struct{}, api awsiam.API, rows []sql.Row) ([]sql.Row, []*sql.Warning, error) {
	lus := make([]*lastUsed, len(rows))
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, row := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = acquire(ctx, sem); errs[i] != nil {
				return
			}
			defer func() { <-sem }()
			lu, err := inv.p.lastUsedOf(ctx, api, fmt.Sprint(row[0]))
			lus[i], errs[i] = &lu, err
		}()
	}
	wg.Wait()
	var out []sql.Row
	var notes []*sql.Warning
	for i, row := range rows {
		switch code := iamCode(errs[i]); {
		case errs[i] == nil:
			row[5], row[6], row[7] = lus[i].date, lus[i].service, lus[i].region
		case code == "NoSuchEntity":
			notes = append(notes, &sql.Warning{Level: "Note", Code: NoteKeySkipped, Message: fmt.Sprintf("access key %s skipped: it was deleted during the query", row[0])})
			continue
		case code == "AccessDenied":
			notes = append(notes, &sql.Warning{Level: "Note", Code: NoteLastUsedDenied, Message: fmt.Sprintf("access key %s: last use unknown (%s)", row[0], errs[i])})
		default:
			return nil, notes, errs[i]
		}
		out = append(out, row)
	}
	return out, notes, nil
}

func iamCode(err error) string {
	var ie *IAMError
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}
