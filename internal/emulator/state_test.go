package emulator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

func TestStatePath(t *testing.T) {
	ctx := context.Background()
	t.Run("state saved by one emulator is loaded by the next", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "iam.json")
		clk := newClock()
		e1, err := emulator.New(emulator.Options{Seed: "demo", StatePath: path, Now: clk.Now, RandSeed: 7})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := e1.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c := emutest.Client(t, srv.URL)
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("frank"), Path: aws.String("/new/")}); err != nil {
			t.Fatal(err)
		}
		created, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("frank")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIABOB0000000000001"), Status: types.StatusTypeInactive}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("erin"), AccessKeyId: aws.String("AKIAERIN000000000001")}); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("state file mode %v, want 0600", info.Mode().Perm())
		}
		before := e1.Snapshot()

		// Seed is ignored once the file exists; the clock has moved on.
		clk.Advance(48 * time.Hour)
		e2, url := start(t, emulator.Options{Seed: "", StatePath: path, Now: clk.Now})
		after := e2.Snapshot()
		if stateString(before) != stateString(after) {
			t.Fatalf("state changed across restart:\nbefore %s\nafter  %s", stateString(before), stateString(after))
		}
		// The secret survived: the new key signs.
		frank := emutest.ClientWithKey(t, url, aws.ToString(created.AccessKey.AccessKeyId), aws.ToString(created.AccessKey.SecretAccessKey))
		me, err := frank.GetUser(ctx, &iam.GetUserInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(me.User.Arn) != "arn:aws:iam::123456789012:user/new/frank" {
			t.Fatalf("GetUser %s", aws.ToString(me.User.Arn))
		}
		// The use was saved too.
		e3, err := emulator.New(emulator.Options{StatePath: path, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e3.Snapshot().Keys {
			if k.AccessKeyID == aws.ToString(created.AccessKey.AccessKeyId) && (k.LastUsed == nil || !k.LastUsed.Date.Equal(clk.Now())) {
				t.Fatalf("last use not saved: %+v", k.LastUsed)
			}
		}
	})
	t.Run("a missing state file is created from the seed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "iam.json")
		e, err := emulator.New(emulator.Options{Seed: "demo", StatePath: path})
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "AKIACIDEPLOY00000001") || len(e.Snapshot().Users) != 6 {
			t.Fatalf("state file does not hold the demo account:\n%s", data)
		}
	})
	t.Run("a corrupt state file is an error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "iam.json")
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := emulator.New(emulator.Options{StatePath: path}); err == nil {
			t.Fatal("New accepted a corrupt state file")
		}
	})
	t.Run("a state file without the configured root key gets it back", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "iam.json")
		e1, err := emulator.New(emulator.Options{StatePath: path})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := e1.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := emutest.Client(t, srv.URL).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(emulator.DefaultRootAccessKeyID)}); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		_, url := start(t, emulator.Options{StatePath: path})
		if _, err := client(t, url).GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatalf("root key not restored: %v", err)
		}
	})
}

func TestDemoSeed(t *testing.T) {
	e, _ := start(t, emulator.Options{Seed: "demo"})
	s := e.Snapshot()
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return testNow.Add(-d) }
	if s.AccountID != "123456789012" {
		t.Fatalf("account %s", s.AccountID)
	}
	wantUsers := []struct {
		name, path string
		created    time.Time
		// passwordUsed is when the console password was last used.
		passwordUsed time.Duration
		console      bool
		mfa, groups  int
	}{
		{"alice", "/", ago(500 * day), 3 * day, true, 1, 1},
		{"bob", "/engineering/", ago(300 * day), 5 * day, true, 0, 1},
		{"carol", "/engineering/", ago(200 * day), 0, false, 0, 2},
		{"ci-deploy", "/service/", ago(700 * day), 0, false, 0, 0},
		{"dave", "/ops/", ago(100 * day), 0, true, 1, 1},
		{"erin", "/ops/", ago(150 * day), 0, true, 0, 1},
	}
	if len(s.Users) != len(wantUsers) {
		t.Fatalf("users %+v", s.Users)
	}
	for i, w := range wantUsers {
		u := s.Users[i]
		if u.UserName != w.name || u.Path != w.path || !u.CreateDate.Equal(w.created) ||
			u.Arn != "arn:aws:iam::123456789012:user"+w.path+w.name || !userIDFormat.MatchString(u.UserID) ||
			(u.PasswordLastUsed != nil) != (w.passwordUsed != 0) || (u.LoginProfile != nil) != w.console ||
			len(u.MFADevices) != w.mfa || len(u.Groups) != w.groups {
			t.Errorf("user %d = %+v, want %+v", i, u, w)
		}
		if w.passwordUsed != 0 && !u.PasswordLastUsed.Equal(ago(w.passwordUsed)) {
			t.Errorf("user %s: password last used %v", w.name, u.PasswordLastUsed)
		}
	}
	type key struct {
		id, user, status string
		created          time.Time
		used             *emulator.LastUsed
	}
	used := func(d time.Duration, svc, region string) *emulator.LastUsed {
		return &emulator.LastUsed{Date: ago(d), ServiceName: svc, Region: region}
	}
	// Sorted by user, then create date.
	wantKeys := []key{
		{"AKIAALICE00000000001", "alice", "Active", ago(400 * day), used(2*day, "s3", "us-east-1")},
		{"AKIAALICE00000000002", "alice", "Inactive", ago(200 * day), nil},
		{"AKIABOB0000000000001", "bob", "Active", ago(30 * day), used(1*day, "ec2", "us-west-2")},
		{"AKIACAROL00000000001", "carol", "Active", ago(120 * day), nil},
		{"AKIACAROL00000000002", "carol", "Active", ago(95 * day), used(60*day, "sts", "us-east-1")},
		{"AKIACIDEPLOY00000001", "ci-deploy", "Active", ago(650 * day), used(12*time.Hour, "codebuild", "eu-west-1")},
		{"AKIAERIN000000000001", "erin", "Inactive", ago(100 * day), used(98*day, "iam", "us-east-1")},
		{"AKIAIOSFODNN7EXAMPLE", "root", "Active", ago(400 * day), nil},
	}
	if len(s.Keys) != len(wantKeys) {
		t.Fatalf("keys %+v", s.Keys)
	}
	for i, w := range wantKeys {
		k := s.Keys[i]
		ok := k.AccessKeyID == w.id && k.UserName == w.user && k.Status == w.status && k.CreateDate.Equal(w.created) &&
			(w.used == nil) == (k.LastUsed == nil) && len(k.SecretAccessKey) == 40
		if ok && w.used != nil {
			ok = k.LastUsed.Date.Equal(w.used.Date) && k.LastUsed.ServiceName == w.used.ServiceName && k.LastUsed.Region == w.used.Region
		}
		if !ok {
			t.Errorf("key %d = %+v (last used %+v), want %+v (last used %+v)", i, k, k.LastUsed, w, w.used)
		}
	}
	// User ids do not depend on the random seed, so docs can show them.
	other, err := emulator.New(emulator.Options{Seed: "demo", RandSeed: 99})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range other.Snapshot().Users {
		if u.UserID != s.Users[i].UserID {
			t.Fatalf("user id of %s differs between runs: %s vs %s", u.UserName, u.UserID, s.Users[i].UserID)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    emulator.Options
		wantErr bool
	}{
		{"an unknown seed is an error", emulator.Options{Seed: "prod"}, true},
		{"an account id that is not 12 digits is an error", emulator.Options{AccountID: "12345"}, true},
		{"a custom account and root key are used", emulator.Options{AccountID: "000011112222", RootAccessKeyID: "AKIACUSTOMROOT000001", RootSecretAccessKey: "s3cret"}, false},
		{"the empty seed holds the root key only", emulator.Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := emulator.New(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			s := e.Snapshot()
			id, secret := e.RootCredentials()
			if len(s.Users) != 0 || len(s.Keys) != 1 || s.Keys[0].AccessKeyID != id || s.Keys[0].SecretAccessKey != secret || s.Keys[0].UserName != "root" {
				t.Fatalf("state %+v", s)
			}
			wantAccount := tt.opts.AccountID
			if wantAccount == "" {
				wantAccount = emulator.DefaultAccountID
			}
			if e.AccountID() != wantAccount || s.AccountID != wantAccount {
				t.Fatalf("account %s", e.AccountID())
			}
		})
	}
}

func TestDirectStateAccess(t *testing.T) {
	e, endpoint := start(t, emulator.Options{})
	t.Run("AddUser fills id, ARN, path and date", func(t *testing.T) {
		if err := e.AddUser(emulator.User{UserName: "amy"}); err != nil {
			t.Fatal(err)
		}
		u := e.Snapshot().Users[0]
		if !userIDFormat.MatchString(u.UserID) || u.Arn != "arn:aws:iam::123456789012:user/amy" || u.Path != "/" || !u.CreateDate.Equal(testNow) {
			t.Fatalf("user %+v", u)
		}
	})
	t.Run("AddUser refuses a duplicate name in any case", func(t *testing.T) {
		if err := e.AddUser(emulator.User{UserName: "AMY"}); err == nil {
			t.Fatal("duplicate accepted")
		}
	})
	t.Run("AddUser refuses an invalid name", func(t *testing.T) {
		if err := e.AddUser(emulator.User{UserName: "a b"}); err == nil {
			t.Fatal("invalid name accepted")
		}
	})
	t.Run("AddAccessKey generates id and secret and ignores the quota", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if err := e.AddAccessKey(emulator.AccessKey{UserName: "amy"}); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for _, k := range e.Snapshot().Keys {
			if k.UserName == "amy" {
				n++
				if !accessKeyIDFormat.MatchString(k.AccessKeyID) || !secretFormat.MatchString(k.SecretAccessKey) || k.Status != "Active" {
					t.Fatalf("key %+v", k)
				}
			}
		}
		if n != 3 {
			t.Fatalf("amy has %d keys", n)
		}
	})
	t.Run("AddAccessKey refuses an unknown user", func(t *testing.T) {
		if err := e.AddAccessKey(emulator.AccessKey{UserName: "ghost"}); err == nil {
			t.Fatal("key for unknown user accepted")
		}
	})
	t.Run("direct changes are not counted as calls", func(t *testing.T) {
		if e.TotalCalls() != 0 {
			t.Fatalf("TotalCalls %d", e.TotalCalls())
		}
	})
	t.Run("RemoveUser removes the user and its keys", func(t *testing.T) {
		if err := e.RemoveUser("amy"); err != nil {
			t.Fatal(err)
		}
		s := e.Snapshot()
		if len(s.Users) != 0 || len(s.Keys) != 1 {
			t.Fatalf("state %+v", s)
		}
		_, err := client(t, endpoint).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("amy")})
		wantAPIError(t, err, "NoSuchEntity", 404, "The user with name amy cannot be found.")
	})
}

// TestConcurrentCalls runs many clients at once (run with -race): every key
// created is distinct and every call is counted.
func TestConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	e, endpoint := start(t, emulator.Options{CallLog: true, Latency: time.Millisecond})
	const workers = 8
	for i := 0; i < workers; i++ {
		addUsers(t, e, fmt.Sprintf("user%d", i))
	}
	c := client(t, endpoint)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := aws.String(fmt.Sprintf("user%d", i))
			for j := 0; j < 2; j++ {
				if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name}); err != nil {
					errs <- err
					return
				}
			}
			for j := 0; j < 5; j++ {
				if _, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: name}); err != nil {
					errs <- err
					return
				}
				_ = e.Snapshot()
				_ = e.CallLog()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.Calls(); got["CreateAccessKey"] != 2*workers || got["ListAccessKeys"] != 5*workers {
		t.Fatalf("calls %v", got)
	}
	ids := map[string]bool{}
	for _, k := range e.Snapshot().Keys {
		ids[k.AccessKeyID] = true
	}
	if len(ids) != 2*workers+1 {
		t.Fatalf("%d distinct keys", len(ids))
	}
}

// stateString renders a State with the values behind its pointers.
func stateString(s emulator.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "account %s\n", s.AccountID)
	for _, u := range s.Users {
		fmt.Fprintf(&b, "user %s %s %s %s %s", u.UserName, u.UserID, u.Path, u.Arn, u.CreateDate.Format(time.RFC3339))
		if u.PasswordLastUsed != nil {
			fmt.Fprintf(&b, " password used %s", u.PasswordLastUsed.Format(time.RFC3339))
		}
		b.WriteString("\n")
	}
	for _, k := range s.Keys {
		fmt.Fprintf(&b, "key %s %s %s %s %s", k.AccessKeyID, k.SecretAccessKey, k.UserName, k.Status, k.CreateDate.Format(time.RFC3339))
		if k.LastUsed != nil {
			fmt.Fprintf(&b, " used %s %s %s", k.LastUsed.Date.Format(time.RFC3339), k.LastUsed.ServiceName, k.LastUsed.Region)
		}
		b.WriteString("\n")
	}
	return b.String()
}
