// Package rotate rotates IAM access keys safely: plan (what blocks it),
// create the new key, deliver its secret to a sink chosen up front,
// verify that the new key signs as its user, then deactivate the old key
// at once or after a grace period and delete it only when nothing used it
// after the switch. Every step is written to a ledger (never a secret)
// before and after it runs, so a rotation resumes after a crash
// (Continue) and can be undone while both keys exist (Rollback).
//
// The invariants: at most two keys of a user exist at any time; the old
// key is never deactivated or deleted before the new key was delivered
// and verified; a new key's secret reaches its sink or the key is deleted
// again (the custody rule); CreateAccessKey is never retried after an
// ambiguous failure.
package rotate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// DefaultPropagationWait bounds verification: IAM makes a new key usable
// within a few seconds (AWS documents "eventually consistent", typically
// seconds); the new key is tried every RetryInterval for this long before
// the rotation is rolled back.
const DefaultPropagationWait = 30 * time.Second

// LastUsedLag is how late GetAccessKeyLastUsed may show a use: AWS
// documents that last-used information is updated with a delay (about
// four hours). A delete check less than this after deactivation may miss
// a use made just before it (docs/rotation.md).
const LastUsedLag = 4 * time.Hour

// DefaultCustodyWait bounds custody work once a rotation is interrupted
// (DESIGN "Custody waits vs timeouts"; provider.DefaultCustodyWait is the
// same bound for statements): waiting for the answer of an in-flight
// CreateAccessKey or sink write, and the calls that undo a rotation
// (deleting the new key, reactivating the old one). Options.HardStop (a
// second signal) cuts it; what is left is named in the error and the
// ledger, and stays pending in the custody journal.
const DefaultCustodyWait = 10 * time.Second

// Verifier signs sts:GetCallerIdentity with a key and returns the ARN it
// signed as.
type Verifier func(ctx context.Context, keyID, secret string) (arn string, err error)

// Event is one audit record of a step (never a secret).
type Event struct {
	Time        time.Time `json:"time"`
	RotationID  string    `json:"rotation_id"`
	Account     string    `json:"account,omitempty"`
	UserName    string    `json:"user_name"`
	Step        Step      `json:"step"`
	Operation   string    `json:"operation,omitempty"`
	AccessKeyID string    `json:"access_key_id,omitempty"`
	Outcome     string    `json:"outcome"`
	Error       string    `json:"error,omitempty"`
}

// Options configure a Rotator.
type Options struct {
	// IAM signs the rotation's IAM calls.
	IAM awsiam.AccessKeysAPI
	// IAMWith returns an IAM client signing with a key: when the rotated
	// key is the one IAM signs with (Options.CallerKeyID), the steps after
	// verification are signed with the new key.
	IAMWith     func(keyID, secret string) awsiam.AccessKeysAPI
	CallerKeyID string
	// Verify checks the new key (required).
	Verify Verifier
	Ledger *Ledger
	// Journal records each CreateAccessKey for crash recovery (nil: none).
	Journal *custody.Journal
	// CustodyDir is the custody journals' directory: what a crashed
	// rotation left pending there is cleared once Continue has settled
	// its new key ("" leaves it to iamsql recover).
	CustodyDir string
	// Sinks builds the sinks of resumed rotations from their specs.
	Sinks SinkOptions
	Now   func() time.Time
	Audit func(Event)
	// Region is the IAM calls' region parameter (its partition), Account
	// the account id recorded in the ledger when known.
	Region, Account string
	// Grace is the wait between verification and deactivating the old key,
	// DeleteAfter between deactivation and deleting it. The delete waits
	// for LastUsedLag after deactivation at least, unless ForceDelete.
	Grace, DeleteAfter time.Duration
	ForceDelete        bool
	// MakeRoom allows deleting a user's inactive second key that has not
	// been used (or, never used, was created) for at least MakeRoomAfter.
	MakeRoom      bool
	MakeRoomAfter time.Duration
	// CallerIsRoot: the calls are signed by the account's root user, whose
	// own key is rotated only with AllowRootKeys (a new root access key).
	CallerIsRoot, AllowRootKeys bool
	// PropagationWait and RetryInterval bound verification (defaults
	// DefaultPropagationWait and 1s).
	PropagationWait, RetryInterval time.Duration
	// CustodyWait bounds custody work after an interrupt (default
	// DefaultCustodyWait); HardStop, once done (a second signal), ends it
	// at once (nil: never).
	CustodyWait time.Duration
	HardStop    context.Context
}

// Rotator runs rotations.
type Rotator struct {
	o Options
	// Test hooks: afterStep runs after each ledger write (a test
	// "crashes" there by panicking), beforeVerify before each attempt.
	afterStep    func(Record)
	beforeVerify func()
}

// New checks the options and returns a Rotator.
func New(o Options) (*Rotator, error) {
	switch {
	case o.IAM == nil:
		return nil, errors.New("rotate: no IAM client")
	case o.Verify == nil:
		return nil, errors.New("rotate: no verifier")
	case o.Ledger == nil:
		return nil, errors.New("rotate: no ledger")
	case o.Grace < 0 || o.DeleteAfter < 0 || o.MakeRoomAfter < 0:
		return nil, errors.New("rotate: --grace, --delete-after and --make-room must not be negative")
	}
	if err := schema.Validate("region", o.Region); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PropagationWait <= 0 {
		o.PropagationWait = DefaultPropagationWait
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.CustodyWait <= 0 {
		o.CustodyWait = DefaultCustodyWait
	}
	if o.HardStop == nil {
		o.HardStop = context.Background()
	}
	return &Rotator{o: o}, nil
}

// SinkOptions are what the rotator builds sinks with.
func (r *Rotator) SinkOptions() SinkOptions { return r.o.Sinks }

// Account is the account id the rotator records ("" when unknown).
func (r *Rotator) Account() string { return r.o.Account }

// Target is what to rotate: a user's key (AccessKeyID may be empty when
// the user has one key), or the caller's own (UserName empty).
type Target struct{ UserName, AccessKeyID string }

// Plan is what a rotation would do.
type Plan struct {
	Target
	// User is the key's user as IAM names it; Self marks the caller's own.
	User string
	Self bool
	// OldKeyID is the key to replace, RemoveKeyID an inactive key to
	// delete first (--make-room).
	OldKeyID, RemoveKeyID string
	// Blocked says why the rotation cannot run ("" when it can).
	Blocked string
	Steps   []string
}

// Plan looks at each target's keys (ListAccessKeys; GetAccessKeyLastUsed
// for a second key) and says what rotating it would do or what blocks it.
// It changes nothing.
func (r *Rotator) Plan(ctx context.Context, targets []Target) ([]Plan, error) {
	out := make([]Plan, 0, len(targets))
	for _, t := range targets {
		if t.UserName != "" {
			if err := schema.Validate("UserName", t.UserName); err != nil {
				return nil, err
			}
		}
		if t.AccessKeyID != "" {
			if err := schema.Validate("AccessKeyId", t.AccessKeyID); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range targets {
		p, err := r.plan(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (r *Rotator) plan(ctx context.Context, t Target) (Plan, error) {
	p := Plan{Target: t, User: t.UserName, Self: t.UserName == ""}
	keys, err := r.o.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: userParam(t.UserName)})
	if err != nil {
		return p, fmt.Errorf("ListAccessKeys for %s: %w", who(t.UserName), err)
	}
	var old, other *iamtypes.AccessKeyMetadata
	for i := range keys.AccessKeyMetadata {
		k := &keys.AccessKeyMetadata[i]
		if p.User == "" {
			p.User = aws.ToString(k.UserName)
		}
		switch {
		case t.AccessKeyID != "" && aws.ToString(k.AccessKeyId) == t.AccessKeyID:
			old = k
		case t.AccessKeyID == "" && len(keys.AccessKeyMetadata) == 1:
			old = k
		default:
			other = k
		}
	}
	if p.User == "" {
		p.User = t.UserName
	}
	switch {
	case old == nil && t.AccessKeyID != "":
		p.Blocked = fmt.Sprintf("%s has no access key %s", who(t.UserName), t.AccessKeyID)
		return p, nil
	case old == nil && len(keys.AccessKeyMetadata) == 0:
		p.Blocked = fmt.Sprintf("%s has no access key to rotate", who(t.UserName))
		return p, nil
	case old == nil:
		p.Blocked = fmt.Sprintf("%s has two keys: name the one to rotate (AccessKeyId)", who(t.UserName))
		return p, nil
	}
	p.OldKeyID = aws.ToString(old.AccessKeyId)
	if t.UserName == "" && r.o.CallerIsRoot && !r.o.AllowRootKeys {
		p.Blocked = "this is the root user's key: rotating it creates a root access key, which AWS advises against (use an IAM user or role); --allow-root-keys (in SQL: SET iamsql_allow_root_keys = 1) to do it anyway"
		return p, nil
	}
	if rec, ok := r.o.Ledger.open(p.OldKeyID); ok {
		p.Blocked = fmt.Sprintf("rotation %s of %s is still open (step %s): continue, finish or roll it back first", rec.ID, p.OldKeyID, rec.Step)
		return p, nil
	}
	if old.Status != iamtypes.StatusTypeActive {
		p.Blocked = fmt.Sprintf("%s is inactive: nothing signs with it, so there is nothing to rotate (delete it instead)", p.OldKeyID)
		return p, nil
	}
	if other != nil {
		id := aws.ToString(other.AccessKeyId)
		if other.Status == iamtypes.StatusTypeActive {
			p.Blocked = fmt.Sprintf("%s already has two keys and its other key %s is active: an active second key is never touched; deactivate or delete it first", p.User, id)
			return p, nil
		}
		if !r.o.MakeRoom {
			p.Blocked = fmt.Sprintf("%s already has two keys (IAM allows two): allow deleting the inactive key %s with --make-room DAYS (in SQL: MakeRoom, e.g. '30d')", p.User, id)
			return p, nil
		}
		lu, err := r.o.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: other.AccessKeyId})
		if err != nil {
			return p, fmt.Errorf("GetAccessKeyLastUsed for %s: %w", id, err)
		}
		last, what := aws.ToTime(other.CreateDate), "created"
		if lu.AccessKeyLastUsed != nil && lu.AccessKeyLastUsed.LastUsedDate != nil {
			last, what = *lu.AccessKeyLastUsed.LastUsedDate, "last used"
		}
		if age := r.o.Now().Sub(last); age < r.o.MakeRoomAfter {
			p.Blocked = fmt.Sprintf("%s already has two keys and its inactive key %s was %s %s ago, less than --make-room %s", p.User, id, what, days(age), days(r.o.MakeRoomAfter))
			return p, nil
		}
		p.RemoveKeyID = id
		p.Steps = append(p.Steps, fmt.Sprintf("delete the inactive key %s (%s %s ago) to make room", id, what, days(r.o.Now().Sub(last))))
	}
	p.Steps = append(p.Steps,
		"create a new access key for "+p.User,
		"deliver it to the sink",
		"verify it with sts:GetCallerIdentity signed by the new key",
		"deactivate "+p.OldKeyID+" "+after(r.o.Grace, "after verification"),
		"delete "+p.OldKeyID+" "+after(r.o.DeleteAfter, "after deactivation")+" if nothing used it after verification")
	switch {
	case r.o.DeleteAfter < LastUsedLag && r.o.ForceDelete:
		p.Steps[len(p.Steps)-1] += fmt.Sprintf(" (--force: GetAccessKeyLastUsed lags up to about %d hours, so a use just before deactivation may not show yet)", LastUsedLag/time.Hour)
	case r.o.DeleteAfter < LastUsedLag:
		p.Steps[len(p.Steps)-1] = fmt.Sprintf("delete %s %d hours after deactivation at the earliest, if nothing used it after verification "+
			"(GetAccessKeyLastUsed lags up to about %d hours: only then does it show every use; --force deletes sooner)", p.OldKeyID, LastUsedLag/time.Hour, LastUsedLag/time.Hour)
	}
	return p, nil
}

func after(d time.Duration, what string) string {
	if d == 0 {
		return "at once " + what
	}
	return days(d) + " " + what
}

// days writes a duration in days when it is whole days, else as Go does.
func days(d time.Duration) string {
	if d >= 24*time.Hour {
		if d < 48*time.Hour {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.Truncate(time.Second).String()
}

func who(user string) string {
	if user == "" {
		return "the caller"
	}
	return "user " + user
}

func userParam(user string) *string {
	if user == "" {
		return nil
	}
	return aws.String(user)
}

// run is one rotation being carried out.
type run struct {
	r      *Rotator
	rec    Record
	sink   Sink
	secret string // the new key's secret, in memory only
	iam    awsiam.AccessKeysAPI
	entry  *custody.Entry
}

// Apply carries out a plan: up to verification, and on to deactivating
// and deleting the old key when Grace and DeleteAfter are zero. It returns
// the rotation as the ledger holds it; an error says what failed and what
// was undone.
func (r *Rotator) Apply(ctx context.Context, p Plan, sink Sink) (Record, error) {
	if p.Blocked != "" {
		return Record{}, errors.New(p.Blocked)
	}
	if ctx.Err() != nil {
		return Record{}, errors.New("interrupted before the rotation started: nothing was changed")
	}
	if err := sink.Check(ctx); err != nil {
		return Record{}, err
	}
	// One process at a time rotates a key: the claim, then the ledger as
	// other processes left it.
	release, err := r.o.Ledger.Claim(p.OldKeyID)
	if err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("%w; no key was created", err)
	}
	handedOver := false
	defer func() {
		if !handedOver {
			release()
		}
	}()
	if err := r.o.Ledger.Reload(); err != nil {
		return Record{}, err
	}
	if rec, ok := r.o.Ledger.open(p.OldKeyID); ok {
		return Record{}, fmt.Errorf("rotation %s of %s is still open (step %s): continue, finish or roll it back first", rec.ID, p.OldKeyID, rec.Step)
	}
	now := r.o.Now().UTC()
	x := &run{r: r, sink: sink, iam: r.o.IAM, rec: Record{
		ID:      "rot-" + p.OldKeyID + "-" + now.Format("20060102T150405Z") + "-" + randomHex(3),
		Account: r.o.Account, Region: r.o.Region, UserName: p.User, Self: p.Self,
		OldKeyID: p.OldKeyID, Sink: sink.Spec(),
		Grace: Duration(r.o.Grace), DeleteAfter: Duration(r.o.DeleteAfter), ForceDelete: r.o.ForceDelete,
		Started: now,
	}}
	if p.RemoveKeyID != "" {
		x.rec.RemovedKeyID = p.RemoveKeyID
		if err := x.step(StepMakingRoom, ""); err != nil {
			return x.rec, err
		}
		_, err := x.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(p.RemoveKeyID), UserName: x.user()})
		x.audit("DeleteAccessKey", p.RemoveKeyID, err)
		if err != nil && errorCode(err) != "NoSuchEntity" {
			return x.rec, x.fail(fmt.Errorf("deleting the inactive key %s to make room: %w; nothing else was changed", p.RemoveKeyID, err))
		}
	}
	if err := x.create(ctx); err != nil {
		return x.rec, err
	}
	if rs, ok := sink.(*ResultSink); ok {
		err := x.handOver(ctx, rs, release)
		handedOver = err == nil
		return x.rec, err
	}
	if err := x.deliver(ctx); err != nil {
		return x.rec, err
	}
	if err := x.verify(ctx); err != nil {
		return x.rec, err
	}
	return x.rec, x.advance(ctx, false)
}

func (x *run) user() *string {
	if x.rec.Self {
		return nil
	}
	return aws.String(x.rec.UserName)
}

// step records the rotation at step s before (or after) its call.
func (x *run) step(s Step, note string) error {
	x.rec.Step, x.rec.Note, x.rec.Updated = s, note, x.r.o.Now().UTC()
	if s.Done() && x.rec.Ended == nil {
		t := x.rec.Updated
		x.rec.Ended = &t
	}
	err := x.r.o.Ledger.Put(x.rec)
	x.audit("", "", err)
	if err == nil && x.r.afterStep != nil {
		x.r.afterStep(x.rec)
	}
	return err
}

func (x *run) audit(op, keyID string, err error) {
	if x.r.o.Audit == nil {
		return
	}
	ev := Event{Time: x.r.o.Now().UTC(), RotationID: x.rec.ID, Account: x.rec.Account, UserName: x.rec.UserName, Step: x.rec.Step, Operation: op, AccessKeyID: keyID, Outcome: "ok"}
	if err != nil {
		ev.Outcome, ev.Error = "error", err.Error()
	}
	x.r.o.Audit(ev)
}

// fail ends a rotation that never touched the old key.
func (x *run) fail(cause error) error {
	if err := x.step(StepFailed, cause.Error()); err != nil {
		return fmt.Errorf("%w (and the ledger could not record it: %v)", cause, err)
	}
	return cause
}

func (x *run) create(ctx context.Context) error {
	if err := x.step(StepCreating, ""); err != nil {
		return fmt.Errorf("%w; no key was created", err)
	}
	entry, err := x.r.o.Journal.Intent(custody.Creation{UserName: aws.ToString(x.user()), Region: x.rec.Region, Statement: createStatement(x.rec.OldKeyID), Account: x.rec.Account})
	if err != nil {
		return x.fail(fmt.Errorf("custody journal: %w; no key was created", err))
	}
	x.entry = entry
	// An interrupt does not abandon the call: its answer may carry a new
	// key, and is waited for within the custody bound.
	cctx, done := x.r.custodyContext(ctx)
	var out *iam.CreateAccessKeyOutput
	for attempt := 1; ; attempt++ {
		out, err = x.iam.CreateAccessKey(cctx, &iam.CreateAccessKeyInput{UserName: x.user()}, awsiam.NoRetry)
		if err == nil || !awsiam.IsThrottle(err) || attempt >= 5 || ctx.Err() != nil {
			break
		}
		// Throttling: IAM did nothing, the call may be sent again.
		if !sleep(ctx, time.Duration(attempt)*200*time.Millisecond) {
			break
		}
	}
	done()
	x.audit("CreateAccessKey", "", err)
	if err != nil {
		if !ambiguous(err) {
			_ = entry.Resolve(custody.Failed)
			return x.fail(fmt.Errorf("CreateAccessKey for %s: %w; nothing was changed", x.rec.UserName, err))
		}
		// No answer: a key may exist whose secret nobody has. It is
		// not retried; reconcile finds and deletes it.
		cause := fmt.Errorf("CreateAccessKey for %s: %w; the outcome is unknown and it was not retried", x.rec.UserName, err)
		if ctx.Err() != nil {
			cause = fmt.Errorf("interrupted while creating the new key: CreateAccessKey for %s did not answer within the custody wait%s; the outcome is unknown and it was not retried", x.rec.UserName, x.r.cutBy())
		}
		return x.reconcileCreating(ctx, cause)
	}
	x.rec.NewKeyID = aws.ToString(out.AccessKey.AccessKeyId)
	x.secret = aws.ToString(out.AccessKey.SecretAccessKey)
	t := x.r.o.Now().UTC()
	x.rec.Created = &t
	_ = entry.Created(x.rec.NewKeyID)
	if err := x.step(StepCreated, ""); err != nil {
		return x.discard(ctx, fmt.Errorf("%w after creating %s", err, x.rec.NewKeyID))
	}
	if ctx.Err() != nil {
		return x.discard(ctx, errors.New("interrupted while creating the new key"))
	}
	return nil
}

// custodyContext is what a call whose answer carries custody (a create,
// a sink write) runs under: not cancelled with ctx, but once ctx ends it
// has the custody wait left, and the hard stop ends it at once.
func (r *Rotator) custodyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(r.o.CustodyWait, cancel)
		context.AfterFunc(cctx, func() { t.Stop() })
	})
	stopHard := context.AfterFunc(r.o.HardStop, cancel)
	return cctx, func() {
		stopTimer()
		stopHard()
		cancel()
	}
}

// undoContext is what undoing runs under (deleting a new key, the sink's
// undo, reactivating the old key): whatever happened to ctx, the custody
// wait from now, ended at once by the hard stop.
func (r *Rotator) undoContext(ctx context.Context) (context.Context, context.CancelFunc) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.CustodyWait)
	stop := context.AfterFunc(r.o.HardStop, cancel)
	return uctx, func() {
		stop()
		cancel()
	}
}

// cutBy says what ended custody work early: the hard stop (a second
// interrupt), or else the custody bound.
func (r *Rotator) cutBy() string {
	if r.o.HardStop.Err() != nil {
		return " (a second interrupt cut the wait short)"
	}
	return fmt.Sprintf(" (%s)", r.o.CustodyWait)
}

// createStatement is what the custody journal records a rotation's
// CreateAccessKey as.
func createStatement(oldKeyID string) string { return "iamsql rotate " + oldKeyID }

// ambiguous: no answer, or one that is not IAM refusing the call.
func ambiguous(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if errorCode(err) == "" || (errors.As(err, &re) && re.HTTPStatusCode() >= 500) {
		return true
	}
	return false
}

// reconcileCreating settles a create whose answer never came: a key of
// the user that is neither the old key nor the other key known, created
// since the rotation started, is the one IAM made; nobody has its secret,
// so it is deleted.
func (x *run) reconcileCreating(ctx context.Context, cause error) error {
	ctx, done := x.r.undoContext(ctx)
	defer done()
	keys, err := x.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: x.user()})
	if err != nil {
		err = x.undoErr(err)
		x.rec.Note = fmt.Sprintf("%v; listing the keys to find it failed: %v; a key IAM may have made is not known: --continue finds and deletes it", cause, err)
		_ = x.r.o.Ledger.Put(x.rec)
		return errors.New(x.rec.Note)
	}
	started := x.rec.Started.Truncate(time.Second)
	for _, k := range keys.AccessKeyMetadata {
		id := aws.ToString(k.AccessKeyId)
		if id == x.rec.OldKeyID || aws.ToTime(k.CreateDate).Before(started) {
			continue
		}
		x.rec.NewKeyID = id
		if x.entry != nil {
			_ = x.entry.Created(id)
		}
		return x.discardWithin(ctx, cause)
	}
	if x.entry != nil {
		_ = x.entry.Resolve(custody.Failed)
	}
	return x.fail(fmt.Errorf("%v; IAM made no key: nothing was changed", cause))
}

// discard deletes a new key whose secret is not (or no longer) held and
// ends the rotation before it touched the old key.
func (x *run) discard(ctx context.Context, cause error) error {
	ctx, done := x.r.undoContext(ctx)
	defer done()
	return x.discardWithin(ctx, cause)
}

// discardWithin is discard under a context undoContext made.
func (x *run) discardWithin(ctx context.Context, cause error) error {
	id := x.rec.NewKeyID
	_, err := x.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id), UserName: x.user()})
	x.audit("DeleteAccessKey", id, err)
	if err != nil && errorCode(err) != "NoSuchEntity" {
		_ = x.entry.Resolve(custody.Orphaned)
		err = x.undoErr(err)
		x.rec.Note = fmt.Sprintf("%v; the new key %s exists and could not be deleted again (%v): --continue or --rollback deletes it", cause, id, err)
		_ = x.r.o.Ledger.Put(x.rec)
		return errors.New(x.rec.Note)
	}
	_ = x.entry.Resolve(custody.RolledBack)
	_ = x.sink.Undo(ctx, id)
	if err := x.step(StepRolledBack, fmt.Sprintf("%v; the new key %s was deleted again, the old key %s was not touched", cause, id, x.rec.OldKeyID)); err != nil {
		return fmt.Errorf("%v; the new key %s was deleted again (the ledger could not record it: %v)", cause, id, err)
	}
	return errors.New(x.rec.Note)
}

func (x *run) deliver(ctx context.Context) error {
	if err := x.step(StepDelivering, ""); err != nil {
		return x.discard(ctx, err)
	}
	// Like a create, a sink write in flight is waited for after an
	// interrupt (within the custody bound): the sink's state is then known
	// and can be undone.
	cctx, done := x.r.custodyContext(ctx)
	err := x.sink.Deliver(cctx, Credentials{AccessKeyID: x.rec.NewKeyID, SecretAccessKey: x.secret, UserName: x.rec.UserName})
	done()
	x.audit("Deliver", x.rec.NewKeyID, err)
	if err != nil {
		if ctx.Err() != nil {
			return x.discard(ctx, fmt.Errorf("interrupted while delivering to %s: %w", x.rec.Sink, err))
		}
		return x.discard(ctx, fmt.Errorf("delivering to %s failed: %w", x.rec.Sink, err))
	}
	_ = x.entry.Resolve(custody.Delivered)
	t := x.r.o.Now().UTC()
	x.rec.Delivered = &t
	if err := x.step(StepDelivered, ""); err != nil {
		// The sink holds the key: the ledger stays at delivering, which
		// --continue settles by reading the sink back.
		return fmt.Errorf("%w; the new key %s was delivered to %s: run --continue", err, x.rec.NewKeyID, x.rec.Sink)
	}
	if ctx.Err() != nil {
		// Not verified yet, the old key untouched: undone.
		return x.discard(ctx, fmt.Errorf("interrupted after delivering to %s, before verification", x.rec.Sink))
	}
	return nil
}

// handOver is delivery to a result row (ResultSink): the new key is
// verified first, while only this process holds its secret, then handed
// over; the rotation stays at step delivering — the old key untouched,
// the claim held — until the receipt says whether the row arrived.
func (x *run) handOver(ctx context.Context, rs *ResultSink, release func()) error {
	if err := x.step(StepDelivering, "verifying the new key before its result row is sent"); err != nil {
		return x.discard(ctx, err)
	}
	if err := x.check(ctx, x.discard); err != nil {
		return err
	}
	x.rec.Note = "verified; waiting for the result row carrying the secret to be received"
	x.rec.Updated = x.r.o.Now().UTC()
	if err := x.r.o.Ledger.Put(x.rec); err != nil {
		return x.discard(ctx, err)
	}
	var once sync.Once
	receipt := func(rc Receipt) {
		once.Do(func() {
			defer release()
			x.received(rc)
		})
	}
	err := rs.Hand(Credentials{AccessKeyID: x.rec.NewKeyID, SecretAccessKey: x.secret, UserName: x.rec.UserName}, receipt)
	x.audit("Deliver", x.rec.NewKeyID, err)
	if err != nil {
		return x.discard(ctx, fmt.Errorf("handing the new key over: %w", err))
	}
	return nil
}

// received records what became of a result row carrying the new key.
func (x *run) received(rc Receipt) {
	switch rc {
	case Received:
		_ = x.entry.Resolve(custody.Delivered)
		t := x.r.o.Now().UTC()
		x.rec.Delivered = &t
		_ = x.step(StepVerified, "")
	case Withdrawn:
		_ = x.entry.Resolve(custody.RolledBack)
		_ = x.step(StepRolledBack, fmt.Sprintf("the result row carrying the secret was not received: the new key %s was deleted again, the old key %s was not touched", x.rec.NewKeyID, x.rec.OldKeyID))
	default:
		_ = x.entry.Resolve(custody.Orphaned)
		x.rec.Note = fmt.Sprintf("the result row carrying the secret was not received and the new key %s could not be deleted again: --continue or rollback deletes it", x.rec.NewKeyID)
		_ = x.r.o.Ledger.Put(x.rec)
	}
}

// verify signs GetCallerIdentity with the new key until it answers as the
// user, for at most PropagationWait; a key that never does is rolled back.
func (x *run) verify(ctx context.Context) error {
	if err := x.check(ctx, x.rollback); err != nil {
		return err
	}
	if err := x.step(StepVerified, ""); err != nil {
		return fmt.Errorf("%w; the new key %s is delivered and verified: run --continue", err, x.rec.NewKeyID)
	}
	if o := x.r.o; o.IAMWith != nil && o.CallerKeyID == x.rec.OldKeyID {
		x.iam = o.IAMWith(x.rec.NewKeyID, x.secret)
	}
	return nil
}

// check is verification's bounded retry: it sets Verified, or ends the
// rotation with undo.
func (x *run) check(ctx context.Context, undo func(context.Context, error) error) error {
	o := x.r.o
	if ctx.Err() != nil {
		return undo(ctx, fmt.Errorf("interrupted before the new key %s was verified", x.rec.NewKeyID))
	}
	attempts := int(o.PropagationWait/o.RetryInterval) + 1
	var last error
	for attempt := 1; ; attempt++ {
		if x.r.beforeVerify != nil {
			x.r.beforeVerify()
		}
		arn, err := o.Verify(ctx, x.rec.NewKeyID, x.secret)
		x.audit("GetCallerIdentity", x.rec.NewKeyID, err)
		if err == nil {
			if !x.arnIsUser(arn) {
				return undo(ctx, fmt.Errorf("the new key %s signs as %s, not as %s", x.rec.NewKeyID, arn, x.rec.UserName))
			}
			break
		}
		last = err
		if ctx.Err() != nil || (attempt < attempts && !sleep(ctx, o.RetryInterval)) {
			return undo(ctx, fmt.Errorf("interrupted while verifying the new key %s", x.rec.NewKeyID))
		}
		if attempt >= attempts {
			return undo(ctx, fmt.Errorf("the new key %s did not verify within %s: %w", x.rec.NewKeyID, o.PropagationWait, last))
		}
	}
	t := o.Now().UTC()
	x.rec.Verified = &t
	return nil
}

// arnIsUser reports whether arn is the rotated key's principal in the
// recorded account.
func (x *run) arnIsUser(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || (x.rec.Account != "" && parts[4] != x.rec.Account) {
		return false
	}
	if parts[5] == "root" {
		return x.rec.UserName == "root" || x.rec.UserName == ""
	}
	res, ok := strings.CutPrefix(parts[5], "user/")
	if !ok {
		return false
	}
	name := res[strings.LastIndex(res, "/")+1:]
	return strings.EqualFold(name, x.rec.UserName)
}

// randomHex tells apart rotations of one key started in the same second.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// advance runs the steps after verification that are due (all of them
// when force): deactivate the old key, then delete it unless it was used
// after verification.
func (x *run) advance(ctx context.Context, force bool) error {
	now := x.r.o.Now()
	if x.rec.Step == StepVerified || x.rec.Step == StepDeactivating {
		if !force && now.Before(x.rec.DeactivateAt()) {
			return nil
		}
		if ctx.Err() != nil {
			return x.interrupted("before deactivating the old key " + x.rec.OldKeyID)
		}
		if err := x.step(StepDeactivating, ""); err != nil {
			return err
		}
		_, err := x.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(x.rec.OldKeyID), UserName: x.user(), Status: iamtypes.StatusTypeInactive})
		x.audit("UpdateAccessKey", x.rec.OldKeyID, err)
		if err != nil {
			if ctx.Err() != nil {
				return x.interrupted("while deactivating the old key " + x.rec.OldKeyID + " (IAM may or may not have made it inactive; --continue sends it again)")
			}
			return fmt.Errorf("deactivating %s: %w; --continue tries again", x.rec.OldKeyID, err)
		}
		t := x.r.o.Now().UTC()
		x.rec.Deactivated = &t
		if err := x.step(StepDeactivated, ""); err != nil {
			return err
		}
	}
	if x.rec.Step == StepDeactivated || x.rec.Step == StepDeleting {
		due := x.rec.DeleteAt()
		if force {
			due = x.rec.DeleteNotBefore()
		}
		if x.r.o.Now().Before(due) {
			if !force && !x.rec.Deactivated.Add(time.Duration(x.rec.DeleteAfter)).Before(due) {
				return nil // the wait the user chose
			}
			// Held back by the last-used lag: the ledger says until when.
			x.rec.Note = fmt.Sprintf("the old key %s is inactive; deleting it is possible from %s, once GetAccessKeyLastUsed shows every use made before its deactivation (it lags up to about %d hours): "+
				"--continue then, or --finish %s --force to delete it now", x.rec.OldKeyID, due.UTC().Format(time.RFC3339), LastUsedLag/time.Hour, x.rec.ID)
			x.rec.Updated = x.r.o.Now().UTC()
			return x.r.o.Ledger.Put(x.rec)
		}
		if ctx.Err() != nil {
			return x.interrupted("before deleting the old key " + x.rec.OldKeyID)
		}
		if x.rec.Step == StepDeactivated {
			lu, err := x.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(x.rec.OldKeyID)})
			x.audit("GetAccessKeyLastUsed", x.rec.OldKeyID, err)
			if err != nil {
				return fmt.Errorf("reading the last use of %s: %w; --continue tries again", x.rec.OldKeyID, err)
			}
			if u := lu.AccessKeyLastUsed; u != nil && u.LastUsedDate != nil && u.LastUsedDate.After(*x.rec.Verified) {
				note := fmt.Sprintf("the old key %s was used after the switch (%s, by %s in %s): left inactive, not deleted; find what still uses it",
					x.rec.OldKeyID, u.LastUsedDate.UTC().Format(time.RFC3339), aws.ToString(u.ServiceName), aws.ToString(u.Region))
				_ = x.sink.Finish(ctx, x.rec.NewKeyID)
				return x.step(StepKept, note)
			}
			if err := x.step(StepDeleting, ""); err != nil {
				return err
			}
		}
		_, err := x.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(x.rec.OldKeyID), UserName: x.user()})
		x.audit("DeleteAccessKey", x.rec.OldKeyID, err)
		if err != nil && errorCode(err) != "NoSuchEntity" {
			if ctx.Err() != nil {
				return x.interrupted("while deleting the old key " + x.rec.OldKeyID + " (--continue sends it again)")
			}
			return fmt.Errorf("deleting %s: %w; --continue tries again", x.rec.OldKeyID, err)
		}
		if err := x.sink.Finish(ctx, x.rec.NewKeyID); err != nil {
			return x.step(StepFinished, fmt.Sprintf("the sink's backup could not be removed: %v", err))
		}
		return x.step(StepFinished, "")
	}
	return nil
}

// rollback reactivates the old key and deletes the new one (both exist),
// and takes the new key out of the sink.
func (x *run) rollback(ctx context.Context, cause error) error {
	ctx, done := x.r.undoContext(ctx)
	defer done()
	if err := x.step(StepRollingBack, ""); err != nil {
		return fmt.Errorf("%v; %w", cause, err)
	}
	// The old key may be the signer of these calls: reactivate it with
	// whichever client works (the new key's, when rotating one's own).
	_, err := x.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(x.rec.OldKeyID), UserName: x.user(), Status: iamtypes.StatusTypeActive})
	x.audit("UpdateAccessKey", x.rec.OldKeyID, err)
	if err != nil && errorCode(err) != "NoSuchEntity" {
		return x.rollbackLeft(cause, fmt.Sprintf("reactivating %s failed: %v", x.rec.OldKeyID, x.undoErr(err)))
	}
	_, err = x.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(x.rec.NewKeyID), UserName: x.user()})
	x.audit("DeleteAccessKey", x.rec.NewKeyID, err)
	if err != nil && errorCode(err) != "NoSuchEntity" {
		return x.rollbackLeft(cause, fmt.Sprintf("deleting the new key %s failed: %v", x.rec.NewKeyID, x.undoErr(err)))
	}
	_ = x.sink.Undo(ctx, x.rec.NewKeyID)
	note := "rolled back: " + x.rec.OldKeyID + " is active, the new key " + x.rec.NewKeyID + " was deleted"
	if cause != nil {
		note = cause.Error() + "; " + note
	}
	if err := x.step(StepRolledBack, note); err != nil {
		return fmt.Errorf("%s (the ledger could not record it: %v)", note, err)
	}
	if cause != nil {
		return errors.New(note)
	}
	return nil
}

// interrupted ends a run that an interrupt stopped after verification:
// the ledger stays where it is (both keys work, or the old one is
// inactive), and --continue goes on.
func (x *run) interrupted(where string) error {
	x.rec.Note = fmt.Sprintf("interrupted %s: the new key %s is delivered and verified; --continue goes on, --rollback undoes it", where, x.rec.NewKeyID)
	x.rec.Updated = x.r.o.Now().UTC()
	if err := x.r.o.Ledger.Put(x.rec); err != nil {
		return fmt.Errorf("%s (the ledger could not record it: %v)", x.rec.Note, err)
	}
	return errors.New(x.rec.Note)
}

// undoErr is err, or that a second interrupt cut the undo short.
func (x *run) undoErr(err error) error {
	switch {
	case x.r.o.HardStop.Err() != nil:
		return errors.New("a second interrupt cut it short")
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer within the custody wait (%s)", x.r.o.CustodyWait)
	}
	return err
}

// rollbackLeft records a rollback that stopped part way: the ledger stays
// at rolling_back and names what is left.
func (x *run) rollbackLeft(cause error, what string) error {
	note := "rolling back: " + what + "; the new key " + x.rec.NewKeyID + " still exists: --continue or --rollback finishes the rollback"
	if cause != nil {
		note = cause.Error() + "; " + note
	}
	x.rec.Note = note
	x.rec.Updated = x.r.o.Now().UTC()
	_ = x.r.o.Ledger.Put(x.rec)
	return errors.New(note)
}
