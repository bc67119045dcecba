package rotate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/custody"
)

// handed is a ResultSink that records what it was handed.
type handed struct {
	creds   []Credentials
	receipt func(Receipt)
	fail    error
}

func (h *handed) sink() *ResultSink {
	return &ResultSink{Hand: func(c Credentials, r func(Receipt)) error {
		if h.fail != nil {
			return h.fail
		}
		h.creds, h.receipt = append(h.creds, c), r
		return nil
	}}
}

// A result row: verified before it is handed over, then the receipt
// decides. Received → verified (the old key untouched until due);
// withdrawn → rolled back; orphaned → --continue deletes the key.
func TestResultSinkWaitsForTheReceipt(t *testing.T) {
	for _, rc := range []Receipt{Received, Withdrawn, Orphaned} {
		t.Run(fmt.Sprint(rc), func(t *testing.T) {
			w := newWorld(t)
			o := w.options()
			r := w.rotator(o)
			h := &handed{}
			rec, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), h.sink())
			if err != nil {
				t.Fatal(err)
			}
			wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity")
			if len(h.creds) != 1 || h.creds[0].AccessKeyID != rec.NewKeyID || h.creds[0].SecretAccessKey != w.secretOf(rec.NewKeyID) {
				t.Fatalf("handed %+v", h.creds)
			}
			got := w.checkLedger(StepDelivering)
			if got.Verified == nil || got.Delivered != nil {
				t.Fatalf("ledger %+v", got)
			}
			// While the row is out, the rotation is held by this process.
			if _, err := w.rotator(w.optionsWith(o)).Finish(context.Background(), rec.ID, false); err == nil || !strings.Contains(err.Error(), "another iamsql process") {
				t.Fatalf("finish while held: %v", err)
			}
			switch rc {
			case Received:
				h.receipt(Received)
				got = w.checkLedger(StepVerified)
				if got.Delivered == nil {
					t.Fatal("not delivered")
				}
				if k := w.keys(); k[oldID] != "Active" || k[rec.NewKeyID] != "Active" {
					t.Fatalf("keys %v", k)
				}
			case Withdrawn:
				// The front end deleted the key (custody), then says so.
				if _, err := o.IAM.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(rec.NewKeyID), UserName: aws.String("alice")}); err != nil {
					t.Fatal(err)
				}
				w.calls()
				h.receipt(Withdrawn)
				w.checkLedger(StepRolledBack)
			case Orphaned:
				h.receipt(Orphaned)
				w.checkLedger(StepDelivering)
				w.calls()
				if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err == nil {
					t.Fatal("continue: no error for a discarded key")
				}
				wantCalls(t, w.calls(), "DeleteAccessKey "+rec.NewKeyID)
				w.checkLedger(StepRolledBack)
				if k := w.keys(); len(k) != 1 || k[oldID] != "Active" {
					t.Fatalf("keys %v", k)
				}
			}
		})
	}
}

// A new key that does not verify is deleted before it is handed over;
// a hand-over that fails deletes it too.
func TestResultSinkNeverHandsOverAnUnverifiedKey(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.Verify = func(context.Context, string, string) (string, error) {
		return "arn:aws:iam::123456789012:user/mallory", nil
	}
	r := w.rotator(o)
	h := &handed{}
	rec, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), h.sink())
	if err == nil || !strings.Contains(err.Error(), "signs as arn:aws:iam::123456789012:user/mallory") || len(h.creds) != 0 {
		t.Fatalf("%v, handed %d", err, len(h.creds))
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "DeleteAccessKey "+rec.NewKeyID)
	w.checkLedger(StepRolledBack)

	w2 := newWorld(t)
	o2 := w2.options()
	r2 := w2.rotator(o2)
	h2 := &handed{fail: fmt.Errorf("the connection closed")}
	rec, err = r2.Apply(context.Background(), plan1(t, r2, Target{UserName: "alice"}), h2.sink())
	if err == nil || !strings.Contains(err.Error(), "the connection closed") {
		t.Fatal(err)
	}
	wantCalls(t, w2.calls(), "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity", "DeleteAccessKey "+rec.NewKeyID)
	w2.checkLedger(StepRolledBack)
}

// The process serving a result row dies at any point of the rotation
// (before, during or after the hand-over, before the receipt):
// --continue then deletes the new key, since nobody is known to hold its
// secret; the old key was never touched, and nothing stays pending.
func TestResultSinkCrashAtEveryPointThenContinue(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	r := w.rotator(o)
	if _, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), (&handed{}).sink()); err != nil {
		t.Fatal(err)
	}
	points := len(w.events) + 1 // the last: handed over, no receipt
	for i := 0; i < points; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			w := newWorld(t)
			o := w.options()
			journalDir := filepath.Join(w.dir, "custody")
			j, err := custody.Open(journalDir, custody.Meta{Endpoint: w.url})
			if err != nil {
				t.Fatal(err)
			}
			o.Journal = j
			n := 0
			o.Audit = func(ev Event) {
				w.events = append(w.events, ev)
				if n == i {
					panic(crash{})
				}
				n++
			}
			r := w.rotator(o)
			p := plan1(t, r, Target{UserName: "alice"})
			h := &handed{}
			s := h.sink()
			if i == points-1 {
				// Handed over, then the process dies before the receipt.
				inner := s.Hand
				s.Hand = func(c Credentials, rc func(Receipt)) error { _ = inner(c, rc); panic(crash{}) }
			}
			func() {
				defer func() {
					if v := recover(); v != nil && v != (crash{}) {
						panic(v)
					}
				}()
				_, _ = r.Apply(context.Background(), p, s)
			}()
			_ = j.Close()
			o2 := w.optionsWith(w.options())
			o2.CustodyDir = journalDir
			_, _ = w.rotator(o2).Continue(context.Background(), 0)
			l, err := OpenLedger(w.ledger)
			if err != nil {
				t.Fatal(err)
			}
			recs := l.Records()
			if len(recs) != 1 || (recs[0].Step != StepRolledBack && recs[0].Step != StepFailed) {
				t.Fatalf("ledger %+v", recs)
			}
			if k := w.keys(); len(k) != 1 || k[oldID] != "Active" || w.maxKeys > 2 {
				t.Fatalf("keys %v (at most %d)", k, w.maxKeys)
			}
			for _, ev := range w.events {
				if ev.AccessKeyID == oldID && ev.Operation != "" {
					t.Fatalf("the old key was touched: %+v", ev)
				}
			}
			if p, err := custody.ListPending(journalDir); err != nil || len(p) != 0 {
				t.Fatalf("custody journal still pending %+v %v", p, err)
			}
		})
	}
}
