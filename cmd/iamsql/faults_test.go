package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// The secret-custody fault matrix (issue 14): every key iamsql creates
// ends with its secret delivered to its creator or the key deleted again,
// else named as orphaned and journaled — under every signal, statement
// timeouts, client disconnects, server shutdown and IAM faults, on every
// front end.
//
// A case is a front end (exec, a script on stdin, the shell in a
// pseudo-terminal, serve with the mariadb CLI) × a fault (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGKILL; serve also: its --statement-timeout, the
// client disconnecting, a shutdown that cancels running statements) × the
// moment it comes:
//
//   - before-create: CreateAccessKey reached IAM, which has not acted yet
//     (latency before acting);
//   - holding-create: IAM created the key and holds its answer;
//   - between-rows: a three-row INSERT whose first key was answered, the
//     second on its way (latency and answer delay on every create);
//   - rollback-delete: a two-row INSERT whose second row IAM refused
//     (LimitExceeded: alice has two keys) is deleting its first key again,
//     and IAM has not acted on the delete yet;
//   - rollback-delete-denied: the same, and IAM will deny the delete:
//     the key is left, to be named as orphaned;
//   - never-answered: IAM created the key and its answer never comes:
//     the custody wait runs out (about 10 s) or a second signal cuts it;
//   - rollback-delete-hangs: IAM never acts on the rollback delete: the
//     same bound, the same second signal.
//
// plus IAM faults with no other fault: a throttled create (retried), a
// create refused with a 5xx (not retried: the outcome is unknown), a
// create whose answer is dropped, and the rollback delete denied,
// throttled beyond its retries, refused with a 5xx, or its answer
// dropped; over serve both with a client that reads created_access_keys
// and one that never does (+unread: the server settles at the close).
//
// The statement rotates through the forms that create keys: INSERT …
// VALUES, INSERT IGNORE, the StackQL INSERT INTO aws.iam_api.access_keys …
// SELECT, and CALL create_access_key (one key only).
//
// Combinations that do not exist are left out:
//   - a statement timeout outside serve: exec, scripts and the shell have
//     none (serve's --statement-timeout is the only one);
//   - a client disconnect outside serve: their client is the terminal or
//     the reader of stdout; a terminal that goes away is the shell's
//     SIGHUP case (the pseudo-terminal is closed), a reader that goes away
//     is TestASecretThatCannotBeWrittenIsNotDelivered;
//   - a server shutdown outside serve: there is no server (their shutdown
//     is the signals);
//   - a second SIGKILL: the first one ends the process;
//   - CALL in the multi-row moments: it creates one key per statement.
//
// After each case checkCustody (faults_oracle_test.go) compares the keys
// in the emulator with the secrets delivered, what the user was told, the
// audit log and the custody journal. Besides, a second signal must end
// the custody wait within secondSignalBound, exec and scripts exit 1
// after a failed statement, and each IAM fault has its own expectations
// (retried or not, the outcome named unknown, the orphan named).
//
// `go test` runs a representative subset: each fault kind, front end and
// moment at least once. IAMSQL_FAULTS=full (make test-faults) runs all;
// IAMSQL_FAULTS_DEBUG=1 logs what each case received, was told and audited.

type faultFront string

const (
	frontExec   faultFront = "exec"
	frontScript faultFront = "script"
	frontShell  faultFront = "shell"
	frontServe  faultFront = "serve"
)

var faultFronts = []faultFront{frontExec, frontScript, frontShell, frontServe}

type faultKind string

const (
	faultINT        faultKind = "INT"
	faultTERM       faultKind = "TERM"
	faultHUP        faultKind = "HUP"
	faultQUIT       faultKind = "QUIT"
	faultKILL       faultKind = "KILL"
	faultTimeout    faultKind = "timeout"
	faultDisconnect faultKind = "disconnect"
	faultShutdown   faultKind = "shutdown"
	faultNone       faultKind = "iam-only"
)

var faultSignals = []faultKind{faultINT, faultTERM, faultHUP, faultQUIT, faultKILL}

// faultsOf are the faults that exist for a front end.
func faultsOf(f faultFront) []faultKind {
	if f == frontServe {
		return append(append([]faultKind{}, faultSignals...), faultTimeout, faultDisconnect, faultShutdown)
	}
	return faultSignals
}

// createForm is a statement form that creates keys.
type createForm string

const (
	formValues  createForm = "values"
	formIgnore  createForm = "ignore"
	formStackQL createForm = "stackql"
	formCall    createForm = "call"
)

func (f createForm) sql(users []string) string {
	rows := make([]string, len(users))
	for i, u := range users {
		rows[i] = fmt.Sprintf("('%s', 'us-east-1')", u)
	}
	switch f {
	case formIgnore:
		return "INSERT IGNORE INTO access_keys (UserName, region) VALUES " + strings.Join(rows, ", ")
	case formStackQL:
		for i, u := range users {
			rows[i] = fmt.Sprintf("SELECT '%s', 'us-east-1'", u)
		}
		return "INSERT INTO aws.iam_api.access_keys (UserName, region) " + strings.Join(rows, " UNION ALL ")
	case formCall:
		return fmt.Sprintf("CALL create_access_key('us-east-1', '%s')", users[0])
	}
	return "INSERT INTO access_keys (UserName, region) VALUES " + strings.Join(rows, ", ")
}

// faultScenario is the IAM side of a case: the statement's users, the
// emulator's hooks and the moment the fault is due.
type faultScenario struct {
	name string
	// users get a key each, in this order.
	users []string
	setup func(e *emulator.Emulator)
	// moment reports that the fault is due; nil for IAM faults alone.
	moment func(w *faultWorld) bool
	// timeout is serve's --statement-timeout that falls on the moment.
	timeout time.Duration
	// expect checks what is particular to the scenario.
	expect func(w *faultWorld, c faultCase, out faultOutcome) []string
	// succeeds: with no other fault the statement succeeds.
	succeeds bool
}

func (s *faultScenario) forms() []createForm {
	if len(s.users) > 1 {
		return []createForm{formValues, formIgnore, formStackQL}
	}
	return []createForm{formValues, formCall, formIgnore, formStackQL}
}

// secondSignalBound is how long a statement, or the process, may go on
// after a second signal: long enough to name and journal what is left,
// far shorter than the custody wait it cuts (provider.DefaultCustodyWait).
const secondSignalBound = 3 * time.Second

const (
	opCreate = "CreateAccessKey"
	opDelete = "DeleteAccessKey"
)

var (
	scenarioBeforeCreate = &faultScenario{
		name:  "before-create",
		users: []string{"dave"},
		setup: func(e *emulator.Emulator) { e.SetOperationLatency(opCreate, 1500*time.Millisecond) },
		moment: func(w *faultWorld) bool {
			n, _ := w.calls(opCreate, 200)
			return n >= 1 && w.newKeysOf("dave") == 0
		},
		timeout: 500 * time.Millisecond,
	}
	scenarioHoldingCreate = &faultScenario{
		name:    "holding-create",
		users:   []string{"dave"},
		setup:   func(e *emulator.Emulator) { e.SetAnswerDelay(opCreate, 1500*time.Millisecond) },
		moment:  func(w *faultWorld) bool { return w.newKeysOf("dave") == 1 },
		timeout: 500 * time.Millisecond,
	}
	scenarioBetweenRows = &faultScenario{
		name:  "between-rows",
		users: []string{"dave", "bob", "erin"},
		setup: func(e *emulator.Emulator) {
			e.SetOperationLatency(opCreate, 600*time.Millisecond)
			e.SetAnswerDelay(opCreate, 400*time.Millisecond)
		},
		moment: func(w *faultWorld) bool {
			_, answered := w.calls(opCreate, 200)
			return answered >= 1
		},
		// Row 1 is answered at about 1 s, row 2 acted on at 1.6 s.
		timeout: 1300 * time.Millisecond,
	}
	scenarioRollbackDelete = &faultScenario{
		name:  "rollback-delete",
		users: []string{"dave", "alice"},
		setup: func(e *emulator.Emulator) {
			e.SetOperationLatency(opDelete, time.Second)
			e.SetAnswerDelay(opDelete, 300*time.Millisecond)
		},
		moment: func(w *faultWorld) bool {
			n, _ := w.calls(opDelete, 200)
			return n >= 1
		},
		timeout: 500 * time.Millisecond,
	}
	scenarioNeverAnswered = &faultScenario{
		name:    "never-answered",
		users:   []string{"dave"},
		setup:   func(e *emulator.Emulator) { e.SetAnswerDelay(opCreate, time.Hour) },
		moment:  func(w *faultWorld) bool { return w.newKeysOf("dave") == 1 },
		timeout: 500 * time.Millisecond,
	}
	scenarioRollbackDenied = &faultScenario{
		name:  "rollback-delete-denied",
		users: []string{"dave", "alice"},
		setup: func(e *emulator.Emulator) {
			e.SetOperationLatency(opDelete, time.Second)
			e.Deny(opDelete, "dave")
		},
		moment: func(w *faultWorld) bool {
			n, _ := w.calls(opDelete, 200)
			return n >= 1
		},
		timeout: 500 * time.Millisecond,
	}
	scenarioRollbackHangs = &faultScenario{
		name:  "rollback-delete-hangs",
		users: []string{"dave", "alice"},
		setup: func(e *emulator.Emulator) { e.SetOperationLatency(opDelete, time.Hour) },
		moment: func(w *faultWorld) bool {
			n, _ := w.calls(opDelete, 200)
			return n >= 1
		},
		timeout: 500 * time.Millisecond,
	}

	scenarioCreateThrottled = &faultScenario{
		name:     "create-throttled",
		users:    []string{"dave"},
		succeeds: true,
		setup:    func(e *emulator.Emulator) { e.FailNext(opCreate, "Throttling", 2) },
		expect: func(w *faultWorld, c faultCase, out faultOutcome) []string {
			var bad []string
			if n, _ := w.calls(opCreate, 200); n != 3 {
				bad = append(bad, fmt.Sprintf("CreateAccessKey was sent %d times, want 3 (twice throttled, then created)", n))
			}
			if w.newKeysOf("dave") != 1 || len(secretsIn(out.received)) == 0 {
				bad = append(bad, "the throttled create did not end with dave's key delivered")
			}
			return bad
		},
	}
	scenarioCreate5xx = &faultScenario{
		name:  "create-5xx",
		users: []string{"dave"},
		setup: func(e *emulator.Emulator) { e.FailNext(opCreate, "ServiceFailure", 1) },
		expect: func(w *faultWorld, c faultCase, out faultOutcome) []string {
			var bad []string
			if n, _ := w.calls(opCreate, 200); n != 1 {
				bad = append(bad, fmt.Sprintf("CreateAccessKey was sent %d times after a 5xx, want 1 (never retried)", n))
			}
			if !strings.Contains(out.told, "outcome is unknown") {
				bad = append(bad, "the user was not told the outcome of the create is unknown")
			}
			return bad
		},
	}
	scenarioCreateDropped = &faultScenario{
		name:  "create-dropped",
		users: []string{"dave"},
		setup: func(e *emulator.Emulator) { e.DropNextAnswer(opCreate, 1) },
		expect: func(w *faultWorld, c faultCase, out faultOutcome) []string {
			var bad []string
			if n, _ := w.calls(opCreate, 200); n != 1 {
				bad = append(bad, fmt.Sprintf("CreateAccessKey was sent %d times after a lost answer, want 1 (never retried)", n))
			}
			if !strings.Contains(out.told, "outcome is unknown") {
				bad = append(bad, "the user was not told the outcome of the create is unknown")
			}
			return bad
		},
	}
	scenarioDeleteDenied = &faultScenario{
		name:   "delete-denied",
		users:  []string{"dave", "alice"},
		setup:  func(e *emulator.Emulator) { e.Deny(opDelete, "dave") },
		expect: wantOrphanNamed,
	}
	scenarioDeleteThrottled = &faultScenario{
		name:   "delete-throttled",
		users:  []string{"dave", "alice"},
		setup:  func(e *emulator.Emulator) { e.FailNext(opDelete, "Throttling", 10000) },
		expect: wantOrphanNamed,
	}
	scenarioDelete5xx = &faultScenario{
		name:  "delete-5xx",
		users: []string{"dave", "alice"},
		setup: func(e *emulator.Emulator) { e.FailNext(opDelete, "ServiceFailure", 1) },
	}
	scenarioDeleteDropped = &faultScenario{
		name:  "delete-dropped",
		users: []string{"dave", "alice"},
		setup: func(e *emulator.Emulator) { e.DropNextAnswer(opDelete, 1) },
		expect: func(w *faultWorld, c faultCase, out faultOutcome) []string {
			// The SDK sends the delete again; IAM answers NoSuchEntity:
			// the key is gone, which is what the rollback wanted.
			if w.newKeysOf("dave") != 0 {
				return []string{"a rollback delete whose answer was lost left dave's key"}
			}
			return nil
		},
	}
)

// wantOrphanNamed: the rollback could not delete dave's key, which the
// user is told by key id.
func wantOrphanNamed(w *faultWorld, c faultCase, out faultOutcome) []string {
	var ids []string
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == "dave" {
			ids = append(ids, k.AccessKeyID)
		}
	}
	if len(ids) != 1 {
		return []string{fmt.Sprintf("dave has keys %v after a rollback delete that failed, want the one created", ids)}
	}
	if !namedOrphaned(out.told)[ids[0]] {
		return []string{fmt.Sprintf("the user was not told that key %s could not be deleted again", ids[0])}
	}
	return nil
}

var (
	faultMoments  = []*faultScenario{scenarioBeforeCreate, scenarioHoldingCreate, scenarioBetweenRows, scenarioRollbackDelete, scenarioRollbackDenied}
	iamOnlyFaults = []*faultScenario{scenarioCreateThrottled, scenarioCreate5xx, scenarioCreateDropped, scenarioDeleteDenied, scenarioDeleteThrottled, scenarioDelete5xx, scenarioDeleteDropped}
	// faultSubsetIDs is what `go test` runs: every front end, fault kind,
	// moment and IAM fault at least once, in well under a minute.
	faultSubsetIDs = map[string]bool{
		"exec/INT/holding-create":                true,
		"exec/QUIT/rollback-delete":              true,
		"exec/KILL/between-rows":                 true,
		"exec/TERM/rollback-delete-denied":       true,
		"exec/INT+second/never-answered":         true,
		"exec/iam-only/create-dropped":           true,
		"exec/iam-only/delete-dropped":           true,
		"script/HUP/before-create":               true,
		"script/TERM/rollback-delete":            true,
		"script/iam-only/create-5xx":             true,
		"shell/INT/holding-create":               true,
		"shell/HUP/between-rows":                 true,
		"shell/TERM/rollback-delete":             true,
		"shell/INT+second/never-answered":        true,
		"shell/INT+second/rollback-delete-hangs": true,
		"shell/iam-only/create-throttled":        true,
		"serve/QUIT/before-create":               true,
		"serve/KILL/holding-create":              true,
		"serve/timeout/holding-create":           true,
		"serve/disconnect/between-rows":          true,
		"serve/disconnect/never-answered":        true,
		"serve/shutdown/rollback-delete":         true,
		"serve/timeout/rollback-delete-denied":   true,
		"serve/TERM+second/never-answered":       true,
		"serve/iam-only/delete-denied":           true,
		"serve/iam-only/delete-denied+unread":    true,
	}
)

// faultCase is one cell of the matrix.
type faultCase struct {
	front faultFront
	fault faultKind
	sc    *faultScenario
	form  createForm
	// second: the fault's signal comes twice; the second cuts the
	// custody wait short.
	second bool
	// unread: serve's client sends the statement alone and never reads
	// created_access_keys, so the server settles the keys at the close.
	unread bool
}

// id names the case without its statement form.
func (c faultCase) id() string {
	f := string(c.fault)
	if c.second {
		f += "+second"
	}
	p := c.sc.name
	if c.unread {
		p += "+unread"
	}
	return fmt.Sprintf("%s/%s/%s", c.front, f, p)
}

func (c faultCase) name() string { return c.id() + "/" + string(c.form) }

func (c faultCase) sql() string { return c.form.sql(c.sc.users) }

// wantExit is the exit status of exec and scripts: 1 when the statement
// failed (a signal cancels it), 0 when it succeeded. The shell and serve
// outlive their statements, and SIGKILL decides for itself.
func (c faultCase) wantExit() (int, bool) {
	if (c.front != frontExec && c.front != frontScript) || c.fault == faultKILL {
		return 0, false
	}
	if c.fault == faultNone && c.sc.succeeds {
		return 0, true
	}
	return 1, true
}

// faultMatrix is every case; forms rotate so that each front end meets
// every form at every moment.
func faultMatrix() []faultCase {
	var cases []faultCase
	for _, fe := range faultFronts {
		for pi, sc := range faultMoments {
			forms := sc.forms()
			for fi, f := range faultsOf(fe) {
				cases = append(cases, faultCase{front: fe, fault: f, sc: sc, form: forms[(fi+pi)%len(forms)]})
			}
		}
		// An answer that never comes: the first signal waits the custody
		// bound out, a second one cuts it.
		never := []faultCase{
			{fault: faultINT, second: true, form: formValues},
			{fault: faultTERM, form: formCall},
		}
		if fe == frontServe {
			never = []faultCase{
				{fault: faultTERM, second: true, form: formValues},
				{fault: faultTimeout, form: formCall},
				{fault: faultDisconnect, form: formStackQL},
			}
		}
		for _, c := range never {
			c.front, c.sc = fe, scenarioNeverAnswered
			cases = append(cases, c)
		}
		// A rollback delete IAM never acts on: the same bound, the same
		// second signal.
		hangs := []faultCase{
			{fault: faultINT, second: true, form: formIgnore},
			{fault: faultQUIT, form: formStackQL},
		}
		if fe == frontServe {
			hangs = []faultCase{
				{fault: faultINT, second: true, form: formIgnore},
				{fault: faultTimeout, form: formStackQL},
			}
		}
		for _, c := range hangs {
			c.front, c.sc = fe, scenarioRollbackHangs
			cases = append(cases, c)
		}
		for i, sc := range iamOnlyFaults {
			forms := sc.forms()
			cases = append(cases, faultCase{front: fe, fault: faultNone, sc: sc, form: forms[i%len(forms)]})
			if fe == frontServe && sc.name != "create-5xx" {
				cases = append(cases, faultCase{front: fe, fault: faultNone, sc: sc, form: forms[(i+1)%len(forms)], unread: true})
			}
		}
	}
	return cases
}

// faultSummary collects the cases' results for the closing report.
type faultSummary struct {
	mu      sync.Mutex
	run     int
	passed  int
	skipped int
	failed  []string
	tally   custodyTally
}

// add records how a case ended, once it ended.
func (s *faultSummary) add(t *testing.T, name string, tally custodyTally) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run++
	switch {
	case t.Failed():
		s.failed = append(s.failed, name)
	case t.Skipped():
		s.skipped++
	default:
		s.passed++
	}
	s.tally.add(tally)
}

func TestSecretCustodyFaultMatrix(t *testing.T) {
	full := os.Getenv("IAMSQL_FAULTS") == "full"
	binary(t) // built once, before the cases start their clocks
	var sum faultSummary
	start := time.Now()
	all := faultMatrix()
	ids := map[string]bool{}
	for _, c := range all {
		ids[c.id()] = true
	}
	for id := range faultSubsetIDs {
		if !ids[id] {
			t.Errorf("the subset names %s, which is not in the matrix", id)
		}
	}
	t.Run("case", func(t *testing.T) {
		for _, c := range all {
			if !full && !faultSubsetIDs[c.id()] {
				continue
			}
			t.Run(c.name(), func(t *testing.T) {
				t.Parallel()
				runFaultCase(t, c, &sum)
			})
		}
	})
	scope := fmt.Sprintf("the representative subset (%d of %d cases; IAMSQL_FAULTS=full or make test-faults runs all)", sum.run, len(all))
	if full {
		scope = fmt.Sprintf("the full matrix (%d cases)", len(all))
	}
	sort.Strings(sum.failed)
	t.Logf("secret custody fault matrix: %s in %v\n"+
		"  cases run %d, passed %d, skipped %d, failed %d %v\n"+
		"  keys created %d: delivered %d, deleted again %d, left in the custody journal %d; named orphaned to the user %d (delivered or journaled too)\n"+
		"  dimensions: front ends %v × faults (signals %v; serve also timeout, disconnect, shutdown) × moments %v, "+
		"a create IAM never answers and a rollback delete it never acts on (the custody bound, or a second signal), and IAM faults %v\n"+
		"  left out, as they do not exist: a statement timeout, a client disconnect and a server shutdown outside serve; "+
		"a second SIGKILL; CALL in the multi-row moments",
		scope, time.Since(start).Round(time.Millisecond),
		sum.run, sum.passed, sum.skipped, len(sum.failed), sum.failed,
		sum.tally.created, sum.tally.delivered, sum.tally.deleted, sum.tally.journaled, sum.tally.orphaned,
		faultFronts, faultSignals, scenarioNames(faultMoments), scenarioNames(iamOnlyFaults))
}

func scenarioNames(ss []*faultScenario) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.name
	}
	return out
}

// runFaultCase runs one case and judges it with the custody oracle.
func runFaultCase(t *testing.T, c faultCase, sum *faultSummary) {
	w := newFaultWorld(t)
	c.sc.setup(w.emu)
	var tally custodyTally
	defer func() { sum.add(t, c.name(), tally) }()
	t.Logf("%s", c.sql())
	var out faultOutcome
	switch c.front {
	case frontExec:
		out = runExecCase(t, w, c)
	case frontScript:
		out = runScriptCase(t, w, c)
	case frontShell:
		out = runShellCase(t, w, c)
	case frontServe:
		out = runServeCase(t, w, c)
	}
	var bad []string
	bad, tally = checkCustody(w, out)
	// A second signal cuts the custody wait short: what is left is named
	// and journaled at once (DESIGN: custody waits vs timeouts).
	if c.second && out.afterSecond > secondSignalBound {
		bad = append(bad, fmt.Sprintf("the second signal did not cut the custody wait: it went on for %v after it", out.afterSecond.Round(time.Millisecond)))
	}
	if want, ok := c.wantExit(); ok && out.exit != want {
		bad = append(bad, fmt.Sprintf("exit status %d, want %d", out.exit, want))
	}
	if c.sc.expect != nil {
		bad = append(bad, c.sc.expect(w, c, out)...)
	}
	for _, b := range bad {
		t.Error(b)
	}
	if os.Getenv("IAMSQL_FAULTS_DEBUG") != "" {
		b, _ := os.ReadFile(w.audit)
		t.Logf("received:\n%s\ntold:\n%s\naudit:\n%s", out.received, out.told, b)
	}
	t.Logf("exit %d; keys created %d: delivered %d, deleted again %d, journaled %d, named orphaned %d",
		out.exit, tally.created, tally.delivered, tally.deleted, tally.journaled, tally.orphaned)
	if t.Failed() {
		t.Logf("exit %d\nwhat the creator received:\n%s\nwhat the user was told:\n%s\nIAM calls: %v", out.exit, out.received, out.told, w.emu.CallLog())
	}
}
