package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/report"
)

// Report benchmark parameters (issue 18): 10,000 users with 2 keys each,
// 1% of them with a finding, 50 ms per IAM call, 16 calls in parallel.
const (
	repUsers       = 10_000
	repFindingEach = 100 // every 100th user has a finding
	repLatency     = 50 * time.Millisecond
	repConcurrency = 16
)

// seedReportAccount adds n users with two keys each and context: an
// active key 10 days old used yesterday and an inactive one 20 days old;
// every repFindingEach-th user's active key is 200 days old (old-keys).
func seedReportAccount(tb testing.TB, emu *emulator.Emulator, n int) (findingUsers int) {
	tb.Helper()
	now := time.Now()
	day := 24 * time.Hour
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user%05d", i)
		u := emulator.User{UserName: name, Path: "/bench/", CreateDate: now.Add(-400 * day),
			Tags:   []emulator.Tag{{Key: "owner", Value: name + "@example.com"}, {Key: "team", Value: fmt.Sprintf("team-%d", i%7)}},
			Groups: []string{fmt.Sprintf("group-%d", i%5)}}
		if i%3 == 0 {
			u.LoginProfile = &emulator.LoginProfile{}
		}
		if err := emu.AddUser(u); err != nil {
			tb.Fatal(err)
		}
		created := now.Add(-10 * day)
		if i%repFindingEach == 0 {
			created = now.Add(-200 * day)
			findingUsers++
		}
		keys := []emulator.AccessKey{
			{UserName: name, Status: "Active", CreateDate: created, LastUsed: &emulator.LastUsed{Date: now.Add(-day), ServiceName: "s3", Region: "us-east-1"}},
			{UserName: name, Status: "Inactive", CreateDate: now.Add(-20 * day)},
		}
		for _, k := range keys {
			if err := emu.AddAccessKey(k); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return findingUsers
}

func totalCalls(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkReport runs `iamsql report` over 10,000 users × 2 keys (1% with
// findings) at 50 ms per IAM call and concurrency 16, through the real
// SDK over HTTP, in both modes:
//
//	live:              wall / ideal, ideal = summary + ListUsers pages +
//	                   ceil(per-user and per-key calls / 16) + the owners'
//	                   context (7 calls per owner, one owner's after the
//	                   other in each of 16 sessions), each × 50 ms
//	credential_report: its IAM calls against the live mode's (≥ 10×
//	                   fewer), with exactly the live mode's findings.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	users := repUsers
	if Quick() {
		users = 2_000 // make bench-quick: the same shape, a fifth of the users
	}
	w := newWorld(b, emulator.Options{}, repConcurrency, nil)
	owners := seedReportAccount(b, w.emu, users)
	w.emu.SetLatency(repLatency)
	keys := users * 2

	var liveFindings []string
	var liveCalls int
	run := func(b *testing.B, src report.Source) (*report.Report, time.Duration, map[string]int) {
		w.emu.ResetCalls()
		start := time.Now()
		r, err := report.Run(ctx, w.eng, w.eng.NewSession("bench", ""), report.Options{Source: src})
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Incomplete) > 0 {
			b.Fatalf("incomplete: %+v", r.Incomplete)
		}
		return r, wall, w.emu.Calls()
	}
	findings := func(r *report.Report) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.Rule+" "+f.Key.AccessKeyID+" "+f.Key.ContextSummary())
		}
		return out
	}

	b.Run("live", func(b *testing.B) {
		pages := ceilDiv(users, iamPageSize)
		perUser := users + 1 + keys + 1 // ListAccessKeys (and the root user's), GetAccessKeyLastUsed (and the root key's)
		const contextCalls = 7          // GetUser + six context tables, one after the other
		ideal := time.Duration(1+pages+ceilDiv(perUser, repConcurrency)+ceilDiv(owners, repConcurrency)*contextCalls) * repLatency
		var wall time.Duration
		for i := 0; i < b.N; i++ {
			r, d, calls := run(b, report.SourceLive)
			wall += d
			if got := len(r.FindingsOf("old-keys")); got != owners {
				b.Fatalf("%d old-keys findings, want %d", got, owners)
			}
			liveFindings, liveCalls = findings(r), totalCalls(calls)
			b.Logf("live: %d calls %v", liveCalls, calls)
		}
		mean := wall / time.Duration(b.N)
		b.ReportMetric(mean.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(float64(mean)/float64(ideal), "x-ideal")
		b.ReportMetric(float64(liveCalls), "iam-calls")
	})

	b.Run("credential_report", func(b *testing.B) {
		if liveFindings == nil {
			b.Fatal("run with the live sub-benchmark: it is what this one is compared with")
		}
		var wall time.Duration
		var calls int
		for i := 0; i < b.N; i++ {
			r, d, c := run(b, report.SourceCredentialReport)
			wall += d
			calls = totalCalls(c)
			if got := findings(r); !slices.Equal(got, liveFindings) {
				b.Fatalf("credential-report mode found %d, live %d: not the same findings", len(got), len(liveFindings))
			}
			b.Logf("credential report first: %d calls %v (%d of %d users picked)", calls, c, r.CredentialReport.Candidates, r.CredentialReport.Users)
		}
		b.ReportMetric((wall / time.Duration(b.N)).Seconds(), "wall-s")
		b.ReportMetric(float64(calls), "iam-calls")
		b.ReportMetric(float64(liveCalls)/float64(calls), "fewer-calls-x")
		b.ReportMetric(1, "same-findings")
	})
}
