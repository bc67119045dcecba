package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/internal/rotate"
	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// The rotation procedures (rotate_access_key, finish_rotation,
// rollback_rotation) and the rotations table: package rotate's rotations,
// run by the statement through the provider's IAM clients (counted,
// budgeted and audited like the statement's other calls), over the same
// ledger iamsql rotate uses. A secret handed out in a result row follows
// the custody rule of created_access_keys: the key is held in the session
// until the front end says the row carrying the secret was sent and
// flushed (Engine.Delivered), else it is deleted again (Engine.Withdraw),
// and the rotation's ledger entry follows.

// RotationConfig configures the rotation procedures and the rotations
// table.
type RotationConfig struct {
	// LedgerPath is the rotation ledger (default rotate.DefaultLedgerPath).
	LedgerPath string
	// Journal records each rotation's CreateAccessKey for crash recovery.
	Journal *custody.Journal
	// AWS returns the AWS configuration and endpoint ("" for AWS's own)
	// that a rotation in account ("" the signer's) verifies the new key
	// and reaches Secrets Manager with; nil: the IAM clients' own.
	AWS func(ctx context.Context, account string) (aws.Config, string, error)
	// CredentialsFile is the profile sinks' file (shell and exec only).
	CredentialsFile string
	// PropagationWait and RetryInterval bound verification (rotate's
	// defaults when 0); Now is the clock (time.Now).
	PropagationWait, RetryInterval time.Duration
	Now                            func() time.Time
}

// localSession: the statement runs in this process's shell or exec (a
// session of Engine.NewSession), not for a client of iamsql serve.
func localSession(ctx *sql.Context) bool {
	s := sessionOf(ctx)
	return s != nil && s.local
}

func infallible(f func(*sql.Context) []sql.Row) func(*sql.Context) ([]sql.Row, error) {
	return func(ctx *sql.Context) ([]sql.Row, error) { return f(ctx), nil }
}

func (p *Provider) ledgerPath() (string, error) {
	if p.rotation != nil && p.rotation.LedgerPath != "" {
		return p.rotation.LedgerPath, nil
	}
	return rotate.DefaultLedgerPath()
}

func (p *Provider) openLedger() (*rotate.Ledger, error) {
	path, err := p.ledgerPath()
	if err != nil {
		return nil, err
	}
	return rotate.OpenLedger(path)
}

// rotationRows are the rows of `rotations`: the ledger as the file holds
// it now. No IAM call.
func (p *Provider) rotationRows(*sql.Context) ([]sql.Row, error) {
	l, err := p.openLedger()
	if err != nil {
		return nil, err
	}
	now := p.rotationNow()
	var rows []sql.Row
	for _, r := range l.Records() {
		rows = append(rows, rotationRow(r, now, nil, false))
	}
	return rows, nil
}

func (p *Provider) rotationConfig() *RotationConfig {
	if p.rotation == nil {
		return &RotationConfig{}
	}
	return p.rotation
}

func (p *Provider) rotationNow() time.Time {
	if p.rotation != nil && p.rotation.Now != nil {
		return p.rotation.Now()
	}
	return time.Now()
}

// rotationRow is a ledger record as a rotations row; with withSecret, as
// rotate_access_key's result row (secret is then its SecretAccessKey).
func rotationRow(r rotate.Record, now time.Time, secret any, withSecret bool) sql.Row {
	kind, _, _ := strings.Cut(r.Sink, ":")
	if len(r.Note) > maxNote {
		// The column's size; the ledger keeps the whole note.
		r.Note = strings.ToValidUTF8(r.Note[:maxNote-3], "") + "..."
	}
	due := nullTime(r.Due(now))
	if !withSecret {
		return sql.Row{r.ID, nullString(r.Account), r.Region, r.UserName, r.OldKeyID, nullString(r.NewKeyID), nullString(r.RemovedKeyID),
			string(r.Step), rotate.FormatDuration(time.Duration(r.Grace)), rotate.FormatDuration(time.Duration(r.DeleteAfter)), kind,
			r.Started.UTC(), timePtr(r.Created), timePtr(r.Delivered), timePtr(r.Verified), timePtr(r.Deactivated), timePtr(r.Ended), due, nullString(r.Note)}
	}
	return sql.Row{nullString(r.ID), nullString(r.Account), r.UserName, nullString(r.OldKeyID), nullString(r.NewKeyID), string(r.Step), kind, secret, due, nullString(r.Note)}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func timePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// rotationResult is the result row of a rotation procedure: its
// Returns columns (of rotations, and SecretAccessKey of
// created_access_keys for rotate_access_key).
func returnsSchema(ref schema.ProcedureRef) sql.Schema {
	own := sqlSchema(DatabaseName, ref.Resource)
	created := sqlSchema(DatabaseName, schema.CreatedAccessKeys)
	var out sql.Schema
	for _, name := range ref.Method.Returns {
		if i := own.IndexOfColName(name); i >= 0 {
			out = append(out, own[i])
			continue
		}
		out = append(out, created[created.IndexOfColName(name)])
	}
	return out
}

// maxNote is the size of the rotations.Note column.
const maxNote = 1024

// maxSinkSpec bounds a Sink argument (Secrets Manager names are at most
// 512 characters, paths a few hundred).
const maxSinkSpec = 1024

// validRotationID: rot- and 1-124 of [A-Za-z0-9_-] (a function, not a
// regexp: a package-level pattern is compiled at start-up).
func validRotationID(id string) bool {
	rest, ok := strings.CutPrefix(id, "rot-")
	if !ok || len(rest) == 0 || len(rest) > 124 {
		return false
	}
	for _, c := range rest {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// rotationCall runs one of the rotation procedures with its parameters
// (prm, by name; "" for NULL or left out).
func (p *Provider) rotationCall(ctx *sql.Context, ref schema.ProcedureRef, prm map[string]string) (sql.RowIter, error) {
	m := ref.Method
	for _, req := range m.Required {
		if strings.TrimSpace(prm[req]) == "" {
			return nil, paramError(&schema.MissingParam{Resource: ref.Resource.Name, Param: req, Method: m})
		}
	}
	if err := p.checkWritable(ctx, m.Operation); err != nil {
		return nil, err
	}
	if m.Procedure == "rotate_access_key" {
		return p.rotateAccessKey(ctx, ref, prm)
	}
	id := prm[schema.RotationIDParam]
	if !validRotationID(id) {
		return nil, paramError(&schema.InvalidParam{Param: schema.RotationIDParam, Value: id, Reason: "a rotation id looks like rot-AKIA…-20260101T120000Z-abcdef (SELECT RotationId FROM rotations)"})
	}
	force := false
	switch strings.ToLower(strings.TrimSpace(prm[schema.ForceParam])) {
	case "", "0", "false":
	case "1", "true", "force":
		force = true
	default:
		return nil, paramError(&schema.InvalidParam{Param: schema.ForceParam, Value: prm[schema.ForceParam], Reason: "1 deletes the old key without waiting for the last-used lag; NULL or 0 waits"})
	}
	ledger, err := p.openLedger()
	if err != nil {
		return nil, err
	}
	rec, ok := ledger.Get(id)
	if !ok {
		return nil, paramError(fmt.Errorf("%s: no rotation %s in the ledger %s", m.Procedure, id, ledger.Path()))
	}
	part, ok := schema.Partition(rec.Region)
	if !ok {
		return nil, fmt.Errorf("%s: rotation %s names the unknown region %q", m.Procedure, id, rec.Region)
	}
	// The rotation acts in the account its ledger entry names (in org
	// mode it must name one; outside it must be the signer's).
	if p.inOrgMode() && rec.Account == "" {
		return nil, paramError(fmt.Errorf("%s: rotation %s names no account, and in org mode a procedure acts on one named account only", m.Procedure, id))
	}
	scope, err := p.mutationScope(ctx, part, rec.Account)
	if err != nil {
		return nil, err
	}
	r, err := p.rotator(ctx, scope, rec.Region, rec.Account, ledger, rotateWaits{})
	if err != nil {
		return nil, err
	}
	if m.Procedure == "finish_rotation" {
		rec, err = r.Finish(ctx, id, force)
	} else {
		rec, err = r.Rollback(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(rotationResultRow(rec, p.rotationNow())), nil
}

// rotationResultRow is finish_rotation's and rollback_rotation's row.
func rotationResultRow(r rotate.Record, now time.Time) sql.Row {
	row := rotationRow(r, now, nil, true)
	return append(row[:7:7], row[8:]...) // without SecretAccessKey
}

// rotateWaits are a rotation's waits and what its plan is allowed.
type rotateWaits struct {
	grace, deleteAfter, makeRoom time.Duration
	// callerIsRoot: the caller's own key is the root user's, rotated only
	// with allowRoot (iamsql_allow_root_keys).
	callerIsRoot, allowRoot bool
}

// callerOwnsKeys checks, from the one cached GetCallerIdentity of the
// scope's credentials, that the caller is a principal with access keys of
// its own (an IAM user or the root user), and says whether it is root.
func (p *Provider) callerOwnsKeys(ctx context.Context, scope string) (root bool, err error) {
	c, err := p.clientsOf(ctx, scope)
	if err != nil {
		return false, err
	}
	id, ok := c.KnownIdentity()
	if !ok {
		if id, err = call(ctx, p, "GetCallerIdentity", func() (awsiam.Identity, error) { return c.Identity(ctx) }); err != nil {
			return false, err
		}
	}
	_, res, _ := strings.Cut(id.Arn, ":"+id.Account+":")
	switch {
	case res == "root":
		return true, nil
	case strings.HasPrefix(res, "user/"):
		return false, nil
	}
	return false, paramError(fmt.Errorf("rotate_access_key: UserName DEFAULT rotates the caller's own key, and the caller %s is not an IAM user: it has no access key of its own; name the user whose key to rotate", id.Arn))
}

// rotateAccessKey is CALL rotate_access_key: the plan, or with Apply the
// rotation up to a verified, delivered new key.
func (p *Provider) rotateAccessKey(ctx *sql.Context, ref schema.ProcedureRef, prm map[string]string) (sql.RowIter, error) {
	m := ref.Method
	user, region, keyID, account := prm["UserName"], prm["region"], prm["AccessKeyId"], prm[schema.AccountIDColumn]
	// UserName DEFAULT (or left out of EXEC): the caller's own key.
	self := user == m.Defaults["UserName"]
	check := map[string]string{"region": region}
	if !self {
		check["UserName"] = user
	}
	if keyID != "" {
		check["AccessKeyId"] = keyID
	}
	if account != "" {
		check[schema.AccountIDColumn] = account
	}
	for k, v := range check {
		if err := schema.Validate(k, v); err != nil {
			return nil, paramError(err)
		}
	}
	if err := refuseSecrets(ctx, params(check)); err != nil {
		return nil, err
	}
	if p.inOrgMode() && account == "" {
		return nil, paramError(fmt.Errorf("%s: in org mode the procedure acts on one account, which it must name: give account_id (its last argument), e.g. CALL %s", m.Procedure, m.Signature()))
	}
	apply := false
	switch strings.ToLower(strings.TrimSpace(prm[schema.ApplyParam])) {
	case "", "0", "plan", "false":
	case "1", "apply", "true":
		apply = true
	default:
		return nil, paramError(&schema.InvalidParam{Param: schema.ApplyParam, Value: prm[schema.ApplyParam], Reason: "1 (or 'apply') carries the rotation out; NULL, 0 or 'plan' returns the plan"})
	}
	waits := rotateWaits{grace: 7 * 24 * time.Hour, deleteAfter: 7 * 24 * time.Hour}
	for _, w := range []struct {
		name string
		to   *time.Duration
	}{{schema.GraceParam, &waits.grace}, {schema.DeleteAfterParam, &waits.deleteAfter}, {schema.MakeRoomParam, &waits.makeRoom}} {
		if v := strings.TrimSpace(prm[w.name]); v != "" {
			d, err := rotate.ParseDuration(v)
			if err != nil {
				return nil, paramError(&schema.InvalidParam{Param: w.name, Value: v, Reason: "a wait like 7d, 36h or 0"})
			}
			if w.name == schema.MakeRoomParam && d == 0 {
				return nil, paramError(&schema.InvalidParam{Param: w.name, Value: v, Reason: "how long the inactive second key must be unused, e.g. '30d'"})
			}
			*w.to = d
		}
	}
	sinkSpec := strings.TrimSpace(prm[schema.SinkParam])
	if sinkSpec == "" {
		sinkSpec = "result"
	}
	remote := !localSession(ctx)
	kind, _, _ := strings.Cut(sinkSpec, ":")
	switch {
	case len(sinkSpec) > maxSinkSpec || strings.ContainsFunc(sinkSpec, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return nil, paramError(&schema.InvalidParam{Param: schema.SinkParam, Value: sinkSpec, Reason: fmt.Sprintf("at most %d characters, no control characters", maxSinkSpec)})
	case kind == "stdout":
		return nil, paramError(&schema.InvalidParam{Param: schema.SinkParam, Value: sinkSpec, Reason: "a procedure returns the secret as its result row: use 'result' (or secretsmanager:NAME)"})
	case remote && kind != "result" && kind != "secretsmanager":
		return nil, paramError(&schema.InvalidParam{Param: schema.SinkParam, Value: sinkSpec,
			Reason: "over the MySQL protocol a new secret goes only to the result row ('result') or to Secrets Manager ('secretsmanager:NAME'), never to a file on the server's host"})
	case kind != "result" && kind != "secretsmanager" && kind != "file" && kind != "profile":
		return nil, paramError(&schema.InvalidParam{Param: schema.SinkParam, Value: sinkSpec, Reason: "one of " + strings.Join(schema.RotationSinkKinds, ", ")})
	}
	// A file sink is checked before any IAM call.
	var sink rotate.Sink
	if kind == "file" || kind == "profile" {
		var err error
		if sink, err = rotate.ParseSink(sinkSpec, rotate.SinkOptions{CredentialsFile: p.rotationConfig().CredentialsFile}); err != nil {
			return nil, paramError(err)
		}
		if err := sink.Check(ctx); err != nil {
			return nil, paramError(err)
		}
	}
	part, _ := schema.Partition(region)
	scope, err := p.mutationScope(ctx, part, account)
	if err != nil {
		return nil, err
	}
	target := rotate.Target{UserName: user, AccessKeyID: keyID}
	if self {
		target.UserName = ""
		if waits.callerIsRoot, err = p.callerOwnsKeys(ctx, scope); err != nil {
			return nil, err
		}
		waits.allowRoot = p.allowRootKeys(ctx)
	}
	ledger, err := p.openLedger()
	if err != nil {
		return nil, err
	}
	r, err := p.rotator(ctx, scope, region, account, ledger, waits)
	if err != nil {
		return nil, err
	}
	if kind == "secretsmanager" {
		if sink, err = rotate.ParseSink(sinkSpec, r.SinkOptions()); err != nil {
			return nil, paramError(err)
		}
	}
	plans, err := r.Plan(ctx, []rotate.Target{target})
	if err != nil {
		return nil, err
	}
	plan := plans[0]
	if !apply {
		rec := rotate.Record{Account: r.Account(), UserName: plan.User, OldKeyID: plan.OldKeyID, Sink: sinkSpec}
		rec.Step, rec.Note = "plan", strings.Join(plan.Steps, "; ")
		if plan.Blocked != "" {
			rec.Step, rec.Note = "blocked", plan.Blocked
		}
		return sql.RowsToRowIter(rotationRow(rec, p.rotationNow(), nil, true)), nil
	}
	if plan.Blocked != "" {
		return nil, fmt.Errorf("%s: %s %s cannot be rotated: %s; nothing was changed", m.Procedure, plan.User, plan.OldKeyID, plan.Blocked)
	}
	var secret any
	if kind == "result" {
		sess := sessionOf(ctx)
		sink = &rotate.ResultSink{Hand: func(c rotate.Credentials, receipt func(rotate.Receipt)) error {
			// The session holds the key as it holds an INSERT's: the
			// front end delivers it with the row, or deletes it again.
			sess.addCreated(CreatedKey{
				AccessKeyID: c.AccessKeyID, UserName: c.UserName, Status: "Active", CreateDate: p.rotationNow().UTC().Truncate(time.Second),
				SecretAccessKey: c.SecretAccessKey, Region: region, Account: account, entry: receiptEntry(receipt),
			})
			secret = c.SecretAccessKey
			return nil
		}}
	}
	if err := confirm(ctx, Mutation{Operation: "CreateAccessKey", Keys: []string{plan.User + " (rotating " + plan.OldKeyID + ")"}}); err != nil {
		return nil, err
	}
	rec, err := r.Apply(ctx, plan, sink)
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(rotationRow(rec, p.rotationNow(), secret, true)), nil
}

// receiptEntry is the custody entry of a key a rotation handed to a
// result row: the front end's verdict on the row is the rotation's
// receipt (the rotation journals its create itself).
type receiptEntry func(rotate.Receipt)

func (receiptEntry) Created(string) error { return nil }

func (e receiptEntry) Resolve(outcome string) error {
	switch outcome {
	case OutcomeDelivered:
		e(rotate.Received)
	case OutcomeRolledBack:
		e(rotate.Withdrawn)
	case OutcomeOrphaned:
		e(rotate.Orphaned)
	}
	return nil
}

// rotator builds the rotation machinery for one account (scope) of the
// statement ctx runs.
func (p *Provider) rotator(ctx *sql.Context, scope, region, account string, ledger *rotate.Ledger, w rotateWaits) (*rotate.Rotator, error) {
	api, err := p.apiOf(ctx, scope)
	if err != nil {
		return nil, err
	}
	if account == "" {
		if account, err = p.signerAccount(ctx, scope); err != nil {
			return nil, err
		}
	}
	cfg, endpoint, err := p.rotationAWS(ctx, scope)
	if err != nil {
		return nil, err
	}
	rc := p.rotationConfig()
	o := rotate.Options{
		IAM:     rotationIAM{p: p, sctx: ctx, api: api},
		Verify:  rotate.STSVerifier(cfg, endpoint),
		Ledger:  ledger,
		Journal: rc.Journal,
		Sinks: rotate.SinkOptions{
			Remote:          !localSession(ctx),
			CredentialsFile: rc.CredentialsFile,
			SecretsManager: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
				o.Region = region
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
				}
			}),
		},
		Now:             rc.Now,
		Region:          region,
		Account:         account,
		Grace:           w.grace,
		DeleteAfter:     w.deleteAfter,
		MakeRoom:        w.makeRoom > 0,
		MakeRoomAfter:   w.makeRoom,
		CallerIsRoot:    w.callerIsRoot,
		AllowRootKeys:   w.allowRoot,
		PropagationWait: rc.PropagationWait,
		RetryInterval:   rc.RetryInterval,
		CustodyWait:     p.custodyWait,
		HardStop:        p.hardStopOf(ctx),
	}
	return rotate.New(o)
}

// rotationAWS is the AWS configuration of a scope's account for the
// verifier and Secrets Manager.
func (p *Provider) rotationAWS(ctx context.Context, scope string) (aws.Config, string, error) {
	_, account := splitScope(scope)
	if p.rotation != nil && p.rotation.AWS != nil {
		return p.rotation.AWS(ctx, account)
	}
	c, err := p.clientsOf(ctx, scope)
	if err != nil {
		return aws.Config{}, "", err
	}
	cfg, err := c.Config(ctx)
	if err != nil {
		return aws.Config{}, "", err
	}
	return cfg, c.EndpointURL(), nil
}

// rotationIAM is the statement's IAM client as package rotate calls it:
// each call counted (per provider and statement), the reads and the
// create charged to the call budget (deleting or reactivating keys to
// undo is never refused by it), the changes audited.
type rotationIAM struct {
	p    *Provider
	sctx *sql.Context
	api  awsiam.API
}

var _ awsiam.AccessKeysAPI = rotationIAM{}

func (c rotationIAM) charge() error { return c.p.charge(c.sctx) }

func (c rotationIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if err := c.charge(); err != nil {
		return nil, err
	}
	return call(ctx, c.p, "ListAccessKeys", func() (*iam.ListAccessKeysOutput, error) { return c.api.ListAccessKeys(ctx, in, o...) })
}

func (c rotationIAM) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, o ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if err := c.charge(); err != nil {
		return nil, err
	}
	return call(ctx, c.p, "GetAccessKeyLastUsed", func() (*iam.GetAccessKeyLastUsedOutput, error) { return c.api.GetAccessKeyLastUsed(ctx, in, o...) })
}

func (c rotationIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	if err := c.charge(); err != nil {
		return nil, err
	}
	out, err := call(ctx, c.p, "CreateAccessKey", func() (*iam.CreateAccessKeyOutput, error) { return c.api.CreateAccessKey(ctx, in, o...) })
	id := ""
	if err == nil && out.AccessKey != nil {
		id = aws.ToString(out.AccessKey.AccessKeyId)
	}
	c.p.audit(c.sctx, "CreateAccessKey", id, "ok", err)
	return out, err
}

func (c rotationIAM) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, o ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	out, err := call(ctx, c.p, "UpdateAccessKey", func() (*iam.UpdateAccessKeyOutput, error) { return c.api.UpdateAccessKey(ctx, in, o...) })
	c.p.audit(c.sctx, "UpdateAccessKey", aws.ToString(in.AccessKeyId), "ok", err)
	return out, err
}

func (c rotationIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	out, err := call(ctx, c.p, "DeleteAccessKey", func() (*iam.DeleteAccessKeyOutput, error) { return c.api.DeleteAccessKey(ctx, in, o...) })
	c.p.audit(c.sctx, "DeleteAccessKey", aws.ToString(in.AccessKeyId), "ok", err)
	return out, err
}
