package emulator_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamsql/iamsql/internal/emulator"
)

// pageCases are the list sizes and page sizes (0 = the default of 100) at
// the pagination boundaries.
var pageCases = []struct {
	items, pageSize, wantCalls int
}{
	{0, 0, 1},
	{1, 0, 1},
	{100, 0, 1},
	{101, 0, 2},
	{1000, 0, 10},
	{1000, 1000, 1},
	{101, 1, 101},
	{100, 100, 1},
	{101, 100, 2},
	{1, 1000, 1},
}

func TestListUsersPaginatesAtBoundaries(t *testing.T) {
	ctx := context.Background()
	for _, tc := range pageCases {
		t.Run(fmt.Sprintf("%d users in pages of %d take %d calls", tc.items, tc.pageSize, tc.wantCalls), func(t *testing.T) {
			e, url := start(t, emulator.Options{CallLog: true})
			var want []string
			for i := 0; i < tc.items; i++ {
				name := fmt.Sprintf("user%04d", i)
				want = append(want, name)
				if err := e.AddUser(emulator.User{UserName: name}); err != nil {
					t.Fatal(err)
				}
			}
			c := client(t, url)
			p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{}, func(o *iam.ListUsersPaginatorOptions) {
				if tc.pageSize > 0 {
					o.Limit = int32(tc.pageSize)
				}
			})
			var got []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				size := tc.pageSize
				if size == 0 {
					size = 100
				}
				if len(out.Users) > size {
					t.Fatalf("page %d has %d users, more than %d", pages, len(out.Users), size)
				}
				if out.IsTruncated != (out.Marker != nil) {
					t.Fatalf("page %d: IsTruncated %v but Marker %v", pages, out.IsTruncated, out.Marker)
				}
				got = append(got, userNames(out.Users)...)
			}
			if !equal(got, want) {
				t.Fatalf("got %d users, want %d (first difference in %v)", len(got), len(want), firstDiff(got, want))
			}
			if pages != tc.wantCalls || e.Calls()["ListUsers"] != tc.wantCalls {
				t.Fatalf("pages %d, ListUsers calls %d, want %d; log %v", pages, e.Calls()["ListUsers"], tc.wantCalls, e.CallLog())
			}
		})
	}
}

func TestListAccessKeysPaginatesAtBoundaries(t *testing.T) {
	ctx := context.Background()
	for _, tc := range pageCases {
		t.Run(fmt.Sprintf("%d keys in pages of %d take %d calls", tc.items, tc.pageSize, tc.wantCalls), func(t *testing.T) {
			e, url := start(t, emulator.Options{})
			addUsers(t, e, "many")
			type key struct {
				id      string
				created time.Time
			}
			var keys []key
			for i := 0; i < tc.items; i++ {
				// Every third key shares a create date, so the id breaks ties.
				k := key{id: fmt.Sprintf("AKIAMANY%012d", (i*7919)%100000), created: testNow.Add(-time.Duration(i/3) * time.Second)}
				keys = append(keys, k)
				if err := e.AddAccessKey(emulator.AccessKey{AccessKeyID: k.id, UserName: "many", CreateDate: k.created}); err != nil {
					t.Fatal(err)
				}
			}
			sort.Slice(keys, func(i, j int) bool {
				if !keys[i].created.Equal(keys[j].created) {
					return keys[i].created.Before(keys[j].created)
				}
				return keys[i].id < keys[j].id
			})
			var want []string
			for _, k := range keys {
				want = append(want, k.id)
			}
			c := client(t, url)
			p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String("many")}, func(o *iam.ListAccessKeysPaginatorOptions) {
				if tc.pageSize > 0 {
					o.Limit = int32(tc.pageSize)
				}
			})
			var got []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if out.IsTruncated != (out.Marker != nil) {
					t.Fatalf("page %d: IsTruncated %v but Marker %v", pages, out.IsTruncated, out.Marker)
				}
				for _, k := range out.AccessKeyMetadata {
					got = append(got, aws.ToString(k.AccessKeyId))
				}
			}
			if !equal(got, want) {
				t.Fatalf("got %d keys, want %d (first difference in %v)", len(got), len(want), firstDiff(got, want))
			}
			if pages != tc.wantCalls || e.Calls()["ListAccessKeys"] != tc.wantCalls {
				t.Fatalf("pages %d, ListAccessKeys calls %d, want %d", pages, e.Calls()["ListAccessKeys"], tc.wantCalls)
			}
		})
	}
}

// TestListUsersMarkerSurvivesDeletion checks that a page boundary is a
// position, not an offset: deleting a listed user does not skip another.
func TestListUsersMarkerSurvivesDeletion(t *testing.T) {
	ctx := context.Background()
	e, url := start(t, emulator.Options{})
	addUsers(t, e, "a", "b", "c", "d")
	c := client(t, url)
	first, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveUser("a"); err != nil {
		t.Fatal(err)
	}
	second, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(2), Marker: first.Marker})
	if err != nil {
		t.Fatal(err)
	}
	if got := userNames(second.Users); !equal(got, []string{"c", "d"}) || second.IsTruncated {
		t.Fatalf("second page %v truncated=%v", got, second.IsTruncated)
	}
}

func firstDiff(got, want []string) string {
	for i := range want {
		if i >= len(got) {
			return fmt.Sprintf("index %d: missing %s", i, want[i])
		}
		if got[i] != want[i] {
			return fmt.Sprintf("index %d: got %s want %s", i, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra %v", got[len(want):])
	}
	return "none"
}
