package rotate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// clock is the settable clock the emulator and the rotator share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	oldID     = "AKIAALICEOLDKEY00001"
	oldSecret = "aliceOldSecretaliceOldSecretaliceOldSecr"
)

// world is an emulated account with alice and her one old key, and what a
// rotation needs against it through the real SDK.
type world struct {
	t      *testing.T
	e      *emulator.Emulator
	url    string
	clk    *clock
	dir    string
	ledger string
	out    strings.Builder
	events []Event
	// maxKeys is the most keys alice had at any step.
	maxKeys int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clk: &clock{t: t0}, dir: t.TempDir()}
	w.ledger = filepath.Join(w.dir, "ledger", "rotations.json")
	w.e, w.url = emutest.Start(t, emulator.Options{Now: w.clk.Now, RandSeed: 7, CallLog: true})
	if err := w.e.AddUser(emulator.User{UserName: "alice", CreateDate: t0.Add(-400 * day)}); err != nil {
		t.Fatal(err)
	}
	if err := w.e.AddAccessKey(emulator.AccessKey{AccessKeyID: oldID, SecretAccessKey: oldSecret, UserName: "alice", Status: "Active", CreateDate: t0.Add(-200 * day)}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) cfg() aws.Config {
	return aws.Config{Region: "us-east-1", HTTPClient: emulator.NewHTTPClient(), Credentials: emutest.Credentials(emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey, "")}
}

func (w *world) sm() *secretsmanager.Client {
	return emutest.SecretsManagerClient(w.url, emutest.Credentials(emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey, ""), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
}

func (w *world) options() Options {
	l, err := OpenLedger(w.ledger)
	if err != nil {
		w.t.Fatal(err)
	}
	return Options{
		IAM:             emutest.Client(w.t, w.url, func(o *iam.Options) { o.RetryMaxAttempts = 1 }),
		Verify:          STSVerifier(w.cfg(), w.url),
		Ledger:          l,
		Sinks:           SinkOptions{Stdout: &w.out, SecretsManager: w.sm(), CredentialsFile: filepath.Join(w.dir, "credentials")},
		Now:             w.clk.Now,
		Audit:           func(ev Event) { w.events = append(w.events, ev) },
		Region:          "us-east-1",
		Account:         emulator.DefaultAccountID,
		PropagationWait: time.Second,
		RetryInterval:   100 * time.Millisecond,
		// Most tests delete at once; TestDeleteWaitsForTheLastUsedLag
		// tests the default.
		ForceDelete: true,
	}
}

func (w *world) rotator(o Options) *Rotator {
	w.t.Helper()
	r, err := New(o)
	if err != nil {
		w.t.Fatal(err)
	}
	r.afterStep = func(Record) { w.noteKeys() }
	return r
}

func (w *world) noteKeys() {
	n := len(w.keys())
	w.maxKeys = max(w.maxKeys, n)
	if n > 2 {
		w.t.Errorf("alice has %d keys", n)
	}
}

// keys are alice's keys in the emulator: id → status.
func (w *world) keys() map[string]string {
	m := map[string]string{}
	for _, k := range w.e.Snapshot().Keys {
		if k.UserName == "alice" {
			m[k.AccessKeyID] = k.Status
		}
	}
	return m
}

func (w *world) secretOf(id string) string {
	for _, k := range w.e.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.SecretAccessKey
		}
	}
	return ""
}

// calls are the emulator's calls since the last look, as "Op" or
// "Op KEYID" for calls that name a key.
func (w *world) calls() []string {
	var out []string
	for _, c := range w.e.CallLog() {
		s := c.Op
		if id := c.Params.Get("AccessKeyId"); id != "" {
			s += " " + id
		}
		out = append(out, s)
	}
	w.e.ResetCalls()
	w.e.SetCallLog(false)
	w.e.SetCallLog(true)
	return out
}

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("calls:\n got %q\nwant %q", got, want)
	}
}

// checkLedger asserts the ledger file holds no secret, is 0600, and that
// its one rotation is at step with the keys the emulator has.
func (w *world) checkLedger(step Step) Record {
	w.t.Helper()
	data, err := os.ReadFile(w.ledger)
	if err != nil {
		w.t.Fatal(err)
	}
	if st, _ := os.Stat(w.ledger); st.Mode().Perm() != 0o600 {
		w.t.Fatalf("ledger mode %v", st.Mode().Perm())
	}
	for _, k := range w.e.Snapshot().Keys {
		if strings.Contains(string(data), k.SecretAccessKey) {
			w.t.Fatalf("the ledger holds the secret of %s", k.AccessKeyID)
		}
	}
	if strings.Contains(string(data), oldSecret) {
		w.t.Fatal("the ledger holds the old secret")
	}
	l, err := OpenLedger(w.ledger)
	if err != nil {
		w.t.Fatal(err)
	}
	recs := l.Records()
	if len(recs) != 1 || recs[0].Step != step {
		w.t.Fatalf("ledger %+v, want one rotation at %s", recs, step)
	}
	return recs[0]
}

func plan1(t *testing.T, r *Rotator, target Target) Plan {
	t.Helper()
	ps, err := r.Plan(context.Background(), []Target{target})
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

func sink(t *testing.T, spec string, o Options) Sink {
	t.Helper()
	s, err := ParseSink(spec, o.Sinks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPlanSaysWhatBlocksARotationAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	r := w.rotator(o)
	p := plan1(t, r, Target{UserName: "alice"})
	if p.Blocked != "" || p.OldKeyID != oldID || p.RemoveKeyID != "" || len(p.Steps) != 5 {
		t.Fatalf("plan %+v", p)
	}
	if want := "deactivate " + oldID + " at once after verification"; p.Steps[3] != want {
		t.Fatalf("step %q, want %q", p.Steps[3], want)
	}
	wantCalls(t, w.calls(), "ListAccessKeys")

	// A second, active key is never touched.
	if err := w.e.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAALICESECOND00001", UserName: "alice", Status: "Active", CreateDate: t0.Add(-100 * day)}); err != nil {
		t.Fatal(err)
	}
	p = plan1(t, r, Target{UserName: "alice", AccessKeyID: oldID})
	if want := "alice already has two keys and its other key AKIAALICESECOND00001 is active: an active second key is never touched; deactivate or delete it first"; p.Blocked != want {
		t.Fatalf("blocked %q", p.Blocked)
	}
	if p = plan1(t, r, Target{UserName: "alice"}); p.Blocked != "user alice has two keys: name the one to rotate (AccessKeyId)" {
		t.Fatalf("blocked %q", p.Blocked)
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "ListAccessKeys")

	// An inactive one: only with --make-room, and only when unused long enough.
	if _, err := emutest.Client(t, w.url).UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{AccessKeyId: aws.String("AKIAALICESECOND00001"), UserName: aws.String("alice"), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	w.calls()
	if p = plan1(t, r, Target{UserName: "alice", AccessKeyID: oldID}); p.Blocked != "alice already has two keys (IAM allows two): allow deleting the inactive key AKIAALICESECOND00001 with --make-room DAYS (in SQL: MakeRoom, e.g. '30d')" {
		t.Fatalf("blocked %q", p.Blocked)
	}
	o.MakeRoom, o.MakeRoomAfter = true, 180*day
	r = w.rotator(o)
	if p = plan1(t, r, Target{UserName: "alice", AccessKeyID: oldID}); p.Blocked != "alice already has two keys and its inactive key AKIAALICESECOND00001 was created 100 days ago, less than --make-room 180 days" {
		t.Fatalf("blocked %q", p.Blocked)
	}
	o.MakeRoomAfter = 90 * day
	r = w.rotator(o)
	p = plan1(t, r, Target{UserName: "alice", AccessKeyID: oldID})
	if p.Blocked != "" || p.RemoveKeyID != "AKIAALICESECOND00001" || p.Steps[0] != "delete the inactive key AKIAALICESECOND00001 (created 100 days ago) to make room" {
		t.Fatalf("plan %+v", p)
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "ListAccessKeys", "GetAccessKeyLastUsed AKIAALICESECOND00001", "ListAccessKeys", "GetAccessKeyLastUsed AKIAALICESECOND00001")
	if _, err := os.Stat(w.ledger); !os.IsNotExist(err) {
		t.Fatalf("a plan wrote the ledger: %v", err)
	}
	// Bad parameters are refused before any call.
	if _, err := r.Plan(context.Background(), []Target{{UserName: "bad name!"}}); err == nil {
		t.Fatal("a bad UserName was accepted")
	}
	wantCalls(t, w.calls())

	// With make-room, the apply deletes the inactive key first.
	if _, err := r.Apply(context.Background(), p, sink(t, "stdout", o)); err != nil {
		t.Fatal(err)
	}
	rec := w.checkLedger(StepFinished)
	if rec.RemovedKeyID != "AKIAALICESECOND00001" || len(w.keys()) != 1 || w.maxKeys != 2 {
		t.Fatalf("after make-room: %+v keys %v max %d", rec, w.keys(), w.maxKeys)
	}
}

func TestRotateToAFileAtOnce(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	r := w.rotator(o)
	p := plan1(t, r, Target{UserName: "alice"})
	path := filepath.Join(w.dir, "alice.csv")
	rec, err := r.Apply(context.Background(), p, sink(t, "file:"+path, o))
	if err != nil {
		t.Fatal(err)
	}
	newID := rec.NewKeyID
	if got := w.keys(); len(got) != 1 || got[newID] != "Active" {
		t.Fatalf("keys %v", got)
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity",
		"UpdateAccessKey "+oldID, "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Access key ID,Secret access key\n" + newID + "," + w.secretOf(newID) + "\n"; string(data) != want {
		t.Fatalf("file %q, want %q", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	got := w.checkLedger(StepFinished)
	if got.Verified == nil || got.Deactivated == nil || got.Ended == nil || got.Sink != "file:"+path || got.UserName != "alice" || got.Account != emulator.DefaultAccountID {
		t.Fatalf("record %+v", got)
	}
	var steps []Step
	for _, ev := range w.events {
		if ev.Operation == "" {
			steps = append(steps, ev.Step)
		}
		if strings.Contains(ev.Error, w.secretOf(newID)) {
			t.Fatal("an audit event holds the secret")
		}
	}
	want := []Step{StepCreating, StepCreated, StepDelivering, StepDelivered, StepVerified, StepDeactivating, StepDeactivated, StepDeleting, StepFinished}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	if w.maxKeys != 2 {
		t.Fatalf("at most %d keys", w.maxKeys)
	}
}

func TestGraceThenContinueDeactivatesAndDeletes(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.Grace, o.DeleteAfter = 7*day, 7*day
	r := w.rotator(o)
	rec, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), sink(t, "secretsmanager:alice/key", o))
	if err != nil {
		t.Fatal(err)
	}
	newID := rec.NewKeyID
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "PutSecretValue", "CreateSecret", "GetCallerIdentity")
	v, _ := w.e.Secret("us-east-1", "alice/key")
	var got map[string]string
	if err := json.Unmarshal([]byte(v), &got); err != nil || got["AccessKeyId"] != newID || got["SecretAccessKey"] != w.secretOf(newID) || len(got) != 2 {
		t.Fatalf("secret %v %v", got, err)
	}
	w.checkLedger(StepVerified)
	if k := w.keys(); k[oldID] != "Active" || k[newID] != "Active" {
		t.Fatalf("keys %v", k)
	}
	// Before the grace ends, continue does nothing but read the sink back.
	w.clk.Advance(6 * day)
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetSecretValue")
	w.checkLedger(StepVerified)
	w.clk.Advance(day)
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetSecretValue", "UpdateAccessKey "+oldID)
	w.checkLedger(StepDeactivated)
	w.clk.Advance(7 * day)
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetSecretValue", "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	w.checkLedger(StepFinished)
	if k := w.keys(); len(k) != 1 || k[newID] != "Active" {
		t.Fatalf("keys %v", k)
	}
}

// optionsWith is o with a freshly read ledger: a later run of iamsql.
func (w *world) optionsWith(o Options) Options {
	l, err := OpenLedger(w.ledger)
	if err != nil {
		w.t.Fatal(err)
	}
	o.Ledger = l
	return o
}

func TestOldKeyUsedAfterTheSwitchIsKeptInactive(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.Grace, o.DeleteAfter = day, 7*day
	r := w.rotator(o)
	if _, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), sink(t, "file:"+filepath.Join(w.dir, "k.csv"), o)); err != nil {
		t.Fatal(err)
	}
	// Something still signs with the old key during the grace period.
	w.clk.Advance(time.Hour)
	old := emutest.STSClient(w.url, emutest.Credentials(oldID, oldSecret, ""), func(o *sts.Options) { o.Region = "eu-west-1" })
	if _, err := old.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(day)
	w.calls()
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "UpdateAccessKey "+oldID)
	w.clk.Advance(7 * day)
	recs, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetAccessKeyLastUsed "+oldID)
	rec := w.checkLedger(StepKept)
	want := "the old key " + oldID + " was used after the switch (2026-03-01T13:00:00Z, by iam in eu-west-1): left inactive, not deleted; find what still uses it"
	if rec.Note != want || recs[0].Note != want {
		t.Fatalf("note %q, want %q", rec.Note, want)
	}
	if k := w.keys(); k[oldID] != "Inactive" || len(k) != 2 {
		t.Fatalf("keys %v", k)
	}
}

func TestVerificationWaitsForPropagation(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	n := 0
	r := w.rotator(o)
	r.beforeVerify = func() {
		n++
		if n == 4 {
			w.clk.Advance(5 * time.Second) // the key has propagated
		}
	}
	w.e.SetPropagationDelay(5 * time.Second)
	rec, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), sink(t, "stdout", o))
	if err != nil {
		t.Fatal(err)
	}
	// Refused signatures are not counted: one GetCallerIdentity answered.
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity", "UpdateAccessKey "+oldID, "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	if n != 4 || rec.Step != StepFinished {
		t.Fatalf("%d attempts, step %s", n, rec.Step)
	}
	var refused int
	for _, ev := range w.events {
		if ev.Operation == "GetCallerIdentity" && strings.Contains(ev.Error, "InvalidClientTokenId") {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d refused attempts audited, want 3", refused)
	}
	if !strings.Contains(w.out.String(), rec.NewKeyID) || strings.Count(w.out.String(), w.secretOf(rec.NewKeyID)) != 1 {
		t.Fatalf("stdout %q", w.out.String())
	}
}

func TestAKeyThatNeverVerifiesIsRolledBack(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	r := w.rotator(o)
	w.e.SetPropagationDelay(time.Hour)
	path := filepath.Join(w.dir, "k.csv")
	rec, err := r.Apply(context.Background(), plan1(t, r, Target{UserName: "alice"}), sink(t, "file:"+path, o))
	if err == nil || !strings.Contains(err.Error(), "did not verify within 1s") {
		t.Fatalf("err %v", err)
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "UpdateAccessKey "+oldID, "DeleteAccessKey "+rec.NewKeyID)
	w.checkLedger(StepRolledBack)
	if k := w.keys(); len(k) != 1 || k[oldID] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the rolled-back key's file is still there: %v", err)
	}
}

func TestRollbackReactivatesTheOldKeyAndRestoresTheSecret(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.Grace, o.DeleteAfter = 0, 30*day
	ctx := context.Background()
	// The secret held a previous key.
	if _, err := w.sm().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("alice/key"), SecretString: aws.String(`{"AccessKeyId":"` + oldID + `","SecretAccessKey":"` + oldSecret + `"}`)}); err != nil {
		t.Fatal(err)
	}
	r := w.rotator(o)
	rec, err := r.Apply(ctx, plan1(t, r, Target{UserName: "alice"}), sink(t, "secretsmanager:alice/key", o))
	if err != nil {
		t.Fatal(err)
	}
	w.checkLedger(StepDeactivated)
	w.calls()
	got, err := w.rotator(w.optionsWith(o)).Rollback(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetSecretValue", "UpdateAccessKey "+oldID, "DeleteAccessKey "+rec.NewKeyID, "GetSecretValue", "GetSecretValue", "PutSecretValue")
	if got.Step != StepRolledBack {
		t.Fatalf("step %s", got.Step)
	}
	w.checkLedger(StepRolledBack)
	if k := w.keys(); len(k) != 1 || k[oldID] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if v, _ := w.e.Secret("us-east-1", "alice/key"); !strings.Contains(v, oldID) {
		t.Fatalf("secret %q", v)
	}
	if _, err := w.rotator(w.optionsWith(o)).Rollback(ctx, rec.ID); err == nil || !strings.Contains(err.Error(), "nothing to roll back") {
		t.Fatalf("second rollback: %v", err)
	}
}

// The old key is deleted no sooner than LastUsedLag after its
// deactivation, whatever DeleteAfter and --finish say: only then does
// GetAccessKeyLastUsed show every use made while it was active. The plan
// and the ledger say from when; --force (ForceDelete) deletes sooner.
func TestDeleteWaitsForTheLastUsedLag(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.ForceDelete = false
	r := w.rotator(o)
	p := plan1(t, r, Target{UserName: "alice"})
	if want := "delete " + oldID + " 4 hours after deactivation at the earliest, if nothing used it after verification " +
		"(GetAccessKeyLastUsed lags up to about 4 hours: only then does it show every use; --force deletes sooner)"; p.Steps[4] != want {
		t.Fatalf("step %q", p.Steps[4])
	}
	ctx := context.Background()
	rec, err := r.Apply(ctx, p, sink(t, "file:"+filepath.Join(w.dir, "k.csv"), o))
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity", "UpdateAccessKey "+oldID)
	got := w.checkLedger(StepDeactivated)
	if due := got.Due(w.clk.Now()); !due.Equal(t0.Add(LastUsedLag)) || !strings.Contains(got.Note, "deleting it is possible from 2026-03-01T16:00:00Z") {
		t.Fatalf("due %v, note %q", due, got.Note)
	}
	// Neither --continue nor --finish deletes it before the lag.
	w.clk.Advance(3 * time.Hour)
	if _, err := w.rotator(w.optionsWith(o)).Continue(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if rec, err = w.rotator(w.optionsWith(o)).Finish(ctx, rec.ID, false); err != nil || rec.Step != StepDeactivated {
		t.Fatalf("finish: %s %v", rec.Step, err)
	}
	wantCalls(t, w.calls())
	if k := w.keys(); k[oldID] != "Inactive" {
		t.Fatalf("keys %v", k)
	}
	w.clk.Advance(time.Hour)
	if _, err := w.rotator(w.optionsWith(o)).Continue(ctx, 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	w.checkLedger(StepFinished)

	// --finish --force deletes right after deactivating, and the ledger
	// records it.
	w2 := newWorld(t)
	o2 := w2.options()
	o2.ForceDelete, o2.Grace = false, 7*day
	r2 := w2.rotator(o2)
	rec2, err := r2.Apply(ctx, plan1(t, r2, Target{UserName: "alice"}), sink(t, "file:"+filepath.Join(w2.dir, "k.csv"), o2))
	if err != nil {
		t.Fatal(err)
	}
	w2.calls()
	if rec2, err = w2.rotator(w2.optionsWith(o2)).Finish(ctx, rec2.ID, true); err != nil || rec2.Step != StepFinished || !rec2.ForceDelete {
		t.Fatalf("finish --force: %+v %v", rec2, err)
	}
	wantCalls(t, w2.calls(), "UpdateAccessKey "+oldID, "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
}
