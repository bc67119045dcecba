package provider

import (
	"context"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// usersTable is users: ListUsers, all pages.
type usersTable struct{ *table }

func (p *Provider) newUsersTable() *usersTable {
	r := schema.Users
	sch := sqlSchema(DatabaseName, r)
	t := &table{prov: p, res: r, sch: sch}
	t.indexes = []*paramIndex{newParamIndex(DatabaseName, r, sch, "region", "PathPrefix")}
	t.fetch = p.fetchUsers
	return &usersTable{table: t}
}

func (t *usersTable) WithProjections(cols []string) sql.Table {
	return &usersTable{table: t.table.WithProjections(cols).(*table)}
}

func (t *usersTable) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	it := t.table.IndexedAccess(ctx, lookup)
	if it == nil {
		return nil
	}
	return &usersTable{table: it.(*table)}
}

func (p *Provider) fetchUsers(ctx *sql.Context, prm params, need func(string) bool) iter.Seq2[sql.Row, error] {
	list := p.listUsers(ctx, prm)
	if inv := sessionOf(ctx).inventory(); inv != nil {
		return inv.users(ctx, list, 0)
	}
	return list
}

// listUsers streams ListUsers, all pages.
func (p *Provider) listUsers(ctx *sql.Context, prm params) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		region := prm["region"]
		api, err := p.clients.For(ctx, region)
		if err != nil {
			yield(nil, err)
			return
		}
		prefix, ok := prm["PathPrefix"]
		in := &iam.ListUsersInput{MaxItems: p.maxItems()}
		if ok {
			in.PathPrefix = aws.String(prefix)
		} else {
			prefix = "/"
		}
		pager := iam.NewListUsersPaginator(countingUserLister{p, api}, in, func(o *iam.ListUsersPaginatorOptions) { o.StopOnDuplicateToken = true })
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, u := range page.Users {
				var created, pwd any
				if u.CreateDate != nil {
					created = u.CreateDate.UTC()
				}
				if u.PasswordLastUsed != nil {
					pwd = u.PasswordLastUsed.UTC()
				}
				row := sql.Row{aws.ToString(u.UserName), aws.ToString(u.UserId), aws.ToString(u.Arn), aws.ToString(u.Path), created, pwd, prefix, region}
				if !yield(row, nil) {
					return
				}
			}
		}
	}
}

type countingUserLister struct {
	p   *Provider
	api awsiam.API
}

func (c countingUserLister) ListUsers(ctx context.Context, in *iam.ListUsersInput, opts ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	return call(ctx, c.p, "ListUsers", func() (*iam.ListUsersOutput, error) { return c.api.ListUsers(ctx, in, opts...) })
}

// accountSummaryTable is account_summary: GetAccountSummary.
type accountSummaryTable struct{ *table }

func (p *Provider) newAccountSummaryTable() *accountSummaryTable {
	r := schema.AccountSummary
	sch := sqlSchema(DatabaseName, r)
	t := &table{prov: p, res: r, sch: sch}
	t.indexes = []*paramIndex{newParamIndex(DatabaseName, r, sch, "region")}
	t.fetch = p.fetchAccountSummary
	return &accountSummaryTable{table: t}
}

func (t *accountSummaryTable) WithProjections(cols []string) sql.Table {
	return &accountSummaryTable{table: t.table.WithProjections(cols).(*table)}
}

func (t *accountSummaryTable) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	it := t.table.IndexedAccess(ctx, lookup)
	if it == nil {
		return nil
	}
	return &accountSummaryTable{table: it.(*table)}
}

func (p *Provider) fetchAccountSummary(ctx *sql.Context, prm params, _ func(string) bool) iter.Seq2[sql.Row, error] {
	return func(yield func(sql.Row, error) bool) {
		region := prm["region"]
		api, err := p.clients.For(ctx, region)
		if err != nil {
			yield(nil, err)
			return
		}
		out, err := call(ctx, p, "GetAccountSummary", func() (*iam.GetAccountSummaryOutput, error) {
			return api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		})
		if err != nil {
			yield(nil, err)
			return
		}
		m := out.SummaryMap
		get := func(k string) any {
			if v, ok := m[k]; ok {
				return int64(v)
			}
			return nil
		}
		yield(sql.Row{get("AccountAccessKeysPresent"), get("AccountMFAEnabled"), get("Users"), get("UsersQuota"), get("AccessKeysPerUserQuota"), region}, nil)
	}
}
