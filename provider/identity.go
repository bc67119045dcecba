package provider

import (
	"context"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/provider/awsiam"
)

// AWS_ACCOUNT() and AWS_PRINCIPAL() say whom iamsql acts as: the account
// id and the principal's ARN, from one GetCallerIdentity made when first
// asked and kept (awsiam.Clients.Identity). CURRENT_USER() stays MySQL's:
// the connection's user.

// identityFunctions are the functions, by lower-case name, and the field
// of the identity each returns.
var identityFunctions = map[string]func(awsiam.Identity) string{
	"aws_account":   func(id awsiam.Identity) string { return id.Account },
	"aws_principal": func(id awsiam.Identity) string { return id.Arn },
}

// Identity is whom the engine acts as (one GetCallerIdentity, kept).
func (e *Engine) Identity(ctx context.Context) (awsiam.Identity, error) {
	return e.Provider.clients.Identity(ctx)
}

func (p *Provider) identityFunction(name string) (sql.Function, bool) {
	field, ok := identityFunctions[name]
	if !ok {
		return nil, false
	}
	return sql.Function0{Name: name, Fn: func() sql.Expression {
		return &identityValue{p: p, name: name, field: field}
	}}, true
}

// identityValue is one call of AWS_ACCOUNT() or AWS_PRINCIPAL().
type identityValue struct {
	p     *Provider
	name  string
	field func(awsiam.Identity) string
}

var _ sql.FunctionExpression = (*identityValue)(nil)

func (v *identityValue) Resolved() bool             { return true }
func (v *identityValue) String() string             { return fmt.Sprintf("%s()", v.name) }
func (v *identityValue) Type() sql.Type             { return types.LongText }
func (v *identityValue) IsNullable() bool           { return false }
func (v *identityValue) Children() []sql.Expression { return nil }
func (v *identityValue) FunctionName() string       { return v.name }
func (v *identityValue) Description() string {
	return "returns the AWS account id or principal ARN iamsql acts as (GetCallerIdentity)"
}

func (v *identityValue) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(v, len(children), 0)
	}
	return v, nil
}

func (v *identityValue) Eval(ctx *sql.Context, _ sql.Row) (any, error) {
	id, err := v.p.clients.Identity(ctx)
	if err != nil {
		return nil, ToSQLError(iamError("GetCallerIdentity", err))
	}
	return v.field(id), nil
}
