package emulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// TestIdentity checks that the signing key decides who the caller is.
func TestIdentity(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, e *emulator.Emulator, endpoint string)
	}{
		{"a user key without UserName acts on its own user", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy", "ben")
			id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			amy := emutest.ClientWithKey(t, endpoint, id, secret)
			got, err := amy.GetUser(ctx, &iam.GetUserInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.User.UserName) != "amy" {
				t.Fatalf("GetUser returned %s", aws.ToString(got.User.UserName))
			}
			created, err := amy.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(created.AccessKey.UserName) != "amy" {
				t.Fatalf("CreateAccessKey created a key for %s", aws.ToString(created.AccessKey.UserName))
			}
			listed, err := amy.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(listed.AccessKeyMetadata) != 2 {
				t.Fatalf("amy has %d keys, want 2", len(listed.AccessKeyMetadata))
			}
			_, err = amy.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: created.AccessKey.AccessKeyId, Status: types.StatusTypeInactive})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := amy.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: created.AccessKey.AccessKeyId}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a user key without UserName cannot reach another user's key", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy", "ben")
			id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			userKey(t, e, "ben", "AKIABEN0000000000001", "Active")
			amy := emutest.ClientWithKey(t, endpoint, id, secret)
			_, err := amy.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String("AKIABEN0000000000001")})
			wantAPIError(t, err, "NoSuchEntity", 404, "The Access Key with id AKIABEN0000000000001 cannot be found.")
		}},
		{"a user key with UserName acts on that user", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy", "ben")
			id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			amy := emutest.ClientWithKey(t, endpoint, id, secret)
			out, err := amy.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ben")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.AccessKey.UserName) != "ben" {
				t.Fatalf("key created for %s", aws.ToString(out.AccessKey.UserName))
			}
		}},
		{"a root key without UserName acts on the root user", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy")
			userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			root := client(t, endpoint)
			created, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			listed, err := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range listed.AccessKeyMetadata {
				if aws.ToString(k.UserName) != "root" {
					t.Fatalf("root listing includes %s of %s", aws.ToString(k.AccessKeyId), aws.ToString(k.UserName))
				}
				ids = append(ids, aws.ToString(k.AccessKeyId))
			}
			if len(ids) != 2 || !contains(ids, aws.ToString(created.AccessKey.AccessKeyId)) || !contains(ids, emulator.DefaultRootAccessKeyID) {
				t.Fatalf("root keys %v", ids)
			}
			// The new root key signs as root too.
			second := emutest.ClientWithKey(t, endpoint, aws.ToString(created.AccessKey.AccessKeyId), aws.ToString(created.AccessKey.SecretAccessKey))
			me, err := second.GetUser(ctx, &iam.GetUserInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(me.User.Arn) != "arn:aws:iam::123456789012:root" {
				t.Fatalf("second root key is %s", aws.ToString(me.User.Arn))
			}
		}},
		{"GetAccessKeyLastUsed names root as the owner of a root key", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			out, err := client(t, endpoint).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(emulator.DefaultRootAccessKeyID)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.UserName) != "root" {
				t.Fatalf("owner %s", aws.ToString(out.UserName))
			}
		}},
		{"a key deactivated by its own call cannot sign the next", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy")
			id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			amy := emutest.ClientWithKey(t, endpoint, id, secret)
			if _, err := amy.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
				t.Fatal(err)
			}
			_, err := amy.GetUser(ctx, &iam.GetUserInput{})
			wantAPIError(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
		}},
		{"a deleted key cannot sign", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			addUsers(t, e, "amy")
			id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
			if err := e.RemoveUser("amy"); err != nil {
				t.Fatal(err)
			}
			_, err := emutest.ClientWithKey(t, endpoint, id, secret).GetUser(ctx, &iam.GetUserInput{})
			wantAPIError(t, err, "InvalidClientTokenId", 403, "")
		}},
		{"a presigned GET URL is accepted", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			req, err := http.NewRequest(http.MethodGet, endpoint+"/?Action=GetUser&Version=2010-05-08", nil)
			if err != nil {
				t.Fatal(err)
			}
			e.SetCallLog(true)
			signed, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: emulator.DefaultRootAccessKeyID, SecretAccessKey: emulator.DefaultRootSecretAccessKey},
				req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "iam", "eu-central-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			status, doc := rawRequest(t, http.MethodGet, signed, "", "", "")
			if status != 200 || doc.Root != "GetUserResponse" || doc.Text["GetUserResult/User/Arn"] != "arn:aws:iam::123456789012:root" {
				t.Fatalf("status %d %s %v", status, doc.Root, doc.Text)
			}
			if got := e.CallLog()[0].Params; got.Has("X-Amz-Signature") || got.Has("X-Amz-Credential") {
				t.Fatalf("call log keeps query auth fields: %v", got)
			}
		}},
		{"a presigned URL with a wrong signature is refused", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			req, err := http.NewRequest(http.MethodGet, endpoint+"/?Action=GetUser&Version=2010-05-08", nil)
			if err != nil {
				t.Fatal(err)
			}
			signed, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: emulator.DefaultRootAccessKeyID, SecretAccessKey: "wrong"},
				req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "iam", "us-east-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			status, doc := rawRequest(t, http.MethodGet, signed, "", "", "")
			if status != 403 || doc.Text["Error/Code"] != "SignatureDoesNotMatch" {
				t.Fatalf("status %d %v", status, doc.Text)
			}
		}},
		{"a signature over UNSIGNED-PAYLOAD is refused", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			c := client(t, endpoint, func(o *iam.Options) {
				o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
			})
			_, err := c.GetUser(ctx, &iam.GetUserInput{})
			wantAPIError(t, err, "SignatureDoesNotMatch", 403, "")
		}},
		{"a signature for another service is refused", func(t *testing.T, e *emulator.Emulator, endpoint string) {
			status, doc := rawSignedFor(t, endpoint, "sts")
			if status != 403 || doc.Text["Error/Code"] != "SignatureDoesNotMatch" || doc.Text["Error/Message"] != "Credential should be scoped to correct service: 'iam'. " {
				t.Fatalf("status %d %v", status, doc.Text)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, endpoint := start(t, emulator.Options{})
			tt.run(t, e, endpoint)
		})
	}
}

// rawSignedFor sends GetUser signed for another service name.
func rawSignedFor(t *testing.T, endpoint, service string) (int, xmlDoc) {
	t.Helper()
	body := "Action=GetUser&Version=2010-05-08"
	req, err := http.NewRequest(http.MethodPost, endpoint, stringBody(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: emulator.DefaultRootAccessKeyID, SecretAccessKey: emulator.DefaultRootSecretAccessKey},
		req, sha256Hex(body), service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return doRaw(t, req)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestLastUsed checks that every authenticated call records when, where
// and with which service its key was used, as GetAccessKeyLastUsed reports.
func TestLastUsed(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	e, endpoint := start(t, emulator.Options{Now: clk.Now})
	addUsers(t, e, "amy")
	id, secret := userKey(t, e, "amy", "AKIAAMY0000000000001", "Active")
	userKey(t, e, "amy", "AKIAAMY0000000000002", "Active")
	root := client(t, endpoint)

	lastUsed := func(key string) *types.AccessKeyLastUsed {
		t.Helper()
		out, err := root.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return out.AccessKeyLastUsed
	}
	if lu := lastUsed(id); lu.LastUsedDate != nil || aws.ToString(lu.ServiceName) != "N/A" || aws.ToString(lu.Region) != "N/A" {
		t.Fatalf("new key already used: %+v", lu)
	}

	clk.Advance(time.Hour)
	amy := emutest.ClientWithKey(t, endpoint, id, secret)
	if _, err := amy.ListUsers(ctx, &iam.ListUsersInput{}, func(o *iam.Options) { o.Region = "eu-west-1" }); err != nil {
		t.Fatal(err)
	}
	lu := lastUsed(id)
	if lu.LastUsedDate == nil || !lu.LastUsedDate.Equal(testNow.Add(time.Hour)) || aws.ToString(lu.ServiceName) != "iam" || aws.ToString(lu.Region) != "eu-west-1" {
		t.Fatalf("last used %+v", lu)
	}
	if lu := lastUsed("AKIAAMY0000000000002"); lu.LastUsedDate != nil {
		t.Fatalf("a key that signed nothing was marked used: %+v", lu)
	}
	// The root key that asked was recorded too.
	if lu := lastUsed(emulator.DefaultRootAccessKeyID); lu.LastUsedDate == nil || aws.ToString(lu.Region) != "us-east-1" {
		t.Fatalf("root key last used %+v", lu)
	}

	// A call whose signature fails is not a use of the key.
	clk.Advance(time.Hour)
	if _, err := emutest.ClientWithKey(t, endpoint, id, "wrong").ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("wrong secret accepted")
	}
	if lu := lastUsed(id); !lu.LastUsedDate.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("failed call recorded as a use: %+v", lu)
	}
}
