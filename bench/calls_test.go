package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
)

// callCase is one statement of the IAM-calls benchmark, run against the
// demo account (see internal/emulator/seed.go): root (1 key), alice (2),
// bob (1), carol (2), dave (none), erin (1), ci-deploy (1).
type callCase struct {
	name string
	// query is the statement; iteration i may vary it (UPDATE alternates
	// the Status so that every run changes the key).
	query func(i int) string
	// min is the fewest IAM calls, per operation, that can produce the
	// statement's result. The comment on each case says why.
	min map[string]int
	// rows and affected are what the statement must return (-1: not
	// checked), so that a statement cannot look cheap by doing less.
	rows, affected int
	// before prepares the account for iteration i, directly (no counted
	// IAM call).
	before func(tb testing.TB, emu *emulator.Emulator, i int)
}

func fixed(q string) func(int) string { return func(int) string { return q } }

func alternating(format string) func(int) string {
	return func(i int) string {
		st := "Inactive"
		if i%2 == 1 {
			st = "Active"
		}
		return fmt.Sprintf(format, st)
	}
}

// daveWithoutKeys recreates dave, so that he has room for two new keys.
func daveWithoutKeys(tb testing.TB, emu *emulator.Emulator, _ int) {
	tb.Helper()
	if err := emu.RemoveUser("dave"); err != nil {
		tb.Fatal(err)
	}
	if err := emu.AddUser(emulator.User{UserName: "dave", Path: "/ops/"}); err != nil {
		tb.Fatal(err)
	}
}

const benchKeyID = "AKIABENCHDELETE00001"

// daveWithKey gives dave a key to delete.
func daveWithKey(tb testing.TB, emu *emulator.Emulator, i int) {
	tb.Helper()
	daveWithoutKeys(tb, emu, i)
	if err := emu.AddAccessKey(emulator.AccessKey{AccessKeyID: benchKeyID, UserName: "dave"}); err != nil {
		tb.Fatal(err)
	}
}

var callCases = []callCase{
	{
		name:  "select_by_region",
		query: fixed("SELECT AccessKeyId, CreateDate, Status, UserName FROM access_keys WHERE region = 'us-east-1'"),
		// Every key of the account: IAM has no account-wide key listing
		// that returns key ids, so one ListUsers page (6 users, pages hold
		// 100), one ListAccessKeys per user, and one without a user for
		// the root user's own keys (the caller is root): 1 + 6 + 1.
		min:  map[string]int{"ListUsers": 1, "ListAccessKeys": 7},
		rows: 8, affected: -1,
	},
	{
		name:  "select_by_username",
		query: fixed(LookupByUser),
		// One user's keys are one ListAccessKeys page (at most 2 keys).
		min:  map[string]int{"ListAccessKeys": 1},
		rows: 2, affected: -1,
	},
	{
		name:  "select_by_username_last_used",
		query: fixed("SELECT AccessKeyId, LastUsedDate, LastUsedServiceName, LastUsedRegion FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"),
		// The keys come from ListAccessKeys; a key's last use only from
		// GetAccessKeyLastUsed, which takes one key per call: alice has 2.
		min:  map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 2},
		rows: 2, affected: -1,
	},
	{
		name:  "select_by_access_key_id",
		query: fixed("SELECT UserName, Status, CreateDate FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIACAROL00000000002'"),
		// IAM has no get-key-by-id: GetAccessKeyLastUsed is the only call
		// that maps an id to its owner, and Status and CreateDate come
		// only from the owner's ListAccessKeys.
		min:  map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1},
		rows: 1, affected: -1,
	},
	{
		name:  "select_by_access_key_id_last_used",
		query: fixed("SELECT UserName, Status, LastUsedDate, LastUsedServiceName FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIACAROL00000000002'"),
		// As above; the owner lookup's GetAccessKeyLastUsed already
		// answers the last-used columns, so they cost nothing more.
		min:  map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1},
		rows: 1, affected: -1,
	},
	{
		name:  "select_by_username_and_access_key_id",
		query: fixed("SELECT Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' AND AccessKeyId = 'AKIAALICE00000000002'"),
		// The owner is given: only the ListAccessKeys that has the row.
		min:  map[string]int{"ListAccessKeys": 1},
		rows: 1, affected: -1,
	},
	{
		name:  "select_username_in_3_users",
		query: fixed("SELECT UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob', 'dave')"),
		// ListAccessKeys takes one user: one call per listed user.
		min:  map[string]int{"ListAccessKeys": 3},
		rows: 3, affected: -1,
	},
	{
		name:  "count_by_username",
		query: fixed("SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'carol'"),
		// Counting needs the list, no more: one ListAccessKeys.
		min:  map[string]int{"ListAccessKeys": 1},
		rows: 1, affected: -1,
	},
	{
		name:   "insert_2_rows",
		query:  fixed("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('dave', 'us-east-1')"),
		before: daveWithoutKeys,
		// One CreateAccessKey per row; nothing needs reading first.
		min:  map[string]int{"CreateAccessKey": 2},
		rows: 0, affected: 2,
	},
	{
		name:   "call_create_access_key",
		query:  fixed("CALL create_access_key('us-east-1', 'dave')"),
		before: daveWithoutKeys,
		// One CreateAccessKey, whose answer is the returned row.
		min:  map[string]int{"CreateAccessKey": 1},
		rows: 1, affected: -1,
	},
	{
		name:   "delete_by_id",
		query:  fixed("DELETE FROM access_keys WHERE AccessKeyId = '" + benchKeyID + "' AND region = 'us-east-1'"),
		before: daveWithKey,
		// DeleteAccessKey without UserName would delete the caller's key,
		// so the owner must be found first (GetAccessKeyLastUsed, the only
		// id → owner call); the matched row, which DELETE counts and
		// filters on, comes from the owner's ListAccessKeys; then one
		// DeleteAccessKey: 3.
		min:  map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1, "DeleteAccessKey": 1},
		rows: 0, affected: 1,
	},
	{
		name:   "delete_by_id_and_username",
		query:  fixed("DELETE FROM access_keys WHERE AccessKeyId = '" + benchKeyID + "' AND UserName = 'dave' AND region = 'us-east-1'"),
		before: daveWithKey,
		// The owner is given: the matched row (ListAccessKeys) and the
		// DeleteAccessKey: 2.
		min:  map[string]int{"ListAccessKeys": 1, "DeleteAccessKey": 1},
		rows: 0, affected: 1,
	},
	{
		name:  "update_by_id",
		query: alternating("UPDATE access_keys SET Status = '%s' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'"),
		// As DELETE by id: the owner (GetAccessKeyLastUsed), the current
		// row whose Status is compared and counted (ListAccessKeys), and
		// one UpdateAccessKey: 3.
		min:  map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1, "UpdateAccessKey": 1},
		rows: 0, affected: 1,
	},
	{
		name:  "update_by_id_and_username",
		query: alternating("UPDATE access_keys SET Status = '%s' WHERE AccessKeyId = 'AKIABOB0000000000001' AND UserName = 'bob' AND region = 'us-east-1'"),
		// The owner is given: the current row and the update: 2.
		min:  map[string]int{"ListAccessKeys": 1, "UpdateAccessKey": 1},
		rows: 0, affected: 1,
	},
	{
		name:  "exec_stackql_update_by_id",
		query: alternating("EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = '%s', @region = 'us-east-1'"),
		// A procedure returns no matched rows, so no ListAccessKeys; but
		// UpdateAccessKey without UserName acts on the caller's keys, so
		// the owner is looked up: 2.
		min:  map[string]int{"GetAccessKeyLastUsed": 1, "UpdateAccessKey": 1},
		rows: -1, affected: -1,
	},
	{
		name:  "inventory_users_join_access_keys",
		query: fixed(Inventory),
		// IAM has no account-wide key listing that returns key ids (the
		// credential report has none): one ListUsers page (6 users, pages
		// hold 100) and one ListAccessKeys per user: 1 + 6.
		min:  map[string]int{"ListUsers": 1, "ListAccessKeys": 6},
		rows: 7, affected: -1,
	},
	{
		name: "cross_join_users_users_access_keys",
		query: fixed("SELECT COUNT(*) FROM users u1, users u2, access_keys k WHERE u1.region = 'us-east-1' AND u2.region = 'us-east-1' " +
			"AND k.region = 'us-east-1' AND k.UserName = u2.UserName"),
		// The cross join that once made a call per pair of users: each
		// table is read once per statement, however often the plan reads
		// it: one ListUsers page and one ListAccessKeys per user: 1 + 6,
		// far within the call budget.
		min:  map[string]int{"ListUsers": 1, "ListAccessKeys": 6},
		rows: 1, affected: -1,
	},
	{
		name:  "inventory_with_last_used",
		query: fixed(InventoryLastUsed),
		// As above, plus one GetAccessKeyLastUsed per key: 1 + 6 + 7.
		min:  map[string]int{"ListUsers": 1, "ListAccessKeys": 6, "GetAccessKeyLastUsed": 7},
		rows: 7, affected: -1,
	},
}

// BenchmarkIAMCalls runs each statement through the real SDK against the
// emulator's demo account and counts the IAM calls the emulator received
// (emu.Calls). It reports calls/stmt beside min-calls; the driver checks
// that they are equal. A statement that returns the wrong result fails.
func BenchmarkIAMCalls(b *testing.B) {
	ctx := context.Background()
	for _, c := range callCases {
		b.Run(c.name, func(b *testing.B) {
			// emulator.NewHTTPClient: with the SDK's default client a call
			// to a server this fast is now and then sent twice (see its
			// doc), which would count calls the engine did not make.
			w := newWorld(b, emulator.Options{Seed: "demo"}, 0, emulator.NewHTTPClient())
			// Whether the caller is root is asked once per process (one
			// GetUser); a one-shot statement pays it, the count below
			// does not.
			if _, err := w.exec(ctx, "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'root'"); err != nil {
				b.Fatal(err)
			}
			total := 0
			for i := 0; i < b.N; i++ {
				if c.before != nil {
					b.StopTimer()
					c.before(b, w.emu, i)
					b.StartTimer()
				}
				w.emu.ResetCalls()
				q := c.query(i)
				o, err := w.exec(ctx, q)
				got := w.emu.Calls()
				if err != nil {
					b.Fatalf("%s: %v", q, err)
				}
				if (c.rows >= 0 && o.rows != c.rows) || (c.affected >= 0 && int(o.affected) != c.affected) {
					b.Fatalf("%s: %d rows, %d affected; want %d, %d", q, o.rows, o.affected, c.rows, c.affected)
				}
				if !equalCounts(got, o.engine) {
					b.Logf("%s: the emulator received %v, the engine made %v (SDK retries?)", q, got, o.engine)
				}
				if i == 0 && !equalCounts(got, c.min) {
					b.Logf("%s: IAM calls %v, minimum %v", c.name, got, c.min)
					if sum(got) == sum(c.min) {
						b.Errorf("%s: as many calls as the minimum, but not the same operations", c.name)
					}
				}
				total += sum(got)
			}
			b.ReportMetric(float64(total)/float64(b.N), "calls/stmt")
			b.ReportMetric(float64(sum(c.min)), "min-calls")
		})
	}
}
