package sandbox

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// contextStep is one user-context or credential-report call.
type contextStep struct {
	name  string
	hooks func(*emulator.Emulator)
	call  func(ctx context.Context, api awsiam.UserContextAPI) (any, error)
}

var contextSteps = []contextStep{
	{name: "ListUserTags", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice")})
	}},
	{name: "ListUserTags pages of 1", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return allPages(ctx, iam.NewListUserTagsPaginator(api.(iam.ListUserTagsAPIClient), &iam.ListUserTagsInput{UserName: aws.String("carol"), MaxItems: aws.Int32(1)}))
	}},
	{name: "ListUserTags unknown user", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("nobody")})
	}},
	{name: "ListUserTags missing user", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListUserTags(ctx, &iam.ListUserTagsInput{})
	}},
	{name: "ListMFADevices", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")})
	}},
	{name: "GetLoginProfile", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
	}},
	{name: "GetLoginProfile none", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("carol")})
	}},
	{name: "ListGroupsForUser pages of 1", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return allPages(ctx, iam.NewListGroupsForUserPaginator(api.(iam.ListGroupsForUserAPIClient), &iam.ListGroupsForUserInput{UserName: aws.String("carol"), MaxItems: aws.Int32(1)}))
	}},
	{name: "ListAttachedUserPolicies", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
	}},
	{name: "ListUserPolicies", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("bob")})
	}},
	{name: "GetCredentialReport before generation", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	}},
	{name: "GenerateCredentialReport", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	}},
	{name: "GenerateCredentialReport again", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	}},
	{name: "GetCredentialReport", call: func(ctx context.Context, api awsiam.UserContextAPI) (any, error) {
		return api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	}},
}

// TestDirectContextMatchesTheSDK: the user-context operations and the
// credential report answer the direct client as the SDK over HTTP.
func TestDirectContextMatchesTheSDK(t *testing.T) {
	sdk, dir := sides(t)
	ctx := context.Background()
	for _, st := range contextSteps {
		var got [2]string
		for i, s := range []side{sdk, dir} {
			if st.hooks != nil {
				st.hooks(s.emu)
			}
			s.emu.ResetCalls()
			api, err := awsiam.ContextOf(s.api, st.name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := st.call(ctx, api)
			got[i] = fmt.Sprintf("output: %s\nerror: %s\ncalls: %s", outputText(out), errorText(err), callsText(s.emu.CallLog()))
		}
		if got[0] != got[1] {
			t.Errorf("%s:\n--- sdk\n%s\n--- direct\n%s", st.name, got[0], got[1])
		} else {
			t.Logf("%s:\n%s", st.name, got[1])
		}
	}
}
