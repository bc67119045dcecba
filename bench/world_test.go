package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// world is iamsql's engine over an in-process emulator on a loopback
// port, reached through the real AWS SDK: the production path minus
// process start-up and output formatting.
type world struct {
	emu  *emulator.Emulator
	url  string
	eng  *provider.Engine
	sess *provider.Session
}

// newWorld starts an emulator configured by opts and an engine with the
// given concurrency (0 = iamsql's default). With httpClient nil the SDK
// builds its default HTTP client, as iamsql does against AWS.
func newWorld(tb testing.TB, opts emulator.Options, concurrency int, httpClient *http.Client) *world {
	tb.Helper()
	emu, url := emutest.Start(tb, opts)
	cfg := &aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey, ""),
	}
	if httpClient != nil {
		cfg.HTTPClient = httpClient
	}
	clients := awsiam.NewClients(awsiam.Options{EndpointURL: url, Config: cfg})
	eng := provider.NewEngine(provider.Config{Clients: clients, Concurrency: concurrency})
	return &world{emu: emu, url: url, eng: eng, sess: eng.NewSession("bench", "")}
}

// outcome is what one statement returned and the IAM calls the engine
// says it made (the emulator's own count is read separately).
type outcome struct {
	rows     int
	affected uint64
	engine   map[string]int
}

// exec runs a statement to completion.
func (w *world) exec(ctx context.Context, query string) (o outcome, err error) {
	// Named results: the deferred snapshot of the engine's counts must
	// reach the caller (it is taken once the result is closed).
	res, err := w.eng.Query(ctx, w.sess, query)
	if res != nil && res.Stats != nil {
		defer func() { o.engine = res.Stats.Snapshot() }()
	}
	if err != nil {
		return o, err
	}
	err = drain(res, func(row sql.Row) {
		if len(row) == 1 {
			if ok, isOK := row[0].(types.OkResult); isOK {
				o.affected += ok.RowsAffected
				return
			}
		}
		o.rows++
	})
	return o, err
}

// drain reads a result to its end, handing each row to f, and closes it.
func drain(res *provider.Result, f func(sql.Row)) error {
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Close()
			return err
		}
		f(row)
	}
	return res.Close()
}

// seedUsers adds n users (user00001…) with keysEach keys each, directly
// (no IAM call is counted). Every other key has a last use.
func seedUsers(tb testing.TB, emu *emulator.Emulator, n, keysEach int) {
	tb.Helper()
	used := time.Now().Add(-36 * time.Hour)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user%05d", i)
		if err := emu.AddUser(emulator.User{UserName: name, Path: "/bench/"}); err != nil {
			tb.Fatal(err)
		}
		for k := 0; k < keysEach; k++ {
			key := emulator.AccessKey{UserName: name, AccessKeyID: fmt.Sprintf("AKIABENCH%06d%05d", i, k)}
			if k%2 == 0 {
				key.LastUsed = &emulator.LastUsed{Date: used, ServiceName: "s3", Region: "us-east-1"}
			}
			if err := emu.AddAccessKey(key); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func equalCounts(a, b map[string]int) bool {
	if sum(a) != sum(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
