package rotate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/custody"
)

// crash stands for the process dying at one point of a rotation.
type crash struct{}

// point is where a run's n-th audit event happens: after a ledger write
// (a step) or after an IAM, STS, Secrets Manager or file call answered.
func (ev Event) point() string {
	if ev.Operation == "" {
		return "after writing " + string(ev.Step)
	}
	return "after " + ev.Operation + " answered (" + string(ev.Step) + ")"
}

// TestCrashAtEveryPointThenContinueFinishes kills a rotation (grace 0)
// after each of its steps and calls, for each sink that can be read back,
// then runs --continue as a new process would, and checks the
// invariants: at most two keys, the old key never deactivated or deleted
// before the new one was delivered and verified, every key that exists
// held by its sink (no secret lost), and the ledger matching the account.
func TestCrashAtEveryPointThenContinueFinishes(t *testing.T) {
	for _, kind := range []string{"file", "profile", "secretsmanager"} {
		// A run without a crash gives the points.
		w := newWorld(t)
		o := w.options()
		r := w.rotator(o)
		if _, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), sink(t, w.spec(kind), o)); err != nil {
			t.Fatal(err)
		}
		points := len(w.events)
		for i := 0; i < points; i++ {
			t.Run(fmt.Sprintf("%s/%d", kind, i), func(t *testing.T) {
				w := newWorld(t)
				w.writeProfile()
				o := w.options()
				journalDir := filepath.Join(w.dir, "custody")
				j, err := custody.Open(journalDir, custody.Meta{Endpoint: w.url})
				if err != nil {
					t.Fatal(err)
				}
				o.Journal = j
				n := 0
				var at string
				o.Audit = func(ev Event) {
					w.events = append(w.events, ev)
					if n == i {
						at = ev.point()
						panic(crash{})
					}
					n++
				}
				r := w.rotator(o)
				p := plan1(t, r, Target{UserName: "alice"})
				func() {
					defer func() {
						if v := recover(); v != nil && v != (crash{}) {
							panic(v)
						}
					}()
					_, _ = r.Apply(context.Background(), p, sink(t, w.spec(kind), o))
				}()
				_ = j.Close() // the process is gone; its journal stays
				o2 := w.optionsWith(w.options())
				o2.Audit = func(ev Event) { w.events = append(w.events, ev) }
				o2.CustodyDir = journalDir
				recs, err := w.rotator(o2).Continue(context.Background(), 0)
				// A rotation that could not go on says why; its state is
				// what checkInvariants judges.
				if err != nil && len(recs) == 1 && !recs[0].Step.Done() {
					t.Fatalf("crash %s: continue: %v", at, err)
				}
				if len(recs) > 1 {
					t.Fatalf("crash %s: %d rotations continued", at, len(recs))
				}
				w.checkInvariants(t, at, kind)
				// Continue settled the new key: nothing is left pending.
				if p, err := custody.ListPending(journalDir); err != nil || len(p) != 0 {
					t.Fatalf("crash %s: custody journal still pending %+v %v", at, p, err)
				}
			})
		}
	}
}

// spec is the sink of a kind in this world.
func (w *world) spec(kind string) string {
	switch kind {
	case "file":
		return "file:" + filepath.Join(w.dir, "alice.csv")
	case "profile":
		return "profile:alice"
	case "secretsmanager":
		return "secretsmanager:alice/key"
	}
	return kind
}

// writeProfile writes a credentials file whose profile alice holds the
// old key, next to another profile.
func (w *world) writeProfile() {
	data := "[default]\naws_access_key_id = AKIAOTHER00000000001\naws_secret_access_key = other\n\n[alice]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(w.dir, "credentials"), []byte(data), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) checkInvariants(t *testing.T, at, kind string) {
	t.Helper()
	l, err := OpenLedger(w.ledger)
	if err != nil {
		t.Fatal(err)
	}
	recs := l.Records()
	if len(recs) != 1 {
		t.Fatalf("crash %s: %d rotations in the ledger", at, len(recs))
	}
	rec := recs[0]
	keys := w.keys()
	if w.maxKeys > 2 {
		t.Fatalf("crash %s: alice had %d keys", at, w.maxKeys)
	}
	// The old key is touched only after the new one was verified.
	verified := false
	for _, ev := range w.events {
		if ev.Step == StepVerified && ev.Operation == "" && ev.Error == "" {
			verified = true
		}
		if ev.AccessKeyID == oldID && (ev.Operation == "DeleteAccessKey" || (ev.Operation == "UpdateAccessKey" && ev.Step == StepDeactivating)) && !verified {
			t.Fatalf("crash %s: %s of the old key before verification", at, ev.Operation)
		}
	}
	s := sink(t, w.spec(kind), w.options())
	t.Logf("crash %s: continue ended at %s", at, rec.Step)
	switch rec.Step {
	case StepFinished:
		if len(keys) != 1 || keys[rec.NewKeyID] != "Active" {
			t.Fatalf("crash %s: finished, keys %v", at, keys)
		}
		if sec, ok, _ := s.Recall(context.Background(), rec.NewKeyID); !ok || sec != w.secretOf(rec.NewKeyID) {
			t.Fatalf("crash %s: the sink does not hold the new key", at)
		}
		if kind == "profile" {
			if m, _ := filepath.Glob(filepath.Join(w.dir, "credentials.iamsql-*")); len(m) != 0 {
				t.Fatalf("crash %s: backups left: %v", at, m)
			}
		}
	case StepRolledBack, StepFailed:
		if len(keys) != 1 || keys[oldID] != "Active" {
			t.Fatalf("crash %s: %s, keys %v", at, rec.Step, keys)
		}
		if rec.NewKeyID != "" {
			if _, ok, _ := s.Recall(context.Background(), rec.NewKeyID); ok {
				t.Fatalf("crash %s: the sink still holds the deleted key", at)
			}
		}
		if kind == "profile" {
			if sec, ok, _ := s.Recall(context.Background(), oldID); !ok || sec != oldSecret {
				t.Fatalf("crash %s: the profile did not get the old key back", at)
			}
		}
	default:
		t.Fatalf("crash %s: continue left the rotation at %s (%s)", at, rec.Step, rec.Note)
	}
	// Custody: a key that exists is the old one or is held by the sink.
	for id := range keys {
		if id == oldID {
			continue
		}
		if sec, ok, _ := s.Recall(context.Background(), id); !ok || sec != w.secretOf(id) {
			t.Fatalf("crash %s: key %s exists and nobody holds its secret", at, id)
		}
	}
}

func TestFaultsBeforeTheOldKeyIsTouchedRollTheNewKeyBack(t *testing.T) {
	cases := []struct {
		name   string
		fault  func(w *world)
		spec   string
		calls  func(newID string) []string
		err    string
		step   Step
		hasNew bool
	}{{
		name:  "CreateAccessKey refused",
		fault: func(w *world) { w.e.FailNext("CreateAccessKey", "LimitExceeded", 1) },
		spec:  "stdout",
		calls: func(string) []string { return []string{"ListAccessKeys", "CreateAccessKey"} },
		err:   "LimitExceeded", step: StepFailed,
	}, {
		name:  "CreateAccessKey 5xx without acting",
		fault: func(w *world) { w.e.FailNext("CreateAccessKey", "ServiceFailure", 1) },
		spec:  "stdout",
		calls: func(string) []string { return []string{"ListAccessKeys", "CreateAccessKey", "ListAccessKeys"} },
		err:   "the outcome is unknown and it was not retried; IAM made no key: nothing was changed", step: StepFailed,
	}, {
		name:  "CreateAccessKey answer lost",
		fault: func(w *world) { w.e.DropNextAnswer("CreateAccessKey", 1) },
		spec:  "stdout",
		calls: func(id string) []string {
			return []string{"ListAccessKeys", "CreateAccessKey", "ListAccessKeys", "DeleteAccessKey " + id}
		},
		err: "the outcome is unknown and it was not retried", step: StepRolledBack, hasNew: true,
	}, {
		name:  "Secrets Manager refuses",
		fault: func(w *world) { w.e.FailNext("PutSecretValue", "AccessDenied", 1) },
		spec:  "secretsmanager:alice/key",
		calls: func(id string) []string {
			return []string{"ListAccessKeys", "CreateAccessKey", "PutSecretValue", "DeleteAccessKey " + id, "GetSecretValue"}
		},
		err: "delivering to secretsmanager:alice/key failed", step: StepRolledBack, hasNew: true,
	}, {
		name:  "STS refuses the new key",
		fault: func(w *world) { w.e.FailNext("GetCallerIdentity", "AccessDenied", 20) },
		spec:  "stdout",
		calls: func(id string) []string {
			c := []string{"ListAccessKeys", "CreateAccessKey"}
			for i := 0; i < 11; i++ {
				c = append(c, "GetCallerIdentity")
			}
			return append(c, "UpdateAccessKey "+oldID, "DeleteAccessKey "+id)
		},
		err: "did not verify within 1s", step: StepRolledBack, hasNew: true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			o := w.options()
			r := w.rotator(o)
			p := plan1(t, r, Target{UserName: "alice"})
			w.calls()
			c.fault(w)
			rec, err := r.Apply(context.Background(), p, sink(t, c.spec, o))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
			got := w.calls()
			newID := rec.NewKeyID
			if c.hasNew != (newID != "") {
				t.Fatalf("new key %q", newID)
			}
			wantCalls(t, append([]string{"ListAccessKeys"}, got...), c.calls(newID)...)
			w.checkLedger(c.step)
			if k := w.keys(); len(k) != 1 || k[oldID] != "Active" {
				t.Fatalf("keys %v", k)
			}
			if _, ok := w.e.Secret("us-east-1", "alice/key"); ok {
				t.Fatal("a secret was stored")
			}
		})
	}
}

func TestThrottledCallsAreRetriedAndAFailedDeactivationContinues(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	r := w.rotator(o)
	p := plan1(t, r, Target{UserName: "alice"})
	w.calls()
	w.e.FailNext("CreateAccessKey", "Throttling", 1)
	w.e.FailNext("GetCallerIdentity", "Throttling", 2)
	w.e.FailNext("UpdateAccessKey", "ServiceFailure", 1)
	rec, err := r.Apply(context.Background(), p, sink(t, "file:"+filepath.Join(w.dir, "k.csv"), o))
	if err == nil || !strings.Contains(err.Error(), "deactivating "+oldID) {
		t.Fatalf("err %v", err)
	}
	wantCalls(t, w.calls(), "CreateAccessKey", "CreateAccessKey", "GetCallerIdentity", "GetCallerIdentity", "GetCallerIdentity", "UpdateAccessKey "+oldID)
	w.checkLedger(StepDeactivating)
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "UpdateAccessKey "+oldID, "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	w.checkLedger(StepFinished)
	if k := w.keys(); len(k) != 1 || k[rec.NewKeyID] != "Active" {
		t.Fatalf("keys %v", k)
	}
}

// mountTmpfs mounts a small tmpfs for file-system faults (root only).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs for file-system faults (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// readOnlyTmpfs mounts an empty read-only tmpfs.
func readOnlyTmpfs(t *testing.T) string {
	t.Helper()
	fs := mountTmpfs(t, "64k")
	if out, err := exec.Command("mount", "-o", "remount,ro", fs).CombinedOutput(); err != nil {
		t.Skipf("remount ro: %v %s", err, out)
	}
	return fs
}

func TestFullOrReadOnlyFileSystem(t *testing.T) {
	t.Run("sink on a full file system", func(t *testing.T) {
		w := newWorld(t)
		fs := mountTmpfs(t, "8k")
		// Fill it: the credentials file leaves no room for its rewrite.
		data := "[alice]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\n#" + strings.Repeat("x", 5000) + "\n"
		if err := os.WriteFile(filepath.Join(fs, "credentials"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		o := w.options()
		o.Sinks.CredentialsFile = filepath.Join(fs, "credentials")
		r := w.rotator(o)
		p := plan1(t, r, Target{UserName: "alice"})
		w.calls()
		rec, err := r.Apply(context.Background(), p, sink(t, "profile:alice", o))
		if err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("err %v", err)
		}
		wantCalls(t, w.calls(), "CreateAccessKey", "DeleteAccessKey "+rec.NewKeyID)
		w.checkLedger(StepRolledBack)
		got, _ := os.ReadFile(filepath.Join(fs, "credentials"))
		if string(got) != data {
			t.Fatal("the credentials file changed")
		}
	})
	t.Run("ledger on a read-only file system", func(t *testing.T) {
		w := newWorld(t)
		fs := readOnlyTmpfs(t)
		w.ledger = filepath.Join(fs, "rotations.json")
		o := w.options()
		r := w.rotator(o)
		p := plan1(t, r, Target{UserName: "alice"})
		w.calls()
		_, err := r.Apply(context.Background(), p, sink(t, "stdout", o))
		if err == nil || !strings.Contains(err.Error(), "read-only file system; no key was created") {
			t.Fatalf("err %v", err)
		}
		wantCalls(t, w.calls())
		if k := w.keys(); len(k) != 1 {
			t.Fatalf("keys %v", k)
		}
	})
	t.Run("file sink on a read-only file system", func(t *testing.T) {
		w := newWorld(t)
		fs := readOnlyTmpfs(t)
		o := w.options()
		r := w.rotator(o)
		p := plan1(t, r, Target{UserName: "alice"})
		w.calls()
		rec, err := r.Apply(context.Background(), p, sink(t, "file:"+filepath.Join(fs, "k.csv"), o))
		if err == nil || !strings.Contains(err.Error(), "read-only file system") {
			t.Fatalf("err %v", err)
		}
		wantCalls(t, w.calls(), "CreateAccessKey", "DeleteAccessKey "+rec.NewKeyID)
		w.checkLedger(StepRolledBack)
	})
}
