package bench

import (
	"context"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// Inventory benchmark parameters (issue 8): 1,000 users with 2 keys each,
// 50 ms per IAM call, 16 calls in parallel.
const (
	invUsers       = 1000
	invKeysEach    = 2
	invLatency     = 50 * time.Millisecond
	invConcurrency = 16
	iamPageSize    = 100 // ListUsers' default MaxItems
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// BenchmarkInventory times the users JOIN access_keys inventory of 1,000
// users at 50 ms emulator latency per call and concurrency 16, through
// the real SDK (its default HTTP client, as iamsql uses against AWS),
// and reports the wall time beside the ideal: the ListUsers pages one
// after another, plus the per-user calls in waves of 16:
//
//	keys:      pages×50ms + ceil(1000/16)×50ms          (ListAccessKeys)
//	last_used: pages×50ms + ceil((1000+2000)/16)×50ms   (+ GetAccessKeyLastUsed)
func BenchmarkInventory(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name, query string
		lastUsed    bool
		// root adds the root user's own keys (a full scan signed as root).
		root bool
	}{
		{"keys", Inventory, false, false},
		{"last_used", InventoryLastUsed, true, false},
		{"full_scan", FullScan, false, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b, emulator.Options{}, invConcurrency, nil)
			seedUsers(b, w.emu, invUsers, invKeysEach)
			w.emu.SetLatency(invLatency)

			pages := ceilDiv(invUsers, iamPageSize)
			perUser := invUsers
			if c.lastUsed {
				perUser += invUsers * invKeysEach
			}
			rows := invUsers * invKeysEach
			want := map[string]int{"ListUsers": pages, "ListAccessKeys": invUsers}
			if c.lastUsed {
				want["GetAccessKeyLastUsed"] = invUsers * invKeysEach
			}
			if c.root {
				perUser++
				rows++ // the emulator's root key
				want["ListAccessKeys"]++
				// Whether the caller is root is asked once per process.
				if _, err := w.exec(ctx, "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'root'"); err != nil {
					b.Fatal(err)
				}
			}
			ideal := time.Duration(pages+ceilDiv(perUser, invConcurrency)) * invLatency

			var wall time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.emu.ResetCalls()
				start := time.Now()
				o, err := w.exec(ctx, c.query)
				wall += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if o.rows != rows {
					b.Fatalf("%d rows, want %d", o.rows, rows)
				}
				if got := w.emu.Calls(); !equalCounts(got, want) {
					b.Logf("IAM calls %v, expected %v", got, want)
				}
			}
			mean := wall / time.Duration(b.N)
			b.ReportMetric(mean.Seconds(), "wall-s")
			b.ReportMetric(ideal.Seconds(), "ideal-s")
			b.ReportMetric(float64(mean)/float64(ideal), "x-ideal")
		})
	}
}
