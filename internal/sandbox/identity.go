package sandbox

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/ptr"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

var _ awsiam.IdentityAPI = (*direct)(nil)

// GetCallerIdentity asks the emulator's STS who the sandbox is (its root
// user), counted like any call; no retries: it is asked for once.
func (d *direct) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	res, err := d.emu.InvokeSTS(ctx, d.keyID, "GetCallerIdentity", url.Values{})
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: sts.ServiceID, OperationName: "GetCallerIdentity", Err: sdkError(ctx, err)}
	}
	r := res.(*emulator.GetCallerIdentityResult)
	return &sts.GetCallerIdentityOutput{Account: ptr.String(r.Account), Arn: ptr.String(r.Arn), UserId: ptr.String(r.UserID)}, nil
}
