package provider

import (
	"context"
	"iter"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// This file is the IAM side of the tables: each resource's calls, made
// through the statement's memo (statement.go) so that a statement makes
// each distinct call once. What a resource's rows are, and how lookups
// narrow them, is declared in schema; how rows are built from the SDK's
// items is generic (rows.go, table.go).

// rootUserName is how IAM names the account root user as a key's owner.
const rootUserName = "root"

// binding is one resource's IAM calls.
type binding struct {
	// scan lists a resource without a parent: its full scan.
	scan func(ctx context.Context, st *statement, part string) iter.Seq2[any, error]
	// children lists a child resource's items for one parent key ("" for
	// the caller's own: the root user's keys when the caller is root).
	children func(ctx context.Context, st *statement, part, parentKey string) ([]any, error)
	// lookup answers a lookup that pins parameters besides region; ok is
	// false when it can't, and the table then filters its full scan.
	lookup func(ctx context.Context, st *statement, part string, prm params) (items []any, ok bool, err error)
	// hydrate fetches, for one item, the answer of the named call.
	hydrate map[string]func(ctx context.Context, st *statement, part string, item any) (any, error)
}

// bindings are the IAM calls of each resource that has a schema.Listing.
var bindings = map[string]*binding{
	schema.Accounts.Name: accountBinding,
	schema.Users.Name: {
		scan: func(ctx context.Context, st *statement, part string) iter.Seq2[any, error] {
			return st.users(part).all(ctx)
		},
	},
	schema.AccountSummary.Name: {
		scan: func(ctx context.Context, st *statement, part string) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				out, err := st.summary(ctx, part)
				if err != nil {
					yield(nil, err)
					return
				}
				yield(out, nil)
			}
		},
	},
	schema.AccessKeys.Name: {
		children: func(ctx context.Context, st *statement, part, user string) ([]any, error) {
			keys, err := st.keysOf(ctx, part, user)
			if err != nil {
				return nil, err
			}
			items := make([]any, len(keys))
			for i, k := range keys {
				items[i] = k
			}
			return items, nil
		},
		lookup: lookupAccessKeys,
		hydrate: map[string]func(context.Context, *statement, string, any) (any, error){
			"GetAccessKeyLastUsed": func(ctx context.Context, st *statement, part string, item any) (any, error) {
				k := item.(iamtypes.AccessKeyMetadata)
				return st.lastUsed(ctx, part, aws.ToString(k.AccessKeyId))
			},
		},
	},
}

// lookupAccessKeys answers `UserName = …` with that user's listing and
// `AccessKeyId = …` with its owner's (found with GetAccessKeyLastUsed),
// keeping exactly the rows a full scan would have: the root user's keys
// only when the caller is root. The listing's errors are the table's to
// judge, as in a full scan (table.skipParent).
func lookupAccessKeys(ctx context.Context, st *statement, part string, prm params) ([]any, bool, error) {
	user, hasUser := prm["UserName"]
	id, hasID := prm["AccessKeyId"]
	if !hasUser {
		if !hasID || st.hasScanned(part) {
			// A full scan's answers are at hand: filter them.
			return nil, false, nil
		}
		out, err := st.lastUsed(ctx, part, id)
		switch iamCode(err) {
		case "":
		case "NoSuchEntity":
			return nil, true, nil
		case "AccessDenied":
			// IAM answers so for a key of another account and for a caller
			// without iam:GetAccessKeyLastUsed alike: the full scan decides.
			return nil, false, nil
		default:
			return nil, true, err
		}
		user = aws.ToString(out.UserName)
		if user == "" {
			user = rootUserName
		}
	}
	if user == rootUserName {
		root, err := st.p.callerIsRoot(ctx, part)
		if err != nil || !root {
			return nil, true, err
		}
		user = ""
	}
	keys, err := st.keysOf(ctx, part, user)
	if err != nil {
		return nil, true, err
	}
	var items []any
	for _, k := range keys {
		if hasID && aws.ToString(k.AccessKeyId) != id {
			continue
		}
		items = append(items, k)
	}
	return items, true, nil
}

// api is the IAM client of a partition.
func (st *statement) api(ctx context.Context, part string) (awsiam.API, error) {
	return st.p.apiOf(ctx, part)
}

// users is the account's ListUsers listing, fetched page by page as its
// readers need it, once per statement.
func (st *statement) users(part string) *sharedList {
	var marker *string
	var listed int64
	return st.list(memoKey{"ListUsers", part, ""}, func(ctx context.Context) ([]any, bool, error) {
		api, err := st.api(ctx, part)
		if err != nil {
			return nil, false, err
		}
		in := &iam.ListUsersInput{Marker: marker, MaxItems: st.p.maxItems()}
		out, err := stmtCall(ctx, st, part, "ListUsers", func() (*iam.ListUsersOutput, error) { return api.ListUsers(ctx, in) })
		if err != nil {
			return nil, false, err
		}
		page := make([]any, len(out.Users))
		for i, u := range out.Users {
			page[i] = u
		}
		// The default call budget grows with the account (budget.go).
		listed += int64(len(page))
		st.p.noteUsers(part, listed)
		next := aws.ToString(out.Marker)
		more := out.IsTruncated && next != "" && next != aws.ToString(marker) // a repeated marker ends the listing
		marker = aws.String(next)
		return page, more, nil
	})
}

// keysOf lists one user's access keys, all pages; user "" lists the
// caller's own (the root user's keys when the caller is root, named root).
func (st *statement) keysOf(ctx context.Context, part, user string) ([]iamtypes.AccessKeyMetadata, error) {
	return once(ctx, st, memoKey{"ListAccessKeys", part, user}, func(ctx context.Context) ([]iamtypes.AccessKeyMetadata, error) {
		api, err := st.api(ctx, part)
		if err != nil {
			return nil, err
		}
		var name *string
		if user != "" {
			name = aws.String(user)
		}
		lister := stmtLister{st, part, api}
		pager := iam.NewListAccessKeysPaginator(lister, &iam.ListAccessKeysInput{UserName: name, MaxItems: st.p.maxItems()},
			func(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
		var keys []iamtypes.AccessKeyMetadata
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			keys = append(keys, page.AccessKeyMetadata...)
		}
		for i := range keys {
			if aws.ToString(keys[i].UserName) == "" {
				keys[i].UserName = aws.String(rootUserName)
			}
		}
		return keys, nil
	})
}

type stmtLister struct {
	st    *statement
	scope string
	api   awsiam.API
}

func (l stmtLister) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return stmtCall(ctx, l.st, l.scope, "ListAccessKeys", func() (*iam.ListAccessKeysOutput, error) { return l.api.ListAccessKeys(ctx, in, opts...) })
}

// lastUsed is GetAccessKeyLastUsed for one key, with IAM's "N/A" service
// and region (a key never used) made absent.
func (st *statement) lastUsed(ctx context.Context, part, keyID string) (*iam.GetAccessKeyLastUsedOutput, error) {
	return once(ctx, st, memoKey{"GetAccessKeyLastUsed", part, keyID}, func(ctx context.Context) (*iam.GetAccessKeyLastUsedOutput, error) {
		api, err := st.api(ctx, part)
		if err != nil {
			return nil, err
		}
		out, err := stmtCall(ctx, st, part, "GetAccessKeyLastUsed", func() (*iam.GetAccessKeyLastUsedOutput, error) {
			return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
		})
		if err != nil {
			return nil, err
		}
		if u := out.AccessKeyLastUsed; u != nil {
			if s := aws.ToString(u.ServiceName); s == "" || s == "N/A" {
				u.ServiceName = nil
			}
			if r := aws.ToString(u.Region); r == "" || r == "N/A" {
				u.Region = nil
			}
		}
		return out, nil
	})
}

// summary is GetAccountSummary.
func (st *statement) summary(ctx context.Context, part string) (*iam.GetAccountSummaryOutput, error) {
	return once(ctx, st, memoKey{"GetAccountSummary", part, ""}, func(ctx context.Context) (*iam.GetAccountSummaryOutput, error) {
		api, err := st.api(ctx, part)
		if err != nil {
			return nil, err
		}
		return stmtCall(ctx, st, part, "GetAccountSummary", func() (*iam.GetAccountSummaryOutput, error) {
			return api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		})
	})
}

// identity is who iamsql acts as in one partition, from one GetUser
// without a name, asked once per provider.
type identity struct {
	once sync.Once
	root bool
	arn  string
	err  error
}

// callerIsRoot reports whether the caller is the account's root user:
// only then are the caller's own keys added to a full scan (an IAM user's
// own keys are already among the users' keys). A caller that is not an
// IAM user (a role) or may not call GetUser on itself is not root: root
// can always.
func (p *Provider) callerIsRoot(ctx context.Context, part string) (bool, error) {
	id := p.identityOf(part)
	id.once.Do(func() {
		api, err := p.apiOf(ctx, part)
		if err != nil {
			id.err = err
			return
		}
		out, err := call(context.WithoutCancel(ctx), p, "GetUser", func() (*iam.GetUserOutput, error) {
			return api.GetUser(context.WithoutCancel(ctx), &iam.GetUserInput{})
		})
		switch iamCode(err) {
		case "":
			if out.User != nil {
				id.arn = aws.ToString(out.User.Arn)
				id.root = strings.HasSuffix(id.arn, ":root")
			}
		case "ValidationError", "AccessDenied", "NoSuchEntity":
		default:
			id.err = err
		}
	})
	if id.err != nil {
		// Not kept: the next statement asks again.
		p.mu.Lock()
		delete(p.identities, part)
		p.mu.Unlock()
	}
	return id.root, id.err
}

func (p *Provider) identityOf(part string) *identity {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.identities[part]
	if !ok {
		id = &identity{}
		p.identities[part] = id
	}
	return id
}

// Caller is who iamsql acts as in a region's partition: the ARN GetUser
// answers for the caller ("" when the caller is not an IAM user or root,
// e.g. a role), and whether it is the account's root user. It is asked
// once per provider.
func (e *Engine) Caller(ctx context.Context, region string) (arn string, root bool, err error) {
	part, ok := schema.Partition(region)
	if !ok {
		return "", false, schema.Validate("region", region)
	}
	root, err = e.Provider.callerIsRoot(ctx, part)
	if err != nil {
		return "", false, err
	}
	return e.Provider.identityOf(part).arn, root, nil
}
