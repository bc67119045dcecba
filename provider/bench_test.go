package provider

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/iamsql/iamsql/provider/awsiam"
)

// BenchmarkEngineSelectByUserName is the engine's own cost for one lookup
// by UserName: parse, plan, the iamsql checks, the ListAccessKeys call
// into the in-memory IAM double (fakeIAM, no SDK, no HTTP) and the rows,
// in-process. make bench checks ns/op and allocs/op against budgets that
// catch regressions (bench/summary.go).
func BenchmarkEngineSelectByUserName(b *testing.B) {
	fake := newFakeIAM()
	eng := NewEngine(Config{Clients: awsiam.NewClientsFor(fake)})
	sess := eng.NewSession("bench", "")
	ctx := context.Background()
	const q = "SELECT AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"
	run := func() {
		res, err := eng.Query(ctx, sess, q)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := res.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := res.Close(); err != nil {
			b.Fatal(err)
		}
		if n != 2 {
			b.Fatalf("%d rows, want 2", n)
		}
	}
	run()
	if calls := fake.takeCalls(); len(calls) != 1 || calls[0] != "ListAccessKeys" {
		b.Fatalf("IAM calls %v, want one ListAccessKeys", calls)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
		if i%1024 == 0 {
			fake.takeCalls() // the double records every call; keep it small
		}
	}
}
