package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// orgRun runs statements in org mode over clients and returns their rows
// and the calls each account of org received.
func orgRun(t *testing.T, org *emulator.Org, clients *awsiam.Clients, queries ...string) (rows []string, calls map[string]int) {
	t.Helper()
	eng := provider.NewEngine(provider.Config{Clients: clients, Org: &provider.OrgConfig{}})
	sess := eng.NewSession("test", "")
	org.ResetCalls()
	for _, q := range queries {
		res, err := eng.Query(context.Background(), sess, q)
		if err != nil {
			t.Fatal(err)
		}
		for {
			row, err := res.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, fmt.Sprint(row))
		}
		res.Close()
		if in := sess.Incomplete(); len(in) > 0 {
			t.Fatalf("%s: incomplete %+v", q, in)
		}
	}
	calls = map[string]int{}
	for _, a := range org.Accounts() {
		for op, n := range org.Account(a.ID).Calls() {
			calls[a.ID+" "+op] = n
		}
	}
	return rows, calls
}

// TestOrgClientsMatchTheSDKOverHTTP runs the same org-mode statements
// through the in-process clients of --sandbox --org and through the SDK
// over HTTP: the same rows, and the same calls in every account
// (ListAccounts, AssumeRole, the members' IAM calls).
func TestOrgClientsMatchTheSDKOverHTTP(t *testing.T) {
	queries := []string{
		"SELECT Id, Name, Status, ParentType FROM accounts ORDER BY Id",
		"SELECT account_id, UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' ORDER BY 1, 2, 3",
		"SELECT account_id, Users FROM account_summary WHERE region = 'us-east-1' AND account_id IN ('210987654321', '345678901234') ORDER BY 1",
	}
	inProcess, err := emulator.NewOrg(emulator.OrgOptions{Seed: "org:demo", RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	gotRows, gotCalls := orgRun(t, inProcess, sandbox.OrgClients(inProcess, awsiam.Options{}), queries...)

	overHTTP, url := emutest.StartOrg(t, emulator.OrgOptions{Seed: "org:demo", RandSeed: 7})
	id, secret := overHTTP.Management().RootCredentials()
	clients := awsiam.NewClients(awsiam.Options{EndpointURL: url, Config: &aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), HTTPClient: emulator.NewHTTPClient()}})
	wantRows, wantCalls := orgRun(t, overHTTP, clients, queries...)

	if fmt.Sprint(gotRows) != fmt.Sprint(wantRows) {
		t.Fatalf("rows in process:\n%v\nover HTTP:\n%v", gotRows, wantRows)
	}
	if !maps.Equal(gotCalls, wantCalls) {
		t.Fatalf("calls in process %v, over HTTP %v", gotCalls, wantCalls)
	}
	if gotCalls["123456789012 AssumeRole"] != 4 || gotCalls["210987654321 ListUsers"] != 1 {
		t.Fatalf("calls %v: want 4 roles assumed and dev read", gotCalls)
	}
}
