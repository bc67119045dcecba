package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// TestAWSCLIUserContext drives the user-context operations and the
// credential report with the real aws CLI against the demo account.
func TestAWSCLIUserContext(t *testing.T) {
	bin := awsCLI(t)
	t.Parallel()
	clk := newClock()
	e, endpoint := start(t, emulator.Options{Seed: "demo", Now: clk.Now})
	id, secret := e.RootCredentials()
	c := &cli{bin: bin, endpoint: endpoint, home: t.TempDir(), id: id, secret: secret}

	t.Run("tag-user, list-user-tags (paged), untag-user", func(t *testing.T) {
		c.ok(t, nil, "iam", "tag-user", "--user-name", "dave", "--tags", "Key=owner,Value=dave@example.com", "Key=team,Value=ops", "Key=cost-center,Value=42")
		e.ResetCalls()
		var out struct{ Tags []struct{ Key, Value string } }
		c.ok(t, &out, "iam", "list-user-tags", "--user-name", "dave", "--page-size", "2")
		want := []struct{ Key, Value string }{{"cost-center", "42"}, {"owner", "dave@example.com"}, {"team", "ops"}}
		if !reflect.DeepEqual(out.Tags, want) {
			t.Fatalf("tags %+v, want %+v", out.Tags, want)
		}
		if got := e.Calls()["ListUserTags"]; got != 2 {
			t.Fatalf("ListUserTags calls %d, want 2 pages", got)
		}
		c.ok(t, nil, "iam", "tag-user", "--user-name", "dave", "--tags", "Key=team,Value=platform")
		c.ok(t, nil, "iam", "untag-user", "--user-name", "dave", "--tag-keys", "cost-center")
		c.ok(t, &out, "iam", "list-user-tags", "--user-name", "dave")
		want = []struct{ Key, Value string }{{"owner", "dave@example.com"}, {"team", "platform"}}
		if !reflect.DeepEqual(out.Tags, want) {
			t.Fatalf("after retag and untag: %+v, want %+v", out.Tags, want)
		}
		c.fails(t, "NoSuchEntity", "iam", "list-user-tags", "--user-name", "nobody")
		c.fails(t, "ValidationError", "iam", "tag-user", "--user-name", "dave", "--tags", "Key=bad*key,Value=x")
	})

	t.Run("the console's key description is a tag named after the key id", func(t *testing.T) {
		var out struct{ Tags []struct{ Key, Value string } }
		c.ok(t, &out, "iam", "list-user-tags", "--user-name", "ci-deploy")
		found := false
		for _, tg := range out.Tags {
			found = found || (tg.Key == "AKIACIDEPLOY00000001" && tg.Value == "GitHub Actions deploy")
		}
		if !found {
			t.Fatalf("no description tag: %+v", out.Tags)
		}
	})

	t.Run("list-mfa-devices, get-login-profile", func(t *testing.T) {
		var mfa struct {
			MFADevices []struct{ UserName, SerialNumber, EnableDate string }
		}
		c.ok(t, &mfa, "iam", "list-mfa-devices", "--user-name", "alice")
		if len(mfa.MFADevices) != 1 || mfa.MFADevices[0].UserName != "alice" || mfa.MFADevices[0].SerialNumber != "arn:aws:iam::123456789012:mfa/alice" || mfa.MFADevices[0].EnableDate == "" {
			t.Fatalf("alice's MFA: %+v", mfa)
		}
		c.ok(t, &mfa, "iam", "list-mfa-devices", "--user-name", "bob")
		if len(mfa.MFADevices) != 0 {
			t.Fatalf("bob has no MFA: %+v", mfa)
		}
		var lp struct {
			LoginProfile struct {
				UserName              string
				PasswordResetRequired bool
				CreateDate            string
			}
		}
		c.ok(t, &lp, "iam", "get-login-profile", "--user-name", "bob")
		if lp.LoginProfile.UserName != "bob" || lp.LoginProfile.CreateDate == "" {
			t.Fatalf("bob's login profile: %+v", lp)
		}
		c.fails(t, "NoSuchEntity", "iam", "get-login-profile", "--user-name", "carol")
	})

	t.Run("list-groups-for-user, list-attached-user-policies, list-user-policies", func(t *testing.T) {
		var g struct {
			Groups []struct{ GroupName, Arn string }
		}
		c.ok(t, &g, "iam", "list-groups-for-user", "--user-name", "carol", "--page-size", "1")
		if len(g.Groups) != 2 || g.Groups[0].GroupName != "data" || g.Groups[1].GroupName != "developers" || g.Groups[0].Arn != "arn:aws:iam::123456789012:group/data" {
			t.Fatalf("carol's groups: %+v", g)
		}
		var ap struct {
			AttachedPolicies []struct{ PolicyName, PolicyArn string }
		}
		c.ok(t, &ap, "iam", "list-attached-user-policies", "--user-name", "alice")
		if len(ap.AttachedPolicies) != 1 || ap.AttachedPolicies[0].PolicyName != "AdministratorAccess" || ap.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/AdministratorAccess" {
			t.Fatalf("alice's policies: %+v", ap)
		}
		var ip struct{ PolicyNames []string }
		c.ok(t, &ip, "iam", "list-user-policies", "--user-name", "bob")
		if !reflect.DeepEqual(ip.PolicyNames, []string{"payments-s3"}) {
			t.Fatalf("bob's inline policies: %+v", ip)
		}
		c.fails(t, "NoSuchEntity", "iam", "list-groups-for-user", "--user-name", "nobody")
	})

	t.Run("the credential report: not present, STARTED, COMPLETE, regenerated after 4 hours", func(t *testing.T) {
		c.fails(t, "ReportNotPresent", "iam", "get-credential-report")
		var gen struct{ State, Description string }
		c.ok(t, &gen, "iam", "generate-credential-report")
		if gen.State != "STARTED" {
			t.Fatalf("first generate: %+v", gen)
		}
		c.ok(t, &gen, "iam", "generate-credential-report")
		if gen.State != "COMPLETE" {
			t.Fatalf("second generate: %+v", gen)
		}
		var rep struct{ Content, ReportFormat, GeneratedTime string }
		c.ok(t, &rep, "iam", "get-credential-report")
		csvText, err := base64.StdEncoding.DecodeString(rep.Content)
		if err != nil {
			t.Fatalf("content is not base64: %v", err)
		}
		if rep.ReportFormat != "text/csv" || !strings.HasPrefix(rep.GeneratedTime, "2025-06-01T12:00:00") {
			t.Fatalf("report %s %s", rep.ReportFormat, rep.GeneratedTime)
		}
		recs, err := csv.NewReader(strings.NewReader(string(csvText))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(recs[0], emulator.CredentialReportColumns) {
			t.Fatalf("header %v", recs[0])
		}
		if recs[1][0] != "<root_account>" || recs[1][3] != "not_supported" || recs[1][8] != "true" {
			t.Fatalf("root row %v", recs[1])
		}
		// carol: no password, two active keys; the second used 60 days ago with sts.
		var carol []string
		for _, r := range recs {
			if r[0] == "carol" {
				carol = r
			}
		}
		wantCarol := []string{"carol", "arn:aws:iam::123456789012:user/engineering/carol", "2024-11-13T12:00:00+00:00", "false", "N/A", "N/A", "N/A", "false",
			"true", "2025-02-01T12:00:00+00:00", "N/A", "N/A", "N/A",
			"true", "2025-02-26T12:00:00+00:00", "2025-04-02T12:00:00+00:00", "us-east-1", "sts",
			"false", "N/A", "false", "N/A"}
		if !reflect.DeepEqual(carol, wantCarol) {
			t.Fatalf("carol's row\n got %q\nwant %q", carol, wantCarol)
		}

		clk.Advance(3 * time.Hour)
		c.ok(t, &gen, "iam", "generate-credential-report")
		if gen.State != "COMPLETE" {
			t.Fatalf("a 3-hour-old report is kept: %+v", gen)
		}
		clk.Advance(90 * time.Minute)
		c.ok(t, &gen, "iam", "generate-credential-report")
		if gen.State != "STARTED" {
			t.Fatalf("a report over 4 hours old is made again: %+v", gen)
		}
		c.ok(t, &rep, "iam", "get-credential-report")
		if !strings.HasPrefix(rep.GeneratedTime, "2025-06-01T16:30:00") {
			t.Fatalf("regenerated at %s", rep.GeneratedTime)
		}
	})
}

// TestUserContextSDK checks the same operations through the SDK, with the
// calls each makes.
func TestUserContextSDK(t *testing.T) {
	e, endpoint := start(t, emulator.Options{Seed: "demo"})
	api := emutest.Client(t, endpoint)
	ctx := context.Background()
	_ = e

	if _, err := api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("dave"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("dave@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := api.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("DAVE")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "dave@example.com" || tags.IsTruncated {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	// 50 tags at most.
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String("k" + strings.Repeat("x", i)), Value: aws.String("")}
	}
	_, err = api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("dave"), Tags: many}, noRetry)
	wantAPIError(t, err, "LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50")

	_, err = api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("carol")}, noRetry)
	wantAPIError(t, err, "NoSuchEntity", 404, "Login Profile for User carol cannot be found.")
	lp, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("erin")})
	if err != nil || aws.ToString(lp.LoginProfile.UserName) != "erin" {
		t.Fatalf("erin: %+v %v", lp, err)
	}
	mfa, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("dave")})
	if err != nil || len(mfa.MFADevices) != 1 {
		t.Fatalf("dave's MFA: %+v %v", mfa, err)
	}
	groups, err := api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol"), MaxItems: aws.Int32(1)})
	if err != nil || len(groups.Groups) != 1 || !groups.IsTruncated {
		t.Fatalf("carol's first group: %+v %v", groups, err)
	}
	rest, err := api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol"), Marker: groups.Marker})
	if err != nil || len(rest.Groups) != 1 || aws.ToString(rest.Groups[0].GroupName) != "developers" || rest.IsTruncated {
		t.Fatalf("carol's second group: %+v %v", rest, err)
	}
	_, err = api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob"), Marker: groups.Marker}, noRetry)
	wantAPIError(t, err, "ValidationError", 400, "Invalid Marker: pass the Marker value returned by the previous ListGroupsForUser call.")
	pol, err := api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("erin")})
	if err != nil || len(pol.AttachedPolicies) != 1 || aws.ToString(pol.AttachedPolicies[0].PolicyName) != "IAMFullAccess" {
		t.Fatalf("erin's policies: %+v %v", pol, err)
	}
	inl, err := api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci-deploy")})
	if err != nil || !reflect.DeepEqual(inl.PolicyNames, []string{"deploy-artifacts"}) {
		t.Fatalf("ci-deploy's inline policies: %+v %v", inl, err)
	}

	_, err = api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, noRetry)
	wantAPIError(t, err, "ReportNotPresent", 410, "Credential report not present. To generate a credential report, use GenerateCredentialReport.")
	e.SetCredentialReportDelay(time.Hour)
	gen, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Fatalf("generate: %+v %v", gen, err)
	}
	_, err = api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, noRetry)
	wantAPIError(t, err, "ReportInProgress", 404, "Credential report generation in progress.")
	gen, err = api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeInprogress {
		t.Fatalf("generate while in progress: %+v %v", gen, err)
	}

	want := map[string]int{"TagUser": 2, "ListUserTags": 1, "GetLoginProfile": 2, "ListMFADevices": 1, "ListGroupsForUser": 3,
		"ListAttachedUserPolicies": 1, "ListUserPolicies": 1, "GetCredentialReport": 2, "GenerateCredentialReport": 2}
	if got := e.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	// The state survives a snapshot as a copy.
	st := e.Snapshot()
	for _, u := range st.Users {
		if u.UserName == "dave" && (len(u.Tags) != 1 || u.LoginProfile == nil || len(u.MFADevices) != 1) {
			t.Fatalf("dave in the snapshot: %+v", u)
		}
	}
}
