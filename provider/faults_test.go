package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"go.uber.org/goleak"

	"github.com/iamsql/iamsql/internal/emulator"
)

// addUsers creates n users with keys of mixed status.
func addUsers(t testing.TB, emu *emulator.Emulator, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("user%04d", i)
		if err := emu.AddUser(emulator.User{UserName: name}); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 1+i%2; k++ {
			status := "Active"
			if (i+k)%3 == 0 {
				status = "Inactive"
			}
			if err := emu.AddAccessKey(emulator.AccessKey{UserName: name, Status: status}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestThrottledInventoryReturnsExactlyTheFaultFreeRows(t *testing.T) {
	w := newWorld(t, worldOptions{empty: true})
	addUsers(t, w.emu, 1000)
	query := "SELECT u.UserName, k.AccessKeyId, k.Status FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
		"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"
	clean := w.exec(query)
	if clean.err != nil || len(clean.rows) != 1500 {
		t.Fatalf("fault-free run: %d rows, %v", len(clean.rows), clean.err)
	}
	w.emu.SetThrottleRate(0.3)
	throttled := w.exec(query)
	if throttled.err != nil {
		t.Fatalf("throttled run failed: %v", throttled.err)
	}
	if !reflect.DeepEqual(throttled.rows, clean.rows) {
		t.Fatalf("throttled run returned %d rows, fault-free %d; they differ", len(throttled.rows), len(clean.rows))
	}
	if throttled.calls["ListAccessKeys"] <= 1000 {
		t.Errorf("no throttling happened: %s", callsString(throttled.calls))
	}
	t.Logf("30%% throttling: %s for 1000 users (fault-free: %s)", callsString(throttled.calls), callsString(clean.calls))
}

func TestThrottlingBeyondRetriesFailsTheWholeInventory(t *testing.T) {
	w := newWorld(t, worldOptions{empty: true, maxAttempts: 2})
	addUsers(t, w.emu, 200)
	w.emu.SetThrottleRate(0.6)
	r := w.exec(inventoryJoin)
	if r.errNum != ErrNumThrottled || !strings.Contains(r.err.Error(), "Throttling: Rate exceeded") {
		t.Fatalf("want a throttling error (1205), got %v", r.err)
	}
}

func TestDroppedCreateIsNotRetriedAndSaysTheOutcomeIsUnknown(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.emu.SetOperationDropRate("CreateAccessKey", 1)
	r := w.exec("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	if r.err == nil || !strings.Contains(r.err.Error(), "the outcome is unknown: IAM may have created a key for dave, whose secret nobody received. It was not retried. "+
		"Check with: SELECT AccessKeyId, CreateDate FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave' ORDER BY CreateDate DESC;") {
		t.Fatalf("error %v", r.err)
	}
	if got := r.calls["CreateAccessKey"]; got != 1 {
		t.Errorf("CreateAccessKey called %d times; an ambiguous create must not be retried", got)
	}
}

func TestFailedRollbackStillDeliversTheSecrets(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.emu.Deny("DeleteAccessKey", "dave")
	r := w.exec("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('alice', 'us-east-1')")
	created := w.sess.Created(0)
	if r.errNum != ErrNumLimitExceeded || len(created) != 1 || created[0].SecretAccessKey == "" {
		t.Fatalf("error %v, created %d", r.err, len(created))
	}
	if !strings.Contains(r.err.Error(), "could not delete them again: they exist, and their secrets are in created_access_keys") ||
		!strings.Contains(r.err.Error(), created[0].AccessKeyID) {
		t.Errorf("error does not name the kept key: %v", r.err)
	}
	if strings.Contains(r.err.Error(), created[0].SecretAccessKey) {
		t.Error("the secret is in the error message")
	}
}

func TestMultiRowDeleteSaysWhichKeysItChangedBeforeFailing(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.emu.Deny("DeleteAccessKey", "bob")
	r := w.exec("DELETE FROM access_keys WHERE AccessKeyId IN ('AKIAALICE00000000002', 'AKIABOB0000000000001') AND region = 'us-east-1'")
	if r.errNum != ErrNumAccessDenied || !strings.Contains(r.err.Error(), "(keys already deleted by this statement: [AKIAALICE00000000002])") {
		t.Fatalf("error %v", r.err)
	}
}

func TestCancellingAStatementStopsItsIAMCallsWithoutLeaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// Idle keep-alive connections of the SDK's HTTP client.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	w := newWorld(t, worldOptions{empty: true, latency: 2 * time.Second})
	addUsers(t, w.emu, 50)
	for _, q := range []string{inventoryJoin, "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'user0001'"} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		res, err := w.eng.Query(ctx, w.sess, q)
		if err == nil {
			for err == nil {
				_, err = res.Next()
			}
			res.Close()
		}
		cancel()
		var sqlErr *mysql.SQLError
		if !errors.As(err, &sqlErr) || (sqlErr.Num != ErrNumInterrupted && sqlErr.Num != ErrNumTimeout) {
			t.Errorf("%s: error %v, want interrupted/timeout", q, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v after a 200ms deadline; calls were not cancelled", q, d)
		}
	}
}
