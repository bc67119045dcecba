package server

// One view of a statement over the protocol: every check is made on the
// statement the engine runs, however it is written — executable comments
// (/*! … */, /*!NNNNN … */), comments around it, several statements in
// one COM_QUERY, prepared on the server (COM_STMT_PREPARE) or with
// PREPARE/EXECUTE. The emulator's call counters prove what reached IAM.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/provider"
)

// killSpellings are ways of writing KILL [CONNECTION | QUERY] of
// connection %d in one statement.
var killSpellings = []string{
	"KILL %d",
	"KILL CONNECTION %d",
	"KILL QUERY %d",
	"kill/**/%d",
	"/*!KILL %d*/",
	"/*!KILL QUERY %d*/",
	"/*!50000 KILL %d */",
	"/*!80031 KILL CONNECTION %d*/",
	"/*!50000KILL QUERY %d*/",
	"/* a comment */ /*!KILL*/ %d",
	"KILL /*! %d*/",
	"/*!KILL*//*! %d*/",
	"-- a comment\n/*!KILL %d*/",
	"# a comment\nKILL %d",
	"/*!KILL %d -- */",
	"/*+ hint */ KILL %d",
	"/*!KILL %d*/;",
}

// TestReadOnlyUserCannotKillAnotherUsersConnectionByAnySpelling: an
// auditor (read-only) tries every spelling of KILL, and every way of
// sending it, on an admin's connection while it waits for IAM to answer
// a CALL create_access_key. Each is refused with MySQL's 1095; the CALL
// completes and delivers its key, which stays (one CreateAccessKey, no
// DeleteAccessKey).
func TestReadOnlyUserCannotKillAnotherUsersConnectionByAnySpelling(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	admin, auditor := w.conn(rwUser), w.conn(roUser)
	var adminID int
	if err := admin.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	w.emu.ResetCalls()
	w.emu.SetAnswerDelay("CreateAccessKey", 3*time.Second)
	type result struct {
		rows [][]string
		err  error
	}
	created := make(chan result, 1)
	go func() {
		rows, err := tryRows(admin, "CALL create_access_key('us-east-1', 'dave')")
		created <- result{rows, err}
	}()
	// Wait until the create is at IAM.
	for deadline := time.Now().Add(5 * time.Second); w.emu.Calls()["CreateAccessKey"] == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the CALL never reached IAM")
		}
		time.Sleep(5 * time.Millisecond)
	}

	notOwner := fmt.Sprintf("You are not owner of thread %d", adminID)
	for _, spelling := range killSpellings {
		q := fmt.Sprintf(spelling, adminID)
		_, err := auditor.ExecContext(ctx, q)
		if errNum(err) != provider.ErrNumKillDenied || !strings.Contains(fmt.Sprint(err), notOwner) {
			t.Errorf("%q: %v, want 1095 %s", q, err, notOwner)
		}
	}
	// One of several statements in one COM_QUERY.
	multi := w.conn(roUser, "multiStatements=true")
	for _, q := range []string{"SELECT 1; /*!KILL %d*/", "SELECT 1 /*!; KILL %d*/", "/*!SELECT 1; KILL QUERY %d*/"} {
		_, err := multi.ExecContext(ctx, fmt.Sprintf(q, adminID))
		if errNum(err) != provider.ErrNumKillDenied {
			t.Errorf("%q: %v, want 1095", fmt.Sprintf(q, adminID), err)
		}
	}
	// Prepared on the server (COM_STMT_PREPARE, COM_STMT_EXECUTE).
	for _, spelling := range []string{"KILL %d", "/*!KILL %d*/", "/*!50000 KILL QUERY %d */"} {
		q := fmt.Sprintf(spelling, adminID)
		stmt, err := auditor.PrepareContext(ctx, q)
		if err == nil {
			_, err = stmt.ExecContext(ctx)
			stmt.Close()
		}
		if errNum(err) != provider.ErrNumKillDenied {
			t.Errorf("prepared %q: %v, want 1095", q, err)
		}
	}
	// PREPARE … FROM a string or a variable, then EXECUTE.
	for _, setup := range []string{
		fmt.Sprintf("PREPARE k FROM '/*!KILL %d*/'", adminID),
		fmt.Sprintf("PREPARE k FROM 'KILL QUERY %d'", adminID),
		fmt.Sprintf("SET @k = '/*!50000 KILL %d */'", adminID), "PREPARE k FROM @k",
	} {
		if _, err := auditor.ExecContext(ctx, setup); err != nil {
			t.Fatalf("%s: %v", setup, err)
		}
		if strings.HasPrefix(setup, "SET") {
			continue
		}
		_, err := auditor.ExecContext(ctx, "EXECUTE k")
		if errNum(err) != provider.ErrNumKillDenied {
			t.Errorf("EXECUTE k after %s: %v, want 1095", setup, err)
		}
	}
	// For a MySQL later than 8.0.31 an executable comment is a comment:
	// nothing runs.
	if _, err := auditor.ExecContext(ctx, fmt.Sprintf("/*!99999 KILL %d*/", adminID)); err != nil {
		t.Errorf("/*!99999 KILL */: %v", err)
	}

	res := <-created
	if res.err != nil || len(res.rows) != 1 || len(res.rows[0][4]) != 40 {
		t.Fatalf("the admin's CALL create_access_key: %v %v", res.rows, res.err)
	}
	var id int
	if err := admin.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil || id != adminID {
		t.Fatalf("the admin's connection: id %d, %v", id, err)
	}
	if calls := w.emu.Calls(); calls["CreateAccessKey"] != 1 || calls["DeleteAccessKey"] != 0 {
		t.Errorf("IAM calls %v: want one CreateAccessKey and no DeleteAccessKey", calls)
	}
	if keys := keysOf(w, "dave"); len(keys) != 1 || keys[0] != res.rows[0][0] {
		t.Errorf("dave's keys %v, want the one created, %s", keys, res.rows[0][0])
	}
}

// TestKillOfAnUnknownConnectionIsUnknownThreadID: as in MySQL, KILL of a
// connection id nobody has is 1094 "Unknown thread id: N", in every
// spelling, for read-only and read-write users; a user may kill their own
// statements and connections.
func TestKillOfAnUnknownConnectionIsUnknownThreadID(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	const nobody = 4000000
	for _, u := range []User{rwUser, roUser} {
		c := w.conn(u)
		for _, spelling := range killSpellings {
			q := fmt.Sprintf(spelling, nobody)
			_, err := c.ExecContext(ctx, q)
			if errNum(err) != provider.ErrNumNoSuchThread || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("Unknown thread id: %d", nobody)) {
				t.Errorf("%s: %q: %v", u.Name, q, err)
			}
		}
	}
	// Another connection of the same user: its statement, then itself.
	auditor, second := w.conn(roUser), w.conn(roUser)
	var id int
	if err := second.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := auditor.ExecContext(ctx, fmt.Sprintf("/*!KILL QUERY %d*/", id)); err != nil {
		t.Errorf("KILL QUERY of the user's own connection: %v", err)
	}
	if _, err := auditor.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
		t.Errorf("KILL of the user's own connection: %v", err)
	}
	if err := second.PingContext(ctx); err == nil {
		t.Error("the killed connection still answers")
	}
}

// TestStatementKindLoggedIsTheEnginesReading: the server logs a
// statement's kind as the engine reads it, never its text.
func TestStatementKindLoggedIsTheEnginesReading(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, Logger: nil}})
	c := w.conn(rwUser)
	if _, err := c.ExecContext(ctx, "/*!KILL 4000001*/"); errNum(err) != provider.ErrNumNoSuchThread {
		t.Fatalf("KILL: %v", err)
	}
	line := w.logs.waitFor(t, 5*time.Second, "statement failed", "kind=KILL", "error_code=1094")
	if strings.Contains(line, "4000001") {
		t.Errorf("the log shows the statement: %s", line)
	}
}

// TestReadOnlyUserIsRefusedMutationsWrittenAsExecutableComments: every
// mutation of TestReadOnlyUserIsRefusedEveryMutationWithoutIAMCalls,
// written inside executable comments, as one of several statements, and
// prepared with PREPARE/EXECUTE, fails with 1290 before any IAM call.
func TestReadOnlyUserIsRefusedMutationsWrittenAsExecutableComments(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	ro, multi := w.conn(roUser), w.conn(roUser, "multiStatements=true")
	before := w.emu.Snapshot()
	refused := func(t *testing.T, q string, err error) {
		t.Helper()
		if errNum(err) != provider.ErrNumReadOnly {
			t.Errorf("%q: %v, want 1290", q, err)
		}
		if n := w.emu.TotalCalls(); n != 0 {
			t.Errorf("%q: %d IAM calls: %v", q, n, w.emu.Calls())
		}
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			for _, wrap := range []string{"/*!%s*/", "/*!50000 %s */", "/* c */ /*!80031 %s */ -- c", "/*!%s */;"} {
				q := fmt.Sprintf(wrap, m.query)
				w.emu.ResetCalls()
				_, err := ro.ExecContext(ctx, q, m.args...)
				refused(t, q, err)
			}
			if m.args != nil {
				return
			}
			q := "SELECT 1; /*!" + m.query + "*/"
			w.emu.ResetCalls()
			_, err := multi.ExecContext(ctx, q)
			refused(t, q, err)

			q = "PREPARE m FROM '/*!50000 " + strings.ReplaceAll(m.query, "'", "''") + " */'"
			w.emu.ResetCalls()
			if _, err := ro.ExecContext(ctx, q); err != nil && errNum(err) != provider.ErrNumReadOnly {
				t.Fatalf("%s: %v", q, err)
			} else if err == nil {
				_, err = ro.ExecContext(ctx, "EXECUTE m")
				refused(t, "EXECUTE m after "+q, err)
			}
		})
	}
	if after := w.emu.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("IAM changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestSafeUpdatesApplyToExecutableCommentForms: an UPDATE or DELETE that
// would change every key of the account is refused (1210) before any IAM
// call however it is written, over the protocol.
func TestSafeUpdatesApplyToExecutableCommentForms(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	c := w.conn(rwUser)
	for _, q := range []string{
		"/*!DELETE FROM access_keys WHERE region = 'us-east-1'*/",
		"/*!50000 UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' */",
		"DELETE FROM access_keys WHERE region = 'us-east-1' /*!99999 AND AccessKeyId = 'AKIABOB0000000000001' */",
		"/*!DELETE*/ FROM access_keys WHERE region = 'us-east-1' -- AND UserName = 'bob'",
	} {
		w.emu.ResetCalls()
		_, err := c.ExecContext(ctx, q)
		wantErr(t, err, provider.ErrNumBadParam, "would change every key of the account")
		if n := w.emu.TotalCalls(); n != 0 {
			t.Errorf("%q: %d IAM calls: %v", q, n, w.emu.Calls())
		}
	}
}

// TestMariaDBCLIKillInAnExecutableComment: the report as it came, with the
// real mariadb CLI (which sends executable comments on): an auditor's
// /*!KILL n*/ of an admin's connection is refused, and KILL of an id
// nobody has is "Unknown thread id".
func TestMariaDBCLIKillInAnExecutableComment(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	admin := w.conn(rwUser)
	var adminID int
	if err := admin.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := w.mariadb(t, roUser, "--skip-ssl", "-e", fmt.Sprintf("/*!KILL %d*/", adminID))
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("ERROR 1095 (HY000) at line 1: You are not owner of thread %d", adminID)) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if err := admin.PingContext(ctx); err != nil {
		t.Errorf("the admin's connection: %v", err)
	}
	_, errOut, code = w.mariadb(t, roUser, "--skip-ssl", "-e", "/*!50000 KILL QUERY 4000000 */")
	if code != 1 || !strings.Contains(errOut, "ERROR 1094 (HY000) at line 1: Unknown thread id: 4000000") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
