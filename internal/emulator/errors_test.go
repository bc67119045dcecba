package emulator_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// TestErrors checks every error the emulator answers, through the real SDK:
// IAM's code, AWS's HTTP status and AWS's wording.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	nameValidation := `1 validation error detected: Value 'x y' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`
	tests := []struct {
		name   string
		setup  func(t *testing.T, e *emulator.Emulator)
		call   func(t *testing.T, e *emulator.Emulator, endpoint string) error
		code   string
		status int
		msg    string // exact, when set
	}{
		{
			name: "GetUser of an unknown user is NoSuchEntity",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
				return err
			},
			code: "NoSuchEntity", status: 404, msg: "The user with name bob cannot be found.",
		},
		{
			name: "UpdateAccessKey of another user's key is NoSuchEntity",
			setup: func(t *testing.T, e *emulator.Emulator) {
				addUsers(t, e, "bob", "amy")
				userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAAMY0000000000001"), Status: types.StatusTypeInactive})
				return err
			},
			code: "NoSuchEntity", status: 404, msg: "The Access Key with id AKIAAMY0000000000001 cannot be found.",
		},
		{
			name:  "DeleteAccessKey of an unknown key is NoSuchEntity",
			setup: func(t *testing.T, e *emulator.Emulator) { addUsers(t, e, "bob") },
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIANOSUCHKEY0000001")})
				return err
			},
			code: "NoSuchEntity", status: 404, msg: "The Access Key with id AKIANOSUCHKEY0000001 cannot be found.",
		},
		{
			name: "a third access key is LimitExceeded",
			setup: func(t *testing.T, e *emulator.Emulator) {
				addUsers(t, e, "bob")
				userKey(t, e, "bob", "AKIABOB0000000000001", "Active")
				userKey(t, e, "bob", "AKIABOB0000000000002", "Inactive")
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
				return err
			},
			code: "LimitExceeded", status: 409, msg: "Cannot exceed quota for AccessKeysPerUser: 2",
		},
		{
			name:  "a third root key is LimitExceeded",
			setup: func(t *testing.T, e *emulator.Emulator) { userKey(t, e, "root", "AKIAROOT000000000002", "Inactive") },
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
				return err
			},
			code: "LimitExceeded", status: 409, msg: "Cannot exceed quota for AccessKeysPerUser: 2",
		},
		{
			name:  "CreateUser of an existing name is EntityAlreadyExists",
			setup: func(t *testing.T, e *emulator.Emulator) { addUsers(t, e, "bob") },
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Bob")})
				return err
			},
			code: "EntityAlreadyExists", status: 409, msg: "User with name Bob already exists.",
		},
		{
			name: "DeleteUser with access keys is DeleteConflict",
			setup: func(t *testing.T, e *emulator.Emulator) {
				addUsers(t, e, "bob")
				userKey(t, e, "bob", "AKIABOB0000000000001", "Active")
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
				return err
			},
			code: "DeleteConflict", status: 409, msg: "Cannot delete entity, must delete access keys first.",
		},
		{
			name: "an invalid user name is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x y")})
				return err
			},
			code: "ValidationError", status: 400, msg: nameValidation,
		},
		{
			name: "a user name over 64 characters is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(strings.Repeat("a", 65))})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value '" + strings.Repeat("a", 65) + "' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64",
		},
		{
			name: "an invalid path is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/no-trailing-slash")})
				return err
			},
			code: "ValidationError", status: 400,
			msg: `1 validation error detected: Value '/no-trailing-slash' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007F]+\u002F)`,
		},
		{
			name: "a short access key id is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIA")})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value 'AKIA' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16",
		},
		{
			name: "a status other than Active or Inactive is ValidationError",
			setup: func(t *testing.T, e *emulator.Emulator) {
				addUsers(t, e, "bob")
				userKey(t, e, "bob", "AKIABOB0000000000001", "Active")
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIABOB0000000000001"), Status: "active"})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value 'active' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
		},
		{
			name: "a missing required parameter is ValidationError naming the member",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Del("UserName") }))
				_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null",
		},
		{
			name: "several violations are reported together",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Del("AccessKeyId") }))
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String("x"), Status: "On"})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "2 validation errors detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null; Value 'On' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
		},
		{
			name: "MaxItems 0 is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			name: "MaxItems 1001 is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).ListAccessKeys(ctx, &iam.ListAccessKeysInput{MaxItems: aws.Int32(1001)})
				return err
			},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000",
		},
		{
			name: "a marker not returned by the emulator is ValidationError",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("not-a-marker")})
				return err
			},
			code: "ValidationError", status: 400,
		},
		{
			name:  "a ListUsers marker passed to ListAccessKeys is ValidationError",
			setup: func(t *testing.T, e *emulator.Emulator) { addUsers(t, e, "a", "b") },
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint)
				out, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1)})
				if err != nil || out.Marker == nil {
					t.Fatalf("ListUsers: %v, marker %v", err, out.Marker)
				}
				_, err = c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{Marker: out.Marker})
				return err
			},
			code: "ValidationError", status: 400,
		},
		{
			name: "throttled calls are Throttling",
			setup: func(t *testing.T, e *emulator.Emulator) {
				e.SetThrottleRate(1)
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint, noRetry).ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "Throttling", status: 400, msg: "Rate exceeded",
		},
		{
			name: "an unknown access key is InvalidClientTokenId",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := emutest.ClientWithKey(t, endpoint, "AKIAUNKNOWN000000000", "whatever").ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "InvalidClientTokenId", status: 403, msg: "The security token included in the request is invalid.",
		},
		{
			name: "an inactive signing key is InvalidClientTokenId",
			setup: func(t *testing.T, e *emulator.Emulator) {
				addUsers(t, e, "bob")
				userKey(t, e, "bob", "AKIABOB0000000000001", "Inactive")
			},
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := emutest.ClientWithKey(t, endpoint, "AKIABOB0000000000001", "secret-of-AKIABOB0000000000001").ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "InvalidClientTokenId", status: 403, msg: "The security token included in the request is invalid.",
		},
		{
			name: "a wrong secret is SignatureDoesNotMatch",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := emutest.ClientWithKey(t, endpoint, emulator.DefaultRootAccessKeyID, "not-the-secret").ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "SignatureDoesNotMatch", status: 403,
			msg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
		},
		{
			name: "a request altered after signing is SignatureDoesNotMatch",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, func(o *iam.Options) {
					o.HTTPClient = tamperingClient{}
				})
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "SignatureDoesNotMatch", status: 403,
		},
		{
			name: "an unsigned request is MissingAuthenticationToken",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, func(o *iam.Options) { o.Credentials = aws.AnonymousCredentials{} })
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "MissingAuthenticationToken", status: 403, msg: "Request is missing Authentication Token",
		},
		{
			name:  "a denied operation is AccessDenied",
			setup: func(t *testing.T, e *emulator.Emulator) { addUsers(t, e, "bob"); e.Deny("ListAccessKeys", "bob") },
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
				return err
			},
			code: "AccessDenied", status: 403,
			msg: "User: arn:aws:iam::123456789012:root is not authorized to perform: iam:ListAccessKeys on resource: user bob",
		},
		{
			name: "GetAccessKeyLastUsed of an unknown key is AccessDenied as with AWS",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIANOSUCHKEY0000001")})
				return err
			},
			code: "AccessDenied", status: 403,
			msg: "User: arn:aws:iam::123456789012:root is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key AKIANOSUCHKEY0000001",
		},
		{
			name: "an unknown Action is InvalidAction",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Set("Action", "ListRoles") }))
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "InvalidAction", status: 400, msg: "Could not find operation ListRoles for version 2010-05-08",
		},
		{
			name: "a request without Action is MissingAction",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Del("Action") }))
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "MissingAction", status: 400, msg: "Missing Action",
		},
		{
			name: "a request without Version is MissingParameter",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Del("Version") }))
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "MissingParameter", status: 400, msg: "The request must contain the parameter Version",
		},
		{
			name: "another API version is InvalidAction",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				c := client(t, endpoint, editForm(func(f url.Values) { f.Set("Version", "2011-06-15") }))
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				return err
			},
			code: "InvalidAction", status: 400, msg: "Could not find operation ListUsers for version 2011-06-15",
		},
		{
			name: "the user name root is reserved",
			call: func(t *testing.T, e *emulator.Emulator, endpoint string) error {
				_, err := client(t, endpoint).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("root")})
				return err
			},
			code: "InvalidInput", status: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, endpoint := start(t, emulator.Options{})
			if tt.setup != nil {
				tt.setup(t, e)
			}
			wantAPIError(t, tt.call(t, e, endpoint), tt.code, tt.status, tt.msg)
		})
	}
}

func client(t *testing.T, endpoint string, opts ...func(*iam.Options)) *iam.Client {
	return emutest.Client(t, endpoint, opts...)
}

// tamperingClient reorders a signed request's form (same length, same
// parameters, different bytes) before sending it: only the payload hash
// can tell.
type tamperingClient struct{}

func (tamperingClient) Do(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	first, second, _ := strings.Cut(string(b), "&")
	body := second + "&" + first
	r.Body = io.NopCloser(strings.NewReader(body))
	return http.DefaultClient.Do(r)
}

// TestMalformedRequests checks the answers to requests no SDK would send,
// which must still be well-formed ErrorResponse documents.
func TestMalformedRequests(t *testing.T) {
	e, endpoint := start(t, emulator.Options{})
	tests := []struct {
		name, method, query, body string
		status                    int
		code                      string
		unsigned                  bool // the SDK's signer would re-encode the query
	}{
		{"a body over 1 MiB is RequestEntityTooLarge", http.MethodPost, "", "Action=ListUsers&Version=2010-05-08&Pad=" + strings.Repeat("x", 1<<20), 413, "RequestEntityTooLarge", false},
		{"a body that is not form data is MalformedQueryString", http.MethodPost, "", "Action=ListUsers&%zz", 400, "MalformedQueryString", false},
		{"a query string that does not parse is MalformedQueryString", http.MethodGet, "Action=ListUsers;x", "", 400, "MalformedQueryString", true},
		{"a method other than GET or POST is MethodNotAllowed", http.MethodPut, "", "Action=ListUsers&Version=2010-05-08", 405, "MethodNotAllowed", false},
		{"a GET request with the parameters in the query succeeds", http.MethodGet, "Action=ListUsers&Version=2010-05-08", "", 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := endpoint + "/"
			if tt.query != "" {
				u += "?" + tt.query
			}
			id, secret := e.RootCredentials()
			if tt.unsigned {
				id = ""
			}
			status, doc := rawRequest(t, tt.method, u, tt.body, id, secret)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, doc.Text)
			}
			if tt.code == "" {
				if doc.Root != "ListUsersResponse" || doc.Namespace != "https://iam.amazonaws.com/doc/2010-05-08/" {
					t.Fatalf("root %s %s", doc.Root, doc.Namespace)
				}
				return
			}
			if doc.Root != "ErrorResponse" || doc.Text["Error/Code"] != tt.code || doc.Text["Error/Type"] != "Sender" ||
				doc.Text["Error/Message"] == "" || doc.Text["RequestId"] == "" {
				t.Fatalf("unexpected error document %s %v", doc.Root, doc.Text)
			}
		})
	}
}
