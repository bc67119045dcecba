package provider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// Org mode: the tables of IAM answers span several AWS accounts — every
// ACTIVE account of the organization (--org: the management account with
// its own credentials, each member through a role assumed in it), or the
// accounts of several profiles (--profiles). Each account is read as the
// one account of single-account mode is, within a scope of its own
// ("aws/123456789012": its answers, identity and size are its own), and
// its rows carry its id in account_id. Accounts are read concurrently,
// each within its own concurrency bound and retry budget, all within the
// global bound (Config.Concurrency). account_id = / IN (…) and a join with
// accounts read only the accounts named: a lookup that returns exactly
// the rows of the full scan those accounts have. An account that cannot
// be read (its role cannot be assumed, it is suspended, it refuses its
// listing, it ran out of retries) has no rows and leaves a warning naming
// it: the result is partial. An account has all its rows or none: its
// rows are held until it is read in full (accountRows), so one that fails
// partway yields none.

// DefaultOrgRole is the role org mode assumes in member accounts: the one
// AWS creates in every account created within an organization.
const DefaultOrgRole = "OrganizationAccountAccessRole"

// DefaultAccountConcurrency bounds one account's IAM calls in flight in
// org mode (IAM's rate limits are per account).
const DefaultAccountConcurrency = 8

// OrgConfig turns org mode on (Config.Org).
type OrgConfig struct {
	// Role is assumed in each member account (DefaultOrgRole when
	// empty); ExternalID is passed to AssumeRole when set.
	Role, ExternalID string
	// Profiles, when set, are the accounts instead of the
	// organization's: each its own clients (a named profile).
	Profiles []ProfileAccount
	// AccountConcurrency bounds each account's IAM calls in flight
	// (DefaultAccountConcurrency when 0).
	AccountConcurrency int
	// MaxAttempts is each account's retry budget for one throttled call
	// (awsiam.DefaultMaxAttempts when 0): an account that runs out is
	// left out with a warning, and slows no other.
	MaxAttempts int
	// MaxBackoff caps the jittered wait between two tries of a member
	// account's call (DefaultAccountMaxBackoff when 0).
	MaxBackoff time.Duration
	// Accounts, when set, are the only accounts read; ExcludeAccounts
	// are never read. Each entry is an account id or a pattern of
	// account names (path.Match: "prod-*"); with Profiles, of profile
	// names. Accounts left out have no rows and leave a note (they are
	// not a partial result: the configuration asked for it).
	Accounts, ExcludeAccounts []string
}

// CheckAccountPatterns refuses an entry of OrgConfig.Accounts or
// ExcludeAccounts that is empty or not a valid pattern.
func CheckAccountPatterns(entries []string) error {
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			return errors.New("an account entry is empty")
		}
		if _, err := path.Match(e, ""); err != nil {
			return fmt.Errorf("%q is not an account id or a valid name pattern (%v)", e, err)
		}
	}
	return nil
}

// matchesAccount reports whether an entry of the account lists names a.
func matchesAccount(entries []string, a Account) bool {
	for _, e := range entries {
		if e == a.Id {
			return true
		}
		if ok, _ := path.Match(e, a.Name); ok {
			return true
		}
	}
	return false
}

// inScope reports whether the configuration's account lists let org mode
// read a.
func (c *OrgConfig) inScope(a Account) bool {
	if len(c.Accounts) > 0 && !matchesAccount(c.Accounts, a) {
		return false
	}
	return !matchesAccount(c.ExcludeAccounts, a)
}

// DefaultAccountMaxBackoff caps the wait between two tries of a throttled
// call in a member account. The SDK's 20 s suits one account; across
// accounts each read streams its users' keys in order, and a call
// waiting 20 s holds back the ones behind it.
const DefaultAccountMaxBackoff = 2 * time.Second

// ProfileAccount is one account of --profiles.
type ProfileAccount struct {
	Name    string
	Clients *awsiam.Clients
}

// orgMode is the provider's org state, kept across statements.
type orgMode struct {
	cfg OrgConfig

	mu sync.Mutex
	// members are the clients of each account by id (assumed-role
	// clients cache and refresh their credentials).
	members map[string]*onceValue[*awsiam.Clients]
}

// onceValue is a value computed once; a failure is not kept.
type onceValue[T any] struct {
	mu  sync.Mutex
	ok  bool
	val T
}

func (o *onceValue[T]) get(f func() (T, error)) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ok {
		return o.val, nil
	}
	v, err := f()
	if err != nil {
		return v, err
	}
	o.val, o.ok = v, true
	return v, nil
}

func newOrgMode(cfg *OrgConfig) *orgMode {
	m := &orgMode{members: map[string]*onceValue[*awsiam.Clients]{}}
	if cfg != nil {
		m.cfg = *cfg
	}
	if m.cfg.Role == "" {
		m.cfg.Role = DefaultOrgRole
	}
	if m.cfg.AccountConcurrency <= 0 {
		m.cfg.AccountConcurrency = DefaultAccountConcurrency
	}
	if m.cfg.MaxBackoff <= 0 {
		m.cfg.MaxBackoff = DefaultAccountMaxBackoff
	}
	return m
}

// scopeOf is the scope of one account's answers in a partition: the
// partition alone in single-account mode.
func scopeOf(part, account string) string {
	if account == "" {
		return part
	}
	return part + "/" + account
}

// splitScope is scopeOf's inverse.
func splitScope(scope string) (part, account string) {
	part, account, _ = strings.Cut(scope, "/")
	return part, account
}

// inOrgMode reports whether the tables span several accounts.
func (p *Provider) inOrgMode() bool { return p.orgOn }

// clientsOf are the clients of a scope's account.
func (p *Provider) clientsOf(ctx context.Context, scope string) (*awsiam.Clients, error) {
	_, account := splitScope(scope)
	if account == "" {
		return p.clients, nil
	}
	o := p.org
	if len(o.cfg.Profiles) > 0 {
		for _, pa := range o.cfg.Profiles {
			id, err := p.profileAccount(ctx, pa)
			if err == nil && id == account {
				return pa.Clients, nil
			}
		}
		return nil, fmt.Errorf("no profile of --profiles is account %s", account)
	}
	mgmt, err := p.signerAccount(ctx, "aws")
	if err != nil {
		return nil, err
	}
	if account == mgmt {
		return p.clients, nil
	}
	o.mu.Lock()
	v, ok := o.members[account]
	if !ok {
		v = &onceValue[*awsiam.Clients]{}
		o.members[account] = v
	}
	o.mu.Unlock()
	// Each account's role is assumed once (a failure is asked again),
	// accounts at once.
	return v.get(func() (*awsiam.Clients, error) {
		return p.clients.AssumeRole(ctx, "arn:aws:iam::"+account+":role/"+o.cfg.Role, o.cfg.ExternalID, o.cfg.MaxAttempts, o.cfg.MaxBackoff)
	})
}

// apiOf is the IAM client of a scope.
func (p *Provider) apiOf(ctx context.Context, scope string) (awsiam.API, error) {
	part, _ := splitScope(scope)
	c, err := p.clientsOf(ctx, scope)
	if err != nil {
		return nil, err
	}
	return c.For(ctx, schema.SigningRegion[part])
}

// signerAccount is the account id of the credentials of a scope: the
// signer's (single-account mode, the management account) or the
// account the scope names.
func (p *Provider) signerAccount(ctx context.Context, scope string) (string, error) {
	if _, account := splitScope(scope); account != "" {
		return account, nil
	}
	return callerAccount(ctx, p, p.clients)
}

// profileAccount is the account id of a profile of --profiles.
func (p *Provider) profileAccount(ctx context.Context, pa ProfileAccount) (string, error) {
	id, err := callerAccount(ctx, p, pa.Clients)
	if err != nil {
		return "", fmt.Errorf("profile %s: %w", pa.Name, err)
	}
	return id, nil
}

// callerAccount is the account id of clients' credentials: their
// identity (awsiam.Clients.Identity), the one GetCallerIdentity a session
// makes, kept for the life of the clients, which the shell's banner,
// exec --verbose and AWS_ACCOUNT() share.
func callerAccount(ctx context.Context, p *Provider, c *awsiam.Clients) (string, error) {
	if id, ok := c.KnownIdentity(); ok {
		return id.Account, nil
	}
	id, err := call(ctx, p, "GetCallerIdentity", func() (awsiam.Identity, error) { return c.Identity(ctx) })
	if err != nil {
		return "", err
	}
	return id.Account, nil
}

// Account is one row of the accounts table.
type Account struct {
	Id, Name, Email, Status, JoinedMethod, Arn string
	JoinedTimestamp                            *time.Time
}

// accountsOf lists the accounts: the organization's (ListAccounts, all
// pages, once per statement) or, with --profiles, the profiles'.
func (st *statement) accounts(ctx context.Context) ([]Account, error) {
	p := st.p
	if len(p.org.cfg.Profiles) > 0 {
		return once(ctx, st, memoKey{"profiles", "", ""}, func(ctx context.Context) ([]Account, error) {
			out := make([]Account, 0, len(p.org.cfg.Profiles))
			seen := map[string]bool{}
			for _, pa := range p.org.cfg.Profiles {
				id, err := p.profileAccount(ctx, pa)
				if err != nil {
					return nil, err
				}
				if seen[id] {
					continue // two profiles of one account read it once
				}
				seen[id] = true
				out = append(out, Account{Id: id, Name: pa.Name, Status: "ACTIVE"})
			}
			return out, nil
		})
	}
	return once(ctx, st, memoKey{"ListAccounts", "", ""}, func(ctx context.Context) ([]Account, error) {
		api, err := p.clients.Organizations(ctx)
		if err != nil {
			return nil, err
		}
		var out []Account
		pager := organizations.NewListAccountsPaginator(orgLister{st, api}, &organizations.ListAccountsInput{},
			func(o *organizations.ListAccountsPaginatorOptions) { o.StopOnDuplicateToken = true })
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, a := range page.Accounts {
				acct := Account{Id: aws.ToString(a.Id), Name: aws.ToString(a.Name), Email: aws.ToString(a.Email),
					Status: string(a.Status), JoinedMethod: string(a.JoinedMethod), Arn: aws.ToString(a.Arn)}
				if a.JoinedTimestamp != nil {
					t := a.JoinedTimestamp.UTC()
					acct.JoinedTimestamp = &t
				}
				out = append(out, acct)
			}
		}
		return out, nil
	})
}

type orgLister struct {
	st  *statement
	api awsiam.OrganizationsAPI
}

func (l orgLister) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	return stmtCall(ctx, l.st, "", "ListAccounts", func() (*organizations.ListAccountsOutput, error) { return l.api.ListAccounts(ctx, in, opts...) })
}

// Parent is an account's parent in the organization (ListParents).
type Parent struct{ Id, Type string }

// parentOf is ListParents of one account; nil with --profiles.
func (st *statement) parentOf(ctx context.Context, account string) (*Parent, error) {
	if len(st.p.org.cfg.Profiles) > 0 {
		return nil, nil
	}
	return once(ctx, st, memoKey{"ListParents", "", account}, func(ctx context.Context) (*Parent, error) {
		api, err := st.p.clients.Organizations(ctx)
		if err != nil {
			return nil, err
		}
		out, err := stmtCall(ctx, st, "", "ListParents", func() (*organizations.ListParentsOutput, error) {
			return api.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(account)})
		})
		if err != nil || len(out.Parents) == 0 {
			return nil, err
		}
		return &Parent{Id: aws.ToString(out.Parents[0].Id), Type: string(out.Parents[0].Type)}, nil
	})
}

// accountBinding is the accounts table's listing.
var accountBinding = &binding{
	scan: func(ctx context.Context, st *statement, _ string) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			accts, err := st.accounts(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, a := range accts {
				if !yield(a, nil) {
					return
				}
			}
		}
	},
	hydrate: map[string]func(context.Context, *statement, string, any) (any, error){
		"ListParents": func(ctx context.Context, st *statement, _ string, item any) (any, error) {
			return st.parentOf(ctx, item.(Account).Id)
		},
	},
}

// spansAccounts reports whether a table's rows belong to accounts (it has
// account_id).
func (t *table) spansAccounts() bool {
	_, ok := t.res.Column(schema.AccountIDColumn)
	return ok
}

// withAccount completes a read's parameters with account_id in
// single-account mode: the signer's account, asked only when the
// statement refers to the column or pins it. ok is false when the pinned
// account is not the signer's: the read has no rows. Whether the column
// is filled is decided for the whole statement, not per table instance:
// reads of a table within a statement share their rows.
func (t *table) withAccount(ctx *sql.Context, st *statement, part string, prm params) (params, bool, error) {
	want, pinned := prm[schema.AccountIDColumn]
	if !pinned && st != nil && !st.refersTo(schema.AccountIDColumn) && !t.needs(st, schema.AccountIDColumn) {
		return prm, true, nil
	}
	id, err := t.p.signerAccount(ctx, part)
	if err != nil {
		return nil, false, err
	}
	if pinned {
		return prm, want == id, nil
	}
	out := params{}
	for k, v := range prm {
		out[k] = v
	}
	out[schema.AccountIDColumn] = id
	return out, true, nil
}

// acrossAccounts streams a read in every ACTIVE account (the one pinned
// by account_id, when it is): each account read in its own scope by up to
// inFlight goroutines at once, rows merged as they come. An account that
// cannot be read is left out with a warning.
func (t *table) acrossAccounts(ctx *sql.Context, st *statement, b rowBuilder, part string, prm params) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		accts, err := st.accounts(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		want, pinned := prm[schema.AccountIDColumn]
		var ids []string
		found := false
		leftOut := 0
		for _, a := range accts {
			switch {
			case pinned && a.Id != want:
				continue
			case !t.p.org.cfg.inScope(a):
				// The configuration leaves it out: no rows, no call.
				found = true
				leftOut++
				continue
			case a.Status != "ACTIVE":
				// A suspended (or closing) account cannot be read: the
				// result lacks whatever it holds.
				found = true
				t.accountFailed(ctx, st, a.Id, a.Name, fmt.Errorf("it is %s (org mode reads only ACTIVE accounts)", a.Status))
				continue
			}
			found = true
			ids = append(ids, a.Id)
		}
		if leftOut > 0 {
			st.note(ctx, &sql.Warning{Level: "Note", Code: NoteAccountsLeftOut,
				Message: fmt.Sprintf("%s: %d account(s) left out by the configuration's account lists (org.accounts, org.exclude_accounts)", t.res.Name, leftOut)})
		}
		if pinned && !found {
			st.note(ctx, &sql.Warning{Level: "Note", Code: NoteNoSuchValue,
				Message: fmt.Sprintf("%s: account %s is not an account of the organization (no rows)", t.res.Name, want)})
		}
		if len(ids) == 0 {
			return
		}
		names := map[string]string{}
		for _, a := range accts {
			names[a.Id] = a.Name
		}
		stats := statsOf(ctx)
		if stats != nil {
			stats.accountsToRead(ids)
		}
		runCtx, cancel := context.WithCancel(ctx)
		type item struct {
			row sql.Row
			err error
		}
		out := make(chan item, 256)
		defer func() {
			// The accounts' reads end before the read does: what they
			// hold is given back before the statement releases the rest.
			cancel()
			for range out {
			}
		}()
		slots := make(chan struct{}, t.p.accountsInFlight())
		var wg sync.WaitGroup
		go func() {
			defer close(out)
			for i, id := range ids {
				select {
				case slots <- struct{}{}:
				case <-runCtx.Done():
					if stats != nil {
						for _, id := range ids[i:] {
							stats.accountRead(id) // never started: not read here
						}
					}
					wg.Wait()
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots }()
					if stats != nil {
						defer stats.accountRead(id)
					}
					scope := scopeOf(part, id)
					actx := ctx.WithContext(awsiam.WithAttemptLimit(context.WithValue(runCtx, accountKey{}, Account{Id: id, Name: names[id]}),
						st.accountSem(scope), st.sem))
					aprm := params{}
					for k, v := range prm {
						aprm[k] = v
					}
					aprm[schema.AccountIDColumn] = id
					send := func(it item) bool {
						select {
						case out <- it:
							return true
						case <-runCtx.Done():
							return false
						}
					}
					if st.failedAccount(id) != nil {
						// Failed earlier in this statement (its warning
						// is given): it is not asked again (a lookup per
						// outer row would ask it once per row), and has
						// no rows here either.
						return
					}
					if t.absentParent(st, scope, aprm) {
						return // the user the lookup names is not in this account
					}
					// fail leaves the account out with a warning; once
					// this statement has returned rows of the account
					// (an earlier lookup), it fails the statement instead.
					fail := func(err error) {
						if st.accountFails(id, err) {
							send(item{err: failedAfterRows(actx, Account{Id: id, Name: names[id]}, err)})
							return
						}
						t.accountFailed(actx, st, id, names[id], err)
					}
					if err := t.p.reachAccount(actx, scope); err != nil {
						fail(err)
						return
					}
					// The account's rows are held until it is read in
					// full: one that fails partway yields none, never a
					// part of its rows that looks complete.
					held := st.accountRows()
					var rows []sql.Row
					var size int64
					defer func() { held.give(size) }()
					for row, err := range t.fetch(actx, st, b, scope, aprm) {
						if err != nil {
							if !accountLevel(err) {
								send(item{err: err})
								return
							}
							fail(err)
							return
						}
						n := rowBytes(row)
						if err := held.charge(n); err != nil {
							send(item{err: err})
							return
						}
						size += n
						rows = append(rows, row)
					}
					if len(rows) > 0 && !st.accountDelivers(id) {
						return // failed in another read of this statement meanwhile
					}
					for i, row := range rows {
						rows[i] = nil // sent: the consumer holds it now
						if !send(item{row: row}) {
							return
						}
					}
				}()
			}
			wg.Wait()
		}()
		for it := range out {
			if it.err != nil {
				yield(nil, it.err)
				return
			}
			if !yield(it.row, nil) {
				return
			}
		}
	}
}

// accountRows is the holding that pays, in org mode, for the rows of
// the accounts being read: each account's rows are held until the
// account is read in full (acrossAccounts), within the statement's
// memory limit (memory.go). At most accountsInFlight accounts are read
// at once, so a read holds about that many accounts' rows.
func (st *statement) accountRows() *holding {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.heldAccounts == nil {
		st.heldAccounts = st.mem.newHolding(holds{what: "org mode, holding each account's rows until the account is read in full,"})
	}
	return st.heldAccounts
}

// accountFails remembers that an account could not be read in this
// statement, and reports whether the statement had already returned rows
// of it (accountDelivers).
func (st *statement) accountFails(id string, err error) (delivered bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.failedAccounts == nil {
		st.failedAccounts = map[string]error{}
	}
	if _, ok := st.failedAccounts[id]; !ok {
		st.failedAccounts[id] = err
	}
	return st.deliveredAccounts[id]
}

// accountDelivers records that a read of the statement returns rows of an
// account, unless the account failed in this statement already (then the
// rows are dropped: it has none). Together with accountFails, under one
// lock, an account's rows either all come before its failure, which then
// fails the statement, or none are returned.
func (st *statement) accountDelivers(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.failedAccounts[id] != nil {
		return false
	}
	if st.deliveredAccounts == nil {
		st.deliveredAccounts = map[string]bool{}
	}
	st.deliveredAccounts[id] = true
	return true
}

// failedAfterRows is the error of a statement that had returned rows of an
// account before a later read of the same account failed: leaving the
// account out with a warning would keep a part of its rows that looks
// whole, so the statement fails.
func failedAfterRows(ctx *sql.Context, a Account, err error) error {
	return fmt.Errorf("account %s could not be read after this statement had returned some of its rows "+
		"(an account has all its rows in a result or none): %v; run the statement again, or leave the account out with account_id",
		a.label(), scrubSecrets(ctx, err))
}

// failedAccount is why an account could not be read earlier in this
// statement, or nil.
func (st *statement) failedAccount(id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.failedAccounts[id]
}

// absentParent reports whether a lookup of a child listing by its parent
// (access_keys by UserName) can be answered with no rows and no call in
// one account: the statement has that account's whole user listing
// (read for another table of the statement, e.g. the users side of a
// join) and no user of that name, in any case, is in it. A join on
// UserName alone looks each user up in every account; without this
// each account would be asked about users that are another's.
func (t *table) absentParent(st *statement, scope string, prm params) bool {
	l := t.res.List
	if l == nil || l.Parent != schema.Users.Name {
		return false
	}
	name, ok := prm[l.ParentKey]
	if !ok || strings.EqualFold(name, rootUserName) {
		return false
	}
	st.mu.Lock()
	list := st.lists[memoKey{"ListUsers", scope, ""}]
	st.mu.Unlock()
	if list == nil {
		return false
	}
	list.mu.Lock()
	defer list.mu.Unlock()
	if !list.done || list.err != nil || list.base != 0 {
		return false
	}
	for _, item := range list.items {
		v, err := fieldValue(item, l.ParentKey)
		if err != nil || v == nil {
			return false
		}
		if strings.EqualFold(fmt.Sprint(v), name) {
			return false
		}
	}
	return true
}

// reachAccount gets the credentials of a scope's account before its
// first IAM call (the AssumeRole of a member, cached across statements),
// so that an account whose role cannot be assumed is told apart.
func (p *Provider) reachAccount(ctx context.Context, scope string) error {
	c, err := p.clientsOf(ctx, scope)
	if err == nil {
		err = c.Credentials(ctx)
	}
	if err != nil {
		_, account := splitScope(scope)
		why := fmt.Sprintf("could not assume %s in it", p.org.cfg.Role)
		if len(p.org.cfg.Profiles) > 0 {
			why = "could not reach it"
		}
		return &accountError{why: why, err: err, account: account}
	}
	return nil
}

// accountError is a failure to reach an account.
type accountError struct {
	account, why string
	err          error
}

func (e *accountError) Error() string { return e.why + ": " + e.err.Error() }
func (e *accountError) Unwrap() error { return e.err }

// accountLevel reports whether an error ends only its account's read: an
// answer of AWS about that account (denied, throttled past its retries,
// credentials refused), not the statement's own end (its budget, a
// cancellation, a bad parameter).
func accountLevel(err error) bool {
	var ae *accountError
	if errors.As(err, &ae) {
		return true
	}
	if isCancellation(err) {
		return false
	}
	var be *BudgetError
	if errors.As(err, &be) {
		return false
	}
	var ie *IAMError
	return errors.As(err, &ie)
}

// accountFailed leaves an account out of a read with a warning naming it
// and the reason: the result is partial.
func (t *table) accountFailed(ctx *sql.Context, st *statement, id, name string, err error) {
	code := errorCode(err)
	if code == "error" {
		code = ""
	}
	st.incomplete(ctx, Incomplete{Table: t.res.Name, Account: id, AccountName: name, Code: code,
		Reason: fmt.Sprintf("account %s could not be read: %v", Account{Id: id, Name: name}.label(), scrubSecrets(ctx, err))})
}

// accountKey marks the context of one account's read in org mode.
type accountKey struct{}

// label names an account in messages: its id, and its name when known.
func (a Account) label() string {
	if a.Name == "" {
		return a.Id
	}
	return a.Id + " (" + a.Name + ")"
}

// accountsInFlight is how many accounts a read works on at once: enough
// to keep the global bound busy at each account's own bound, and a few
// more for accounts between two calls. Each costs memory (its scan's
// read-ahead), which the 100,000-key benchmark measures.
func (p *Provider) accountsInFlight() int {
	return p.concurrency/p.org.cfg.AccountConcurrency + 2
}

// accountSem is the bound of one account's IAM calls in flight.
func (st *statement) accountSem(scope string) chan struct{} {
	if !st.p.inOrgMode() {
		return nil
	}
	if _, account := splitScope(scope); account == "" {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.accountSems == nil {
		st.accountSems = map[string]chan struct{}{}
	}
	s, ok := st.accountSems[scope]
	if !ok {
		s = make(chan struct{}, st.p.org.cfg.AccountConcurrency)
		st.accountSems[scope] = s
	}
	return s
}

// orgMutation refuses, in org mode, a mutation that does not name its
// account, and finds the scope of the one it names.
func (p *Provider) mutationScope(ctx *sql.Context, part, account string) (string, error) {
	if !p.inOrgMode() {
		if account == "" {
			return part, nil
		}
		id, err := p.signerAccount(ctx, part)
		if err != nil {
			return "", err
		}
		if id != account {
			return "", paramError(fmt.Errorf("account_id %s is not the account iamsql signs for (%s); reading several accounts needs --org or --profiles", account, id))
		}
		return part, nil
	}
	if account == "" {
		return "", paramError(errors.New("in org mode a mutation must name its account: add account_id = '…' (INSERT: an account_id value); it never changes several accounts"))
	}
	if err := schema.Validate(schema.AccountIDColumn, account); err != nil {
		return "", paramError(err)
	}
	return scopeOf(part, account), nil
}

// mutationAPI is the IAM client a mutation of a key in an account uses.
func (p *Provider) mutationAPI(ctx *sql.Context, region, account string) (awsiam.API, error) {
	part, ok := schema.Partition(region)
	if !ok {
		return nil, paramError(schema.Validate("region", region))
	}
	scope, err := p.mutationScope(ctx, part, account)
	if err != nil {
		return nil, err
	}
	return p.apiOf(ctx, scope)
}
