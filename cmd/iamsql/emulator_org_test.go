package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// TestEmulatorServesAnOrganization serves `iamsql emulator --seed
// org:3x2` and lists its accounts and assumes a member's role with the SDK.
func TestEmulatorServesAnOrganization(t *testing.T) {
	url := serveEmulatorCLI(t, "--seed", "org:3x2")
	creds := emutest.Credentials("AKIAROOT100000000000", "orgRootSecret100000000000EXAMPLEKEY0000000", "")
	out, err := emutest.OrganizationsClient(url, creds).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range out.Accounts {
		names = append(names, aws.ToString(a.Name))
	}
	if strings.Join(names, ",") != "account-001,account-002,account-003" {
		t.Fatalf("accounts %v", names)
	}
	role, err := emutest.STSClient(url, creds).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::100000000002:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("cli-test")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(role.AssumedRoleUser.Arn); got != "arn:aws:sts::100000000002:assumed-role/OrganizationAccountAccessRole/cli-test" {
		t.Fatalf("assumed %s", got)
	}
}

func TestEmulatorRefusesAccountFlagsWithAnOrganization(t *testing.T) {
	_, errOut, code := cli(t, "", "emulator", "--addr", "127.0.0.1:0", "--seed", "org:2", "--state", "x.json")
	if code != exitUsage || !strings.Contains(errOut, "--state cannot be used with an organization seed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, "", "emulator", "--addr", "127.0.0.1:0", "--seed", "org:0")
	if code != exitUsage || !strings.Contains(errOut, "want org:N with 1 <= N <= 10000 accounts") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
