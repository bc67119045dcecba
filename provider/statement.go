package provider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/provider/awsiam"
)

// statement is one statement's view of IAM. It remembers every answer the
// statement fetched, so that however the plan reads its tables — a table
// scanned again for each outer row, a self-join, a correlated subquery —
// each distinct IAM call is made at most once: no plan can multiply the
// calls beyond a full scan of each table it names. It also bounds the
// statement's concurrent IAM calls, and carries what the plan check
// learned about the statement (which columns it refers to, which parent
// scans fetch ahead for a join).
type statement struct {
	p *Provider
	// sem bounds the statement's IAM calls in flight (Config.Concurrency).
	sem chan struct{}

	mu    sync.Mutex
	memo  map[memoKey]*future
	lists map[memoKey]*sharedList

	// refs are the column names the statement's expressions refer to: a
	// table handed no projection hydrates only the columns named here.
	refs map[string]bool
	// prefetch lists, per parent table (as the plan holds it), the child
	// lookups a join makes for each of its rows: a scan of it fetches
	// them ahead.
	prefetch map[*table][]childLookup
	// noted de-duplicates the statement's notes.
	noted map[string]bool
	// usersDenied are the scopes (partition, and account in org mode)
	// whose ListUsers a scan was refused.
	usersDenied map[string]bool
	// fullScans are the partitions a child resource's full scan read.
	fullScans map[string]bool
	// session receives what the statement could not read.
	session *Session
	// forget is set when the statement reads each answer once: answers
	// are then dropped once read (see planCheck.readsOnce).
	forget bool
	// scans are the rows of the reads that ran to their end (see once).
	scans map[scanKey][]sql.Row
	// budget counts the statement's IAM calls (budget.go).
	budget *callBudget
	// mem counts the rows its operators hold in memory (memory.go).
	mem memAccount
	// accountSems bound each account's calls in flight in org mode.
	accountSems map[string]chan struct{}
	// failedAccounts are the accounts that could not be read in this
	// statement, and why (org mode).
	failedAccounts map[string]error
	// deliveredAccounts are the accounts some of whose rows a read of
	// this statement returned (org mode).
	deliveredAccounts map[string]bool
	// heldAccounts pays for the rows of the accounts being read in org
	// mode (see accountRows).
	heldAccounts *holding
}

// scanKey names one read of a table: its rows in one partition, with the
// hydrated columns and the parameters (echoed, or a lookup's) of that read.
type scanKey struct {
	table, part, hydrates, prm string
}

// once builds the rows of a read once per statement: a statement that
// reads a table more than once (a nested loop join opens its inner table
// again for every outer row, a correlated subquery reads it per outer
// row) replays the rows of a read that ran to its end, unless the
// statement reads each answer once (then it keeps nothing).
func (st *statement) once(k scanKey, read func() iter.Seq2[sql.Row, error]) iter.Seq2[sql.Row, error] {
	if st == nil {
		return read()
	}
	if rows, ok := st.built(k); ok {
		return func(yield func(sql.Row, error) bool) {
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
	return func(yield func(sql.Row, error) bool) {
		keep := st.keepsAnswers()
		var all []sql.Row
		for row, err := range read() {
			if err != nil {
				yield(nil, err)
				return
			}
			if keep {
				all = append(all, slices.Clone(row))
			}
			if !yield(row, nil) {
				return
			}
		}
		if keep {
			st.keepRows(k, all)
		}
	}
}

// built returns copies of the rows of a read that ran to its end.
func (st *statement) built(k scanKey) ([]sql.Row, bool) {
	if st == nil {
		return nil, false
	}
	st.mu.Lock()
	rows, ok := st.scans[k]
	st.mu.Unlock()
	if !ok {
		return nil, false
	}
	out := make([]sql.Row, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out, true
}

func (st *statement) keepRows(k scanKey, rows []sql.Row) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.forget {
		return
	}
	if st.scans == nil {
		st.scans = map[scanKey][]sql.Row{}
	}
	st.scans[k] = rows
}

func (st *statement) keepsAnswers() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return !st.forget
}

// forgetParent drops, in a statement that reads each answer once, what a
// full scan fetched for one parent row once its rows are built: a full
// scan of a large account then holds only what is in flight.
func (st *statement) forgetParent(op, part, key string, items []any, hydrates []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.forget {
		return
	}
	delete(st.memo, memoKey{op, part, key})
	for _, it := range items {
		if id, err := fieldValue(it, "AccessKeyId"); err == nil && id != nil {
			for _, h := range hydrates {
				delete(st.memo, memoKey{h, part, fmt.Sprint(id)})
			}
		}
	}
}

// keepAnswers says whether the statement keeps the IAM answers it read.
func (st *statement) keepAnswers(keep bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.forget = !keep
}

// childLookup is a join's lookup into a child resource (access_keys) keyed
// by its parent's key (users.UserName).
type childLookup struct {
	child *table
	// region is the lookup's constant region, or "" when it comes from
	// the parent row.
	region string
	// filter, when set, is the condition the plan applies to the parent's
	// rows before the join: rows it rejects are not fetched for.
	filter sql.Expression
}

type memoKey struct {
	op, partition, arg string
}

// future is one IAM answer, fetched once and shared.
type future struct {
	done chan struct{}
	val  any
	err  error
}

func newStatement(p *Provider) *statement {
	return &statement{
		p:      p,
		sem:    make(chan struct{}, p.concurrency),
		memo:   map[memoKey]*future{},
		lists:  map[memoKey]*sharedList{},
		refs:   map[string]bool{},
		budget: &callBudget{p: p},
	}
}

// once returns the memoized answer of key, calling fetch the first time.
// An answer cut short by its caller's cancellation is not kept: another
// reader in the same statement (whose context is still alive) fetches it
// again.
func once[T any](ctx context.Context, st *statement, key memoKey, fetch func(context.Context) (T, error)) (T, error) {
	for {
		st.mu.Lock()
		f, ok := st.memo[key]
		if !ok {
			f = &future{done: make(chan struct{})}
			st.memo[key] = f
			st.mu.Unlock()
			v, err := fetch(ctx)
			f.val, f.err = v, err
			if err != nil && isCancellation(err) {
				st.mu.Lock()
				delete(st.memo, key)
				st.mu.Unlock()
			}
			close(f.done)
			return v, err
		}
		st.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if f.err != nil && isCancellation(f.err) && ctx.Err() == nil {
			continue // the fetcher gave up; this reader still wants it
		}
		v, _ := f.val.(T)
		return v, f.err
	}
}

func isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || iamCode(err) == "Canceled" || iamCode(err) == "Timeout"
}

// call makes one IAM call of a scope within the statement's concurrency
// bound (in org mode, its account's and the global one, per attempt).
func stmtCall[T any](ctx context.Context, st *statement, scope, op string, f func() (T, error)) (T, error) {
	if err := st.budget.spend(); err != nil {
		var zero T
		return zero, err
	}
	if awsiam.HasAttemptLimit(ctx) {
		// Org mode: an account's bound and the global one are taken per
		// HTTP attempt (acrossAccounts), so a call waiting out
		// throttling holds neither.
		return call(ctx, st.p, op, f)
	}
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, iamError(op, ctx.Err())
	}
	defer func() { <-st.sem }()
	return call(ctx, st.p, op, f)
}

// sharedList is a paged listing (ListUsers) fetched once per statement and
// read by any number of readers, each at its own pace: pages are fetched
// as the furthest reader needs them.
type sharedList struct {
	mu sync.Mutex
	// items[0] is item base: a list read by one reader only (forget)
	// drops what it has read.
	items  []any
	base   int
	forget bool
	done   bool
	err    error
	// next fetches the following page; nil when done.
	next func(context.Context) ([]any, bool, error)
	// fetching is closed when the page being fetched has arrived.
	fetching chan struct{}
}

// all streams the listing from its start.
func (l *sharedList) all(ctx context.Context) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for i := 0; ; i++ {
			item, ok, err := l.at(ctx, i)
			if err != nil {
				yield(nil, err)
				return
			}
			if !ok || !yield(item, nil) {
				return
			}
		}
	}
}

// at returns item i, fetching pages until it exists or the listing ends.
func (l *sharedList) at(ctx context.Context, i int) (any, bool, error) {
	for {
		l.mu.Lock()
		if i < l.base {
			l.mu.Unlock()
			return nil, false, errors.New("internal: a listing read once was read again")
		}
		if i-l.base < len(l.items) {
			v := l.items[i-l.base]
			if l.forget && i > l.base {
				// Nobody reads behind item i: let the earlier ones go.
				l.items = l.items[i-l.base:]
				l.base = i
			}
			l.mu.Unlock()
			return v, true, nil
		}
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return nil, false, err
		}
		if l.done {
			l.mu.Unlock()
			return nil, false, nil
		}
		if wait := l.fetching; wait != nil {
			l.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		wait := make(chan struct{})
		l.fetching = wait
		l.mu.Unlock()
		page, more, err := l.next(ctx)
		l.mu.Lock()
		l.fetching = nil
		switch {
		case err != nil && isCancellation(err):
			// Not kept: a reader whose context is alive fetches again.
		case err != nil:
			l.err = err
		default:
			l.items = append(l.items, page...)
			l.done = !more
		}
		l.mu.Unlock()
		close(wait)
		if err != nil {
			return nil, false, err
		}
	}
}

// list returns the statement's shared listing for key, made with next.
func (st *statement) list(key memoKey, next func(context.Context) ([]any, bool, error)) *sharedList {
	st.mu.Lock()
	defer st.mu.Unlock()
	l, ok := st.lists[key]
	if !ok {
		l = &sharedList{next: next, forget: st.forget}
		st.lists[key] = l
	}
	return l
}

// note records a warning once per statement.
func (st *statement) note(ctx *sql.Context, w *sql.Warning) {
	st.mu.Lock()
	if st.noted == nil {
		st.noted = map[string]bool{}
	}
	seen := st.noted[w.Message]
	st.noted[w.Message] = true
	st.mu.Unlock()
	if !seen {
		ctx.Session.Warn(w)
	}
}

// refersTo reports whether the statement's expressions name a column.
func (st *statement) refersTo(col string) bool {
	return st.refs[strings.ToLower(col)]
}

// childLookupsOf lists the join lookups a scan of parent fetches ahead.
func (st *statement) childLookupsOf(parent *table) []childLookup {
	if st == nil {
		return nil
	}
	return st.prefetch[parent]
}

// scanned records that a full scan of a partition ran: its answers are in
// the memo, so a lookup may filter them rather than make calls of its own.
func (st *statement) scanned(part string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.fullScans == nil {
		st.fullScans = map[string]bool{}
	}
	st.fullScans[part] = true
}

func (st *statement) hasScanned(part string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.fullScans[part]
}

func (st *statement) denyListing(part string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.usersDenied == nil {
		st.usersDenied = map[string]bool{}
	}
	st.usersDenied[part] = true
}

// incomplete records a part of the account the statement could not read,
// for SHOW WARNINGS (a Note) and for callers that act on it (the partial
// exit status, the report's incomplete list).
func (st *statement) incomplete(ctx *sql.Context, in Incomplete) {
	if a, ok := ctx.Value(accountKey{}).(Account); ok && in.Account == "" {
		// Read in org mode: say which account.
		in.Account, in.AccountName = a.Id, a.Name
		in.Reason = "account " + a.label() + ": " + in.Reason
	}
	st.note(ctx, &sql.Warning{Level: "Warning", Code: WarnPartial, Message: "partial result: " + in.Reason})
	if s := sessionOf(ctx); s != nil {
		s.addIncomplete(in)
	}
}

// ordered runs f on the items of in concurrently and yields f's results
// in input order. It works ahead of the consumer by a window that starts
// at one item and doubles with each item consumed, up to window: a reader
// that stops early (a LIMIT) costs few calls beyond what it read, and a
// long read soon runs window items at a time. It stops the producer and
// the work in flight when the consumer stops.
func ordered[T, R any](ctx context.Context, in iter.Seq2[T, error], window int, f func(context.Context, T) (R, error)) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		type result struct {
			val R
			err error
		}
		pending := make(chan chan result, window)
		// credit lets the producer start one more item.
		credit := make(chan struct{}, window)
		credit <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(pending)
			for item, err := range in {
				ch := make(chan result, 1)
				if err != nil {
					ch <- result{err: err}
				} else {
					select {
					case <-credit:
					case <-ctx.Done():
						return
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						v, err := f(ctx, item)
						ch <- result{v, err}
					}()
				}
				select {
				case pending <- ch:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		consumed, issued := 0, 1
		for ch := range pending {
			var r result
			select {
			case r = <-ch:
			case <-ctx.Done():
				var zero R
				yield(zero, ctx.Err())
				return
			}
			if !yield(r.val, r.err) || r.err != nil {
				return
			}
			// One item consumed: the window (items started and not yet
			// consumed) grows to consumed+1, up to window.
			consumed++
			for issued < consumed+min(window, consumed+1) {
				credit <- struct{}{}
				issued++
			}
		}
	}
}
