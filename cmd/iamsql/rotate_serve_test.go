package main

import (
	"context"
	"database/sql"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/rotate"
)

// CALL rotate_access_key over the MySQL protocol: a file sink is refused
// before any IAM call; the result row carries the secret, and until the
// client has it (its next command) the rotation is held by the server, so
// iamsql rotate in another process cannot advance it; then it can.
func TestRotateOverServeAgainstTheCLIInAnotherProcess(t *testing.T) {
	bin := binary(t)
	emu, url, ledger := rotationWorld(t)
	t.Setenv("IAMSQL_ROTATION_LEDGER", ledger)
	addr, _ := serveInProcess(t, "--endpoint-url", url, "serve", "--addr", "127.0.0.1:0", "--user", "admin", "--password", "pw")
	db, err := sql.Open("mysql", "admin:pw@tcp("+addr+")/iam")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	for _, sink := range []string{"file:/tmp/carol.csv", "profile:carol", "stdout"} {
		emu.ResetCalls()
		_, err := conn.ExecContext(ctx, "CALL rotate_access_key('carol', 'us-east-1', NULL, 1, '"+sink+"')")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1210 {
			t.Fatalf("sink %s: %v", sink, err)
		}
		if sink != "stdout" && !strings.Contains(me.Message, "never to a file on the server's host") {
			t.Fatalf("sink %s: %v", sink, err)
		}
		if c := emu.Calls(); len(c) != 0 {
			t.Fatalf("sink %s: calls %v", sink, c)
		}
	}

	var id, newID, secret, step string
	if err := conn.QueryRowContext(ctx, "CALL rotate_access_key('carol', 'us-east-1', NULL, 1, 'result', '0', '0')").Scan(
		&id, new(sql.NullString), new(string), new(string), &newID, &step, new(string), &secret, new(sql.NullString), new(sql.NullString)); err != nil {
		t.Fatal(err)
	}
	if step != "delivering" || secret == "" || secret != secretOfKey(emu, newID) {
		t.Fatalf("row: %s %s %s", id, newID, step)
	}
	// The server holds the rotation until the client's next command.
	cliRun := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"--endpoint-url", url, "rotate", "--ledger", ledger}, args...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	emu.ResetCalls()
	for _, args := range [][]string{{"--finish", id}, {"--rollback", id}, {"--continue"}} {
		out, code := cliRun(args...)
		if code != 1 || !strings.Contains(out, "being carried out by another iamsql process") {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
	}
	if c := emu.Calls(); c["CreateAccessKey"]+c["UpdateAccessKey"]+c["DeleteAccessKey"] != 0 {
		t.Fatalf("calls while held: %v", c)
	}
	// The next command says the row arrived: delivered, verified.
	if err := conn.QueryRowContext(ctx, "SELECT Step FROM rotations WHERE RotationId = ?", id).Scan(&step); err != nil || step != string(rotate.StepVerified) {
		t.Fatalf("step %q %v", step, err)
	}
	out, code := cliRun("--finish", id, "--force")
	if code != 0 || !strings.Contains(out, " finished") {
		t.Fatalf("finish: exit %d\n%s", code, out)
	}
	if k := statusOf(emu, "carol"); len(k) != 1 || k[newID] != "Active" {
		t.Fatalf("carol %v", k)
	}
}

func secretOfKey(emu *emulator.Emulator, id string) string {
	for _, k := range emu.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.SecretAccessKey
		}
	}
	return ""
}

// serve --read-only refuses the rotation procedures, the plan included.
func TestServeReadOnlyRefusesRotationProcedures(t *testing.T) {
	addr, _ := serveInProcess(t, "--sandbox", "serve", "--addr", "127.0.0.1:0", "--read-only", "--user", "admin", "--password", "pw")
	db, err := sql.Open("mysql", "admin:pw@tcp("+addr+")/iam")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, stmt := range []string{"CALL rotate_access_key('bob', 'us-east-1')", "CALL rotate_access_key('bob', 'us-east-1', NULL, 1)",
		"CALL finish_rotation('rot-AKIABOB0000000000001-1')", "CALL rollback_rotation('rot-AKIABOB0000000000001-1')"} {
		_, err := db.ExecContext(ctx, stmt)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1290 {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM rotations").Scan(&n); err != nil || n != 0 {
		t.Errorf("rotations on a read-only server: %d %v", n, err)
	}
}

// iamsql --org rotate acts in the one account --account names, through
// its role, and the ledger records the account.
func TestRotateCLIInOrgModeActsInTheNamedAccount(t *testing.T) {
	awsEnv(t)
	org, url := emutest.StartOrg(t, emulator.OrgOptions{Seed: "org:demo"})
	id, secret := org.Management().RootCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	ledger := filepath.Join(t.TempDir(), "rotations.json")
	const member = "210987654321"
	keysOf := func() map[string]string {
		m := map[string]string{}
		for _, k := range org.Account(member).Snapshot().Keys {
			if k.UserName == "ada" {
				m[k.AccessKeyID] = k.Status
			}
		}
		return m
	}
	old := keysOf()
	if len(old) != 1 {
		t.Fatalf("ada %v", old)
	}
	_, errOut, code := cli(t, "", "--endpoint-url", url, "--org", "rotate", "--ledger", ledger, "--user", "ada")
	if code != 2 || !strings.Contains(errOut, "--account ID") {
		t.Fatalf("exit %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", "--endpoint-url", url, "--org", "rotate", "--ledger", ledger, "--account", member,
		"--select", "SELECT UserName, AccessKeyId, account_id FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if code != 2 || !strings.Contains(errOut, "acts in --account "+member) {
		t.Fatalf("exit %d %q", code, errOut)
	}
	out, errOut, code := cli(t, "", "--endpoint-url", url, "--org", "rotate", "--ledger", ledger, "--account", member, "--user", "ada")
	if code != 0 || !strings.Contains(out, "Account "+member+".") || !strings.Contains(out, "create a new access key for ada") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	org.ResetCalls()
	out, errOut, code = cli(t, "", "--endpoint-url", url, "--org", "rotate", "--ledger", ledger, "--account", member, "--user", "ada",
		"--sink", "secretsmanager:iam/ada", "--grace", "0", "--delete-after", "0", "--force", "--apply")
	if code != 0 || !strings.Contains(out, " finished ") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	now := keysOf()
	for k := range old {
		if _, ok := now[k]; ok || len(now) != 1 {
			t.Fatalf("ada %v", now)
		}
	}
	// Only the member was changed; the management account assumed its role.
	for _, a := range org.Accounts() {
		c := org.Account(a.ID).Calls()
		if a.ID != member && c["CreateAccessKey"]+c["UpdateAccessKey"]+c["DeleteAccessKey"] != 0 {
			t.Fatalf("account %s: %v", a.ID, c)
		}
	}
	l, err := rotate.OpenLedger(ledger)
	if err != nil {
		t.Fatal(err)
	}
	if recs := l.Records(); len(recs) != 1 || recs[0].Account != member || recs[0].Step != rotate.StepFinished {
		t.Fatalf("ledger %+v", recs)
	}
}
