package emulator_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

var (
	accessKeyIDFormat = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	secretFormat      = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)
	userIDFormat      = regexp.MustCompile(`^AIDA[A-Z0-9]{16}$`)
)

// TestOperations runs every implemented operation through the real SDK
// client, each subtest one behaviour.
func TestOperations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string)
	}{
		{"CreateUser returns the user with default path and ARN", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("frank")})
			if err != nil {
				t.Fatal(err)
			}
			u := out.User
			if aws.ToString(u.UserName) != "frank" || aws.ToString(u.Path) != "/" ||
				aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/frank" ||
				!userIDFormat.MatchString(aws.ToString(u.UserId)) || !u.CreateDate.Equal(testNow) {
				t.Fatalf("unexpected user %+v", u)
			}
		}},
		{"CreateUser puts the path into the ARN", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("gina"), Path: aws.String("/team/a/")})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.User.Arn); got != "arn:aws:iam::123456789012:user/team/a/gina" {
				t.Fatalf("Arn %s", got)
			}
		}},
		{"GetUser by name returns that user", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.User.UserName) != "bob" || aws.ToString(out.User.Path) != "/engineering/" {
				t.Fatalf("unexpected user %+v", out.User)
			}
		}},
		{"GetUser finds a user whatever the case of the name", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("BOB")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.User.UserName) != "bob" {
				t.Fatalf("UserName %s", aws.ToString(out.User.UserName))
			}
		}},
		{"GetUser without a name as root returns the root identity", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetUser(ctx, &iam.GetUserInput{})
			if err != nil {
				t.Fatal(err)
			}
			u := out.User
			if aws.ToString(u.UserId) != "123456789012" || aws.ToString(u.Arn) != "arn:aws:iam::123456789012:root" ||
				u.UserName != nil || u.Path != nil || u.CreateDate == nil {
				t.Fatalf("unexpected root identity %+v", u)
			}
		}},
		{"ListUsers returns all users sorted by name", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.ListUsers(ctx, &iam.ListUsersInput{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"alice", "bob", "carol", "ci-deploy", "dave", "erin"}
			if got := userNames(out.Users); !equal(got, want) || out.IsTruncated || out.Marker != nil {
				t.Fatalf("got %v truncated=%v marker=%v", got, out.IsTruncated, out.Marker)
			}
		}},
		{"ListUsers with PathPrefix returns only users under it", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/engineering/")})
			if err != nil {
				t.Fatal(err)
			}
			if got := userNames(out.Users); !equal(got, []string{"bob", "carol"}) {
				t.Fatalf("got %v", got)
			}
		}},
		{"DeleteUser removes a user without keys", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dave")}); err != nil {
				t.Fatal(err)
			}
			_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dave")})
			wantAPIError(t, err, "NoSuchEntity", 404, "The user with name dave cannot be found.")
		}},
		{"CreateAccessKey returns an active key with AWS-shaped id and secret", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
			if err != nil {
				t.Fatal(err)
			}
			k := out.AccessKey
			if aws.ToString(k.UserName) != "dave" || k.Status != types.StatusTypeActive ||
				!accessKeyIDFormat.MatchString(aws.ToString(k.AccessKeyId)) ||
				!secretFormat.MatchString(aws.ToString(k.SecretAccessKey)) || !k.CreateDate.Equal(testNow) {
				t.Fatalf("unexpected key %+v", k)
			}
		}},
		{"CreateAccessKey without a name as root creates a root key", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.AccessKey.UserName) != "root" {
				t.Fatalf("UserName %q", aws.ToString(out.AccessKey.UserName))
			}
		}},
		{"ListAccessKeys returns a user's keys by create date", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("carol")})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range out.AccessKeyMetadata {
				got = append(got, aws.ToString(k.AccessKeyId)+" "+string(k.Status)+" "+aws.ToString(k.UserName))
			}
			want := []string{"AKIACAROL00000000001 Active carol", "AKIACAROL00000000002 Active carol"}
			if !equal(got, want) || out.IsTruncated {
				t.Fatalf("got %v", got)
			}
		}},
		{"ListAccessKeys without a name as root lists root keys as user root", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.AccessKeyMetadata) != 1 || aws.ToString(out.AccessKeyMetadata[0].UserName) != "root" ||
				aws.ToString(out.AccessKeyMetadata[0].AccessKeyId) != emulator.DefaultRootAccessKeyID {
				t.Fatalf("got %+v", out.AccessKeyMetadata)
			}
		}},
		{"UpdateAccessKey changes the status", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIABOB0000000000001"), Status: types.StatusTypeInactive})
			if err != nil {
				t.Fatal(err)
			}
			if got := keyStatus(e, "AKIABOB0000000000001"); got != "Inactive" {
				t.Fatalf("status %s", got)
			}
		}},
		{"DeleteAccessKey removes the key", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIABOB0000000000001")})
			if err != nil {
				t.Fatal(err)
			}
			if got := keyStatus(e, "AKIABOB0000000000001"); got != "" {
				t.Fatalf("key still there with status %s", got)
			}
		}},
		{"GetAccessKeyLastUsed reports a used key's date, service and region", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIABOB0000000000001")})
			if err != nil {
				t.Fatal(err)
			}
			lu := out.AccessKeyLastUsed
			if aws.ToString(out.UserName) != "bob" || !lu.LastUsedDate.Equal(testNow.Add(-24*time.Hour)) ||
				aws.ToString(lu.ServiceName) != "ec2" || aws.ToString(lu.Region) != "us-west-2" {
				t.Fatalf("got %s %+v", aws.ToString(out.UserName), lu)
			}
		}},
		{"GetAccessKeyLastUsed reports N/A for a key never used", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIACAROL00000000001")})
			if err != nil {
				t.Fatal(err)
			}
			lu := out.AccessKeyLastUsed
			if lu.LastUsedDate != nil || aws.ToString(lu.ServiceName) != "N/A" || aws.ToString(lu.Region) != "N/A" {
				t.Fatalf("got %+v", lu)
			}
		}},
		{"GetAccountSummary counts users and root keys", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			if err != nil {
				t.Fatal(err)
			}
			m := out.SummaryMap
			want := map[string]int32{"Users": 6, "UsersQuota": 5000, "AccessKeysPerUserQuota": 2, "AccountAccessKeysPresent": 1,
				"AccountMFAEnabled": 0, "Groups": 0, "GroupsQuota": 300, "Policies": 0, "PoliciesQuota": 1500}
			for k, v := range want {
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s = %d (present %v), want %d", k, got, ok, v)
				}
			}
		}},
		{"GetAccountSummary reports no root keys once they are deleted", func(t *testing.T, e *emulator.Emulator, c *iam.Client, url string) {
			// Read the summary as dave: the root client loses its key.
			id, secret := userKey(t, e, "dave", "AKIADAVE000000000001", "Active")
			dave := emutest.ClientWithKey(t, url, id, secret)
			if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(emulator.DefaultRootAccessKeyID)}); err != nil {
				t.Fatal(err)
			}
			out, err := dave.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.SummaryMap["AccountAccessKeysPresent"]; got != 0 {
				t.Fatalf("AccountAccessKeysPresent %d", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, url := start(t, emulator.Options{Seed: "demo"})
			tt.run(t, e, emutest.Client(t, url), url)
		})
	}
}

func userNames(users []types.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, aws.ToString(u.UserName))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func keyStatus(e *emulator.Emulator, id string) string {
	for _, k := range e.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.Status
		}
	}
	return ""
}
