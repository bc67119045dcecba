package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/ptr"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// endpoint is the sandbox's notional IAM endpoint, named in errors the way
// the SDK names the URL a request failed to reach.
const endpoint = "http://sandbox.iamsql.invalid"

// direct is awsiam.API answered by an in-process emulator through
// emulator.Invoke: the same identity, call log, test hooks and operations
// as an HTTP request, without serializing the call to the IAM Query
// protocol and parsing the XML answer back, which was about a quarter of
// the CPU of a statement over the MySQL protocol (see bench/README.md).
//
// What a caller sees is what the SDK client returns for the same call
// against the emulator over HTTP (TestDirectMatchesTheSDK checks it): the
// SDK's output types, its client-side check of required parameters,
// errors shaped as the SDK shapes them (an *smithy.OperationError around
// an HTTP response error carrying the IAM code and message, or around a
// send error), and its retry loop with the same retryer, honouring
// per-call options such as awsiam.NoRetry. Outputs carry no
// ResultMetadata (request ids).
type direct struct {
	emu     *emulator.Emulator
	keyID   string
	retryer aws.Retryer
}

var (
	_ awsiam.API         = (*direct)(nil)
	_ awsiam.IdentityAPI = (*direct)(nil)
)

// call runs one Action with the SDK's retry loop (aws/retry's Attempt
// middleware: attempts while the error is retryable, a MaxAttemptsError
// when they run out, the retryer's backoff between them). The retry quota
// is not consulted: iamsql's retryer has none (awsiam.NewRetryer).
func (d *direct) call(ctx context.Context, op string, params form, optFns []func(*iam.Options)) (any, error) {
	o := iam.Options{Retryer: d.retryer}
	for _, f := range optFns {
		f(&o)
	}
	r := o.Retryer
	if o.RetryMaxAttempts != 0 {
		r = retry.AddWithMaxAttempts(r, o.RetryMaxAttempts)
	}
	maxAttempts := r.MaxAttempts()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, opError(op, err)
		}
		// Org mode's bounds are per attempt, as for an HTTP request.
		release, err := awsiam.AcquireAttempt(ctx)
		if err != nil {
			return nil, opError(op, &smithy.CanceledError{Err: err})
		}
		res, err := d.emu.Invoke(ctx, d.keyID, op, url.Values(params))
		release()
		if err == nil {
			return res, nil
		}
		err = sdkError(ctx, err)
		if !r.IsErrorRetryable(err) {
			return nil, opError(op, err)
		}
		if maxAttempts > 0 && attempt >= maxAttempts {
			return nil, opError(op, &retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		delay, derr := r.RetryDelay(attempt, err)
		if derr != nil {
			return nil, opError(op, derr)
		}
		if serr := sleep(ctx, delay); serr != nil {
			return nil, opError(op, &aws.RequestCanceledError{Err: serr})
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func opError(op string, err error) error {
	return &smithy.OperationError{ServiceID: iam.ServiceID, OperationName: op, Err: err}
}

// sdkError shapes an Invoke error as the SDK returns it: an HTTP response
// error (its status is what the retryer looks at for 5xx) around a
// generic API error with IAM's code and message, or, for a dropped call,
// around a failure to send (a call the caller cancelled, during injected
// latency or while its answer was held: a cancellation), with
// the empty response the SDK puts there (status 0). The SDK returns some
// codes as modelled types (types.NoSuchEntityException, ...); iamsql reads
// every one through smithy.APIError, which both satisfy alike.
func sdkError(ctx context.Context, err error) error {
	status := 0
	var aerr *emulator.APIError
	switch {
	case errors.As(err, &aerr):
		status = aerr.Status
		err = &smithy.GenericAPIError{Code: aerr.Code, Message: emulator.XMLText(aerr.Message)}
	case ctx.Err() != nil: // as smithy-go's ClientHandler: not retried
		err = &smithy.CanceledError{Err: ctx.Err()}
	default:
		err = &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: endpoint, Err: err}}
	}
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}},
		Err:      err,
	}}
}

// required is the SDK's client-side check: a missing required parameter
// fails before any call.
func required(op string, missing ...string) error {
	if len(missing) == 0 {
		return nil
	}
	invalid := smithy.InvalidParamsError{Context: op + "Input"}
	for _, name := range missing {
		invalid.Add(smithy.NewErrParamRequired(name))
	}
	return opError(op, invalid)
}

// form holds an Action's parameters as the SDK's serializer sends them:
// those set in the input, by name.
type form url.Values

func (f form) set(name string, v *string) form {
	if v != nil {
		f[name] = []string{*v}
	}
	return f
}

func maxItems(n *int32) *string {
	if n == nil {
		return nil
	}
	return ptr.String(strconv.Itoa(int(*n)))
}

func marker(truncated bool, m string) *string {
	if !truncated {
		return nil
	}
	return ptr.String(m)
}

// date is a time as the SDK parses it back from the emulator's XML: UTC,
// whole seconds.
func date(t time.Time) *time.Time {
	t = t.UTC().Truncate(time.Second)
	return &t
}

// text is a string as the SDK reads it back from the emulator's XML.
func text(s string) *string { return ptr.String(emulator.XMLText(s)) }

func user(u *emulator.User, root bool) types.User {
	out := types.User{UserId: text(u.UserID), Arn: text(u.Arn), CreateDate: date(u.CreateDate)}
	if !root {
		out.Path, out.UserName = text(u.Path), text(u.UserName)
	}
	if u.PasswordLastUsed != nil {
		out.PasswordLastUsed = date(*u.PasswordLastUsed)
	}
	return out
}

func (d *direct) GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if in == nil {
		in = &iam.GetUserInput{}
	}
	res, err := d.call(ctx, "GetUser", form{}.set("UserName", in.UserName), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.UserResult)
	u := user(&r.User, r.Root)
	return &iam.GetUserOutput{User: &u}, nil
}

func (d *direct) ListUsers(ctx context.Context, in *iam.ListUsersInput, optFns ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	if in == nil {
		in = &iam.ListUsersInput{}
	}
	res, err := d.call(ctx, "ListUsers", form{}.set("PathPrefix", in.PathPrefix).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListUsersResult)
	out := &iam.ListUsersOutput{Users: make([]types.User, 0, len(r.Users)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for i := range r.Users {
		out.Users = append(out.Users, user(&r.Users[i], false))
	}
	return out, nil
}

func (d *direct) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	if in == nil {
		in = &iam.CreateAccessKeyInput{}
	}
	res, err := d.call(ctx, "CreateAccessKey", form{}.set("UserName", in.UserName), optFns)
	if err != nil {
		return nil, err
	}
	k := &res.(*emulator.CreateAccessKeyResult).AccessKey
	return &iam.CreateAccessKeyOutput{AccessKey: &types.AccessKey{
		AccessKeyId:     text(k.AccessKeyID),
		SecretAccessKey: text(k.SecretAccessKey),
		Status:          types.StatusType(k.Status),
		UserName:        text(k.UserName),
		CreateDate:      date(k.CreateDate),
	}}, nil
}

func (d *direct) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if in == nil {
		in = &iam.ListAccessKeysInput{}
	}
	res, err := d.call(ctx, "ListAccessKeys", form{}.set("UserName", in.UserName).set("Marker", in.Marker).set("MaxItems", maxItems(in.MaxItems)), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.ListAccessKeysResult)
	out := &iam.ListAccessKeysOutput{AccessKeyMetadata: make([]types.AccessKeyMetadata, 0, len(r.AccessKeyMetadata)), IsTruncated: r.IsTruncated, Marker: marker(r.IsTruncated, r.Marker)}
	for _, k := range r.AccessKeyMetadata {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, types.AccessKeyMetadata{
			AccessKeyId: text(k.AccessKeyID),
			Status:      types.StatusType(k.Status),
			UserName:    text(k.UserName),
			CreateDate:  date(k.CreateDate),
		})
	}
	return out, nil
}

func (d *direct) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	if in == nil {
		in = &iam.UpdateAccessKeyInput{}
	}
	var missing []string
	if in.AccessKeyId == nil {
		missing = append(missing, "AccessKeyId")
	}
	if len(in.Status) == 0 {
		missing = append(missing, "Status")
	}
	if err := required("UpdateAccessKey", missing...); err != nil {
		return nil, err
	}
	p := form{}.set("UserName", in.UserName).set("AccessKeyId", in.AccessKeyId).set("Status", ptr.String(string(in.Status)))
	if _, err := d.call(ctx, "UpdateAccessKey", p, optFns); err != nil {
		return nil, err
	}
	return &iam.UpdateAccessKeyOutput{}, nil
}

func (d *direct) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	if in == nil {
		in = &iam.DeleteAccessKeyInput{}
	}
	if in.AccessKeyId == nil {
		return nil, required("DeleteAccessKey", "AccessKeyId")
	}
	if _, err := d.call(ctx, "DeleteAccessKey", form{}.set("UserName", in.UserName).set("AccessKeyId", in.AccessKeyId), optFns); err != nil {
		return nil, err
	}
	return &iam.DeleteAccessKeyOutput{}, nil
}

func (d *direct) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if in == nil {
		in = &iam.GetAccessKeyLastUsedInput{}
	}
	if in.AccessKeyId == nil {
		return nil, required("GetAccessKeyLastUsed", "AccessKeyId")
	}
	res, err := d.call(ctx, "GetAccessKeyLastUsed", form{}.set("AccessKeyId", in.AccessKeyId), optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GetAccessKeyLastUsedResult)
	lu := &types.AccessKeyLastUsed{ServiceName: ptr.String(emulator.NotUsed), Region: ptr.String(emulator.NotUsed)}
	if r.LastUsed != nil {
		lu = &types.AccessKeyLastUsed{LastUsedDate: date(r.LastUsed.Date), ServiceName: text(r.LastUsed.ServiceName), Region: text(r.LastUsed.Region)}
	}
	return &iam.GetAccessKeyLastUsedOutput{UserName: text(r.UserName), AccessKeyLastUsed: lu}, nil
}

func (d *direct) GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	res, err := d.call(ctx, "GetAccountSummary", form{}, optFns)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GetAccountSummaryResult)
	out := &iam.GetAccountSummaryOutput{SummaryMap: make(map[string]int32, len(r.SummaryMap))}
	for _, en := range r.SummaryMap {
		out.SummaryMap[en.Key] = int32(en.Value)
	}
	return out, nil
}

// GetCallerIdentity is STS's, answered by the emulator in process with
// the IAM client's retry loop (the same standard retryer).
func (d *direct) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	res, err := d.call(ctx, "GetCallerIdentity", form{}, nil)
	if err != nil {
		return nil, err
	}
	r := res.(*emulator.GetCallerIdentityResult)
	return &sts.GetCallerIdentityOutput{Account: ptr.String(r.Account), Arn: ptr.String(r.Arn), UserId: ptr.String(r.UserID)}, nil
}
