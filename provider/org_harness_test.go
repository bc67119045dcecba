package provider

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// orgWorld is an engine in org mode over an emulated organization,
// reached through the real SDK (STS, Organizations and IAM over HTTP).
type orgWorld struct {
	t    testing.TB
	org  *emulator.Org
	url  string
	eng  *Engine
	sess *Session
}

type orgWorldOptions struct {
	seed string // "org:N", "org:NxU", "org:demo"
	// profiles reads these accounts with their root keys (--profiles)
	// instead of the organization.
	profiles []string
	// single reads the management account alone (no org mode).
	single      bool
	concurrency int
	accountConc int
	maxAttempts int
	latency     time.Duration
	// transport, when set, wraps the HTTP transport every client uses
	// (faults the emulator cannot make).
	transport func(http.RoundTripper) http.RoundTripper
	// accounts, exclude are OrgConfig.Accounts, ExcludeAccounts.
	accounts, exclude []string
}

func newOrgWorld(t testing.TB, o orgWorldOptions) *orgWorld {
	t.Helper()
	// The emulator's real clock: role credentials expire by it, and the
	// SDK judges them by the real one.
	org, url := emutest.StartOrg(t, emulator.OrgOptions{Seed: o.seed, RandSeed: 1, Latency: o.latency})
	httpClient := emulator.NewHTTPClient()
	if o.transport != nil {
		httpClient.Transport = o.transport(httpClient.Transport)
	}
	clientsOf := func(e *emulator.Emulator) *awsiam.Clients {
		id, secret := e.RootCredentials()
		return awsiam.NewClients(awsiam.Options{
			EndpointURL: url,
			MaxBackoff:  5 * time.Millisecond,
			Config: &aws.Config{
				Region:      "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
				HTTPClient:  httpClient,
			},
		})
	}
	cfg := Config{Clients: clientsOf(org.Management()), Concurrency: o.concurrency}
	if !o.single {
		cfg.Org = &OrgConfig{AccountConcurrency: o.accountConc, MaxAttempts: o.maxAttempts, Accounts: o.accounts, ExcludeAccounts: o.exclude}
		for _, id := range o.profiles {
			cfg.Org.Profiles = append(cfg.Org.Profiles, ProfileAccount{Name: "profile-" + id, Clients: clientsOf(org.Account(id))})
		}
	}
	eng := NewEngine(cfg)
	w := &orgWorld{t: t, org: org, url: url, eng: eng, sess: eng.NewSession("test", "")}
	org.ResetCalls()
	return w
}

// exec runs a statement to completion. Its calls are counted per
// account: "ACCOUNT Operation".
func (w *orgWorld) exec(query string) result {
	w.t.Helper()
	w.org.ResetCalls()
	r := runStatement(w.eng, w.sess, query)
	r.calls = w.calls()
	return r
}

func (w *orgWorld) calls() map[string]int {
	out := map[string]int{}
	for _, a := range w.org.Accounts() {
		for op, n := range w.org.Account(a.ID).Calls() {
			out[a.ID+" "+op] = n
		}
	}
	return out
}

func wantOrgCalls(t *testing.T, got, want map[string]int) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("calls:\n got %s\nwant %s", FormatCalls(got, "%s×%d"), FormatCalls(want, "%s×%d"))
	}
}

func wantRows(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := make([]string, len(r.rows))
	for i, row := range r.rows {
		got[i] = strings.Join(row, " | ")
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
