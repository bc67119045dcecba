package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/dolthub/go-mysql-server/sql"
	"golang.org/x/sync/errgroup"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// rootUserName is how IAM names the account root user as a key's owner.
const rootUserName = "root"

// accessKeysTable is access_keys: SELECT, INSERT, UPDATE and DELETE mapped
// onto ListAccessKeys, CreateAccessKey, UpdateAccessKey and DeleteAccessKey.
type accessKeysTable struct {
	*table
}

var (
	_ sql.InsertableTable = (*accessKeysTable)(nil)
	_ sql.DeletableTable  = (*accessKeysTable)(nil)
	_ sql.UpdatableTable  = (*accessKeysTable)(nil)
)

func (p *Provider) newAccessKeysTable() *accessKeysTable {
	r := schema.AccessKeys
	sch := sqlSchema(DatabaseName, r)
	t := &table{prov: p, res: r, sch: sch}
	t.indexes = []*paramIndex{
		newParamIndex(DatabaseName, r, sch, "region", "UserName", "AccessKeyId"),
	}
	t.fetchAll = p.fetchAccessKeys
	t.merge = mergeKeyLookups
	return &accessKeysTable{table: t}
}

func (t *accessKeysTable) WithProjections(cols []string) sql.Table {
	return &accessKeysTable{table: t.table.WithProjections(cols).(*table)}
}

func (t *accessKeysTable) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	it := t.table.IndexedAccess(ctx, lookup)
	if it == nil {
		return nil
	}
	return &accessKeysTable{table: it.(*table)}
}

// lastUsed is GetAccessKeyLastUsed's answer for one key.
type lastUsed struct {
	owner   string
	date    any // time.Time or nil
	service any // string or nil
	region  any
}

func lastUsedFrom(out *iam.GetAccessKeyLastUsedOutput) lastUsed {
	lu := lastUsed{owner: aws.ToString(out.UserName)}
	if u := out.AccessKeyLastUsed; u != nil {
		if u.LastUsedDate != nil {
			lu.date = u.LastUsedDate.UTC()
		}
		if s := aws.ToString(u.ServiceName); s != "" && s != "N/A" {
			lu.service = s
		}
		if r := aws.ToString(u.Region); r != "" && r != "N/A" {
			lu.region = r
		}
	}
	return lu
}

func accessKeyRow(k iamtypes.AccessKeyMetadata, region string, lu *lastUsed) sql.Row {
	var created any
	if k.CreateDate != nil {
		created = k.CreateDate.UTC()
	}
	row := sql.Row{aws.ToString(k.AccessKeyId), aws.ToString(k.UserName), string(k.Status), created, region, nil, nil, nil}
	if lu != nil {
		row[5], row[6], row[7] = lu.date, lu.service, lu.region
	}
	return row
}

// userParam is the UserName to send: none for the root user, whose keys are
// managed by leaving UserName out.
func userParam(name string) *string {
	if name == "" || name == rootUserName {
		return nil
	}
	return aws.String(name)
}

func needsLastUsed(need func(string) bool) bool {
	return need("LastUsedDate") || need("LastUsedServiceName") || need("LastUsedRegion")
}

// fetchAccessKeys lists keys for one parameter combination: one
// ListAccessKeys pass (all pages), preceded by GetAccessKeyLastUsed to find
// the owner when only an AccessKeyId is given.
func (p *Provider) fetchAccessKeys(ctx *sql.Context, prm params, need func(string) bool) ([]sql.Row, error) {
	if err := refuseSecrets(ctx, prm); err != nil {
		return nil, err
	}
	region := prm["region"]
	user, hasUser := prm["UserName"]
	keyID, hasKey := prm["AccessKeyId"]
	// In an inventory join, this user's keys were fetched ahead.
	if pf := sessionOf(ctx).inventory(); hasUser && !hasKey && pf != nil && pf.region == region {
		if rows, err, ok := pf.take(ctx, user); ok {
			return rows, err
		}
	}
	api, err := p.clients.For(ctx, region)
	if err != nil {
		return nil, err
	}
	var known map[string]lastUsed
	if hasKey && !hasUser {
		lu, err := p.lastUsedOf(ctx, api, keyID)
		if err != nil {
			var ie *IAMError
			if errors.As(err, &ie) && ie.Code == "NoSuchEntity" {
				return nil, nil // no such key: no rows
			}
			return nil, ownerLookupError(keyID, err)
		}
		user = lu.owner
		known = map[string]lastUsed{keyID: lu}
	}
	return p.listKeys(ctx, api, region, user, keyID, needsLastUsed(need), known)
}

// listKeys lists one user's keys (the caller's when user is empty), all
// pages, optionally only the key keyID, with last-used data when hydrate
// is set. A user has at most two keys, so the rows are buffered.
func (p *Provider) listKeys(ctx context.Context, api awsiam.API, region, user, keyID string, hydrate bool, known map[string]lastUsed) ([]sql.Row, error) {
	pager := iam.NewListAccessKeysPaginator(countingLister{p, api}, &iam.ListAccessKeysInput{UserName: userParam(user), MaxItems: p.maxItems()}, stopOnRepeatedMarker)
	var keys []iamtypes.AccessKeyMetadata
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		keys = append(keys, page.AccessKeyMetadata...)
	}
	if keyID != "" {
		keys = filterKeys(keys, keyID)
	}
	var lus []*lastUsed
	if hydrate {
		var err error
		if lus, err = p.lastUsedFor(ctx, api, keys, known); err != nil {
			return nil, err
		}
	}
	rows := make([]sql.Row, len(keys))
	for i, k := range keys {
		var lu *lastUsed
		if hydrate {
			lu = lus[i]
		}
		rows[i] = accessKeyRow(k, region, lu)
	}
	return rows, nil
}

// stopOnRepeatedMarker ends a listing whose server repeats a page marker
// instead of following it forever.
func stopOnRepeatedMarker(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true }

// filterKeys keeps the keys named in ids, a comma-separated list (key ids
// match [\w]+, so the comma cannot be part of one).
func filterKeys(keys []iamtypes.AccessKeyMetadata, ids string) []iamtypes.AccessKeyMetadata {
	want := strings.Split(ids, ",")
	var out []iamtypes.AccessKeyMetadata
	for _, k := range keys {
		if slices.Contains(want, aws.ToString(k.AccessKeyId)) {
			out = append(out, k)
		}
	}
	return out
}

// mergeKeyLookups folds lookups of several key ids of the same user into
// one: `AccessKeyId IN (a, b) AND UserName = 'u'` needs one ListAccessKeys,
// not one per id.
func mergeKeyLookups(combos []params) []params {
	var out []params
	byUser := map[string]params{}
	for _, c := range combos {
		user, hasUser := c["UserName"]
		id, hasKey := c["AccessKeyId"]
		if !hasUser || !hasKey {
			out = append(out, c)
			continue
		}
		k := c["region"] + "\x00" + user
		if m, ok := byUser[k]; ok {
			if !slices.Contains(strings.Split(m["AccessKeyId"], ","), id) {
				m["AccessKeyId"] += "," + id
			}
			continue
		}
		m := params{"region": c["region"], "UserName": user, "AccessKeyId": id}
		byUser[k] = m
		out = append(out, m)
	}
	return out
}

// lastUsedFor fetches GetAccessKeyLastUsed for a page of keys, concurrently
// up to the provider's bound, reusing answers already known.
func (p *Provider) lastUsedFor(ctx context.Context, api awsiam.API, keys []iamtypes.AccessKeyMetadata, known map[string]lastUsed) ([]*lastUsed, error) {
	out := make([]*lastUsed, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.concurrency)
	for i, k := range keys {
		id := aws.ToString(k.AccessKeyId)
		if lu, ok := known[id]; ok {
			out[i] = &lu
			continue
		}
		g.Go(func() error {
			lu, err := p.lastUsedOf(gctx, api, id)
			if err != nil {
				return err
			}
			out[i] = &lu
			return nil
		})
	}
	return out, g.Wait()
}

// lastUsedOf asks GetAccessKeyLastUsed about one key: its owner and last use.
func (p *Provider) lastUsedOf(ctx context.Context, api awsiam.API, keyID string) (lastUsed, error) {
	out, err := call(ctx, p, "GetAccessKeyLastUsed", func() (*iam.GetAccessKeyLastUsedOutput, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	})
	if err != nil {
		return lastUsed{}, err
	}
	return lastUsedFrom(out), nil
}

// ownerOf finds who owns a key, so a procedure called with only an
// AccessKeyId works for any user's key, not just the caller's.
func (p *Provider) ownerOf(ctx *sql.Context, region, keyID string) (string, error) {
	if err := refuseSecrets(ctx, params{"AccessKeyId": keyID}); err != nil {
		return "", err
	}
	if err := schema.Validate("AccessKeyId", keyID); err != nil {
		return "", paramError(err)
	}
	if err := schema.Validate("region", region); err != nil {
		return "", paramError(err)
	}
	api, err := p.clients.For(ctx, region)
	if err != nil {
		return "", err
	}
	lu, err := p.lastUsedOf(ctx, api, keyID)
	if err != nil {
		return "", ownerLookupError(keyID, err)
	}
	return lu.owner, nil
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
		"add AND UserName = '…' to look it up with ListAccessKeys alone)", keyID)
	return &cp
}

// countingLister counts and classifies ListAccessKeys calls made by the
// SDK's paginator.
type countingLister struct {
	p   *Provider
	api awsiam.API
}

func (c countingLister) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return call(ctx, c.p, "ListAccessKeys", func() (*iam.ListAccessKeysOutput, error) {
		return c.api.ListAccessKeys(ctx, in, opts...)
	})
}

// createAccessKey calls CreateAccessKey exactly once (never retried) and
// records the new key, secret included, in the session so it reaches its
// creator whatever happens next.
func (p *Provider) createAccessKey(ctx *sql.Context, region, user string) (CreatedKey, error) {
	m, _ := schema.AccessKeys.Method(schema.Insert)
	prm := params{"region": region}
	if user != "" {
		prm["UserName"] = user
	}
	if err := checkParams(schema.AccessKeys, m, prm); err != nil {
		return CreatedKey{}, paramError(err)
	}
	if err := refuseSecrets(ctx, prm); err != nil {
		return CreatedKey{}, err
	}
	if err := p.checkWritable(ctx, "CreateAccessKey"); err != nil {
		return CreatedKey{}, err
	}
	sess := sessionOf(ctx)
	if sess == nil {
		return CreatedKey{}, errNoSession
	}
	api, err := p.clients.For(ctx, region)
	if err != nil {
		return CreatedKey{}, err
	}
	out, err := call(ctx, p, "CreateAccessKey", func() (*iam.CreateAccessKeyOutput, error) {
		return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: userParam(user)}, awsiam.NoRetry)
	})
	if err != nil {
		var ie *IAMError
		if errors.As(err, &ie) && (ie.Code == "ConnectionError" || ie.Code == "RequestFailed" || ie.Code == "Timeout") {
			who := user
			if who == "" {
				who = "the caller"
			}
			ie.Message += fmt.Sprintf("; the outcome is unknown: a key may have been created for %s. It was not retried. "+
				"Check with: SELECT AccessKeyId, CreateDate FROM access_keys WHERE region = '%s'%s", who, region, userClause(user))
		}
		p.audit(ctx, api, "CreateAccessKey", "", err)
		return CreatedKey{}, err
	}
	k := out.AccessKey
	if k == nil {
		err := &IAMError{Operation: "CreateAccessKey", Code: "InvalidResponse", Message: "IAM answered without an AccessKey"}
		p.audit(ctx, api, "CreateAccessKey", "", err)
		return CreatedKey{}, err
	}
	ck := CreatedKey{
		AccessKeyID:     aws.ToString(k.AccessKeyId),
		UserName:        aws.ToString(k.UserName),
		Status:          string(k.Status),
		SecretAccessKey: aws.ToString(k.SecretAccessKey),
		Region:          region,
	}
	if k.CreateDate != nil {
		ck.CreateDate = k.CreateDate.UTC()
	} else {
		ck.CreateDate = time.Now().UTC().Truncate(time.Second)
	}
	sess.addCreated(ck)
	p.audit(ctx, api, "CreateAccessKey", ck.AccessKeyID, nil)
	return ck, nil
}

func userClause(user string) string {
	if user == "" {
		return ";"
	}
	return fmt.Sprintf(" AND UserName = '%s';", user)
}

// updateAccessKey sets a key's status.
func (p *Provider) updateAccessKey(ctx *sql.Context, m schema.Method, keyID, status, region, user string) error {
	prm := params{"AccessKeyId": keyID, "Status": status, "region": region}
	if user != "" && user != rootUserName {
		prm["UserName"] = user
	}
	if err := checkParams(schema.AccessKeys, m, prm); err != nil {
		return paramError(err)
	}
	if err := refuseSecrets(ctx, prm); err != nil {
		return err
	}
	if err := p.checkWritable(ctx, "UpdateAccessKey"); err != nil {
		return err
	}
	api, err := p.clients.For(ctx, region)
	if err != nil {
		return err
	}
	_, err = call(ctx, p, "UpdateAccessKey", func() (*iam.UpdateAccessKeyOutput, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
			AccessKeyId: aws.String(keyID), Status: iamtypes.StatusType(status), UserName: userParam(user),
		})
	})
	p.audit(ctx, api, "UpdateAccessKey", keyID, err)
	return err
}

// deleteAccessKey deletes a key.
func (p *Provider) deleteAccessKey(ctx *sql.Context, m schema.Method, keyID, region, user string) error {
	prm := params{"AccessKeyId": keyID, "region": region}
	if user != "" && user != rootUserName {
		prm["UserName"] = user
	}
	if err := checkParams(schema.AccessKeys, m, prm); err != nil {
		return paramError(err)
	}
	if err := refuseSecrets(ctx, prm); err != nil {
		return err
	}
	if err := p.checkWritable(ctx, "DeleteAccessKey"); err != nil {
		return err
	}
	api, err := p.clients.For(ctx, region)
	if err != nil {
		return err
	}
	_, err = call(ctx, p, "DeleteAccessKey", func() (*iam.DeleteAccessKeyOutput, error) {
		return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(keyID), UserName: userParam(user)})
	})
	p.audit(ctx, api, "DeleteAccessKey", keyID, err)
	return err
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Inserter creates one key per inserted row. A statement is all or
// nothing: if a row fails, the keys it already created are deleted again
// before the error is returned.
func (t *accessKeysTable) Inserter(*sql.Context) sql.RowInserter {
	return &keyInserter{t: t}
}

type keyInserter struct {
	t       *accessKeysTable
	created []CreatedKey
}

var _ sql.RowInserter = (*keyInserter)(nil)

func (ins *keyInserter) StatementBegin(*sql.Context) { ins.created = nil }

func (ins *keyInserter) Insert(ctx *sql.Context, row sql.Row) error {
	return scrubSecrets(ctx, ToSQLError(ins.insert(ctx, row)))
}

func (ins *keyInserter) insert(ctx *sql.Context, row sql.Row) error {
	sch := ins.t.sch
	for i, c := range sch {
		switch c.Name {
		case "UserName", "region":
		default:
			if row[i] != nil {
				return paramError(fmt.Errorf("access_keys: INSERT sets only UserName and region; %s is assigned by IAM", c.Name))
			}
		}
	}
	ck, err := ins.t.prov.createAccessKey(ctx, str(row[sch.IndexOfColName("region")]), str(row[sch.IndexOfColName("UserName")]))
	if err != nil {
		// Undo the statement's earlier rows here, so the error can say
		// what could not be undone (GMS keeps only this error).
		created := ins.created
		ins.created = nil
		if rerr := ins.t.prov.rollbackCreated(ctx, created, err); rerr != nil {
			return rerr
		}
		return err
	}
	ins.created = append(ins.created, ck)
	return nil
}

// DiscardChanges undoes the statement's creations. Keys whose clean-up
// fails stay in the session (their secrets still reach the caller) and
// are named in the error.
func (ins *keyInserter) DiscardChanges(ctx *sql.Context, cause error) error {
	return scrubSecrets(ctx, ToSQLError(ins.discardChanges(ctx, cause)))
}

func (ins *keyInserter) discardChanges(ctx *sql.Context, cause error) error {
	created := ins.created
	ins.created = nil
	return ins.t.prov.rollbackCreated(ctx, created, cause)
}

// StatementComplete leaves a note for clients that see only an OK packet:
// the secrets are in created_access_keys.
func (ins *keyInserter) StatementComplete(ctx *sql.Context) error {
	if n := len(ins.created); n > 0 {
		ctx.Session.Warn(&sql.Warning{Level: "Note", Code: NoteCreatedKeys, Message: fmt.Sprintf(
			"%d access key(s) created; read their secret access keys now with SELECT * FROM created_access_keys (this connection only, memory only)", n)})
	}
	ins.created = nil
	return nil
}
func (ins *keyInserter) Close(*sql.Context) error { return nil }

// rollbackCreated deletes keys a failed statement created.
func (p *Provider) rollbackCreated(ctx *sql.Context, created []CreatedKey, cause error) error {
	if len(created) == 0 {
		return nil
	}
	m, _ := schema.AccessKeys.Method(schema.Delete)
	// The statement's context may be cancelled; the clean-up must still run.
	cctx := ctx.WithContext(context.WithoutCancel(ctx.Context))
	var kept []string
	for _, k := range created {
		if err := p.deleteAccessKey(cctx, m, k.AccessKeyID, k.Region, k.UserName); err != nil {
			kept = append(kept, k.AccessKeyID)
			continue
		}
		sessionOf(ctx).removeCreated(k.AccessKeyID)
	}
	if len(kept) > 0 {
		msg := fmt.Sprintf("; the statement created keys %v and could not delete them again: they exist, and their secrets are in created_access_keys", kept)
		var ie *IAMError
		if errors.As(cause, &ie) {
			cp := *ie
			cp.Message += msg
			return &cp
		}
		return fmt.Errorf("%w%s", cause, msg)
	}
	return nil
}

// Deleter deletes each matched key.
func (t *accessKeysTable) Deleter(*sql.Context) sql.RowDeleter { return &keyDeleter{t: t} }

type keyDeleter struct {
	t    *accessKeysTable
	done []string
}

func (d *keyDeleter) StatementBegin(*sql.Context)              {}
func (d *keyDeleter) DiscardChanges(*sql.Context, error) error { return nil }
func (d *keyDeleter) StatementComplete(*sql.Context) error     { return nil }
func (d *keyDeleter) Close(*sql.Context) error                 { return nil }

func (d *keyDeleter) Delete(ctx *sql.Context, row sql.Row) error {
	return scrubSecrets(ctx, ToSQLError(d.delete(ctx, row)))
}

func (d *keyDeleter) delete(ctx *sql.Context, row sql.Row) error {
	sch := d.t.sch
	m, _ := schema.AccessKeys.Method(schema.Delete)
	id := str(row[sch.IndexOfColName("AccessKeyId")])
	err := d.t.prov.deleteAccessKey(ctx, m, id, str(row[sch.IndexOfColName("region")]), str(row[sch.IndexOfColName("UserName")]))
	if err != nil {
		return partialError(err, "deleted", d.done)
	}
	d.done = append(d.done, id)
	return nil
}

// Updater changes the Status of each matched key; nothing else can change.
func (t *accessKeysTable) Updater(*sql.Context) sql.RowUpdater { return &keyUpdater{t: t} }

type keyUpdater struct {
	t    *accessKeysTable
	done []string
}

func (u *keyUpdater) StatementBegin(*sql.Context)              {}
func (u *keyUpdater) DiscardChanges(*sql.Context, error) error { return nil }
func (u *keyUpdater) StatementComplete(*sql.Context) error     { return nil }
func (u *keyUpdater) Close(*sql.Context) error                 { return nil }

func (u *keyUpdater) Update(ctx *sql.Context, old, updated sql.Row) error {
	return scrubSecrets(ctx, ToSQLError(u.update(ctx, old, updated)))
}

func (u *keyUpdater) update(ctx *sql.Context, old, updated sql.Row) error {
	sch := u.t.sch
	for i, c := range sch {
		if c.Name != "Status" && fmt.Sprint(old[i]) != fmt.Sprint(updated[i]) {
			return paramError(fmt.Errorf("access_keys: UPDATE can change only Status, not %s", c.Name))
		}
	}
	m, _ := schema.AccessKeys.Method(schema.Update)
	id := str(old[sch.IndexOfColName("AccessKeyId")])
	err := u.t.prov.updateAccessKey(ctx, m, id, str(updated[sch.IndexOfColName("Status")]),
		str(old[sch.IndexOfColName("region")]), str(old[sch.IndexOfColName("UserName")]))
	if err != nil {
		return partialError(err, "updated", u.done)
	}
	u.done = append(u.done, id)
	return nil
}

// partialError says which keys a multi-row DELETE or UPDATE had already
// changed when one failed.
func partialError(err error, verb string, done []string) error {
	if len(done) == 0 {
		return err
	}
	var ie *IAMError
	if errors.As(err, &ie) {
		cp := *ie
		cp.Message += fmt.Sprintf(" (keys already %s by this statement: %v)", verb, done)
		return &cp
	}
	return fmt.Errorf("%w (keys already %s by this statement: %v)", err, verb, done)
}
