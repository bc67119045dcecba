package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/schema"
)

// procedure builds the stored procedure of a schema method. Arguments are
// positional, required first then optional (schema.Method.Params); the
// argument count is checked here so the error can name the signature.
func (p *Provider) procedure(ref schema.ProcedureRef) sql.ExternalStoredProcedureDetails {
	m := ref.Method
	// Errors name the procedure, whatever SQL verb the method also has.
	asCall := m
	asCall.Verb = schema.Exec
	resultSchema := types.OkResultSchema
	if len(m.Returns) > 0 {
		resultSchema = returnsSchema(ref)
	}
	fnInner := func(ctx *sql.Context, args ...string) (sql.RowIter, error) {
		names := m.Params()
		if len(args) < len(m.Required) || len(args) > len(names) {
			return nil, paramError(fmt.Errorf("%s: expected %s, got %d argument(s)", m.Procedure, m.Signature(), len(args)))
		}
		prm := map[string]string{}
		for i, a := range args {
			prm[names[i]] = a
		}
		if ref.Resource.Name == schema.Rotations.Name {
			return p.rotationCall(ctx, ref, prm)
		}
		// In org mode a mutating procedure acts on the one account its
		// account_id names, never on several.
		account := prm[schema.AccountIDColumn]
		if m.Mutating && p.inOrgMode() && strings.TrimSpace(account) == "" {
			return nil, paramError(fmt.Errorf("%s: in org mode the procedure acts on one account, which it must name: give account_id (its last argument), e.g. CALL %s",
				m.Procedure, m.Signature()))
		}
		if account != "" {
			if err := schema.Validate(schema.AccountIDColumn, account); err != nil {
				return nil, paramError(err)
			}
		}
		if m.Operation == "CreateAccessKey" {
			user := callerDefault // UserName left out: the caller
			if len(args) > 1 {
				user = args[1]
			}
			req, err := validateCreate(asCall, prm["region"], false, user, false)
			if err != nil {
				return nil, paramError(err)
			}
			req.account = account
			k, err := p.createAccessKey(ctx, req)
			if err != nil {
				return nil, err
			}
			return sql.RowsToRowIter(k.Row()), nil
		}
		for _, req := range m.Required {
			if strings.TrimSpace(prm[req]) == "" {
				return nil, paramError(&schema.MissingParam{Resource: ref.Resource.Name, Param: req, Method: asCall})
			}
		}
		if m.Mutating {
			if err := p.checkWritable(ctx, m.Operation); err != nil {
				return nil, err
			}
		}
		// A key named by id alone may belong to anyone: find its owner.
		if _, ok := prm["AccessKeyId"]; ok && prm["UserName"] == "" {
			for _, param := range m.Required {
				if err := schema.Validate(param, prm[param]); err != nil {
					return nil, paramError(err)
				}
			}
			owner, err := p.ownerOf(ctx, prm["region"], account, prm["AccessKeyId"])
			if err != nil {
				return nil, err
			}
			prm["UserName"] = owner
		}
		var err error
		switch m.Operation {
		case "UpdateAccessKey":
			err = p.updateKey(ctx, prm["AccessKeyId"], prm["Status"], prm["region"], account, prm["UserName"])
		case "DeleteAccessKey":
			err = p.deleteKey(ctx, prm["AccessKeyId"], prm["region"], account, prm["UserName"])
		default:
			return nil, fmt.Errorf("%s: no implementation for %s", m.Procedure, m.Operation)
		}
		if err != nil {
			return nil, err
		}
		// One key changed: the OK packet says 1 row affected.
		return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(1))), nil
	}
	fn := func(ctx *sql.Context, args ...string) (sql.RowIter, error) {
		it, err := fnInner(ctx, args...)
		return it, scrubSecrets(ctx, ToSQLError(err))
	}
	return sql.ExternalStoredProcedureDetails{
		Name:     m.Procedure,
		Schema:   resultSchema,
		Function: fn,
		ReadOnly: !m.Mutating,
	}
}

// ownerOf finds who owns a key, so a procedure called with only an
// AccessKeyId works for any user's key, not just the caller's.
func (p *Provider) ownerOf(ctx *sql.Context, region, account, keyID string) (string, error) {
	if err := refuseSecrets(ctx, params{"AccessKeyId": keyID}); err != nil {
		return "", err
	}
	for param, v := range map[string]string{"AccessKeyId": keyID, "region": region} {
		if err := schema.Validate(param, v); err != nil {
			return "", paramError(err)
		}
	}
	part, _ := schema.Partition(region)
	scope, err := p.mutationScope(ctx, part, account)
	if err != nil {
		return "", err
	}
	out, err := statementOf(ctx, p).lastUsed(ctx, scope, keyID)
	if err != nil {
		return "", ownerLookupError(keyID, err)
	}
	if u := aws.ToString(out.UserName); u != "" {
		return u, nil
	}
	return rootUserName, nil
}

// ownerLookupError explains an AccessDenied from the owner lookup: IAM
// answers so both for a key outside the account and for a caller without
// iam:GetAccessKeyLastUsed.
func ownerLookupError(keyID string, err error) error {
	var ie *IAMError
	if !errors.As(err, &ie) || ie.Code != "AccessDenied" {
		return err
	}
	cp := *ie
	cp.Message += fmt.Sprintf(" (finding the owner of %s: the key does not exist in this account, or the caller lacks iam:GetAccessKeyLastUsed; "+
		"give the UserName too, to skip the lookup)", keyID)
	return &cp
}
