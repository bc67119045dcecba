package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// testNow is the emulator's clock in SQL tests, so dates are exact.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// ago is a demo-account date as the SQL layer prints it.
func ago(d time.Duration) string { return testNow.Add(-d).Format(time.DateTime) }

const day = 24 * time.Hour

// world is an engine over a real emulator reached through the real SDK.
type world struct {
	t    testing.TB
	emu  *emulator.Emulator
	url  string
	eng  *Engine
	sess *Session
}

type worldOptions struct {
	seed        string // default "demo"
	empty       bool   // an account with only the root key
	pageSize    int32
	readOnly    bool
	latency     time.Duration
	maxAttempts int
	audit       func(AuditRecord)
	// signerID and signerSecret sign as someone other than root.
	signerID, signerSecret string
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	if o.seed == "" && !o.empty {
		o.seed = "demo"
	}
	emu, url := emutest.Start(t, emulator.Options{Seed: o.seed, Now: func() time.Time { return testNow }, Latency: o.latency})
	id, secret := emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey
	if o.signerID != "" {
		id, secret = o.signerID, o.signerSecret
	}
	clients := awsiam.NewClients(awsiam.Options{
		EndpointURL: url,
		MaxAttempts: o.maxAttempts,
		MaxBackoff:  5 * time.Millisecond, // the production retryer, with backoff short enough for tests
		Config: &aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		},
	})
	eng := NewEngine(Config{Clients: clients, PageSize: o.pageSize, ReadOnly: o.readOnly, Audit: o.audit})
	w := &world{t: t, emu: emu, url: url, eng: eng, sess: eng.NewSession("test", "")}
	emu.ResetCalls()
	return w
}

// result is a statement's outcome in comparable form.
type result struct {
	rows   [][]string
	err    error
	errNum int
	calls  map[string]int
}

// exec runs a statement to completion; rows are rendered as the CLI
// renders them (NULL, dates as 2006-01-02 15:04:05). The emulator's call
// counters are reset first, so calls are exactly this statement's.
func (w *world) exec(query string) result {
	w.t.Helper()
	w.emu.ResetCalls()
	r := runStatement(w.eng, w.sess, query)
	r.calls = w.emu.Calls()
	return r
}

// runStatement runs a statement to completion and renders its rows as
// the CLI does; calls are left to the caller.
func runStatement(eng *Engine, sess *Session, query string) result {
	var r result
	res, err := eng.Query(context.Background(), sess, query)
	if err == nil {
		for {
			row, err2 := res.Next()
			if errors.Is(err2, io.EOF) {
				break
			}
			if err2 != nil {
				err = err2
				break
			}
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = output.Text(v)
			}
			r.rows = append(r.rows, cells)
		}
		if cerr := res.Close(); err == nil {
			err = cerr
		}
	}
	r.err = err
	var sqlErr *mysql.SQLError
	if errors.As(err, &sqlErr) {
		r.errNum = sqlErr.Num
	}
	return r
}

// mustExec runs a statement that must succeed.
func (w *world) mustExec(query string) [][]string {
	w.t.Helper()
	r := w.exec(query)
	if r.err != nil {
		w.t.Fatalf("%s: %v", query, r.err)
	}
	return r.rows
}

// directClient is a real SDK client for checking state behind the SQL.
func (w *world) directClient() *iam.Client { return emutest.Client(w.t, w.url) }

func rowsString(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintln(&b, strings.Join(r, " | "))
	}
	return b.String()
}

func callsString(c map[string]int) string {
	if len(c) == 0 {
		return "none"
	}
	return FormatCalls(c, "%s×%d")
}
