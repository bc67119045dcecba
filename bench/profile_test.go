package bench

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/internal/server"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// sandboxEngine builds the engine `iamsql --sandbox` builds (see
// cmd/iamsql/environment.go): the demo emulator in this process, called
// through its Invoke with the SDK's types (internal/sandbox).
func sandboxEngine(tb testing.TB) *provider.Engine {
	tb.Helper()
	emu, err := emulator.New(emulator.Options{Seed: "demo"})
	if err != nil {
		tb.Fatal(err)
	}
	return provider.NewEngine(provider.Config{Clients: sandbox.Clients(emu, awsiam.Options{})})
}

// staticIAM answers ListAccessKeys from memory (alice's two demo keys):
// the engine's IAM cost without the SDK, signing, HTTP and the emulator.
type staticIAM struct {
	awsiam.API // other operations are not called
	keys       []iamtypes.AccessKeyMetadata
}

func newStaticIAM() *staticIAM {
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &staticIAM{}
	for i, st := range []iamtypes.StatusType{iamtypes.StatusTypeActive, iamtypes.StatusTypeInactive} {
		s.keys = append(s.keys, iamtypes.AccessKeyMetadata{
			AccessKeyId: aws.String(fmt.Sprintf("AKIAALICE0000000000%d", i+1)), UserName: aws.String("alice"), Status: st, CreateDate: aws.Time(t),
		})
	}
	return s
}

func (s *staticIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return &iam.ListAccessKeysOutput{AccessKeyMetadata: append([]iamtypes.AccessKeyMetadata(nil), s.keys...)}, nil
}

// BenchmarkProfileMySQLInProcess is BenchmarkMySQLProtocol's 8-connection
// load with the server in this process, so that `go test -cpuprofile`
// sees both sides (a diagnostic: the driver does not run it). sandbox is
// the --sandbox engine; memory answers IAM from memory, which shows what
// the protocol and the engine cost without the sandbox's SDK round trip.
func BenchmarkProfileMySQLInProcess(b *testing.B) {
	b.Run("sandbox", func(b *testing.B) { profileMySQL(b, sandboxEngine(b)) })
	b.Run("memory", func(b *testing.B) {
		profileMySQL(b, provider.NewEngine(provider.Config{Clients: awsiam.NewClientsFor(newStaticIAM())}))
	})
}

func profileMySQL(b *testing.B, eng *provider.Engine) {
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as `iamsql serve` runs
	srv, err := server.New(eng, server.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, time.Second)
	}()
	defer func() {
		cancel()
		<-done
	}()
	db, err := sql.Open("mysql", "bench@tcp("+srv.Addr().String()+")/iam")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cs := make([]*sql.Conn, 8)
	for i := range cs {
		if cs[i], err = db.Conn(ctx); err != nil {
			b.Fatal(err)
		}
		defer cs[i].Close()
	}
	var n int
	var total time.Duration
	b.ResetTimer()
	cpu0 := SelfCPUTime()
	for i := 0; i < b.N; i++ {
		lat, elapsed, err := closedLoop(ctx, cs, 3*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		n += len(lat)
		total += elapsed
	}
	b.ReportMetric(float64(n)/total.Seconds(), "queries/s")
	b.ReportMetric(float64(SelfCPUTime()-cpu0)/1e3/float64(n), "cpu-µs/q")
}

// BenchmarkProfileSandboxLookup is the lookup by UserName through the
// sandbox engine alone, without the MySQL protocol (a diagnostic).
func BenchmarkProfileSandboxLookup(b *testing.B) {
	eng := sandboxEngine(b)
	w := &world{eng: eng, sess: eng.NewSession("bench", "")}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := SelfCPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := w.exec(ctx, LookupByUser); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time per lookup (GC included) is steadier than ns/op on a
	// machine shared with other work.
	b.ReportMetric(float64(SelfCPUTime()-cpu0)/1e3/float64(b.N), "cpu-µs/op")
}
