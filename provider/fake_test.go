package provider

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// fakeIAM is an in-memory IAM double for engine-level tests and the
// engine-overhead benchmark; it records every call it receives.
type fakeIAM struct {
	mu    sync.Mutex
	keys  map[string][]iamtypes.AccessKeyMetadata // by user ("root" for root)
	users []iamtypes.User
	calls []string
	next  int
}

func newFakeIAM() *fakeIAM {
	f := &fakeIAM{keys: map[string][]iamtypes.AccessKeyMetadata{}}
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	add := func(user, id string, st iamtypes.StatusType) {
		f.keys[user] = append(f.keys[user], iamtypes.AccessKeyMetadata{AccessKeyId: aws.String(id), UserName: aws.String(user), Status: st, CreateDate: aws.Time(t)})
	}
	f.users = []iamtypes.User{{UserName: aws.String("alice"), UserId: aws.String("AIDAALICE"), Arn: aws.String("arn:aws:iam::123456789012:user/alice"), Path: aws.String("/"), CreateDate: aws.Time(t)},
		{UserName: aws.String("bob"), UserId: aws.String("AIDABOB"), Arn: aws.String("arn:aws:iam::123456789012:user/bob"), Path: aws.String("/"), CreateDate: aws.Time(t)}}
	add("alice", "AKIAALICE00000000001", iamtypes.StatusTypeActive)
	add("alice", "AKIAALICE00000000002", iamtypes.StatusTypeInactive)
	add("bob", "AKIABOB0000000000001", iamtypes.StatusTypeActive)
	add("root", "AKIAIOSFODNN7EXAMPLE", iamtypes.StatusTypeActive)
	return f
}

func (f *fakeIAM) record(op string) {
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
}

func noSuch(msg string) error {
	return &smithy.GenericAPIError{Code: "NoSuchEntity", Message: msg}
}

func (f *fakeIAM) owner(name *string) string {
	if name == nil {
		return "root"
	}
	return *name
}

func (f *fakeIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	f.record("ListAccessKeys")
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.owner(in.UserName)
	if _, ok := f.keys[u]; !ok && u != "root" && !f.userExists(u) {
		return nil, noSuch(fmt.Sprintf("The user with name %s cannot be found.", u))
	}
	return &iam.ListAccessKeysOutput{AccessKeyMetadata: append([]iamtypes.AccessKeyMetadata(nil), f.keys[u]...)}, nil
}

func (f *fakeIAM) userExists(u string) bool {
	for _, x := range f.users {
		if *x.UserName == u {
			return true
		}
	}
	return false
}

func (f *fakeIAM) CreateAccessKey(_ context.Context, in *iam.CreateAccessKeyInput, _ ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	f.record("CreateAccessKey")
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.owner(in.UserName)
	if len(f.keys[u]) >= 2 {
		return nil, &smithy.GenericAPIError{Code: "LimitExceeded", Message: "Cannot exceed quota for AccessKeysPerUser: 2"}
	}
	f.next++
	id := fmt.Sprintf("AKIAFAKE%012d", f.next)
	k := iamtypes.AccessKeyMetadata{AccessKeyId: aws.String(id), UserName: aws.String(u), Status: iamtypes.StatusTypeActive, CreateDate: aws.Time(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	f.keys[u] = append(f.keys[u], k)
	return &iam.CreateAccessKeyOutput{AccessKey: &iamtypes.AccessKey{AccessKeyId: k.AccessKeyId, UserName: k.UserName, Status: k.Status, CreateDate: k.CreateDate, SecretAccessKey: aws.String("secret/" + id)}}, nil
}

func (f *fakeIAM) find(id string) (string, int) {
	for u, ks := range f.keys {
		for i, k := range ks {
			if *k.AccessKeyId == id {
				return u, i
			}
		}
	}
	return "", -1
}

func (f *fakeIAM) UpdateAccessKey(_ context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	f.record("UpdateAccessKey")
	f.mu.Lock()
	defer f.mu.Unlock()
	u, i := f.find(*in.AccessKeyId)
	if i < 0 || u != f.owner(in.UserName) {
		return nil, noSuch("The Access Key with id " + *in.AccessKeyId + " cannot be found.")
	}
	f.keys[u][i].Status = in.Status
	return &iam.UpdateAccessKeyOutput{}, nil
}

func (f *fakeIAM) DeleteAccessKey(_ context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	f.record("DeleteAccessKey")
	f.mu.Lock()
	defer f.mu.Unlock()
	u, i := f.find(*in.AccessKeyId)
	if i < 0 || u != f.owner(in.UserName) {
		return nil, noSuch("The Access Key with id " + *in.AccessKeyId + " cannot be found.")
	}
	f.keys[u] = append(f.keys[u][:i:i], f.keys[u][i+1:]...)
	return &iam.DeleteAccessKeyOutput{}, nil
}

func (f *fakeIAM) GetAccessKeyLastUsed(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	f.record("GetAccessKeyLastUsed")
	f.mu.Lock()
	defer f.mu.Unlock()
	u, i := f.find(*in.AccessKeyId)
	if i < 0 {
		return nil, noSuch("The Access Key with id " + *in.AccessKeyId + " cannot be found.")
	}
	return &iam.GetAccessKeyLastUsedOutput{UserName: aws.String(u), AccessKeyLastUsed: &iamtypes.AccessKeyLastUsed{ServiceName: aws.String("N/A"), Region: aws.String("N/A")}}, nil
}

func (f *fakeIAM) ListUsers(_ context.Context, _ *iam.ListUsersInput, _ ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	f.record("ListUsers")
	f.mu.Lock()
	defer f.mu.Unlock()
	us := append([]iamtypes.User(nil), f.users...)
	sort.Slice(us, func(i, j int) bool { return *us[i].UserName < *us[j].UserName })
	return &iam.ListUsersOutput{Users: us}, nil
}

func (f *fakeIAM) GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	f.record("GetAccountSummary")
	return &iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"AccountAccessKeysPresent": 1, "Users": int32(len(f.users)), "UsersQuota": 5000, "AccessKeysPerUserQuota": 2}}, nil
}

func (f *fakeIAM) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeIAM) GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	f.record("GetUser")
	return &iam.GetUserOutput{User: &iamtypes.User{Arn: aws.String("arn:aws:iam::123456789012:root")}}, nil
}
