package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Context is what a key's owner can do and who answers for it, read for
// the owners of the keys with findings only (readContext), through SQL on
// the user-context tables: user_tags, login_profiles, mfa_devices,
// user_groups, user_attached_policies and user_policies. It needs
// iam:GetUser, iam:ListUserTags, iam:GetLoginProfile, iam:ListMFADevices,
// iam:ListGroupsForUser, iam:ListAttachedUserPolicies and
// iam:ListUserPolicies; what IAM refuses is an incomplete entry.
type Context struct {
	// Owner and Team are the user's tags of those names (any case);
	// empty when it has none.
	Owner, Team string
	// Description is the key's description: the user's tag whose key is
	// the access key id, as the console stores it.
	Description string
	// ConsoleAccess: the user has a console password (GetLoginProfile).
	ConsoleAccess bool
	// MFA: an MFA device is enabled for the user.
	MFA bool
	// Groups are the groups the user is in, by name.
	Groups []string
	// AttachedPolicies and InlinePolicies count the managed policies
	// attached to the user and its inline policies (not its groups').
	AttachedPolicies, InlinePolicies int

	tags map[string]string
}

// ContextPermissions are the IAM permissions the report's context needs.
var ContextPermissions = []string{"iam:GetUser", "iam:ListUserTags", "iam:GetLoginProfile", "iam:ListMFADevices",
	"iam:ListGroupsForUser", "iam:ListAttachedUserPolicies", "iam:ListUserPolicies"}

// ContextSQL is the statement that reads the context of some users of one
// account: one row per tag, console password, MFA device, group, attached
// and inline policy, named by Kind. Its six tables share the statement's
// answers, so each user's name is checked once (GetUser).
func ContextSQL(region, account string, users []string) string {
	quoted := make([]string, len(users))
	for i, u := range users {
		quoted[i] = sqlString(u)
	}
	where := fmt.Sprintf("WHERE region = %s AND account_id = %s AND UserName IN (%s)", sqlString(region), sqlString(account), strings.Join(quoted, ", "))
	branch := func(kind, name, value, table string) string {
		return fmt.Sprintf("SELECT '%s' AS Kind, UserName, CAST(%s AS CHAR(2048)) AS Name, CAST(%s AS CHAR(256)) AS Value FROM %s %s", kind, name, value, table, where)
	}
	return strings.Join([]string{
		branch("tag", "TagKey", "TagValue", "user_tags"),
		branch("console", "NULL", "NULL", "login_profiles"),
		branch("mfa", "SerialNumber", "NULL", "mfa_devices"),
		branch("group", "GroupName", "NULL", "user_groups"),
		branch("attached", "PolicyArn", "NULL", "user_attached_policies"),
		branch("inline", "PolicyName", "NULL", "user_policies"),
	}, "\nUNION ALL\n")
}

// contextRow is one row of ContextSQL.
type contextRow struct {
	Kind, UserName string
	Name, Value    *string
}

// readContext reads the context of the owners of the keys with findings
// (the root user has none) and attaches it to their keys and findings.
// Each owner's context is one statement (ContextSQL: its six tables share
// one GetUser), and as many statements run at once as the engine makes
// IAM calls at once, each in a session of its own.
func (r *Report) readContext(ctx context.Context, q *querier, prog *progressDisplay) {
	type owner struct{ account, user string }
	var owners []owner
	seen := map[owner]bool{}
	for _, f := range r.Findings {
		k := f.Key
		o := owner{k.Account, k.UserName}
		if k.AccessKeyID == "" || k.Root() || seen[o] {
			continue
		}
		seen[o] = true
		owners = append(owners, o)
	}
	if len(owners) == 0 {
		return
	}
	slices.SortFunc(owners, func(a, b owner) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.user, b.user))
	})
	t := prog.step("Owners' context", len(owners))
	var done atomic.Int64
	t.watch(func() int { return int(done.Load()) }, func() string { return fmt.Sprintf("Owners' context (%d of %d users)", done.Load(), len(owners)) })

	type outcome struct {
		ctx        *Context
		incomplete []Incomplete
	}
	results := make([]outcome, len(owners))
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(q.eng.Concurrency(), len(owners)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wq := &querier{eng: q.eng, sess: q.eng.NewSession("iamsql-report", ""), calls: map[string]int{}}
			defer func() {
				mu.Lock()
				for op, n := range wq.calls {
					q.calls[op] += n
				}
				mu.Unlock()
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(owners) || ctx.Err() != nil {
					return
				}
				o := owners[i]
				c := &Context{}
				err := query(ctx, wq, ContextSQL(r.Region, o.account, []string{o.user}), nil, func(row contextRow) error {
					if row.UserName != o.user {
						return fmt.Errorf("the context statement returned user %q, which it did not ask for", row.UserName)
					}
					c.add(row)
					return nil
				})
				var out outcome
				for _, in := range wq.sess.Incomplete() {
					out.incomplete = append(out.incomplete, Incomplete{Source: "context", Code: in.Code, Account: in.Account, UserName: o.user, Reason: in.Reason})
				}
				if err != nil {
					out.incomplete = append(out.incomplete, Incomplete{Source: "context", Account: o.account, UserName: o.user,
						Reason: "the context of " + o.user + " could not be read: " + oneLine(err.Error())})
				}
				if len(out.incomplete) == 0 {
					out.ctx = c
				}
				results[i] = out
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	t.done(ctx.Err())
	read := map[owner]*Context{}
	for i, o := range owners {
		r.Incomplete = append(r.Incomplete, results[i].incomplete...)
		if results[i].ctx != nil {
			read[o] = results[i].ctx
		}
	}
	if err := ctx.Err(); err != nil {
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "context", Reason: "reading the owners' context was cut short: " + err.Error()})
	}
	attach := func(k *Key) {
		if c, ok := read[owner{k.Account, k.UserName}]; ok {
			kc := *c
			kc.Description = c.description(k.AccessKeyID)
			k.Context = &kc
		}
	}
	for i := range r.Keys {
		attach(&r.Keys[i])
	}
	for i := range r.Findings {
		attach(&r.Findings[i].Key)
	}
}

// add takes one row of ContextSQL.
func (c *Context) add(row contextRow) {
	name := ""
	if row.Name != nil {
		name = *row.Name
	}
	switch row.Kind {
	case "tag":
		value := ""
		if row.Value != nil {
			value = *row.Value
		}
		if c.tags == nil {
			c.tags = map[string]string{}
		}
		c.tags[name] = value
		switch strings.ToLower(name) {
		case "owner":
			c.Owner = value
		case "team":
			c.Team = value
		}
	case "console":
		c.ConsoleAccess = true
	case "mfa":
		c.MFA = true
	case "group":
		c.Groups = append(c.Groups, name)
		slices.Sort(c.Groups)
	case "attached":
		c.AttachedPolicies++
	case "inline":
		c.InlinePolicies++
	}
}

func (c *Context) description(keyID string) string { return c.tags[keyID] }

func slicesSorted(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ContextColumns are the context's columns in CSV and JSON, after a key's.
var ContextColumns = []string{"Owner", "Team", "Description", "ConsoleAccess", "MFA", "Groups", "AttachedPolicies", "InlinePolicies"}

// ContextCells are a key's context values for ContextColumns: NULLs when
// it was not read (a key without findings, the root user's, or one IAM
// refused to tell).
func (k Key) ContextCells() []any {
	c := k.Context
	if c == nil {
		return make([]any, len(ContextColumns))
	}
	return []any{nullable(c.Owner), nullable(c.Team), nullable(c.Description), c.ConsoleAccess, c.MFA,
		strings.Join(c.Groups, ", "), c.AttachedPolicies, c.InlinePolicies}
}

// ContextSummary says a key's context in one line for the HTML page and
// text output ("" when it was not read).
func (k Key) ContextSummary() string {
	c := k.Context
	if c == nil {
		return ""
	}
	var parts []string
	if c.Owner != "" {
		parts = append(parts, "owner "+c.Owner)
	}
	if c.Team != "" {
		parts = append(parts, "team "+c.Team)
	}
	if c.Description != "" {
		parts = append(parts, "“"+c.Description+"”")
	}
	switch {
	case c.ConsoleAccess && c.MFA:
		parts = append(parts, "console with MFA")
	case c.ConsoleAccess:
		parts = append(parts, "console without MFA")
	default:
		parts = append(parts, "no console")
	}
	if len(c.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(c.Groups, ", "))
	}
	parts = append(parts, plural(c.AttachedPolicies, "attached policy", "attached policies"))
	if c.InlinePolicies > 0 {
		parts = append(parts, plural(c.InlinePolicies, "inline policy", "inline policies"))
	}
	return strings.Join(parts, "; ")
}

// sqlString quotes a value as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}
