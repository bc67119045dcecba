package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamsql/iamsql/internal/custody"
)

// Continue runs the due steps of every unfinished rotation in the ledger
// (at most limit of them when limit > 0): deactivations and deletes whose
// wait is over, and rotations a crash interrupted, which resume where the
// ledger says they stopped. It returns the rotations it looked at, as the
// ledger now holds them, and the errors of those that could not go on.
func (r *Rotator) Continue(ctx context.Context, limit int) ([]Record, error) {
	var out []Record
	var errs []error
	if err := r.o.Ledger.Reload(); err != nil {
		return nil, err
	}
	for _, rec := range r.o.Ledger.Records() {
		if rec.Step.Done() {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		if ctx.Err() != nil {
			errs = append(errs, errors.New("interrupted: the remaining rotations were not looked at; --continue goes on"))
			break
		}
		got, err := r.claimed(rec.ID, func(rec Record) (Record, error) { return r.settle(ctx, rec, false) })
		if got.ID == "" {
			got = rec
		}
		out = append(out, got)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rec.ID, err))
		}
	}
	return out, errors.Join(errs...)
}

// claimed runs f on rotation id as the ledger holds it once this process
// holds the claim of its old key (see Ledger.Claim); a rotation that has
// ended meanwhile is returned as it is.
func (r *Rotator) claimed(id string, f func(Record) (Record, error)) (Record, error) {
	rec, ok := r.o.Ledger.Get(id)
	if !ok {
		return rec, fmt.Errorf("no rotation %q in the ledger %s", id, r.o.Ledger.Path())
	}
	release, err := r.o.Ledger.Claim(rec.OldKeyID)
	if err != nil {
		return rec, err
	}
	defer release()
	if err := r.o.Ledger.Reload(); err != nil {
		return rec, err
	}
	if rec, ok = r.o.Ledger.Get(id); !ok {
		return rec, fmt.Errorf("no rotation %q in the ledger %s", id, r.o.Ledger.Path())
	}
	if rec.Step.Done() {
		return rec, nil
	}
	return f(rec)
}

// Finish runs the remaining steps of a rotation now, without waiting for
// its grace period or delete-after: the old key is deactivated, then
// deleted unless it was used after the new key's verification — once the
// last-used lag has passed since the deactivation, or at once with
// forceDelete (recorded in the ledger).
func (r *Rotator) Finish(ctx context.Context, id string, forceDelete bool) (Record, error) {
	if err := r.o.Ledger.Reload(); err != nil {
		return Record{}, err
	}
	rec, err := r.openRecord(id)
	if err != nil {
		return rec, err
	}
	return r.claimed(id, func(rec Record) (Record, error) {
		rec.ForceDelete = rec.ForceDelete || forceDelete
		// Finishing drops the waits chosen at the start: a delete the
		// last-used lag holds back is due as soon as the lag has passed.
		rec.Grace, rec.DeleteAfter = 0, 0
		return r.settle(ctx, rec, true)
	})
}

// Rollback undoes a rotation while both keys exist: the old key is made
// active again and the new key deleted (and taken out of its sink).
func (r *Rotator) Rollback(ctx context.Context, id string) (Record, error) {
	if err := r.o.Ledger.Reload(); err != nil {
		return Record{}, err
	}
	if rec, ok := r.o.Ledger.Get(id); ok && !rec.Step.Done() {
		release, err := r.o.Ledger.Claim(rec.OldKeyID)
		if err != nil {
			return rec, err
		}
		defer release()
		if err := r.o.Ledger.Reload(); err != nil {
			return rec, err
		}
	}
	rec, ok := r.o.Ledger.Get(id)
	switch {
	case !ok:
		return rec, fmt.Errorf("no rotation %q in the ledger %s", id, r.o.Ledger.Path())
	case rec.Step == StepFinished:
		return rec, fmt.Errorf("rotation %s has finished: the old key %s is deleted, so it cannot be rolled back", id, rec.OldKeyID)
	case rec.Step == StepRolledBack || rec.Step == StepFailed:
		return rec, fmt.Errorf("rotation %s has ended (%s): there is nothing to roll back", id, rec.Step)
	}
	x, err := r.resume(ctx, rec)
	if err != nil {
		return rec, err
	}
	switch rec.Step {
	case StepMakingRoom, StepCreating, StepCreated, StepDelivering:
		// The new key was never verified: settling it deletes it.
		return r.settle(ctx, rec, false)
	}
	err = x.rollback(ctx, nil)
	return x.rec, err
}

func (r *Rotator) openRecord(id string) (Record, error) {
	rec, ok := r.o.Ledger.Get(id)
	switch {
	case !ok:
		return rec, fmt.Errorf("no rotation %q in the ledger %s", id, r.o.Ledger.Path())
	case rec.Step.Done():
		return rec, fmt.Errorf("rotation %s has already ended (%s)", id, rec.Step)
	}
	return rec, nil
}

// resume rebuilds a run from its ledger record: its sink from the spec,
// and for one's own key the new key's client once the sink gives its
// secret back.
func (r *Rotator) resume(ctx context.Context, rec Record) (*run, error) {
	sink, err := ParseSink(rec.Sink, r.o.Sinks)
	if err != nil {
		return nil, fmt.Errorf("rotation %s: %w", rec.ID, err)
	}
	x := &run{r: r, rec: rec, sink: sink, iam: r.o.IAM}
	if rec.NewKeyID != "" && rec.Step != StepCreated && rec.Step != StepCreating {
		secret, ok, err := sink.Recall(ctx, rec.NewKeyID)
		if err != nil {
			return nil, fmt.Errorf("rotation %s: reading the new key back from %s: %w", rec.ID, rec.Sink, err)
		}
		if ok {
			x.secret = secret
			if rec.Self && r.o.IAMWith != nil && r.o.CallerKeyID == rec.OldKeyID && rec.Verified != nil {
				x.iam = r.o.IAMWith(rec.NewKeyID, secret)
			}
		}
	}
	return x, nil
}

// settle takes an unfinished rotation as far as it can go now.
func (r *Rotator) settle(ctx context.Context, rec Record, force bool) (Record, error) {
	x, err := r.resume(ctx, rec)
	if err != nil {
		return rec, err
	}
	// Undoing (deleting a new key nobody holds, rolling back) runs under
	// its own bound even when ctx has ended (see undoContext).
	bg := ctx
	switch rec.Step {
	case StepMakingRoom:
		err = x.fail(fmt.Errorf("interrupted while deleting the inactive key %s to make room; no new key was created: rotate again", rec.RemovedKeyID))
	case StepCreating:
		err = x.reconcileCreating(bg, errors.New("interrupted while creating the new key"))
	case StepCreated:
		err = x.discard(bg, errors.New("interrupted before the new key was delivered: nobody holds its secret"))
	case StepDelivering, StepDelivered:
		if x.secret == "" {
			if rec.Step == StepDelivering {
				err = x.discard(bg, fmt.Errorf("interrupted while delivering to %s, which does not hold the new key", rec.Sink))
				break
			}
			err = fmt.Errorf("the new key %s was delivered to %s, which cannot be read back to verify it: use the key, then finish_rotation is refused until it is verified; roll back with rollback_rotation('%s')", rec.NewKeyID, rec.Sink, rec.ID)
			break
		}
		if x.rec.Delivered == nil {
			t := r.o.Now().UTC()
			x.rec.Delivered = &t
			if err = x.step(StepDelivered, ""); err != nil {
				break
			}
		}
		if err = x.verify(ctx); err == nil {
			err = x.advance(ctx, force)
		}
	case StepRollingBack:
		err = x.rollback(bg, nil)
	default:
		err = x.advance(ctx, force)
	}
	r.settleJournal(rec, x.rec)
	return x.rec, err
}

// settleJournal clears the custody journal entry a crashed rotation left
// pending, once its new key is settled: deleted again, never made, or
// held by the sink.
func (r *Rotator) settleJournal(before, after Record) {
	if r.o.CustodyDir == "" {
		return
	}
	switch before.Step {
	case StepCreating, StepCreated, StepDelivering, StepDelivered:
	default:
		return
	}
	var how custody.Outcome
	switch {
	case after.Step == StepRolledBack:
		how = custody.RolledBack
	case after.Step == StepFailed:
		how = custody.Failed
	case after.Delivered != nil:
		how = custody.Delivered
	default:
		return
	}
	pending, _ := custody.ListPending(r.o.CustodyDir)
	for _, p := range pending {
		if p.Region != before.Region || p.Statement != createStatement(before.OldKeyID) {
			continue
		}
		if p.KeyID == "" || p.KeyID == after.NewKeyID {
			_ = custody.Clear(p, how)
		}
	}
}

// Due says when a rotation's next step is due (zero when it is due now or
// has ended).
func (rec Record) Due(now time.Time) time.Time {
	var t time.Time
	switch rec.Step {
	case StepVerified:
		t = rec.DeactivateAt()
	case StepDeactivated:
		t = rec.DeleteAt()
	}
	if t.After(now) {
		return t
	}
	return time.Time{}
}
