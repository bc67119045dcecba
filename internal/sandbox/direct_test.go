package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// side is one way of reaching an emulator: its clients' API and the
// emulator, so that the calls it received can be compared.
type side struct {
	name string
	emu  *emulator.Emulator
	api  awsiam.API
}

var epoch = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func newEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	now := epoch
	emu, err := emulator.New(emulator.Options{Seed: "demo", RandSeed: 7, CallLog: true, Now: func() time.Time {
		now = now.Add(1500 * time.Millisecond) // sub-second parts must not leak
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	return emu
}

// sides builds the two ways with equal emulators (same seed, clock and
// random ids): the real SDK client, signing, over the emulator's HTTP
// handler, and the sandbox's direct clients.
func sides(t *testing.T) (sdk, dir side) {
	opts := awsiam.Options{MaxAttempts: 3, MaxBackoff: time.Millisecond}
	sdkEmu, dirEmu := newEmulator(t), newEmulator(t)
	id, secret := sdkEmu.RootCredentials()
	o := opts
	o.EndpointURL = endpoint
	o.Config = &aws.Config{
		Region:      "us-east-1",
		HTTPClient:  &http.Client{Transport: sdkEmu.Transport()},
		Credentials: aws.NewCredentialsCache(staticCreds{id, secret}),
	}
	sdkAPI, err := awsiam.NewClients(o).For(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	dirAPI, err := Clients(dirEmu, opts).For(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return side{"sdk", sdkEmu, sdkAPI}, side{"direct", dirEmu, dirAPI}
}

type staticCreds struct{ id, secret string }

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret}, nil
}

// step is one call, or a few, made the same way on each side; hooks arms
// the side's emulator first.
type step struct {
	name  string
	hooks func(*emulator.Emulator)
	call  func(ctx context.Context, api awsiam.API) (any, error)
}

// pager is the SDK's paginators.
type pager[T any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iam.Options)) (T, error)
}

// allPages reads every page, through the SDK's paginator as iamsql does.
func allPages[T any](ctx context.Context, p pager[T]) (any, error) {
	var pages []T
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return pages, err
		}
		pages = append(pages, out)
	}
	return pages, nil
}

var steps = []step{
	{name: "GetUser root", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetUser(ctx, &iam.GetUserInput{})
	}},
	{name: "GetUser nil input", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetUser(ctx, nil)
	}},
	{name: "GetUser alice", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	}},
	{name: "GetUser unknown", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	}},
	{name: "GetUser invalid name", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bad name\x01<&>\r\n\xff")})
	}},
	{name: "ListUsers pages of 2", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return allPages(ctx, iam.NewListUsersPaginator(api, &iam.ListUsersInput{}, func(o *iam.ListUsersPaginatorOptions) { o.Limit = 2 }))
	}},
	{name: "ListUsers path prefix", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/engineering/")})
	}},
	{name: "ListUsers no match", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/none/")})
	}},
	{name: "ListUsers bad marker", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("not-a-marker")})
	}},
	{name: "ListUsers MaxItems 0", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)})
	}},
	{name: "ListAccessKeys alice", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	}},
	{name: "ListAccessKeys own (root)", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListAccessKeys(ctx, nil)
	}},
	{name: "ListAccessKeys pages of 1", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return allPages(ctx, iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String("carol")}, func(o *iam.ListAccessKeysPaginatorOptions) { o.Limit = 1 }))
	}},
	{name: "ListAccessKeys no keys", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("erin")})
	}},
	{name: "ListAccessKeys unknown user", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("nobody")})
	}},
	{name: "GetAccessKeyLastUsed used", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIABOB0000000000001")})
	}},
	{name: "GetAccessKeyLastUsed never used", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIACAROL00000000001")})
	}},
	{name: "GetAccessKeyLastUsed the caller's key", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(emulator.DefaultRootAccessKeyID)})
	}},
	{name: "GetAccessKeyLastUsed unknown key", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIANOSUCHKEY0000000")})
	}},
	{name: "GetAccessKeyLastUsed missing id", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{})
	}},
	{name: "GetAccountSummary", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	}},
	{name: "CreateAccessKey", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}, awsiam.NoRetry)
	}},
	{name: "CreateAccessKey over quota", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}, awsiam.NoRetry)
	}},
	{name: "UpdateAccessKey", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAALICE00000000001"), Status: types.StatusTypeInactive})
	}},
	{name: "UpdateAccessKey id only", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String("AKIAALICE00000000001"), Status: types.StatusTypeActive})
	}},
	{name: "UpdateAccessKey missing parameters", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{})
	}},
	{name: "UpdateAccessKey bad status", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAALICE00000000001"), Status: "Paused"})
	}},
	{name: "UpdateAccessKey another user's key", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAALICE00000000001"), Status: types.StatusTypeActive})
	}},
	{name: "DeleteAccessKey", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String("AKIACAROL00000000002")})
	}},
	{name: "DeleteAccessKey again", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String("AKIACAROL00000000002")})
	}},
	{name: "DeleteAccessKey missing id", call: func(ctx context.Context, api awsiam.API) (any, error) {
		return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol")})
	}},
	{name: "ListAccessKeys after the changes", call: func(ctx context.Context, api awsiam.API) (any, error) {
		var out []any
		for _, u := range []string{"alice", "bob", "carol"} {
			o, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)})
			if err != nil {
				return out, err
			}
			out = append(out, o)
		}
		return out, nil
	}},
	{name: "throttled, then answered on a retry",
		hooks: func(e *emulator.Emulator) { e.FailNext("ListAccessKeys", "Throttling", 2) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		}},
	{name: "throttled until the attempts run out",
		hooks: func(e *emulator.Emulator) { e.FailNext("ListAccessKeys", "Throttling", 3) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		}},
	{name: "service failure (5xx) retried",
		hooks: func(e *emulator.Emulator) { e.FailNext("GetUser", "ServiceFailure", 1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
		}},
	{name: "throttled create is not retried",
		hooks: func(e *emulator.Emulator) { e.FailNext("CreateAccessKey", "Throttling", 1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("erin")}, awsiam.NoRetry)
		}},
	{name: "denied",
		hooks: func(e *emulator.Emulator) { e.Deny("ListAccessKeys", "bob") },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
		}},
	{name: "dropped reads are retried",
		hooks: func(e *emulator.Emulator) { e.SetDropRate(1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListUsers(ctx, &iam.ListUsersInput{})
		}},
	{name: "dropped create is not retried and the key exists",
		hooks: func(e *emulator.Emulator) { e.SetDropRate(1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("erin")}, awsiam.NoRetry)
		}},
	{name: "the dropped create's key",
		hooks: func(e *emulator.Emulator) { e.SetDropRate(0) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("erin")})
		}},
	{name: "cancelled during latency",
		hooks: func(e *emulator.Emulator) { e.SetLatency(time.Minute) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		}},
	{name: "already cancelled",
		hooks: func(e *emulator.Emulator) { e.SetLatency(0) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return api.GetAccountSummary(ctx, nil)
		}},
	{name: "create answered after its answer was held",
		hooks: func(e *emulator.Emulator) { e.SetAnswerDelay("CreateAccessKey", 20*time.Millisecond) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}, awsiam.NoRetry)
		}},
	{name: "create cancelled while its answer is held",
		hooks: func(e *emulator.Emulator) { e.SetAnswerDelay("CreateAccessKey", time.Hour) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}, awsiam.NoRetry)
		}},
	{name: "the keys of the held answers",
		hooks: func(e *emulator.Emulator) { e.SetAnswerDelay("CreateAccessKey", 0) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dave")})
		}},
	{name: "create whose next answer is dropped",
		hooks: func(e *emulator.Emulator) { e.DropNextAnswer("CreateAccessKey", 1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")}, awsiam.NoRetry)
		}},
	{name: "a delete whose answer is dropped is retried and answered NoSuchEntity",
		hooks: func(e *emulator.Emulator) { e.DropNextAnswer("DeleteAccessKey", 1) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String("AKIACAROL00000000001")})
		}},
	{name: "a delete cancelled while its answer is held",
		hooks: func(e *emulator.Emulator) { e.SetAnswerDelay("DeleteAccessKey", time.Hour) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			return api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAALICE00000000002")})
		}},
	{name: "the keys after the lost answers",
		hooks: func(e *emulator.Emulator) { e.SetAnswerDelay("DeleteAccessKey", 0) },
		call: func(ctx context.Context, api awsiam.API) (any, error) {
			var out []any
			for _, u := range []string{"alice", "carol"} {
				o, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)})
				if err != nil {
					return out, err
				}
				out = append(out, o)
			}
			return out, nil
		}},
}

// TestDirectMatchesTheSDK runs the same calls through the SDK client over
// the emulator's HTTP handler and through the sandbox's direct clients,
// each against its own emulator in the same state, and requires the same
// outputs (but for ResultMetadata), the same errors as iamsql reads them,
// and the same calls received by the emulators.
func TestDirectMatchesTheSDK(t *testing.T) {
	sdk, dir := sides(t)
	ctx := context.Background()
	for _, st := range steps {
		var got [2]string
		for i, s := range []side{sdk, dir} {
			if st.hooks != nil {
				st.hooks(s.emu)
			}
			s.emu.ResetCalls()
			out, err := st.call(ctx, s.api)
			got[i] = fmt.Sprintf("output: %s\nerror: %s\ncalls: %s", outputText(out), errorText(err), callsText(s.emu.CallLog()))
		}
		if got[0] != got[1] {
			t.Errorf("%s:\n--- sdk\n%s\n--- direct\n%s", st.name, got[0], got[1])
		} else {
			t.Logf("%s:\n%s", st.name, got[1])
		}
	}
	if sdk, dir := sdk.emu.Snapshot(), dir.emu.Snapshot(); !reflect.DeepEqual(sdk, dir) {
		t.Errorf("the emulators' states differ after the same calls:\nsdk    %+v\ndirect %+v", sdk, dir)
	}
}

// outputText prints an output with its pointers followed, leaving out
// ResultMetadata (request ids, which differ by nature).
func outputText(v any) string {
	var b strings.Builder
	printValue(&b, reflect.ValueOf(v))
	return b.String()
}

var metadataType = reflect.TypeOf(middleware.Metadata{})

func printValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("<nil>")
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if t, ok := v.Interface().(*time.Time); ok {
			fmt.Fprintf(b, "&%s", t.Format(time.RFC3339Nano+" MST"))
			return
		}
		b.WriteString("&")
		printValue(b, v.Elem())
	case reflect.Struct:
		b.WriteString(v.Type().Name() + "{")
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Type == metadataType {
				continue
			}
			b.WriteString(f.Name + ":")
			printValue(b, v.Field(i))
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("nil-slice")
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			printValue(b, v.Index(i))
			b.WriteString(", ")
		}
		b.WriteString("]")
	case reflect.Map:
		b.WriteString(fmt.Sprint(v.Interface())) // fmt sorts the keys
	default:
		fmt.Fprintf(b, "%#v", v.Interface())
	}
}

// errorText is an error as iamsql reads one: the operation, the IAM code
// and message, the HTTP status, whether the attempts ran out (and how
// many), a cancellation, a client-side parameter check, and otherwise the
// innermost cause.
func errorText(err error) string {
	if err == nil {
		return "none"
	}
	var parts []string
	var op *smithy.OperationError
	if errors.As(err, &op) {
		parts = append(parts, "operation "+op.Operation())
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		parts = append(parts, fmt.Sprintf("api %s: %q", api.ErrorCode(), api.ErrorMessage()))
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		parts = append(parts, fmt.Sprintf("status %d", status.HTTPStatusCode()))
	}
	var attempts *retry.MaxAttemptsError
	if errors.As(err, &attempts) {
		parts = append(parts, fmt.Sprintf("attempts ran out after %d", attempts.Attempt))
	}
	var invalid smithy.InvalidParamsError
	if errors.As(err, &invalid) {
		parts = append(parts, "invalid params: "+invalid.Error())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		parts = append(parts, "cancelled")
	}
	if api == nil {
		cause := err
		for errors.Unwrap(cause) != nil {
			cause = errors.Unwrap(cause)
		}
		parts = append(parts, "cause "+cause.Error())
	}
	return strings.Join(parts, "; ")
}

func callsText(calls []emulator.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s %v %d %s; ", c.Op, c.Params, c.Status, c.AccessKeyID)
	}
	return b.String()
}
