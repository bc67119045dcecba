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
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// Secret custody: every key iamsql creates ends in exactly one of two
// states — its secret reached the creator, or the key is deleted again —
// and when even the delete fails, the key is named (error, audit log,
// journal) as orphaned.
//
// The provider's part: CreateAccessKey is sent once per key, retried only
// when IAM refused it with throttling (it did nothing); an in-flight call
// is never abandoned — a cancelled statement waits for the answer within
// the custody bound, then deletes the key it created; a statement that
// fails deletes every key it created (all or nothing); a statement that
// succeeds leaves its keys held in the session until the front end that
// ran it says the secret was delivered (Engine.Delivered) or could not be
// (Engine.Withdraw), and a session that closes withdraws what it holds.
// A journal (Config.Journal) records each create before it is sent and
// until its outcome is known, for what no handler can catch (SIGKILL).

// Custody outcomes, as the audit log and the journal record them.
const (
	OutcomeDelivered  = "delivered"   // the secret reached its creator
	OutcomeRolledBack = "rolled_back" // the key was deleted again
	OutcomeOrphaned   = "orphaned"    // the key exists; its secret could not be delivered nor the key deleted
	OutcomeUnknown    = "unknown"     // IAM's answer never came: a key may exist
	OutcomeFailed     = "failed"      // IAM refused the create: no key exists
)

// Journal records creates for recovery after a crash (internal/custody).
// It never receives a secret.
type Journal interface {
	// Intent is recorded before CreateAccessKey is sent.
	Intent(CreateIntent) (JournalEntry, error)
}

// CreateIntent is one CreateAccessKey about to be sent.
type CreateIntent struct {
	// UserName is the key's user; "" for the caller's own identity.
	UserName, Region string
	// Statement is the statement, its literals redacted.
	Statement string
	// Account is the AWS account id, when known.
	Account string
}

// JournalEntry is one create in the journal.
type JournalEntry interface {
	// Created records the key id IAM answered with.
	Created(keyID string) error
	// Resolve records the outcome; delivered, rolled_back and failed
	// close the entry, orphaned and unknown leave it for recovery.
	Resolve(outcome string) error
}

// DefaultCustodyWait bounds custody work after a statement ends or is
// cancelled: waiting for an in-flight CreateAccessKey's answer, and the
// deletes that roll keys back. A second signal (Config.HardStop) cuts it.
const DefaultCustodyWait = 10 * time.Second

// callerDefault is access_keys.UserName's default: an INSERT that omits
// UserName (or gives DEFAULT) creates a key for the caller, while an
// explicit NULL or ” is an error.
const callerDefault = schema.CallerDefault

type hardStopKey struct{}

// WithHardStop returns ctx carrying hard: the custody work of statements
// run with it (waiting for an in-flight CreateAccessKey's answer, deleting
// keys again) ends as soon as hard is done — a second signal — and what
// is left is named as orphaned.
func WithHardStop(ctx, hard context.Context) context.Context {
	return context.WithValue(ctx, hardStopKey{}, hard)
}

// HardStop is the hard stop ctx carries (WithHardStop), or a context that
// is never done.
func HardStop(ctx context.Context) context.Context {
	if h, ok := ctx.Value(hardStopKey{}).(context.Context); ok {
		return h
	}
	return context.Background()
}

// hardStopOf is the hard stop a statement runs under.
func (p *Provider) hardStopOf(ctx context.Context) context.Context {
	if h, ok := ctx.Value(hardStopKey{}).(context.Context); ok {
		return h
	}
	return p.hardStop
}

// custodyContext is the context an in-flight create is waited for under:
// it is not cancelled with the statement, but once the statement's
// context ends it has the custody bound left, and it ends at once with the
// hard stop.
func (p *Provider) custodyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(p.custodyWait, cancel)
		context.AfterFunc(cctx, func() { t.Stop() })
	})
	stopHard := context.AfterFunc(p.hardStopOf(ctx), cancel)
	return cctx, func() {
		stopTimer()
		stopHard()
		cancel()
	}
}

// rollbackContext bounds deleting keys again: the custody bound from now,
// whatever happened to the statement, cut short by the hard stop.
func (p *Provider) rollbackContext(ctx context.Context) (context.Context, context.CancelFunc) {
	// Deleting again what a statement created is never refused by its
	// call budget: custody comes first.
	cctx, cancel := context.WithTimeout(exemptFromBudget(context.WithoutCancel(ctx)), p.custodyWait)
	stopHard := context.AfterFunc(p.hardStopOf(ctx), cancel)
	return cctx, func() {
		stopHard()
		cancel()
	}
}

// createRequest is one key to create, validated.
type createRequest struct {
	region string
	// account is the account_id the key is created in ("" the
	// signer's; org mode requires one).
	account string
	// user is the IAM user; "" for the caller.
	user string
}

// validateCreate checks a key's parameters before any IAM call, for
// method m (INSERT or the procedure). user is the value given:
// callerDefault for an omitted UserName.
func validateCreate(m schema.Method, region string, regionNull bool, user string, userNull bool) (createRequest, error) {
	if regionNull || region == "" {
		return createRequest{}, &schema.MissingParam{Resource: schema.AccessKeys.Name, Param: "region", Method: m}
	}
	if err := schema.Validate("region", region); err != nil {
		return createRequest{}, err
	}
	switch {
	case userNull:
		return createRequest{}, &schema.InvalidParam{Param: "UserName", Value: "NULL",
			Reason: "a key needs an owner: omit UserName (or write DEFAULT) to create one for the caller"}
	case user == callerDefault:
		return createRequest{region: region}, nil
	}
	if err := schema.Validate("UserName", user); err != nil {
		return createRequest{}, err
	}
	return createRequest{region: region, user: user}, nil
}

// createAccessKey creates one key and holds it, secret included, in the
// session. It is called only for validated requests.
func (p *Provider) createAccessKey(ctx *sql.Context, req createRequest) (CreatedKey, error) {
	prm := params{"region": req.region}
	if req.user != "" {
		prm["UserName"] = req.user
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
	part, _ := schema.Partition(req.region)
	part, err := p.mutationScope(ctx, part, req.account)
	if err != nil {
		return CreatedKey{}, err
	}
	if req.user == "" {
		root, err := p.callerIsRoot(ctx, part)
		if err != nil {
			return CreatedKey{}, err
		}
		if root && !p.allowRootKeys(ctx) {
			return CreatedKey{}, paramError(errors.New("refusing to create an access key for the root user: AWS advises never to create root access keys " +
				"(use an IAM user or role). Name the user with UserName; to create one anyway, SET iamsql_allow_root_keys = 1 " +
				"(or start iamsql with --allow-root-keys)"))
		}
	}
	api, err := p.apiOf(ctx, part)
	if err != nil {
		return CreatedKey{}, err
	}
	if err := p.charge(ctx); err != nil {
		return CreatedKey{}, err
	}
	var entry JournalEntry
	if p.journal != nil {
		in := CreateIntent{UserName: req.user, Region: req.region, Statement: statementShape(ctx)}
		if _, err := p.callerIsRoot(ctx, part); err == nil {
			in.Account = accountOfARN(p.identityOf(part).arn)
		}
		if _, account := splitScope(part); account != "" {
			in.Account = account
		}
		if entry, err = p.journal.Intent(in); err != nil {
			return CreatedKey{}, fmt.Errorf("custody journal: %w; no key was created", err)
		}
	}
	out, err := p.sendCreate(ctx, api, req)
	if err != nil {
		outcome := OutcomeFailed
		if ambiguous(err) {
			outcome = OutcomeUnknown
			err = unknownOutcome(err, req)
		}
		if entry != nil {
			_ = entry.Resolve(outcome)
		}
		p.audit(ctx, "CreateAccessKey", "", outcome, err)
		return CreatedKey{}, err
	}
	k := out.AccessKey
	ck := CreatedKey{
		AccessKeyID:     aws.ToString(k.AccessKeyId),
		UserName:        aws.ToString(k.UserName),
		Status:          string(k.Status),
		SecretAccessKey: aws.ToString(k.SecretAccessKey),
		Region:          req.region,
		Account:         req.account,
		entry:           entry,
	}
	if ck.UserName == "" {
		ck.UserName = rootUserName
	}
	if k.CreateDate != nil {
		ck.CreateDate = k.CreateDate.UTC()
	} else {
		ck.CreateDate = time.Now().UTC().Truncate(time.Second)
	}
	if entry != nil {
		_ = entry.Created(ck.AccessKeyID)
	}
	sess.addCreated(ck)
	p.audit(ctx, "CreateAccessKey", ck.AccessKeyID, "ok", nil)
	if ctx.Err() != nil {
		// Cancelled while IAM was creating it: the statement failed, so
		// the key is deleted again (custody), and the error says so.
		return CreatedKey{}, p.undo(ctx, []CreatedKey{ck}, ToSQLError(ctx.Err()))
	}
	return ck, nil
}

// accountOfARN is the account id of an IAM ARN (arn:aws:iam::ID:...).
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// sendCreate sends CreateAccessKey: once, again only after IAM refused it
// with throttling (it did nothing) while the statement still runs, and
// never after a failure that leaves the outcome open (a timeout, a dropped
// connection, a 5xx). The call is waited for under the custody context: a
// cancel does not abandon it.
func (p *Provider) sendCreate(ctx *sql.Context, api awsiam.API, req createRequest) (*iam.CreateAccessKeyOutput, error) {
	cctx, done := p.custodyContext(ctx)
	defer done()
	in := &iam.CreateAccessKeyInput{UserName: userParam(req.user)}
	for attempt := 1; ; attempt++ {
		out, err := call(cctx, p, "CreateAccessKey", func() (*iam.CreateAccessKeyOutput, error) {
			return api.CreateAccessKey(cctx, in, awsiam.NoRetry)
		})
		if err == nil {
			if out.AccessKey == nil {
				return nil, &IAMError{Operation: "CreateAccessKey", Code: "InvalidResponse", Message: "IAM answered without an AccessKey; a key may have been created"}
			}
			return out, nil
		}
		var ie *IAMError
		if !errors.As(err, &ie) || !awsiam.IsThrottle(ie.Err) || attempt >= p.clients.MaxAttempts() || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(p.clients.Backoff(attempt, ie.Err))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, iamError("CreateAccessKey", ctx.Err())
		}
	}
}

// ambiguous reports whether a failed create may still have created a key:
// no answer (timeout, dropped connection, cancel before the answer) or an
// answer that is not IAM's refusal (5xx, a malformed answer).
func ambiguous(err error) bool {
	var ie *IAMError
	if !errors.As(err, &ie) {
		return true
	}
	switch ie.Code {
	case "ConnectionError", "RequestFailed", "Timeout", "Canceled", "InvalidResponse", "RetriesExhausted":
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(ie.Err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	return false
}

// unknownOutcome says that a key may exist and how to check.
func unknownOutcome(err error, req createRequest) error {
	who, clause := req.user, fmt.Sprintf(" AND UserName = '%s'", req.user)
	if who == "" {
		who, clause = "the caller", ""
	}
	msg := fmt.Sprintf("; the outcome is unknown: IAM may have created a key for %s, whose secret nobody received. "+
		"It was not retried. Check with: SELECT AccessKeyId, CreateDate FROM access_keys WHERE region = '%s'%s ORDER BY CreateDate DESC; "+
		"and delete a key created at this time", who, req.region, clause)
	var ie *IAMError
	if errors.As(err, &ie) {
		cp := *ie
		cp.Code = "OutcomeUnknown"
		cp.Message += msg
		return &cp
	}
	return fmt.Errorf("%w%s", err, msg)
}

// undo deletes keys the failed statement created (cause is why it failed)
// and returns cause, saying which keys were deleted again and naming
// those it could not delete.
func (p *Provider) undo(ctx *sql.Context, keys []CreatedKey, cause error) error {
	if len(keys) == 0 {
		return cause
	}
	orphans := p.withdraw(ctx, keys)
	var deleted []string
	for _, k := range keys {
		if !slices.Contains(orphans, k.AccessKeyID) {
			deleted = append(deleted, k.AccessKeyID)
		}
	}
	var msg string
	if len(deleted) > 0 {
		msg = fmt.Sprintf("; the keys this statement created (%s) were deleted again", strings.Join(deleted, ", "))
	}
	if len(orphans) > 0 {
		msg += fmt.Sprintf("; the statement created keys %s and could not delete them again: they exist, and their secrets are in created_access_keys",
			strings.Join(orphans, ", "))
	}
	var ie *IAMError
	if errors.As(cause, &ie) {
		cp := *ie
		cp.Message += msg
		return &cp
	}
	return mysqlErrorWithSuffix(cause, msg)
}

// withdraw deletes keys whose secret will not reach their creator, within
// the custody bound, and returns the ids it could not delete: those stay
// in the session (their secrets can still be read) and are recorded as
// orphaned.
func (p *Provider) withdraw(ctx *sql.Context, keys []CreatedKey) (orphans []string) {
	if len(keys) == 0 {
		return nil
	}
	rctx, done := p.rollbackContext(ctx)
	defer done()
	dctx := ctx.WithContext(rctx)
	sess := sessionOf(ctx)
	for _, k := range keys {
		err := p.deleteKey(dctx, k.AccessKeyID, k.Region, k.Account, k.UserName)
		if code := iamCode(err); err != nil && code != "NoSuchEntity" {
			orphans = append(orphans, k.AccessKeyID)
			sess.markOrphaned(k.AccessKeyID)
			if k.entry != nil {
				_ = k.entry.Resolve(OutcomeOrphaned)
			}
			p.audit(ctx, "CreateAccessKey", k.AccessKeyID, OutcomeOrphaned, err)
			continue
		}
		sess.removeCreated(k.AccessKeyID)
		if k.entry != nil {
			_ = k.entry.Resolve(OutcomeRolledBack)
		}
		p.audit(ctx, "CreateAccessKey", k.AccessKeyID, OutcomeRolledBack, nil)
	}
	return orphans
}

// Delivered records that the secrets of keys reached their creator: the
// rows carrying them (statement's result) were written and flushed
// without error.
func (e *Engine) Delivered(ctx context.Context, s *Session, statement string, ids ...string) {
	sctx := sql.NewContext(ctx, sql.WithSession(s), sql.WithQuery(statement))
	for _, k := range s.deliver(ids) {
		if k.entry != nil {
			_ = k.entry.Resolve(OutcomeDelivered)
		}
		e.Provider.audit(sctx, "CreateAccessKey", k.AccessKeyID, OutcomeDelivered, nil)
	}
}

// Undelivered records keys whose secrets never reached their creator and
// that are kept on purpose (serve --undelivered-keys keep): orphaned, in
// the audit log and the journal.
func (e *Engine) Undelivered(ctx context.Context, s *Session, ids []string) {
	sctx := sql.NewContext(withAuditStatement(ctx, "(iamsql: kept, its secret never read)"), sql.WithSession(s))
	for _, k := range s.Undelivered() {
		if slices.Contains(ids, k.AccessKeyID) {
			s.markOrphaned(k.AccessKeyID)
			if k.entry != nil {
				_ = k.entry.Resolve(OutcomeOrphaned)
			}
			e.Provider.audit(sctx, "CreateAccessKey", k.AccessKeyID, OutcomeOrphaned, nil)
		}
	}
}

// Withdraw deletes again the keys of ids whose secrets were not delivered
// (a write failed, the connection closed), within the custody bound. The
// error names the keys it could not delete.
func (e *Engine) Withdraw(ctx context.Context, s *Session, ids []string, why string) error {
	var keys []CreatedKey
	for _, k := range s.Undelivered() {
		if slices.Contains(ids, k.AccessKeyID) {
			keys = append(keys, k)
		}
	}
	sctx := sql.NewContext(withAuditStatement(ctx, "(iamsql: deleted again, "+why+")"), sql.WithSession(s))
	if orphans := e.Provider.withdraw(sctx, keys); len(orphans) > 0 {
		return fmt.Errorf("%s: keys %s could not be deleted again: they exist and nobody holds their secrets; delete them with DELETE FROM access_keys WHERE AccessKeyId IN ('%s') AND region = '%s'",
			why, strings.Join(orphans, ", "), strings.Join(orphans, "', '"), keys[0].Region)
	}
	return nil
}

// keyInserter creates one key per inserted row, all or nothing. Rows are
// read and validated as the engine hands them over; no key is created
// until every row is known (Close), so an invalid row (bad region, NULL
// or empty UserName, too long a value) stops the statement before any
// IAM call. go-mysql-server checkpoints INSERT IGNORE around every row,
// which makes the statement, not the row, the unit here: a failing row is
// never skipped.
type keyInserter struct {
	t         *table
	requests  []createRequest
	discarded bool
}

var _ sql.RowInserter = (*keyInserter)(nil)

func (ins *keyInserter) StatementBegin(*sql.Context)          {}
func (ins *keyInserter) StatementComplete(*sql.Context) error { return nil }

// DiscardChanges drops the statement: nothing was created yet. A row the
// engine skipped itself (INSERT IGNORE's ignorable errors) never reached
// Insert, so it discards nothing.
func (ins *keyInserter) DiscardChanges(_ *sql.Context, cause error) error {
	if _, ignorable := cause.(sql.IgnorableError); !ignorable {
		ins.discarded = true
	}
	return nil
}

func (ins *keyInserter) Insert(ctx *sql.Context, row sql.Row) error {
	sch := ins.t.sch
	for i, c := range sch {
		switch c.Name {
		case "UserName", "region", schema.AccountIDColumn:
		default:
			if row[i] != nil {
				return paramError(fmt.Errorf("access_keys: INSERT sets only UserName, region and account_id; %s is assigned by IAM", c.Name))
			}
		}
	}
	u, r := row[sch.IndexOfColName("UserName")], row[sch.IndexOfColName("region")]
	m, _ := schema.AccessKeys.Method(schema.Insert)
	req, err := validateCreate(m, str(r), r == nil, str(u), u == nil)
	if err != nil {
		return paramError(err)
	}
	if a := row[sch.IndexOfColName(schema.AccountIDColumn)]; a != nil {
		if err := schema.Validate(schema.AccountIDColumn, str(a)); err != nil {
			return paramError(err)
		}
		req.account = str(a)
	} else if ins.t.p.inOrgMode() {
		return paramError(errors.New("access_keys: in org mode INSERT must name the account: INSERT INTO access_keys (UserName, region, account_id) VALUES (…)"))
	}
	ins.requests = append(ins.requests, req)
	return nil
}

// Close creates the statement's keys, in order. If one fails, the keys
// already created are deleted again before the error is returned.
func (ins *keyInserter) Close(ctx *sql.Context) error {
	reqs := ins.requests
	ins.requests = nil
	if ins.discarded || len(reqs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return ToSQLError(err)
	}
	var created []CreatedKey
	for _, req := range reqs {
		k, err := ins.t.p.createAccessKey(ctx, req)
		if err != nil {
			return scrubSecrets(ctx, ToSQLError(ins.t.p.undo(ctx, created, err)))
		}
		created = append(created, k)
	}
	ctx.Session.Warn(&sql.Warning{Level: "Note", Code: NoteCreatedKeys, Message: fmt.Sprintf(
		"%d access key(s) created; read their secret access keys now with SELECT * FROM created_access_keys (this connection only, memory only): "+
			"a key whose secret is not read before the connection closes is deleted again", len(created))})
	return nil
}

// keyChange is one key an UPDATE or DELETE will change.
type keyChange struct {
	id, user, region, account, status string
}

// keyEditor is UPDATE's and DELETE's row editor for access_keys: it reads
// every matching row first (and validates each new Status), then makes
// the IAM calls (Close), one per key, stopping at the first failure and
// naming the keys it had already changed.
type keyEditor struct {
	t       *table
	verb    schema.Verb
	changes []keyChange
	seen    map[string]bool
	// discarded is set when the statement failed before Close.
	discarded bool
}

var (
	_ sql.RowUpdater = (*keyEditor)(nil)
	_ sql.RowDeleter = (*keyEditor)(nil)
)

func (e *keyEditor) StatementBegin(*sql.Context)          {}
func (e *keyEditor) StatementComplete(*sql.Context) error { return nil }
func (e *keyEditor) DiscardChanges(_ *sql.Context, cause error) error {
	if _, ignorable := cause.(sql.IgnorableError); !ignorable {
		e.discarded = true
	}
	return nil
}

func (e *keyEditor) add(row sql.Row, status string) {
	sch := e.t.sch
	c := keyChange{
		id:      str(row[sch.IndexOfColName("AccessKeyId")]),
		user:    str(row[sch.IndexOfColName("UserName")]),
		region:  str(row[sch.IndexOfColName("region")]),
		account: str(row[sch.IndexOfColName(schema.AccountIDColumn)]),
		status:  status,
	}
	// A key matched once per region asked for is changed once.
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	if e.seen[c.id] {
		return
	}
	e.seen[c.id] = true
	e.changes = append(e.changes, c)
}

func (e *keyEditor) Delete(ctx *sql.Context, row sql.Row) error {
	e.add(row, "")
	return nil
}

func (e *keyEditor) Update(ctx *sql.Context, old, updated sql.Row) error {
	for i, c := range e.t.sch {
		if c.Name != "Status" && fmt.Sprint(old[i]) != fmt.Sprint(updated[i]) {
			return paramError(fmt.Errorf("access_keys: UPDATE can change only Status, not %s", c.Name))
		}
	}
	v := updated[e.t.sch.IndexOfColName("Status")]
	status := str(v)
	if v == nil {
		status = "NULL"
	}
	if err := schema.Validate("Status", status); err != nil {
		return paramError(err)
	}
	e.add(old, status)
	return nil
}

func (e *keyEditor) Close(ctx *sql.Context) error {
	changes := e.changes
	e.changes = nil
	if e.discarded || len(changes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return ToSQLError(err)
	}
	var done []string
	for _, c := range changes {
		var err error
		if e.verb == schema.Delete {
			err = e.t.p.deleteKey(ctx, c.id, c.region, c.account, c.user)
		} else {
			err = e.t.p.updateKey(ctx, c.id, c.status, c.region, c.account, c.user)
		}
		if err != nil {
			return scrubSecrets(ctx, ToSQLError(partialError(err, map[schema.Verb]string{schema.Delete: "deleted", schema.Update: "updated"}[e.verb], done)))
		}
		done = append(done, c.id)
	}
	return nil
}

// partialError says which keys a multi-row DELETE or UPDATE had already
// changed when one failed.
func partialError(err error, verb string, done []string) error {
	if len(done) == 0 {
		return err
	}
	msg := fmt.Sprintf(" (keys already %s by this statement: %v)", verb, done)
	var ie *IAMError
	if errors.As(err, &ie) {
		cp := *ie
		cp.Message += msg
		return &cp
	}
	return mysqlErrorWithSuffix(err, msg)
}

// mysqlErrorWithSuffix appends to an error's message, keeping its number.
func mysqlErrorWithSuffix(err error, suffix string) error {
	var se *mysql.SQLError
	if errors.As(ToSQLError(err), &se) {
		return mysql.NewSQLError(se.Num, se.State, "%s", se.Message+suffix)
	}
	return fmt.Errorf("%v%s", err, suffix)
}

func iamStatus(s string) iamtypes.StatusType { return iamtypes.StatusType(s) }

// updateKey sets a key's status.
func (p *Provider) updateKey(ctx *sql.Context, keyID, status, region, account, user string) error {
	prm := params{"AccessKeyId": keyID, "Status": status, "region": region}
	if user != "" && user != rootUserName {
		prm["UserName"] = user
	}
	if err := p.checkIAMParams(ctx, prm, "UpdateAccessKey"); err != nil {
		return err
	}
	api, err := p.mutationAPI(ctx, region, account)
	if err != nil {
		return err
	}
	if err := p.charge(ctx); err != nil {
		return err
	}
	_, err = call(ctx, p, "UpdateAccessKey", func() (*iam.UpdateAccessKeyOutput, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
			AccessKeyId: aws.String(keyID), Status: iamStatus(status), UserName: userParam(user),
		})
	})
	p.audit(ctx, "UpdateAccessKey", keyID, "ok", err)
	return err
}

// deleteKey deletes a key.
func (p *Provider) deleteKey(ctx *sql.Context, keyID, region, account, user string) error {
	prm := params{"AccessKeyId": keyID, "region": region}
	if user != "" && user != rootUserName {
		prm["UserName"] = user
	}
	if err := p.checkIAMParams(ctx, prm, "DeleteAccessKey"); err != nil {
		return err
	}
	api, err := p.mutationAPI(ctx, region, account)
	if err != nil {
		return err
	}
	if err := p.charge(ctx); err != nil {
		return err
	}
	_, err = call(ctx, p, "DeleteAccessKey", func() (*iam.DeleteAccessKeyOutput, error) {
		return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(keyID), UserName: userParam(user)})
	})
	p.audit(ctx, "DeleteAccessKey", keyID, "ok", err)
	return err
}

// checkIAMParams validates the parameters of a mutating call and refuses
// one that would send a secret or change IAM on a read-only engine.
func (p *Provider) checkIAMParams(ctx *sql.Context, prm params, op string) error {
	for k, v := range prm {
		if err := schema.Validate(k, v); err != nil {
			return paramError(err)
		}
	}
	if err := refuseSecrets(ctx, prm); err != nil {
		return err
	}
	return p.checkWritable(ctx, op)
}

// userParam is the UserName to send: none for the root user, whose keys are
// managed by leaving UserName out.
func userParam(name string) *string {
	if name == "" || name == rootUserName {
		return nil
	}
	return aws.String(name)
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
