package report_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/report"
)

// findingKeys renders findings for comparison: rule, account, user, key,
// detail and context.
func findingsSeen(r *report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s %s %s %s %s %s", f.Rule, f.Key.Account, f.Key.UserName, f.Key.AccessKeyID, f.Detail, f.Key.ContextSummary()))
	}
	return out
}

// TestCredentialReportModeListsTheSameFindings: on a seeded account, the
// credential-report-first mode lists exactly the live mode's findings
// (with the same context), with far fewer IAM calls, and says where its
// data came from.
func TestCredentialReportModeListsTheSameFindings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users int
		// sparse: most users' keys are new and in use (few findings).
		sparse bool
	}{{"every kind of key", accountUsers, false}, {"few findings", 600, true}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			if tc.sparse {
				seedSparse(t, w, tc.users)
			} else {
				seedAccount(t, w.emu, tc.users)
			}
			live := w.run(t, report.Options{})
			liveCalls := w.emu.Calls()
			w.emu.ResetCalls()
			cr := w.run(t, report.Options{Source: report.SourceCredentialReport})
			crCalls := w.emu.Calls()
			if got, want := findingsSeen(cr), findingsSeen(live); !slices.Equal(got, want) {
				t.Fatalf("credential-report mode: %d findings, live: %d\n%s", len(got), len(want), diffLines(got, want))
			}
			if len(live.Findings) == 0 {
				t.Fatal("the account has no findings to compare")
			}
			info := cr.CredentialReport
			if info == nil || info.FellBack || !info.GeneratedTime.Equal(testNow) || info.Stale || info.Users != tc.users {
				t.Fatalf("credential report info %+v", info)
			}
			// The calls: two for the report, then one ListAccessKeys per
			// candidate (the root user's own among them), one
			// GetAccessKeyLastUsed per candidate key; no ListUsers.
			if crCalls["GenerateCredentialReport"] != 1 || crCalls["GetCredentialReport"] != 1 || crCalls["ListUsers"] != 0 ||
				crCalls["ListAccessKeys"] != info.Candidates || crCalls["GetAccessKeyLastUsed"] != len(cr.Keys) {
				t.Errorf("credential-report mode calls %v (candidates %d, keys %d)", crCalls, info.Candidates, len(cr.Keys))
			}
			total := func(m map[string]int) (n int) {
				for _, v := range m {
					n += v
				}
				return n
			}
			t.Logf("live: %d calls; credential report first: %d calls (%d of %d users picked)", total(liveCalls), total(crCalls), info.Candidates, info.Users)
			if tc.sparse && total(crCalls)*5 > total(liveCalls) {
				t.Errorf("few findings, yet the credential report saved little: %d calls vs %d live", total(crCalls), total(liveCalls))
			}
			for _, fact := range cr.Facts() {
				if fact == cr.SourceNote() {
					return
				}
			}
			t.Errorf("the report does not say where its data came from: %q", cr.Facts())
		})
	}
}

// seedSparse adds n users with one key each, all new and in use, except
// every 50th user: an old key, a second active key, or a key never used.
func seedSparse(t *testing.T, w *world, n int) {
	t.Helper()
	ctx := contextWorldUser
	for i := range n {
		name := fmt.Sprintf("user%04d", i)
		created, used := ago(10*day), ago(day)
		second := false
		switch {
		case i%150 == 0:
			created = ago(200 * day)
		case i%150 == 50:
			second = true
		case i%150 == 100:
			used = time.Time{}
			created = ago(60 * day)
		}
		ctx(t, w, name, created, used, second)
	}
}
