package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

var _ awsiam.OrganizationsAPI = (*direct)(nil)

// OrgClients returns clients of org's management account in this process
// (signing as its root user, through Invoke as Clients does), which list
// the organization's accounts through its Organizations and reach each
// member through its STS: AssumeRole, made and counted as the management
// account's call, then the member's IAM calls signed for by the role
// session. Of o only the retry bounds apply.
func OrgClients(org *emulator.Org, o awsiam.Options) *awsiam.Clients {
	mgmt := org.Management()
	id, _ := mgmt.RootCredentials()
	d := &direct{emu: mgmt, keyID: id, retryer: awsiam.NewRetryer(o)}
	return awsiam.NewClientsFor(d, o).WithAssumer(func(ctx context.Context, roleArn, externalID string, mo awsiam.Options) (*awsiam.Clients, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("iamsql")}
		if externalID != "" {
			in.ExternalId = aws.String(externalID)
		}
		out, err := d.AssumeRole(ctx, in)
		if err != nil {
			return nil, err
		}
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
		parts := strings.Split(aws.ToString(out.AssumedRoleUser.Arn), ":")
		if len(parts) < 5 || org.Account(parts[4]) == nil {
			return nil, fmt.Errorf("sandbox: AssumeRole answered for an unknown account (%s)", aws.ToString(out.AssumedRoleUser.Arn))
		}
		member := &direct{emu: org.Account(parts[4]), keyID: aws.ToString(out.Credentials.AccessKeyId), retryer: awsiam.NewRetryer(mo)}
		return awsiam.NewClientsFor(member, mo), nil
	})
}

// AssumeRole is STS's, answered in process with the retry loop of the
// other calls.
func (d *direct) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f := form{}.set("RoleArn", in.RoleArn).set("RoleSessionName", in.RoleSessionName).set("ExternalId", in.ExternalId)
	if in.DurationSeconds != nil {
		f["DurationSeconds"] = []string{strconv.Itoa(int(*in.DurationSeconds))}
	}
	res, err := d.call(ctx, "AssumeRole", f, nil)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.AssumeRoleResult)
	return &sts.AssumeRoleOutput{
		Credentials: &ststypes.Credentials{AccessKeyId: aws.String(r.AccessKeyID), SecretAccessKey: aws.String(r.SecretAccessKey),
			SessionToken: aws.String(r.SessionToken), Expiration: aws.Time(r.Expiration)},
		AssumedRoleUser: &ststypes.AssumedRoleUser{AssumedRoleId: aws.String(r.AssumedRoleID), Arn: aws.String(r.Arn)},
	}, nil
}

// ListAccounts is Organizations', answered in process.
func (d *direct) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f := form{}.set("NextToken", in.NextToken)
	if in.MaxResults != nil {
		f["MaxResults"] = []string{strconv.Itoa(int(*in.MaxResults))}
	}
	var page struct {
		Accounts []struct {
			Id, Arn, Name, Email, Status, JoinedMethod string
			JoinedTimestamp                            int64
		}
		NextToken *string
	}
	if err := d.callJSON(ctx, "ListAccounts", f, &page); err != nil {
		return nil, err
	}
	out := &organizations.ListAccountsOutput{NextToken: page.NextToken}
	for _, a := range page.Accounts {
		out.Accounts = append(out.Accounts, orgtypes.Account{Id: aws.String(a.Id), Arn: aws.String(a.Arn), Name: aws.String(a.Name),
			Email: aws.String(a.Email), Status: orgtypes.AccountStatus(a.Status), JoinedMethod: orgtypes.AccountJoinedMethod(a.JoinedMethod),
			JoinedTimestamp: aws.Time(time.Unix(a.JoinedTimestamp, 0).UTC())})
	}
	return out, nil
}

// ListParents is Organizations', answered in process.
func (d *direct) ListParents(ctx context.Context, in *organizations.ListParentsInput, _ ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	var page struct{ Parents []struct{ Id, Type string } }
	if err := d.callJSON(ctx, "ListParents", form{}.set("ChildId", in.ChildId), &page); err != nil {
		return nil, err
	}
	out := &organizations.ListParentsOutput{}
	for _, p := range page.Parents {
		out.Parents = append(out.Parents, orgtypes.Parent{Id: aws.String(p.Id), Type: orgtypes.ParentType(p.Type)})
	}
	return out, nil
}

// callJSON makes an Organizations call and reads its JSON answer into v,
// as the SDK reads it off the wire.
func (d *direct) callJSON(ctx context.Context, op string, f form, v any) error {
	res, err := d.call(ctx, op, f, nil)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res.(emulator.JSONAnswer))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
