package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// Org inventory benchmark parameters (issue 16): 100 accounts × 1,000
// users × 1 key, 50 ms per call, 8 calls in flight per account, 256 in
// all; the throttled variant throttles 30% of the calls of 10 accounts.
const (
	orgAccounts     = 100
	orgUsers        = 1000
	orgLatency      = 50 * time.Millisecond
	orgAccountConc  = 8
	orgGlobalConc   = 256
	orgThrottled    = 10
	orgThrottleRate = 0.3
	orgListAccounts = 20 // ListAccounts' page size
	orgInventorySQL = "SELECT account_id, UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1'"
	orgCSVInventory = orgInventorySQL
)

// benchOrg is the generated organization the benchmarks read: 100
// accounts of 1,000 users with a key each (20 accounts with -quick), at
// latency per call.
func benchOrg(b *testing.B, latency time.Duration) (org *emulator.Org, accounts, users int) {
	accounts, users = orgAccounts, orgUsers
	if Quick() {
		accounts = 20
	}
	org, err := emulator.NewOrg(emulator.OrgOptions{Seed: fmt.Sprintf("org:%dx%d", accounts, users), Latency: latency})
	if err != nil {
		b.Fatal(err)
	}
	return org, accounts, users
}

// orgCalls is the fewest calls of the org-wide inventory and the calls of
// its slowest account, one after another at its own concurrency: the
// issue's ideal is max(total ÷ global, slowest) × latency (DESIGN).
//
//	management: ListAccounts pages, GetCallerIdentity, GetUser, ListUsers
//	            pages, a ListAccessKeys per user and one for its root user
//	member:     AssumeRole (the management account's call), GetUser,
//	            ListUsers pages, a ListAccessKeys per user
//	slowest:    ListAccounts pages + GetCallerIdentity + AssumeRole + the
//	            first ListUsers page + ceil(users/8) ListAccessKeys waves
//	            (the other pages are read while keys are listed)
func orgCalls(accounts, users int) (total, slowest int) {
	pages := ceilDiv(users, iamPageSize)
	listAccounts := ceilDiv(accounts, orgListAccounts)
	perAccount := 1 + pages + users // GetUser, ListUsers pages, ListAccessKeys
	total = listAccounts + 1 + accounts*perAccount + 1 + (accounts - 1)
	slowest = listAccounts + 1 + 1 + 1 + ceilDiv(users, orgAccountConc)
	return total, slowest
}

// orgEngine is iamsql's engine in org mode over an organization in this
// process, as --sandbox --org reaches it (sandbox.OrgClients: the
// emulator's operations without HTTP, SigV4 or XML, which on this 2-core
// machine would take more CPU than the calls' 50 ms leave: DESIGN allows
// the in-process path for this benchmark). The same statement over HTTP
// through the SDK is what BenchmarkOrgInventoryCSVPeakRSS runs.
func orgEngine(org *emulator.Org) (*provider.Engine, *provider.Session) {
	clients := sandbox.OrgClients(org, awsiam.Options{})
	eng := provider.NewEngine(provider.Config{Clients: clients, Concurrency: orgGlobalConc,
		Org: &provider.OrgConfig{AccountConcurrency: orgAccountConc}})
	return eng, eng.NewSession("bench", "")
}

// orgRun is one org-wide inventory: its rows, and when each account's
// last row arrived.
type orgRun struct {
	wall     time.Duration
	rows     int
	finished map[string]time.Duration
	partial  int
}

func runOrgInventory(ctx context.Context, org *emulator.Org) (orgRun, error) {
	eng, sess := orgEngine(org)
	r := orgRun{finished: map[string]time.Duration{}}
	start := time.Now()
	res, err := eng.Query(ctx, sess, orgInventorySQL)
	if err != nil {
		return r, err
	}
	err = drain(res, func(row sql.Row) {
		r.rows++
		r.finished[fmt.Sprint(row[0])] = time.Since(start)
	})
	if err != nil {
		return r, err
	}
	r.wall = time.Since(start)
	r.partial = len(sess.Incomplete())
	return r, nil
}

// runCompleteInventory runs the inventory, which must have every row.
func runCompleteInventory(b *testing.B, ctx context.Context, org *emulator.Org, rows int) orgRun {
	org.ResetCalls()
	r, err := runOrgInventory(ctx, org)
	if err != nil {
		b.Fatal(err)
	}
	if r.rows != rows || r.partial != 0 {
		b.Fatalf("%d rows (%d accounts incomplete), want %d", r.rows, r.partial, rows)
	}
	return r
}

// BenchmarkOrgInventory times the org-wide key inventory of 100 accounts
// × 1,000 users at 50 ms per call and reports it beside the ideal
// (fault_free), then again with 10 accounts throttled at 30%
// (throttled_10): every row must be there, and the 90 other accounts must
// finish within 10% of their fault-free time.
func BenchmarkOrgInventory(b *testing.B) {
	ctx := context.Background()
	org, accounts, users := benchOrg(b, orgLatency)
	total, slowest := orgCalls(accounts, users)
	byGlobal := time.Duration(ceilDiv(total, orgGlobalConc)) * orgLatency
	byAccount := time.Duration(slowest) * orgLatency
	ideal := max(byGlobal, byAccount)
	rows := accounts*users + 1 // and the management account's root key
	ids := make([]string, 0, accounts)
	for _, a := range org.Accounts() {
		ids = append(ids, a.ID)
	}
	var faultFree orgRun
	b.Run("fault_free", func(b *testing.B) {
		var wall time.Duration
		for i := 0; i < b.N; i++ {
			r := runCompleteInventory(b, ctx, org, rows)
			if got := org.TotalCalls(); got != total {
				b.Logf("%d calls, the minimum is %d", got, total)
			}
			wall += r.wall
			faultFree = r
		}
		mean := wall / time.Duration(b.N)
		b.ReportMetric(mean.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(byGlobal.Seconds(), "ideal-global-s")
		b.ReportMetric(byAccount.Seconds(), "ideal-account-s")
		b.ReportMetric(float64(mean)/float64(ideal), "x-ideal")
		b.ReportMetric(float64(rows), "rows")
	})
	b.Run("throttled_10", func(b *testing.B) {
		if faultFree.rows == 0 {
			b.Skip("fault_free did not run")
		}
		throttled := ids[len(ids)-orgThrottled:]
		for _, id := range throttled {
			org.Account(id).SetThrottleRate(orgThrottleRate)
		}
		defer func() {
			for _, id := range throttled {
				org.Account(id).SetThrottleRate(0)
			}
		}()
		var worst, throttledWall float64
		for i := 0; i < b.N; i++ {
			r := runCompleteInventory(b, ctx, org, rows)
			// The unthrottled accounts: the latest finish, against the
			// fault-free run's.
			var others, before time.Duration
			for _, id := range ids {
				if slices.Contains(throttled, id) {
					continue
				}
				others = max(others, r.finished[id])
				before = max(before, faultFree.finished[id])
			}
			worst = max(worst, float64(others)/float64(before))
			throttledWall = r.wall.Seconds()
		}
		b.ReportMetric(worst, "others-x-fault-free")
		b.ReportMetric(throttledWall, "wall-s")
		b.ReportMetric(float64(rows), "rows")
	})
}

// BenchmarkOrgInventoryCSVPeakRSS is the peak RSS of `iamsql --org -o csv
// exec` of the inventory of an organization of 100,000 keys (100
// accounts × 1,000 users, no latency) served over HTTP by this process.
func BenchmarkOrgInventoryCSVPeakRSS(b *testing.B) {
	bin := binary(b)
	ctx := context.Background()
	org, accounts, users := benchOrg(b, 0)
	srv, err := org.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	id, secret := org.Management().RootCredentials()
	env := orgClientEnv(ClientEnv(b.TempDir()), id, secret)
	want := accounts*users + 2 // header, the management account's root key
	var peak int64
	var wall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := RunProcRSS(ctx, bin, env, "--org", "--concurrency", fmt.Sprint(orgGlobalConc), "--endpoint-url", srv.URL, "-o", "csv", "exec", orgCSVInventory)
		if err != nil {
			b.Fatal(err)
		}
		if r.Lines != want {
			b.Fatalf("%d CSV lines, want %d", r.Lines, want)
		}
		peak = max(peak, r.MaxRSS)
		wall += r.Wall
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	b.ReportMetric((wall / time.Duration(b.N)).Seconds(), "wall-s")
	b.ReportMetric(float64(want-1), "rows")
}

// orgClientEnv signs as the organization's management account instead of
// the emulator's default root key.
func orgClientEnv(env []string, id, secret string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") || strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
}
