package rotate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The helper process: it claims a key in a ledger (as a second iamsql
// process advancing that key's rotation would), says so, and holds the
// claim until it is killed.
func TestHelperProcessHoldsAClaim(t *testing.T) {
	ledger, key := os.Getenv("IAMSQL_TEST_CLAIM_LEDGER"), os.Getenv("IAMSQL_TEST_CLAIM_KEY")
	if ledger == "" {
		t.Skip("run by TestTwoProcessesCannotAdvanceOneRotation")
	}
	l, err := OpenLedger(ledger)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if _, err := l.Claim(key); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("claimed")
	time.Sleep(time.Hour)
}

// startClaimer starts the helper process holding the claim of key.
func startClaimer(t *testing.T, ledger, key string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessHoldsAClaim$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IAMSQL_TEST_CLAIM_LEDGER="+ledger, "IAMSQL_TEST_CLAIM_KEY="+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "claimed\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	return cmd
}

func TestTwoProcessesCannotAdvanceOneRotation(t *testing.T) {
	w := newWorld(t)
	o := w.options()
	o.Grace, o.DeleteAfter = 7*day, 0
	r := w.rotator(o)
	p := plan1(t, r, Target{UserName: "alice"})
	rec, err := r.Apply(context.Background(), p, sink(t, "secretsmanager:alice/key", o))
	if err != nil {
		t.Fatal(err)
	}
	w.calls()
	w.clk.Advance(8 * day)

	// Another process holds the rotation: every way to advance it here
	// is refused before any call, and the ledger is left as it was.
	helper := startClaimer(t, w.ledger, oldID)
	var busy *BusyError
	r2 := w.rotator(w.optionsWith(o))
	if _, err := r2.Continue(context.Background(), 0); !errors.As(err, &busy) || busy.KeyID != oldID {
		t.Fatalf("continue: %v", err)
	}
	if _, err := r2.Finish(context.Background(), rec.ID, false); !errors.As(err, &busy) {
		t.Fatalf("finish: %v", err)
	}
	if _, err := r2.Rollback(context.Background(), rec.ID); !errors.As(err, &busy) {
		t.Fatalf("rollback: %v", err)
	}
	// A plan made before the other process took the key cannot apply.
	if _, err := r2.Apply(context.Background(), p, sink(t, "secretsmanager:alice/key", o)); !errors.As(err, &busy) {
		t.Fatalf("apply: %v", err)
	}
	wantCalls(t, w.calls())
	w.checkLedger(StepVerified)

	// The holder dies (SIGKILL): the kernel drops its claim and
	// --continue finishes the rotation.
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	if _, err := w.rotator(w.optionsWith(o)).Continue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, w.calls(), "GetSecretValue", "UpdateAccessKey "+oldID, "GetAccessKeyLastUsed "+oldID, "DeleteAccessKey "+oldID)
	w.checkLedger(StepFinished)
}

// Two processes writing one ledger keep each other's rotations: every
// write merges into the file as it is now.
func TestLedgerWritesOfTwoHoldersMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rotations.json")
	a, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(Record{ID: "rot-a", OldKeyID: "AKIAAAAAAAAAAAAAAAAA", Step: StepCreating}); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(Record{ID: "rot-b", OldKeyID: "AKIABBBBBBBBBBBBBBBB", Step: StepCreating}); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(Record{ID: "rot-a", OldKeyID: "AKIAAAAAAAAAAAAAAAAA", Step: StepCreated}); err != nil {
		t.Fatal(err)
	}
	c, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Step{}
	for _, r := range c.Records() {
		got[r.ID] = r.Step
	}
	if len(got) != 2 || got["rot-a"] != StepCreated || got["rot-b"] != StepCreating {
		t.Fatalf("ledger %v", got)
	}
}

// A --delete-after under GetAccessKeyLastUsed's lag is named in the plan.
func TestPlanNamesTheLastUsedLag(t *testing.T) {
	w := newWorld(t)
	for d, want := range map[time.Duration]bool{0: true, 3 * time.Hour: true, LastUsedLag: false, 7 * day: false} {
		o := w.options()
		o.DeleteAfter = d
		p := plan1(t, w.rotator(o), Target{UserName: "alice"})
		last := p.Steps[len(p.Steps)-1]
		if got := strings.Contains(last, "GetAccessKeyLastUsed lags up to about 4 hours"); got != want {
			t.Errorf("--delete-after %v: %q", d, last)
		}
	}
}
