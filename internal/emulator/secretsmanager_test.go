package emulator_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

func TestSecretsManagerCreatePutGetDescribe(t *testing.T) {
	e, url := start(t, emulator.Options{CallLog: true})
	sm := emutest.SecretsManagerClient(url, rootCreds(e))
	ctx := context.Background()
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.ARN)
	if want := "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-"; len(arn) != len(want)+6 || arn[:len(want)] != want || aws.ToString(created.Name) != "app/key" || aws.ToString(created.VersionId) == "" {
		t.Fatalf("CreateSecret answered %s %s %s", arn, aws.ToString(created.Name), aws.ToString(created.VersionId))
	}
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(`{"v":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ARN) != arn || !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(put.VersionId) == aws.ToString(created.VersionId) {
		t.Fatalf("PutSecretValue answered %+v", put)
	}
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.SecretString) != `{"v":2}` || aws.ToString(got.VersionId) != aws.ToString(put.VersionId) || !got.CreatedDate.Equal(testNow) {
		t.Fatalf("GetSecretValue answered %q %s %v", aws.ToString(got.SecretString), aws.ToString(got.VersionId), got.CreatedDate)
	}
	prev, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(prev.SecretString) != `{"v":1}` {
		t.Fatalf("previous version %v, %v", prev, err)
	}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/key")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{aws.ToString(created.VersionId): {"AWSPREVIOUS"}, aws.ToString(put.VersionId): {"AWSCURRENT"}}
	if aws.ToString(desc.ARN) != arn || !maps.EqualFunc(desc.VersionIdsToStages, want, slices.Equal) {
		t.Fatalf("DescribeSecret answered %s %v, want %v", aws.ToString(desc.ARN), desc.VersionIdsToStages, want)
	}
	if v, ok := e.Secret("us-east-1", "app/key"); !ok || v != `{"v":2}` {
		t.Fatalf("Secret = %q %v", v, ok)
	}
	// The call log never holds a secret's value.
	for _, c := range e.CallLog() {
		if c.Params.Has("SecretString") {
			t.Fatalf("call log holds SecretString: %+v", c)
		}
	}
	wantCalls(t, e, map[string]int{"CreateSecret": 1, "PutSecretValue": 1, "GetSecretValue": 2, "DescribeSecret": 1})
}

func TestSecretsManagerErrors(t *testing.T) {
	e, url := start(t, emulator.Options{})
	sm := emutest.SecretsManagerClient(url, rootCreds(e), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret.")
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "")
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("x")})
	wantAPIError(t, err, "ResourceExistsException", 400, "The operation failed because the secret s already exists.")
	// A secret without a value has no AWSCURRENT version yet.
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!")})
	wantAPIError(t, err, "InvalidParameterException", 400, "")
	// Secrets are regional.
	west := emutest.SecretsManagerClient(url, rootCreds(e), func(o *secretsmanager.Options) { o.Region = "us-west-2"; o.RetryMaxAttempts = 1 })
	_, err = west.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "")
	// Injected faults and bad signatures answer in the JSON protocol's terms.
	e.FailNext("PutSecretValue", "ServiceUnavailable", 1)
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
	wantAPIError(t, err, "ServiceException", 503, "")
	_, err = emutest.SecretsManagerClient(url, emutest.Credentials("AKIANOSUCHKEY0000001", "x", "")).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	wantAPIError(t, err, "UnrecognizedClientException", 403, "")
}

// A repeated PutSecretValue with the same ClientRequestToken (an SDK
// retry after a lost answer) stores one version.
func TestSecretsManagerRequestTokenIsIdempotent(t *testing.T) {
	e, url := start(t, emulator.Options{})
	sm := emutest.SecretsManagerClient(url, rootCreds(e))
	ctx := context.Background()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	e.DropNextAnswer("PutSecretValue", 1)
	tok := "0123456789abcdef0123456789abcdef"
	out, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("b"), ClientRequestToken: aws.String(tok)})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.VersionId) != tok || len(desc.VersionIdsToStages) != 2 || !slices.Equal(desc.VersionIdsToStages[tok], []string{"AWSCURRENT"}) {
		t.Fatalf("after a retried put: %v", desc.VersionIdsToStages)
	}
	if got := e.Calls()["PutSecretValue"]; got != 2 {
		t.Fatalf("PutSecretValue counted %d times, want 2 (the dropped one and its retry)", got)
	}
}

// A new key signs nothing until the propagation delay has passed since its
// creation; other keys are not affected, and an inactive or deleted key
// never signs GetCallerIdentity.
func TestPropagationDelayAndKeyStatusForGetCallerIdentity(t *testing.T) {
	clk := newClock()
	e, url := start(t, emulator.Options{Now: clk.Now})
	addUsers(t, e, "alice")
	e.SetPropagationDelay(5 * time.Second)
	ctx := context.Background()
	out, err := emutest.Client(t, url).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	who := func() (*sts.GetCallerIdentityOutput, error) {
		return emutest.STSClient(url, emutest.Credentials(id, secret, ""), func(o *sts.Options) { o.RetryMaxAttempts = 1 }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	}
	_, err = who()
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	clk.Advance(4 * time.Second)
	_, err = who()
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	// The root key, made long before, signs meanwhile.
	if _, err := emutest.STSClient(url, rootCreds(e)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	got, err := who()
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Fatalf("identity %s", aws.ToString(got.Arn))
	}
	// A refused call is not a use of the key: its last use is the one that signed.
	lu, err := emutest.Client(t, url).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToTime(lu.AccessKeyLastUsed.LastUsedDate).Equal(clk.Now()) {
		t.Fatalf("last used %v, want %v", lu.AccessKeyLastUsed.LastUsedDate, clk.Now())
	}
	if _, err := emutest.Client(t, url).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), UserName: aws.String("alice"), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	_, err = who()
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	if _, err := emutest.Client(t, url).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id), UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err = who()
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	if got := e.Calls()["GetCallerIdentity"]; got != 2 {
		t.Fatalf("GetCallerIdentity counted %d times, want 2 (refused signatures are not counted)", got)
	}
	// Turning the delay off ends the wait of a key still propagating.
	e.SetPropagationDelay(time.Hour)
	out, err = emutest.Client(t, url).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	id, secret = aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	_, err = who()
	wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	e.SetPropagationDelay(0)
	if _, err := who(); err != nil {
		t.Fatal(err)
	}
}
