package provider

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/schema"
)

// lookAhead makes the IAM calls of a lookup's partitions concurrently
// before the first is read: go-mysql-server reads the partitions of
// `UserName IN ('a', 'b', …)` one after the other, which would make one
// user's calls after the other's. The answers land in the statement's
// memo, where each partition's read then finds them; rows are built as
// before, so the result is the same. It waits for every call: nothing
// outlives the statement. The calls are those the partitions' reads make
// anyway (a LIMIT that stops early no longer saves the later ones). Not
// in org mode, whose reads are scoped per account (acrossAccounts).
func (t *table) lookAhead(parts []*partition) func(*sql.Context) {
	if len(parts) < 2 || t.b == nil || t.b.lookup == nil || t.res.List == nil || t.p.inOrgMode() {
		return nil
	}
	return func(ctx *sql.Context) {
		st := statementOf(ctx, t.p)
		work := make(chan *partition)
		var wg sync.WaitGroup
		for range min(t.p.window(""), len(parts)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range work {
					t.prefetchPartition(ctx, st, p)
				}
			}()
		}
		for _, p := range parts {
			if ctx.Err() != nil {
				break
			}
			work <- p
		}
		close(work)
		wg.Wait()
	}
}

// prefetchPartition makes one lookup partition's calls, as its read will
// (table.fetch): its account must be the signer's, and only a lookup
// pinning more than region and account_id calls anything.
func (t *table) prefetchPartition(ctx *sql.Context, st *statement, p *partition) {
	if p.none {
		return
	}
	part, ok := schema.Partition(p.prm["region"])
	if !ok {
		return
	}
	prm := p.prm
	if t.spansAccounts() {
		aprm, ok, err := t.withAccount(ctx, st, part, prm)
		if err != nil || !ok {
			return
		}
		prm = aprm
	}
	echo := 1
	if _, ok := prm[schema.AccountIDColumn]; ok {
		echo++
	}
	if len(prm) <= echo {
		return
	}
	// Only the calls: their answers and errors are memoized, and the
	// read reports what they mean (a note, an incomplete entry) once.
	items, ok, err := t.b.lookup(ctx, st, part, prm)
	if err != nil || !ok {
		return
	}
	var wg sync.WaitGroup
	for _, h := range t.hydrates(st) {
		for _, item := range items {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = t.b.hydrate[h](ctx, st, part, item)
			}()
		}
	}
	wg.Wait()
}
