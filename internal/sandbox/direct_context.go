package sandbox

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// The user-context operations and the credential report, answered in
// process as the SDK client answers them over HTTP.

var _ awsiam.UserContextAPI = (*direct)(nil)

func (d *direct) ListUserTags(ctx context.Context, in *iam.ListUserTagsInput, optFns ...func(*iam.Options)) (*iam.ListUserTagsOutput, error) {
	if in == nil || in.UserName == nil {
		return nil, required("ListUserTags", "UserName")
	}
	res, err := d.call(ctx, "ListUserTags", form{}.set("UserName", in.UserName).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListUserTagsResult)
	out := &iam.ListUserTagsOutput{Tags: make([]types.Tag, 0, len(r.Tags)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, types.Tag{Key: text(t.Key), Value: text(t.Value)})
	}
	return out, nil
}

func (d *direct) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	if in == nil {
		in = &iam.ListMFADevicesInput{}
	}
	res, err := d.call(ctx, "ListMFADevices", form{}.set("UserName", in.UserName).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListMFADevicesResult)
	out := &iam.ListMFADevicesOutput{MFADevices: make([]types.MFADevice, 0, len(r.MFADevices)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, m := range r.MFADevices {
		out.MFADevices = append(out.MFADevices, types.MFADevice{UserName: text(r.UserName), SerialNumber: text(m.SerialNumber), EnableDate: date(m.EnableDate)})
	}
	return out, nil
}

func (d *direct) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	if in == nil {
		in = &iam.GetLoginProfileInput{}
	}
	res, err := d.call(ctx, "GetLoginProfile", form{}.set("UserName", in.UserName), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GetLoginProfileResult)
	return &iam.GetLoginProfileOutput{LoginProfile: &types.LoginProfile{
		UserName: text(r.UserName), CreateDate: date(r.Profile.CreateDate), PasswordResetRequired: r.Profile.PasswordResetRequired,
	}}, nil
}

func (d *direct) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	if in == nil || in.UserName == nil {
		return nil, required("ListGroupsForUser", "UserName")
	}
	res, err := d.call(ctx, "ListGroupsForUser", form{}.set("UserName", in.UserName).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListGroupsForUserResult)
	out := &iam.ListGroupsForUserOutput{Groups: make([]types.Group, 0, len(r.Groups)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, g := range r.Groups {
		out.Groups = append(out.Groups, types.Group{Path: text(g.Path), GroupName: text(g.GroupName), GroupId: text(g.GroupID), Arn: text(g.Arn), CreateDate: date(g.CreateDate)})
	}
	return out, nil
}

func (d *direct) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	if in == nil || in.UserName == nil {
		return nil, required("ListAttachedUserPolicies", "UserName")
	}
	p := form{}.set("UserName", in.UserName).set("PathPrefix", in.PathPrefix).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems))
	res, err := d.call(ctx, "ListAttachedUserPolicies", p, optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListAttachedUserPoliciesResult)
	out := &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: make([]types.AttachedPolicy, 0, len(r.AttachedPolicies)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, a := range r.AttachedPolicies {
		out.AttachedPolicies = append(out.AttachedPolicies, types.AttachedPolicy{PolicyName: text(a.PolicyName), PolicyArn: text(a.PolicyArn)})
	}
	return out, nil
}

func (d *direct) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	if in == nil || in.UserName == nil {
		return nil, required("ListUserPolicies", "UserName")
	}
	res, err := d.call(ctx, "ListUserPolicies", form{}.set("UserName", in.UserName).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListUserPoliciesResult)
	out := &iam.ListUserPoliciesOutput{PolicyNames: make([]string, 0, len(r.PolicyNames)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, n := range r.PolicyNames {
		out.PolicyNames = append(out.PolicyNames, emulator.XMLText(n))
	}
	return out, nil
}

func (d *direct) GenerateCredentialReport(ctx context.Context, _ *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	res, err := d.call(ctx, "GenerateCredentialReport", form{}, optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GenerateCredentialReportResult)
	return &iam.GenerateCredentialReportOutput{State: types.ReportStateType(r.State), Description: text(r.Description)}, nil
}

func (d *direct) GetCredentialReport(ctx context.Context, _ *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	res, err := d.call(ctx, "GetCredentialReport", form{}, optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GetCredentialReportResult)
	return &iam.GetCredentialReportOutput{Content: append([]byte(nil), r.Content...), GeneratedTime: date(r.GeneratedTime), ReportFormat: types.ReportFormatTypeTextCsv}, nil
}
