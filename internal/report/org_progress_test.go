package report_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/report"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// report --org draws its inventory step as the accounts read of those to
// read and the calls per second, and ends with every account read.
func TestOrgReportProgressShowsAccountsAndCallRate(t *testing.T) {
	org, err := emulator.NewOrg(emulator.OrgOptions{Seed: "org:4x30", Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	eng := provider.NewEngine(provider.Config{Clients: sandbox.OrgClients(org, awsiam.Options{}), Org: &provider.OrgConfig{}})
	var b strings.Builder
	r, err := report.Run(context.Background(), eng, eng.NewSession("report", ""), report.Options{Progress: &b, Org: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accounts) != 4 || len(r.Keys) != 4*30+1 {
		t.Fatalf("%d accounts, %d keys; want 4 and 121", len(r.Accounts), len(r.Keys))
	}
	out := b.String()
	if !regexp.MustCompile(`Accounts 4/4 \([1-9][0-9]* calls/s\)`).MatchString(out) {
		t.Fatalf("progress lacks the accounts done/total and calls per second:\n%s", out)
	}
}
