package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/report"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// testNow is the clock of the emulator, the report and the SQL engine in
// these tests, so ages and cut-offs are exact.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func ago(d time.Duration) time.Time { return testNow.Add(-d) }

// world is a report engine over a real emulator reached through the real
// SDK, as in provider's SQL tests.
type world struct {
	emu *emulator.Emulator
	url string
	eng *provider.Engine
}

type worldOptions struct {
	latency time.Duration
	// signer signs the requests; the root key when empty.
	signerID, signerSecret string
	// apiOptions adjust the IAM client (e.g. middleware that acts
	// during a query).
	apiOptions []func(*iam.Options)
}

func newWorld(tb testing.TB, o worldOptions) *world {
	tb.Helper()
	emu, url := emutest.Start(tb, emulator.Options{Now: func() time.Time { return testNow }, Latency: o.latency, RandSeed: 7})
	return &world{emu: emu, url: url, eng: newEngine(url, o)}
}

// newEngine builds a read-only engine for the emulator at url.
func newEngine(url string, o worldOptions) *provider.Engine {
	id, secret := emulator.DefaultRootAccessKeyID, emulator.DefaultRootSecretAccessKey
	if o.signerID != "" {
		id, secret = o.signerID, o.signerSecret
	}
	clients := awsiam.NewClients(awsiam.Options{
		EndpointURL: url,
		APIOptions:  o.apiOptions,
		Config: &aws.Config{
			Region:      "us-east-1",
			HTTPClient:  emulator.NewHTTPClient(),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
			Retryer: func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
			},
		},
	})
	return provider.NewEngine(provider.Config{Clients: clients, ReadOnly: true})
}

// run makes a report at testNow.
func (w *world) run(tb testing.TB, opts report.Options) *report.Report {
	tb.Helper()
	opts.Now = func() time.Time { return testNow }
	r, err := report.Run(context.Background(), w.eng, w.eng.NewSession("test", ""), opts)
	if err != nil {
		tb.Fatalf("report: %v", err)
	}
	return r
}

// seedAccount fills the emulator with n users (user0000, user0001, ...)
// whose keys have mixed ages, statuses and last uses: no keys, one active,
// one inactive, active and inactive, two active; some never used. The
// first users hold keys exactly at and just past the default thresholds.
// The root user gets an old inactive key besides its signing key.
func seedAccount(tb testing.TB, emu *emulator.Emulator, n int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(2026, 115))
	services := []string{"s3", "ec2", "sts", "iam", "lambda", "dynamodb"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	used := func(d time.Duration) *emulator.LastUsed {
		return &emulator.LastUsed{Date: ago(d), ServiceName: services[rng.IntN(len(services))], Region: regions[rng.IntN(len(regions))]}
	}
	boundary := []emulator.AccessKey{
		{Status: "Active", CreateDate: ago(90 * day), LastUsed: used(day)},                      // exactly 90 days: not old
		{Status: "Active", CreateDate: ago(90*day + time.Second), LastUsed: used(day)},          // just over: old
		{Status: "Active", CreateDate: ago(45 * day)},                                           // never used, exactly 45 days: not unused
		{Status: "Active", CreateDate: ago(45*day + time.Second)},                               // never used, just over: unused
		{Status: "Active", CreateDate: ago(60 * day), LastUsed: used(45 * day)},                 // last used exactly 45 days ago: not unused
		{Status: "Active", CreateDate: ago(60 * day), LastUsed: used(45*day + time.Second)},     // just over: unused
		{Status: "Inactive", CreateDate: ago(120 * day)},                                        // exactly 120 days: not flagged
		{Status: "Inactive", CreateDate: ago(120*day + time.Second), LastUsed: used(100 * day)}, // just over: flagged
	}
	for i := range n {
		name := fmt.Sprintf("user%04d", i)
		must(emu.AddUser(emulator.User{UserName: name, CreateDate: ago(1000 * day)}))
		if i < len(boundary) {
			k := boundary[i]
			k.UserName = name
			must(emu.AddAccessKey(k))
			continue
		}
		var statuses []string
		switch p := rng.IntN(20); {
		case p < 2: // no keys
		case p < 9:
			statuses = []string{"Active"}
		case p < 11:
			statuses = []string{"Inactive"}
		case p < 15:
			statuses = []string{"Active", "Inactive"}
		default:
			statuses = []string{"Active", "Active"}
		}
		for _, st := range statuses {
			age := time.Duration(rng.Int64N(int64(800*day))) + time.Duration(rng.IntN(3600))*time.Second
			k := emulator.AccessKey{UserName: name, Status: st, CreateDate: ago(age)}
			if rng.IntN(5) > 0 { // 1 in 5 never used
				k.LastUsed = used(time.Duration(rng.Int64N(int64(age) + 1)))
			}
			must(emu.AddAccessKey(k))
		}
	}
	must(emu.AddAccessKey(emulator.AccessKey{UserName: "root", Status: "Inactive", CreateDate: ago(500 * day), LastUsed: used(300 * day)}))
	emu.ResetCalls()
}
