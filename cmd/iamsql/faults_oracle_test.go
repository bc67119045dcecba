package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// The custody oracle: what a case of the fault matrix must leave behind,
// whatever the fault (issue 14). Every key iamsql created ends in exactly
// one of two states — its secret reached the creator, or the key is
// deleted again — and a key that could not be deleted again is named to
// the user, recorded as orphaned in the audit log and left in the custody
// journal; what no handler can catch (SIGKILL) the journal covers.

// faultOutcome is what one run of iamsql left for the oracle to judge.
type faultOutcome struct {
	// received is everything that reached the creator: exec's stdout,
	// the terminal, the client's result rows.
	received string
	// told is everything the user was told: stderr, the terminal, the
	// client's errors and the server's log.
	told string
	// private is what iamsql wrote that must never hold a secret: stderr
	// apart from the terminal, the server's log.
	private string
	exit    int
	// confirmed: the front end decides delivery by a successful flush
	// that the test cannot see end to end (serve: rows sent and flushed;
	// a terminal that hung up), so an audit record "delivered" counts as
	// the secret held.
	confirmed bool
	// userGone: nobody can be told any more (SIGKILL, the terminal hung
	// up); the custody journal is the only record left.
	userGone bool
	// afterSecond is how long the statement (the shell's) or the process
	// went on after a second signal; 0 without one.
	afterSecond time.Duration
}

// custodyTally counts what became of the keys of a case.
type custodyTally struct {
	created   int // new keys that existed at some moment
	delivered int // their secrets reached the creator (and they exist)
	deleted   int // deleted again
	journaled int // left, held only by the custody journal
	orphaned  int // left, named orphaned to the user
}

func (a *custodyTally) add(b custodyTally) {
	a.created += b.created
	a.delivered += b.delivered
	a.deleted += b.deleted
	a.journaled += b.journaled
	a.orphaned += b.orphaned
}

var (
	keyIDPattern = regexp.MustCompile(`AKIA[A-Z0-9]{16}`)
	// orphanClause is a clause that names keys iamsql could not delete.
	orphanClause = regexp.MustCompile(`could not delete|could not be deleted|orphan`)
)

// auditRecords reads the audit log: each key's outcomes, in order.
func auditRecords(path string) (map[string][]string, string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string][]string{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Operation   string `json:"operation"`
			AccessKeyID string `json:"access_key_id"`
			Outcome     string `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, string(b), fmt.Errorf("audit line %q: %w", line, err)
		}
		if rec.Operation == "CreateAccessKey" && rec.AccessKeyID != "" {
			out[rec.AccessKeyID] = append(out[rec.AccessKeyID], rec.Outcome)
		}
	}
	return out, string(b), nil
}

// clauses splits what the user was told into clauses (lines, and the
// parts of a message joined by ";").
func clauses(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		out = append(out, strings.Split(line, ";")...)
	}
	return out
}

// namedOrphaned is the set of key ids the user was told could not be
// deleted again.
func namedOrphaned(told string) map[string]bool {
	out := map[string]bool{}
	for _, c := range clauses(told) {
		if orphanClause.MatchString(c) {
			for _, id := range keyIDPattern.FindAllString(c, -1) {
				out[id] = true
			}
		}
	}
	return out
}

// reportedDeleted is the set of key ids the user was told were deleted
// again.
func reportedDeleted(told string) map[string]bool {
	out := map[string]bool{}
	for _, c := range clauses(told) {
		if strings.Contains(c, "deleted again") && !orphanClause.MatchString(c) {
			for _, id := range keyIDPattern.FindAllString(c, -1) {
				out[id] = true
			}
		}
	}
	return out
}

// checkCustody is the oracle: it judges the final state of the case's
// emulator against what the creator received, what the user was told,
// the audit log and the custody journal, and returns the violations
// found, and the tally.
func checkCustody(w *faultWorld, out faultOutcome) ([]string, custodyTally) {
	w.settle()
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	final := map[string]emulator.AccessKey{}
	for _, k := range w.emu.Snapshot().Keys {
		if !w.before[k.AccessKeyID] {
			final[k.AccessKeyID] = k
		}
	}
	seen := w.seenKeys()
	for id, k := range final {
		seen[id] = k
	}
	received := map[string]bool{} // secrets the creator holds
	for _, s := range secretsIn(out.received) {
		received[s] = true
	}
	audit, auditText, err := auditRecords(w.audit)
	if err != nil {
		fail("the audit log: %v", err)
	}
	pending, err := custody.ListPending(w.journalDir())
	if err != nil {
		fail("the custody journal: %v", err)
	}
	journaled := map[string]bool{}
	unknownFor := map[string]int{} // entries without a key id, by user
	for _, p := range pending {
		if p.KeyID != "" {
			journaled[p.KeyID] = true
			continue
		}
		user := p.UserName
		if user == "" {
			user = emulator.RootUserName
		}
		unknownFor[user]++
	}
	orphans := namedOrphaned(out.told)
	deletedAgain := reportedDeleted(out.told)

	var tally custodyTally
	tally.created = len(seen)
	tally.deleted = len(seen) - len(final)

	ids := make([]string, 0, len(final))
	for id := range final {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Every key that exists now has a holder or a record.
	for _, id := range ids {
		k := final[id]
		switch {
		case received[k.SecretAccessKey]:
			tally.delivered++
		case out.confirmed && slices.Contains(audit[id], "delivered"):
			tally.delivered++
		case journaled[id]:
			tally.journaled++
			if out.userGone {
				break
			}
			// The process lived to tell: it is an orphan, named as such.
			if !orphans[id] {
				fail("key %s of %s is left in the custody journal, but the user was not told it could not be deleted", id, k.UserName)
			}
			if !slices.Contains(audit[id], "orphaned") {
				fail("key %s of %s is left in the custody journal, but the audit log does not record it orphaned (outcomes %v)", id, k.UserName, audit[id])
			}
		case unknownFor[k.UserName] > 0:
			unknownFor[k.UserName]--
			tally.journaled++
			if !out.userGone && !strings.Contains(out.told, "outcome is unknown") {
				fail("key %s of %s is in the custody journal as a create of unknown outcome, but the user was not told the outcome is unknown", id, k.UserName)
			}
		case orphans[id]:
			fail("key %s of %s was named orphaned, but the custody journal does not keep it", id, k.UserName)
		default:
			fail("key %s of %s exists, but its secret reached nobody and nothing records it (audit outcomes %v, journal %d pending)",
				id, k.UserName, audit[id], len(pending))
		}
		if orphans[id] && !slices.Contains(audit[id], "orphaned") {
			fail("key %s of %s was named orphaned, but the audit log does not record it so (outcomes %v)", id, k.UserName, audit[id])
		}
	}
	for id := range orphans {
		if seen[id].AccessKeyID != "" {
			tally.orphaned++
		}
	}
	// A secret the creator holds belongs to a key that exists.
	for id, k := range seen {
		if received[k.SecretAccessKey] && final[id].AccessKeyID == "" {
			fail("the secret of key %s of %s reached the creator, but the key was deleted", id, k.UserName)
		}
		if slices.Contains(audit[id], "delivered") && final[id].AccessKeyID == "" {
			fail("the audit log records key %s of %s delivered, but the key was deleted", id, k.UserName)
		}
	}
	// What iamsql said it deleted is gone.
	for id := range deletedAgain {
		if final[id].AccessKeyID != "" {
			fail("the user was told key %s was deleted again, but it exists", id)
		}
	}
	for id, outcomes := range audit {
		if slices.Contains(outcomes, "rolled_back") && final[id].AccessKeyID != "" {
			fail("the audit log records key %s rolled back, but it exists", id)
		}
	}
	// No secret anywhere but with the creator.
	var journalText strings.Builder
	_ = filepath.WalkDir(w.journalDir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			journalText.Write(b)
		}
		return nil
	})
	for id, k := range seen {
		for what, text := range map[string]string{"stderr or the server log": out.private, "the audit log": auditText, "the custody journal": journalText.String()} {
			if strings.Contains(text, k.SecretAccessKey) {
				fail("the secret of key %s is in %s", id, what)
			}
		}
	}
	sort.Strings(bad)
	return slices.Compact(bad), tally
}

// The oracle finds what it is there to find. Each arrangement puts a key
// in the emulator directly and describes a run that did something wrong
// with it; the oracle must name the fault, and say nothing of a key whose
// secret reached its creator.
func TestCustodyOracleFindsViolations(t *testing.T) {
	const (
		id     = "AKIAORACLETEST000001"
		secret = "oracleTestSecret0123456789abcdefghijklmn"
	)
	row := "| " + id + " | dave | Active | 2026-01-01 00:00:00 | " + secret + " | us-east-1 |"
	addKey := func(t *testing.T, w *faultWorld) {
		t.Helper()
		if err := w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: id, SecretAccessKey: secret, UserName: "dave", Status: "Active", CreateDate: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(func() bool { _, ok := w.seenKeys()[id]; return ok }, nil) {
			t.Fatal("the poller never saw the key")
		}
	}
	journal := func(t *testing.T, w *faultWorld, keyID string, outcome custody.Outcome) {
		t.Helper()
		j, err := custody.Open(w.journalDir(), custody.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := j.Intent(custody.Creation{UserName: "dave", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		if keyID != "" {
			if err := e.Created(keyID); err != nil {
				t.Fatal(err)
			}
		}
		if outcome != "" {
			if err := e.Resolve(outcome); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	auditOrphaned := func(t *testing.T, w *faultWorld) {
		t.Helper()
		line := `{"operation":"CreateAccessKey","access_key_id":"` + id + `","outcome":"orphaned"}` + "\n"
		if err := os.WriteFile(w.audit, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		arrange func(t *testing.T, w *faultWorld) faultOutcome
		want    string // "" for no violation
	}{
		{"a key whose secret reached the creator", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			return faultOutcome{received: row}
		}, ""},
		{"a key nobody holds", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			return faultOutcome{told: "ERROR 1317 (70100): query execution was interrupted"}
		}, "its secret reached nobody and nothing records it"},
		{"a key nobody holds, over the protocol, without a delivery record", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			return faultOutcome{confirmed: true}
		}, "its secret reached nobody and nothing records it"},
		{"a delivered secret whose key was deleted", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			if _, err := emutest.Client(t, w.srv.URL).DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id), UserName: aws.String("dave")}); err != nil {
				t.Fatal(err)
			}
			return faultOutcome{received: row}
		}, "reached the creator, but the key was deleted"},
		{"a key said deleted again that exists", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			return faultOutcome{received: row, told: "ERROR 1317 (70100): interrupted; the keys this statement created (" + id + ") were deleted again"}
		}, "was deleted again, but it exists"},
		{"a journaled orphan the living process did not name", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			journal(t, w, id, custody.Orphaned)
			return faultOutcome{told: "ERROR 1317 (70100): interrupted"}
		}, "the user was not told it could not be deleted"},
		{"a journaled key of a killed process", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			journal(t, w, id, "")
			return faultOutcome{userGone: true}
		}, ""},
		{"a create of unknown outcome the user was not told about", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			journal(t, w, "", custody.Orphaned)
			return faultOutcome{told: "ERROR 1317 (70100): interrupted"}
		}, "the user was not told the outcome is unknown"},
		{"an orphan named but not journaled", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			auditOrphaned(t, w)
			return faultOutcome{told: "ERROR 1226: LimitExceeded; the statement created keys " + id + " and could not delete them again"}
		}, "the custody journal does not keep it"},
		{"an orphan named and journaled, but not audited", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			journal(t, w, id, custody.Orphaned)
			return faultOutcome{told: "ERROR 1226: LimitExceeded; the statement created keys " + id + " and could not delete them again"}
		}, "the audit log does not record it orphaned"},
		{"a secret on stderr", func(t *testing.T, w *faultWorld) faultOutcome {
			addKey(t, w)
			return faultOutcome{received: row, private: "debug: " + secret}
		}, "is in stderr or the server log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newFaultWorld(t)
			bad, _ := checkCustody(w, tc.arrange(t, w))
			switch {
			case tc.want == "" && len(bad) > 0:
				t.Errorf("violations %q, want none", bad)
			case tc.want != "" && !slices.ContainsFunc(bad, func(b string) bool { return strings.Contains(b, tc.want) }):
				t.Errorf("violations %q, want one saying %q", bad, tc.want)
			}
		})
	}
}
