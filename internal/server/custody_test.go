package server

import (
	"strings"
	"testing"
	"time"
)

// Over the protocol an INSERT can only answer OK: its keys' secrets wait
// in created_access_keys for the connection that created them. A key
// whose secret was not read when the connection closes is deleted again
// (secret custody): a one-shot client that sent only the INSERT leaves
// no key nobody holds.

// keysOfDave is how many keys dave (who has none in the demo) has now.
func waitKeysOf(t *testing.T, w *world, user string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := len(keysOf(w, user))
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d keys, want %d", user, n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAKeyNeverReadIsDeletedWhenItsConnectionCloses(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := loggedIn(t, w)
	if _, err := rc.query("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	waitKeysOf(t, w, "dave", 1)
	rc.conn.Close()
	waitKeysOf(t, w, "dave", 0)
	w.logs.waitFor(t, 5*time.Second, "keys whose secrets were never read were deleted again", "the connection closed")
}

func TestAKeyReadFromCreatedAccessKeysIsKept(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := loggedIn(t, w)
	if _, err := rc.query("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	got, err := rc.query("SELECT AccessKeyId, SecretAccessKey FROM created_access_keys")
	if err != nil || len(got) != 1 || len(got[0][1]) != 40 {
		t.Fatalf("created_access_keys: %v %v", got, err)
	}
	// A statement after the result: the result was flushed.
	if _, err := rc.query("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	rc.conn.Close()
	waitConnections(t, w, 0, "close")
	waitKeysOf(t, w, "dave", 1)
}

func TestAKeyFromCALLIsDeliveredInItsResultRow(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := loggedIn(t, w)
	got, err := rc.query("CALL create_access_key('us-east-1', 'dave')")
	if err != nil || len(got) != 1 {
		t.Fatalf("CALL: %v %v", got, err)
	}
	rc.conn.Close()
	waitConnections(t, w, 0, "close")
	waitKeysOf(t, w, "dave", 1)
}

func TestResetConnectionDeletesUnreadKeys(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := loggedIn(t, w)
	if _, err := rc.query("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('erin', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	waitKeysOf(t, w, "dave", 1)
	const comResetConnection = 0x1f
	if err := rc.command(comResetConnection, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.readResult(); err != nil {
		t.Fatalf("COM_RESET_CONNECTION: %v", err)
	}
	waitKeysOf(t, w, "dave", 0)
	waitKeysOf(t, w, "erin", 1) // erin's own key from the demo
	// The connection goes on, with an empty created_access_keys.
	got, err := rc.query("SELECT COUNT(*) FROM created_access_keys")
	if err != nil || len(got) != 1 || got[0][0] != "0" {
		t.Fatalf("after reset: %v %v", got, err)
	}
	w.logs.waitFor(t, 5*time.Second, "COM_RESET_CONNECTION")
}

func TestKeepUndeliveredKeysLogsThemByKeyID(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{KeepUndelivered: true}})
	rc := loggedIn(t, w)
	if _, err := rc.query("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"); err != nil {
		t.Fatal(err)
	}
	rc.conn.Close()
	logs := w.logs.waitFor(t, 5*time.Second, "never read from created_access_keys and are kept")
	waitKeysOf(t, w, "dave", 1)
	id := keysOf(w, "dave")[0]
	if !strings.Contains(logs, id) {
		t.Errorf("the log does not name %s:\n%s", id, logs)
	}
}
