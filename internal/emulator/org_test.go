package emulator_test

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// startOrg runs an organization with a fixed clock and deterministic
// randomness unless opts say otherwise.
func startOrg(t *testing.T, opts emulator.OrgOptions) (*emulator.Org, string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 1
	}
	return emutest.StartOrg(t, opts)
}

// rootCreds signs as the account's root user.
func rootCreds(e *emulator.Emulator) aws.CredentialsProvider {
	id, secret := e.RootCredentials()
	return emutest.Credentials(id, secret, "")
}

func roleArn(account, role string) string { return "arn:aws:iam::" + account + ":role/" + role }

// assume assumes the organization role of account as the management
// account's root user.
func assume(t *testing.T, url string, o *emulator.Org, account string, extra ...func(*sts.AssumeRoleInput)) (*sts.AssumeRoleOutput, error) {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleArn(account, emulator.DefaultOrgRole)), RoleSessionName: aws.String("iamsql")}
	for _, f := range extra {
		f(in)
	}
	return emutest.STSClient(url, rootCreds(o.Management()), func(o *sts.Options) { o.RetryMaxAttempts = 1 }).AssumeRole(context.Background(), in)
}

func sessionCreds(out *sts.AssumeRoleOutput) aws.CredentialsProvider {
	c := out.Credentials
	return emutest.Credentials(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

func wantCalls(t *testing.T, e *emulator.Emulator, want map[string]int) {
	t.Helper()
	if got := e.Calls(); !maps.Equal(got, want) {
		t.Fatalf("account %s calls = %v, want %v", e.AccountID(), got, want)
	}
}

func TestOrgListAccountsPagesThroughEveryAccount(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:5x2"})
	client := emutest.OrganizationsClient(url, rootCreds(o.Management()))
	pager := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	var got []orgtypes.Account
	pages := 0
	for pager.HasMorePages() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page.Accounts...)
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("%d pages, %d accounts; want 3 pages of 5 accounts", pages, len(got))
	}
	orgID := o.ID()
	for i, a := range got {
		id := aws.ToString(a.Id)
		want := []string{"1000000000" + []string{"00", "01", "02", "03", "04"}[i], "account-00" + string(rune('1'+i)), "account-00" + string(rune('1'+i)) + "@example.com"}
		if id != want[0] || aws.ToString(a.Name) != want[1] || aws.ToString(a.Email) != want[2] ||
			a.Status != orgtypes.AccountStatusActive || a.JoinedMethod != orgtypes.AccountJoinedMethodCreated ||
			aws.ToString(a.Arn) != "arn:aws:organizations::100000000000:account/"+orgID+"/"+id ||
			!a.JoinedTimestamp.Equal(testNow) {
			t.Errorf("account %d = %+v, want %v joined %v", i, a, want, testNow)
		}
	}
	wantCalls(t, o.Management(), map[string]int{"ListAccounts": 3})
	d, err := client.DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Organization.Id) != orgID || aws.ToString(d.Organization.MasterAccountId) != "100000000000" {
		t.Fatalf("organization = %+v", d.Organization)
	}
	// Every member has its generated users, each with one key.
	for _, a := range o.Accounts() {
		if s := o.Account(a.ID).Snapshot(); len(s.Users) != 2 || len(s.Keys) != 3 {
			t.Errorf("account %s: %d users, %d keys; want 2 users, 3 keys (root's included)", a.ID, len(s.Users), len(s.Keys))
		}
	}
}

func TestOrgListAccountsOnlyFromTheManagementAccount(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:2x0"})
	member := o.Account("100000000001")
	_, err := emutest.OrganizationsClient(url, rootCreds(member)).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException", 400, "You don't have permissions to access this resource.")
	// A standalone account is in no organization.
	e, eurl := start(t, emulator.Options{})
	_, err = emutest.OrganizationsClient(eurl, rootCreds(e)).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", 400, "Your account is not a member of an organization.")
	// A bad signature is refused as a JSON API refuses it.
	id, _ := o.Management().RootCredentials()
	_, err = emutest.OrganizationsClient(url, emutest.Credentials(id, "wrong", ""), func(o *organizations.Options) { o.RetryMaxAttempts = 1 }).
		ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "InvalidSignatureException", 403, "")
	_, err = emutest.OrganizationsClient(url, emutest.Credentials("AKIANOBODY0000000000", "x", ""), func(o *organizations.Options) { o.RetryMaxAttempts = 1 }).
		ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", 403, "")
}

func TestOrgAssumeRoleSignsForTheMemberAccount(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:3x2", CallLog: true})
	out, err := assume(t, url, o, "100000000002")
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::100000000002:assumed-role/OrganizationAccountAccessRole/iamsql" {
		t.Fatalf("assumed role ARN %s", got)
	}
	if !out.Credentials.Expiration.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("expiration %v, want an hour from now", out.Credentials.Expiration)
	}
	member := o.Account("100000000002")
	client := emutest.IAMClient(url, sessionCreds(out))
	users, err := client.ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users.Users {
		names = append(names, aws.ToString(u.UserName))
		if arn := aws.ToString(u.Arn); arn != "arn:aws:iam::100000000002:user/"+aws.ToString(u.UserName) {
			t.Errorf("user ARN %s is not the member account's", arn)
		}
	}
	if !slices.Equal(names, []string{"user-00001", "user-00002"}) {
		t.Fatalf("users %v", names)
	}
	who, err := emutest.STSClient(url, sessionCreds(out)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != "100000000002" || aws.ToString(who.Arn) != aws.ToString(out.AssumedRoleUser.Arn) ||
		aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("caller identity %+v", who)
	}
	// A role has no keys of its own: IAM asks for a user name.
	_, err = client.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{}, noRetry)
	wantAPIError(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")
	// Each account counts the calls signed for it.
	wantCalls(t, o.Management(), map[string]int{"AssumeRole": 1})
	wantCalls(t, member, map[string]int{"ListUsers": 1, "GetCallerIdentity": 1, "ListAccessKeys": 1})
	wantCalls(t, o.Account("100000000001"), map[string]int{})
	log := o.Management().CallLog()
	if len(log) != 1 || log[0].Params.Get("RoleArn") != roleArn("100000000002", emulator.DefaultOrgRole) || log[0].Params.Get("RoleSessionName") != "iamsql" {
		t.Fatalf("management call log %+v", log)
	}
}

func TestOrgAssumeRoleRefused(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:4x1"})
	mgmtArn := "arn:aws:iam::100000000000:root"
	refused := func(account, role string) string {
		return "User: " + mgmtArn + " is not authorized to perform: sts:AssumeRole on resource: " + roleArn(account, role)
	}
	// A role that does not trust the management account.
	if err := o.Account("100000000001").SetRole(emulator.Role{Name: emulator.DefaultOrgRole, Trusted: []string{"999999999999"}}); err != nil {
		t.Fatal(err)
	}
	_, err := assume(t, url, o, "100000000001")
	wantAPIError(t, err, "AccessDenied", 403, refused("100000000001", emulator.DefaultOrgRole))
	// No such role.
	o.Account("100000000002").RemoveRole(emulator.DefaultOrgRole)
	_, err = assume(t, url, o, "100000000002")
	wantAPIError(t, err, "AccessDenied", 403, refused("100000000002", emulator.DefaultOrgRole))
	// A suspended account: no role session, and its own keys sign nothing.
	if err := o.SetAccountStatus("100000000003", emulator.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	_, err = assume(t, url, o, "100000000003")
	wantAPIError(t, err, "AccessDenied", 403, refused("100000000003", emulator.DefaultOrgRole)+" (account 100000000003 is suspended)")
	_, err = emutest.IAMClient(url, rootCreds(o.Account("100000000003"))).ListUsers(context.Background(), &iam.ListUsersInput{}, noRetry)
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	accounts, err := emutest.OrganizationsClient(url, rootCreds(o.Management())).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if s := accounts.Accounts[3].Status; s != orgtypes.AccountStatusSuspended {
		t.Fatalf("suspended account listed as %s", s)
	}
	wantCalls(t, o.Management(), map[string]int{"AssumeRole": 3, "ListAccounts": 1})
}

func TestOrgAssumeRoleExternalID(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:2x0"})
	if err := o.Account("100000000001").SetRole(emulator.Role{Name: "Auditor", Trusted: []string{"100000000000"}, ExternalID: "ext-123"}); err != nil {
		t.Fatal(err)
	}
	role := func(id string) func(*sts.AssumeRoleInput) {
		return func(in *sts.AssumeRoleInput) {
			in.RoleArn = aws.String(roleArn("100000000001", "Auditor"))
			if id != "" {
				in.ExternalId = aws.String(id)
			}
		}
	}
	_, err := assume(t, url, o, "100000000001", role(""))
	wantAPIError(t, err, "AccessDenied", 403, "")
	_, err = assume(t, url, o, "100000000001", role("ext-999"))
	wantAPIError(t, err, "AccessDenied", 403, "")
	if _, err := assume(t, url, o, "100000000001", role("ext-123")); err != nil {
		t.Fatal(err)
	}
	_, err = assume(t, url, o, "100000000001", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(60) })
	wantAPIError(t, err, "ValidationError", 400, "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
}

func TestOrgRoleSessionExpiresAndNeedsItsToken(t *testing.T) {
	clk := newClock()
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:2x1", Now: clk.Now})
	out, err := assume(t, url, o, "100000000001", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(900) })
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	_, err = emutest.IAMClient(url, emutest.Credentials(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "forged")).
		ListUsers(context.Background(), &iam.ListUsersInput{}, noRetry)
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	clk.Advance(901 * time.Second)
	_, err = emutest.IAMClient(url, sessionCreds(out)).ListUsers(context.Background(), &iam.ListUsersInput{}, noRetry)
	wantAPIError(t, err, "ExpiredToken", 403, "The security token included in the request is expired")
}

func TestGetCallerIdentityOfRootAndUsers(t *testing.T) {
	e, endpoint := start(t, emulator.Options{Seed: "demo"})
	who, err := emutest.STSClient(endpoint, rootCreds(e)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != emulator.DefaultAccountID || aws.ToString(who.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(who.UserId) != emulator.DefaultAccountID {
		t.Fatalf("root identity %+v", who)
	}
	id, secret := userKey(t, e, "bob", "AKIABOBTESTKEY000001", "")
	who, err = emutest.STSClient(endpoint, emutest.Credentials(id, secret, "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	bob := e.Snapshot().Users[1]
	if aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/engineering/bob" || aws.ToString(who.UserId) != bob.UserID {
		t.Fatalf("bob's identity %+v, want %s", who, bob.UserID)
	}
	// An STS action signed for IAM is an IAM request, which has no such action.
	_, err = emutest.Client(t, endpoint).GetUser(context.Background(), &iam.GetUserInput{}, noRetry, editForm(func(f url.Values) {
		f.Set("Action", "GetCallerIdentity")
		f.Set("Version", "2011-06-15")
	}))
	wantAPIError(t, err, "InvalidAction", 400, "Could not find operation GetCallerIdentity for version 2011-06-15")
	if got := e.Calls()["GetCallerIdentity"]; got != 2 {
		t.Fatalf("GetCallerIdentity counted %d times, want 2", got)
	}
}

func TestOrgFaultsStayInTheirAccount(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "org:3x1"})
	o.Account("100000000001").SetThrottleRate(1)
	o.Account("100000000002").SetLatency(100 * time.Millisecond)
	slow, err := assume(t, url, o, "100000000002")
	if err != nil {
		t.Fatal(err)
	}
	throttled, err := assume(t, url, o, "100000000001")
	if err != nil {
		t.Fatal(err) // AssumeRole is the management account's call
	}
	_, err = emutest.IAMClient(url, sessionCreds(throttled)).ListUsers(context.Background(), &iam.ListUsersInput{}, noRetry)
	wantAPIError(t, err, "Throttling", 400, "Rate exceeded")
	begin := time.Now()
	if _, err := emutest.IAMClient(url, sessionCreds(slow)).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 100*time.Millisecond {
		t.Fatalf("the slow account answered in %v", d)
	}
	begin = time.Now()
	if _, err := emutest.IAMClient(url, rootCreds(o.Management())).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d >= 100*time.Millisecond {
		t.Fatalf("the management account answered in %v: another account's latency leaked", d)
	}
}

func TestOrgOrganizationalUnits(t *testing.T) {
	o, url := startOrg(t, emulator.OrgOptions{Seed: "demo"})
	client := emutest.OrganizationsClient(url, rootCreds(o.Management()))
	ctx := context.Background()
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	rootID := aws.ToString(roots.Roots[0].Id)
	ous, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(rootID)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, ou := range ous.OrganizationalUnits {
		names[aws.ToString(ou.Id)] = aws.ToString(ou.Name)
	}
	if len(names) != 2 || !slices.Contains(slices.Collect(maps.Values(names)), "Workloads") || !slices.Contains(slices.Collect(maps.Values(names)), "Sandbox") {
		t.Fatalf("OUs %v", names)
	}
	wantParent := map[string]string{"123456789012": "", "210987654321": "Workloads", "345678901234": "Workloads", "456789012345": "Sandbox", "567890123456": "Sandbox"}
	for account, ouName := range wantParent {
		p, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(account)})
		if err != nil {
			t.Fatal(err)
		}
		got := p.Parents[0]
		if ouName == "" {
			if aws.ToString(got.Id) != rootID || got.Type != orgtypes.ParentTypeRoot {
				t.Errorf("%s's parent %+v, want the root", account, got)
			}
		} else if names[aws.ToString(got.Id)] != ouName || got.Type != orgtypes.ParentTypeOrganizationalUnit {
			t.Errorf("%s's parent %+v, want %s", account, got, ouName)
		}
	}
	_, err = client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")}, func(o *organizations.Options) { o.RetryMaxAttempts = 1 })
	wantAPIError(t, err, "ChildNotFoundException", 400, "")
	if got := o.Accounts()[4]; got.Name != "archive" || got.Status != emulator.AccountActive {
		t.Fatalf("the demo's last account %+v, want archive, active", got)
	}
}

func TestOrgSeedErrors(t *testing.T) {
	for _, seed := range []string{"org:0", "org:x", "org:3x-1", "org:2x6000", "orgs:3", ""} {
		if _, err := emulator.NewOrg(emulator.OrgOptions{Seed: seed}); err == nil {
			t.Errorf("seed %q accepted", seed)
		}
	}
}
