package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/custody"
	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/internal/rotate"
)

const (
	carolOld    = "AKIACAROLOLDKEY00001"
	carolSecret = "carolOldSecretcarolOldSecretcarolOldSecr"
)

// rotationWorld is an emulator with carol (one old key) and dave (two
// active keys), and the standard AWS configuration pointing at it as root.
func rotationWorld(t *testing.T) (*emulator.Emulator, string, string) {
	t.Helper()
	awsEnv(t)
	emu, url := emutest.Start(t, emulator.Options{CallLog: true})
	old := time.Now().Add(-200 * 24 * time.Hour)
	for _, u := range []string{"carol", "dave"} {
		if err := emu.AddUser(emulator.User{UserName: u, CreateDate: old}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []emulator.AccessKey{
		{AccessKeyID: carolOld, SecretAccessKey: carolSecret, UserName: "carol", Status: "Active", CreateDate: old},
		{AccessKeyID: "AKIADAVEKEY000000001", UserName: "dave", Status: "Active", CreateDate: old},
		{AccessKeyID: "AKIADAVEKEY000000002", UserName: "dave", Status: "Active", CreateDate: old},
	} {
		if err := emu.AddAccessKey(k); err != nil {
			t.Fatal(err)
		}
	}
	return emu, url, filepath.Join(t.TempDir(), "rotations.json")
}

// opsOf are the operations the emulator answered since the last look.
func opsOf(emu *emulator.Emulator) []string {
	var ops []string
	for _, c := range emu.CallLog() {
		ops = append(ops, c.Op)
	}
	emu.SetCallLog(false)
	emu.SetCallLog(true)
	return ops
}

// wantOps asserts the operations the emulator answered since the last look.
func wantOps(t *testing.T, emu *emulator.Emulator, what string, want ...string) {
	t.Helper()
	if ops := opsOf(emu); !slices.Equal(ops, want) {
		t.Fatalf("%s calls %v, want %v", what, ops, want)
	}
}

func statusOf(emu *emulator.Emulator, user string) map[string]string {
	m := map[string]string{}
	for _, k := range emu.Snapshot().Keys {
		if k.UserName == user {
			m[k.AccessKeyID] = k.Status
		}
	}
	return m
}

var rotationID = regexp.MustCompile(`rot-\w+-\d{8}T\d{6}Z-[0-9a-f]{6}`)

func TestRotateCLIPlansAppliesListsRollsBackAndFinishes(t *testing.T) {
	emu, url, ledger := rotationWorld(t)
	g := []string{"--endpoint-url", url, "rotate", "--ledger", ledger}
	out, errOut, code := cli(t, "", append(g, "--user", "carol", "--user", "dave")...)
	want := "Dry run: nothing was changed. Run again with --apply (and --sink) to rotate.\n\n" +
		"carol " + carolOld + ":\n" +
		"  1. create a new access key for carol\n" +
		"  2. deliver it to the sink\n" +
		"  3. verify it with sts:GetCallerIdentity signed by the new key\n" +
		"  4. deactivate " + carolOld + " 7 days after verification\n" +
		"  5. delete " + carolOld + " 7 days after deactivation if nothing used it after verification\n\n" +
		"dave -: BLOCKED: user dave has two keys: name the one to rotate (AccessKeyId)\n"
	if code != 0 || out != want {
		t.Fatalf("dry run exit %d\n%s\nwant\n%s\nstderr %s", code, out, want, errOut)
	}
	wantOps(t, emu, "dry run", "GetCallerIdentity", "ListAccessKeys", "ListAccessKeys")
	// Usage errors: exit 2 before any call.
	for _, args := range [][]string{
		{"--user", "carol", "--apply"},
		{"--user", "carol", "--grace", "soon"},
		{"--user", "carol", "--continue"},
		{},
		{"--user", "carol", "--apply", "--sink", "printer"},
		{"--user", "carol", "--force"},
	} {
		_, errOut, code := cli(t, "", append(g, args...)...)
		if code != 2 || !strings.HasPrefix(errOut, "iamsql: rotate: ") {
			t.Fatalf("%v: exit %d %q", args, code, errOut)
		}
	}
	for args, want := range map[string]string{"--org": "iamsql: rotate: in org mode a rotation acts in one account, which --account ID names",
		"--profiles a,b": "iamsql: rotate: with --profiles, rotate in one account at a time"} {
		_, errOut, code := cli(t, "", append(append(strings.Fields(args), g...), "--user", "carol")...)
		if code != 2 || !strings.HasPrefix(errOut, want) {
			t.Fatalf("%v: exit %d %q", args, code, errOut)
		}
	}
	if ops := opsOf(emu); len(ops) > 1 { // a bad sink is found after the identity call
		t.Fatalf("usage errors made calls %v", ops)
	}
	// Apply: up to verification; the old key stays active for the grace.
	csv := filepath.Join(t.TempDir(), "carol.csv")
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	out, errOut, code = cli(t, "", append([]string{"--audit-log", audit}, append(g, "--user", "carol", "--apply", "--sink", "file:"+csv)...)...)
	id := rotationID.FindString(out)
	if code != 0 || id == "" || !strings.Contains(out, " verified  sink file:"+csv+"  next step due ") {
		t.Fatalf("apply exit %d %q %q", code, out, errOut)
	}
	wantOps(t, emu, "apply", "GetCallerIdentity", "ListAccessKeys", "CreateAccessKey", "GetCallerIdentity")
	keys := statusOf(emu, "carol")
	if len(keys) != 2 || keys[carolOld] != "Active" {
		t.Fatalf("keys %v", keys)
	}
	data, _ := os.ReadFile(audit)
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var ev rotate.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Operation == "" {
			steps = append(steps, string(ev.Step))
		}
	}
	for _, k := range emu.Snapshot().Keys {
		if strings.Contains(string(data), k.SecretAccessKey) {
			t.Fatal("the audit log holds a secret")
		}
	}
	if want := []string{"creating", "created", "delivering", "delivered", "verified"}; !slices.Equal(steps, want) {
		t.Fatalf("audited steps %v", steps)
	}
	// Continue before the grace ends does nothing.
	out, _, code = cli(t, "", append(g, "--continue")...)
	if code != 0 || !strings.Contains(out, id+"  carol") {
		t.Fatalf("continue %d %q", code, out)
	}
	wantOps(t, emu, "continue", "GetCallerIdentity")
	// Rollback: the old key stays, the new key and its file go.
	out, errOut, code = cli(t, "", append(g, "--rollback", id)...)
	if code != 0 || !strings.Contains(out, " rolled_back ") {
		t.Fatalf("rollback %d %q %q", code, out, errOut)
	}
	if k := statusOf(emu, "carol"); len(k) != 1 || k[carolOld] != "Active" {
		t.Fatalf("after rollback %v", k)
	}
	if _, err := os.Stat(csv); !os.IsNotExist(err) {
		t.Fatal("the rolled-back key's file is still there")
	}
	_, errOut, code = cli(t, "", append(g, "--rollback", id)...)
	if code != 1 || !strings.Contains(errOut, "there is nothing to roll back") {
		t.Fatalf("second rollback %d %q", code, errOut)
	}
	// Again, then finish at once.
	out, _, code = cli(t, "", append(g, "--user", "carol", "--key", carolOld, "--apply", "--sink", "file:"+csv)...)
	id2 := rotationID.FindString(out)
	if code != 0 || id2 == "" {
		t.Fatalf("apply again %d %q", code, out)
	}
	opsOf(emu)
	out, errOut, code = cli(t, "", append(g, "--finish", id2, "--force")...)
	if code != 0 || !strings.Contains(out, " finished ") {
		t.Fatalf("finish %d %q %q", code, out, errOut)
	}
	wantOps(t, emu, "finish", "GetCallerIdentity", "UpdateAccessKey", "GetAccessKeyLastUsed", "DeleteAccessKey")
	k := statusOf(emu, "carol")
	if len(k) != 1 || k[carolOld] != "" {
		t.Fatalf("after finish %v", k)
	}
	out, _, _ = cli(t, "", append(g, "--list")...)
	if strings.Count(out, "\n") < 2 || !strings.Contains(out, id) || !strings.Contains(out, id2) {
		t.Fatalf("list %q", out)
	}
	// Dave's active second key is never touched.
	_, errOut, code = cli(t, "", append(g, "--user", "dave", "--key", "AKIADAVEKEY000000001", "--apply", "--sink", "stdout")...)
	if code != 1 || !strings.Contains(errOut, "an active second key is never touched") {
		t.Fatalf("dave %d %q", code, errOut)
	}
	if k := statusOf(emu, "dave"); len(k) != 2 || k["AKIADAVEKEY000000002"] != "Active" {
		t.Fatalf("dave's keys %v", k)
	}
}

// Every old key a query selects, a bounded number per run.
func TestRotateCLISelectWithLimit(t *testing.T) {
	emu, url, ledger := rotationWorld(t)
	if err := emu.AddUser(emulator.User{UserName: "erin"}); err != nil {
		t.Fatal(err)
	}
	if err := emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAERINKEY000000001", UserName: "erin", Status: "Active", CreateDate: time.Now().Add(-100 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sel := "SELECT UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('carol', 'erin') AND CreateDate < NOW() - INTERVAL 90 DAY ORDER BY UserName"
	g := []string{"--endpoint-url", url, "rotate", "--ledger", ledger, "--select", sel, "--sink", "stdout", "--grace", "0", "--delete-after", "0", "--force", "--apply"}
	out, errOut, code := cli(t, "", append(g, "--limit", "1")...)
	if code != 0 || !strings.Contains(out, "carol  "+carolOld+" -> ") || !strings.Contains(out, "erin AKIAERINKEY000000001: not rotated (--limit 1)") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	if k := statusOf(emu, "carol"); len(k) != 1 || k[carolOld] != "" {
		t.Fatalf("carol %v", k)
	}
	out, errOut, code = cli(t, "", append(g, "--limit", "1")...)
	if code != 0 || !strings.Contains(out, "erin  AKIAERINKEY000000001 -> ") {
		t.Fatalf("second run %d %q %q", code, out, errOut)
	}
	if k := statusOf(emu, "erin"); len(k) != 1 || k["AKIAERINKEY000000001"] != "" {
		t.Fatalf("erin %v", k)
	}
}

// A user rotates their own key in their credentials-file profile; the aws
// CLI then signs with the rotated profile.
func TestRotateOwnKeyInProfileThenTheAWSCLIUsesIt(t *testing.T) {
	aws := emutest.AWSCLI(t)
	emu, url, ledger := rotationWorld(t)
	home := t.TempDir()
	creds := filepath.Join(home, "credentials")
	orig := "[default]\naws_access_key_id = AKIAOTHERKEY00000001\naws_secret_access_key = other\n\n[carol]\naws_access_key_id = " + carolOld + "\naws_secret_access_key = " + carolSecret + "\n# carol's work account\n"
	if err := os.WriteFile(creds, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	out, errOut, code := cli(t, "", "--profile", "carol", "--endpoint-url", url, "rotate", "--ledger", ledger, "--self", "--sink", "profile:carol", "--grace", "0", "--delete-after", "0", "--force", "--apply")
	if code != 0 || !strings.Contains(out, " finished ") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	keys := statusOf(emu, "carol")
	var newID string
	for id := range keys {
		newID = id
	}
	if len(keys) != 1 || newID == carolOld {
		t.Fatalf("keys %v", keys)
	}
	// The calls after verification were signed by the new key.
	log := emu.CallLog()
	var signers []string
	for _, c := range log {
		if c.Op == "UpdateAccessKey" || c.Op == "DeleteAccessKey" {
			signers = append(signers, c.Op+" by "+c.AccessKeyID)
		}
	}
	if want := []string{"UpdateAccessKey by " + newID, "DeleteAccessKey by " + newID}; !slices.Equal(signers, want) {
		t.Fatalf("signers %v", signers)
	}
	data, _ := os.ReadFile(creds)
	st, _ := os.Stat(creds)
	if st.Mode().Perm() != 0o600 || strings.Contains(string(data), carolOld) || !strings.Contains(string(data), "[default]\naws_access_key_id = AKIAOTHERKEY00000001\n") || !strings.Contains(string(data), "# carol's work account") {
		t.Fatalf("credentials file (%v):\n%s", st.Mode().Perm(), data)
	}
	if m, _ := filepath.Glob(creds + ".iamsql-*"); len(m) != 0 {
		t.Fatalf("backup left after the rotation: %v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, "--endpoint-url", url, "--profile", "carol", "--region", "us-east-1", "--output", "json", "sts", "get-caller-identity")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v %s", err, got)
	}
	var who struct{ Arn, Account string }
	if err := json.Unmarshal(got, &who); err != nil || who.Arn != "arn:aws:iam::123456789012:user/carol" {
		t.Fatalf("aws CLI identity %s %v", got, err)
	}
	if k := emu.Snapshot().Keys; !slices.ContainsFunc(k, func(k emulator.AccessKey) bool { return k.AccessKeyID == newID && k.LastUsed != nil }) {
		t.Fatal("the aws CLI did not sign with the new key")
	}
}

// readmeRotateExamples are the commands of README.md's "Rotating keys"
// example block.
func readmeRotateExamples(t *testing.T) [][]string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(data), "### Rotating keys\n")
	if !ok {
		t.Fatal("README.md has no Rotating keys section")
	}
	_, block, _ := strings.Cut(sec, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var cmds [][]string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		words := shellWords(t, line)
		if len(words) == 0 || words[0] != "iamsql" {
			t.Fatalf("README example %q is not an iamsql command", line)
		}
		cmds = append(cmds, words[1:])
	}
	return cmds
}

// shellWords splits a command line as sh does for plain words and quotes.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// The README's rotation examples run, in order, against the demo account.
func TestREADMERotationExamplesRun(t *testing.T) {
	examples := readmeRotateExamples(t)
	const workID = "AKIAWORKKEY000000001"
	emu, _, dir, creds := rotationGuideWorld(t, workID, "workSecretworkSecretworkSecretworkSecret")
	var id string
	for _, args := range examples {
		for i, a := range args {
			if a == "ROTATION_ID" {
				args[i] = id
			}
		}
		if slices.Contains(args, "--profile") {
			// The profile's own credentials, not the environment's.
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		}
		out, errOut, code := cli(t, "", args...)
		if code != 0 {
			t.Fatalf("iamsql %q: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if id == "" {
			id = rotationID.FindString(out)
		}
		t.Logf("iamsql %q:\n%s", args, out)
	}
	if id == "" {
		t.Fatal("no rotation was applied")
	}
	// The root user's own key is not rotated without --allow-root-keys.
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
	out, _, code := cli(t, "", examples[5]...)
	if code != 0 || !strings.Contains(out, "root (you) AKIAIOSFODNN7EXAMPLE: BLOCKED: this is the root user's key: rotating it creates a root access key") {
		t.Fatalf("exit %d %q", code, out)
	}
	// The rollback left alice her old key (the inactive one made room).
	if k := statusOf(emu, "alice"); len(k) != 1 || k["AKIAALICE00000000001"] != "Active" {
		t.Fatalf("alice %v", k)
	}
	if _, err := os.Stat(filepath.Join(dir, "alice.csv")); !os.IsNotExist(err) {
		t.Fatal("alice.csv outlived the rollback")
	}
	// frank rotated his own key into the work profile; both keys are
	// active for the grace period.
	k := statusOf(emu, "frank")
	data, _ := os.ReadFile(creds)
	if len(k) != 2 || k[workID] != "Active" || strings.Contains(string(data), workID) {
		t.Fatalf("frank %v, credentials:\n%s", k, data)
	}
}

// SIGKILL while IAM, STS or Secrets Manager holds its answer at each step,
// then --continue from a new process: the rotation ends (finished, or
// rolled back when the secret never reached the sink), and nothing is
// left pending in the custody journal.
func TestRotateKilledAtEachStepThenContinueFinishes(t *testing.T) {
	bin := binary(t)
	cases := []struct {
		op      string
		reached func(emu *emulator.Emulator) bool
		want    rotate.Step
	}{
		{"CreateAccessKey", func(emu *emulator.Emulator) bool { return len(statusOf(emu, "carol")) == 2 }, rotate.StepRolledBack},
		{"CreateSecret", func(emu *emulator.Emulator) bool { _, ok := emu.Secret("us-east-1", "carol/key"); return ok }, rotate.StepFinished},
		// Verification: the new key is refused (propagating) until the kill.
		{"propagation", func(emu *emulator.Emulator) bool { _, ok := emu.Secret("us-east-1", "carol/key"); return ok }, rotate.StepFinished},
		{"UpdateAccessKey", func(emu *emulator.Emulator) bool { return statusOf(emu, "carol")[carolOld] == "Inactive" }, rotate.StepFinished},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			emu, url, ledger := rotationWorld(t)
			if c.op == "propagation" {
				emu.SetPropagationDelay(time.Hour)
			} else {
				emu.SetAnswerDelay(c.op, time.Hour)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--endpoint-url", url, "rotate", "--ledger", ledger, "--user", "carol",
				"--sink", "secretsmanager:carol/key", "--grace", "0", "--delete-after", "0", "--force", "--apply")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for !c.reached(emu) {
				if ctx.Err() != nil {
					t.Fatalf("%s never happened", c.op)
				}
				time.Sleep(5 * time.Millisecond)
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			emu.SetAnswerDelay(c.op, 0)
			emu.SetPropagationDelay(0)
			out, errOut, code := cli(t, "", "--endpoint-url", url, "rotate", "--ledger", ledger, "--continue")
			l, err := rotate.OpenLedger(ledger)
			if err != nil {
				t.Fatal(err)
			}
			recs := l.Records()
			if len(recs) != 1 || recs[0].Step != c.want {
				t.Fatalf("continue exit %d %q %q: ledger %+v", code, out, errOut, recs)
			}
			keys := statusOf(emu, "carol")
			v, _ := emu.Secret("us-east-1", "carol/key")
			switch c.want {
			case rotate.StepFinished:
				if code != 0 || len(keys) != 1 || keys[recs[0].NewKeyID] != "Active" || !strings.Contains(v, recs[0].NewKeyID) {
					t.Fatalf("exit %d, keys %v, secret holds the new key: %v", code, keys, strings.Contains(v, recs[0].NewKeyID))
				}
			case rotate.StepRolledBack:
				if len(keys) != 1 || keys[carolOld] != "Active" {
					t.Fatalf("keys %v", keys)
				}
			}
			dir, _ := custody.DefaultDir()
			if p, err := custody.ListPending(dir); err != nil || len(p) != 0 {
				t.Fatalf("custody journal pending after continue: %+v %v", p, err)
			}
		})
	}
}

// docs/rotation.md's examples run, section by section, against one
// emulated account (the demo seed), and each section leaves what it says.
func TestRotationGuideExamplesRun(t *testing.T) {
	awsCLI := emutest.AWSCLI(t)
	data, err := os.ReadFile("../../docs/rotation.md")
	if err != nil {
		t.Fatal(err)
	}
	const workID = "AKIAWORKKEY000000002"
	emu, url, dir, creds := rotationGuideWorld(t, workID, "workSecretworkSecretworkSecretworkSecre2")

	checks := map[string]func(t *testing.T, outs []string){
		"Rotate your own key": func(t *testing.T, outs []string) {
			k := statusOf(emu, "frank")
			if len(k) != 1 || k[workID] != "" || !strings.Contains(outs[0], "Dry run") {
				t.Fatalf("frank %v", k)
			}
			var who struct{ Arn string }
			if err := json.Unmarshal([]byte(outs[2]), &who); err != nil || who.Arn != "arn:aws:iam::123456789012:user/frank" {
				t.Fatalf("aws CLI: %q %v", outs[2], err)
			}
		},
		"Rotate another user's key": func(t *testing.T, outs []string) {
			k := statusOf(emu, "bob")
			v, _ := emu.Secret("us-east-1", "iam/bob")
			// --finish deactivates and leaves the delete for after the
			// last-used lag; --force deletes now.
			if !strings.Contains(outs[3], " deactivated ") || !strings.Contains(outs[3], "deleting it is possible from ") || !strings.Contains(outs[3], "next step due ") {
				t.Fatalf("finish without --force:\n%s", outs[3])
			}
			if len(k) != 1 || k["AKIABOB0000000000001"] != "" || !strings.Contains(outs[4], " finished ") {
				t.Fatalf("bob %v\n%s", k, outs[4])
			}
			for id := range k {
				if !strings.Contains(v, id) {
					t.Fatalf("Secrets Manager holds %q, not %s", v, id)
				}
			}
		},
		"Rotate every old key of an account": func(t *testing.T, outs []string) {
			if !strings.Contains(outs[0], "alice AKIAALICE00000000001:") || !strings.Contains(outs[0], "ci-deploy AKIACIDEPLOY00000001:") {
				t.Fatalf("plan:\n%s", outs[0])
			}
			// Both were rotated, each into its own secret; the last was
			// rolled back.
			if a := statusOf(emu, "alice"); len(a) != 2 || a["AKIAALICE00000000001"] != "Active" {
				t.Fatalf("alice %v", a)
			}
			if c := statusOf(emu, "ci-deploy"); len(c) != 1 || c["AKIACIDEPLOY00000001"] != "Active" {
				t.Fatalf("ci-deploy %v", c)
			}
			for _, name := range []string{"iam/alice", "iam/ci-deploy"} {
				if _, ok := emu.Secret("us-east-1", name); !ok {
					t.Fatalf("no secret %s", name)
				}
			}
		},
		"From SQL: the shell, exec and serve": func(t *testing.T, outs []string) {
			if !strings.Contains(outs[0], "| plan ") || !strings.Contains(outs[4], "| verified ") {
				t.Fatalf("outputs:\n%s\n%s", outs[0], outs[4])
			}
			// The caller's own key (root: blocked), and MakeRoom refusing
			// carol's active second key.
			if !strings.Contains(outs[1], "| blocked ") || !strings.Contains(outs[1], "this is the root user's key") ||
				!strings.Contains(outs[2], "| blocked ") || !strings.Contains(outs[2], "is active: an active second key is never touched") {
				t.Fatalf("outputs:\n%s\n%s", outs[1], outs[2])
			}
			if k := statusOf(emu, "bob"); len(k) != 1 || !strings.Contains(outs[3], func() string {
				for id := range k {
					return id
				}
				return "?"
			}()) {
				t.Fatalf("bob %v\n%s", k, outs[3])
			}
		},
	}
	sections := strings.Split(string(data), "\n## ")
	ran := 0
	var id string
	for _, sec := range sections[1:] {
		title, body, _ := strings.Cut(sec, "\n")
		_, block, ok := strings.Cut(body, "```sh\n")
		if !ok {
			continue
		}
		block, _, _ = strings.Cut(block, "```")
		var outs []string
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			words := shellWords(t, strings.ReplaceAll(line, "ROTATION_ID", id))
			var out string
			switch words[0] {
			case "iamsql":
				if slices.Contains(words, "--profile") {
					t.Setenv("AWS_ACCESS_KEY_ID", "")
					t.Setenv("AWS_SECRET_ACCESS_KEY", "")
				} else {
					t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
					t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
				}
				stdout, stderr, code := cli(t, "", words[1:]...)
				if code != 0 {
					t.Fatalf("%s: %q: exit %d\n%s\n%s", title, line, code, stdout, stderr)
				}
				out = stdout
				if slices.Contains(words, "--apply") || strings.Contains(line, "NULL, 1,") {
					if ids := rotationID.FindAllString(out, -1); len(ids) > 0 {
						id = ids[len(ids)-1]
					}
				}
			case "aws":
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				// The emulator stands in for AWS: Debian's aws CLI (2.9)
				// predates AWS_ENDPOINT_URL, so it is named here.
				cmd := exec.CommandContext(ctx, awsCLI, append(append([]string{"--endpoint-url", url}, words[1:]...), "--output", "json")...)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"),
					"AWS_ENDPOINT_URL=" + url, "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
				got, err := cmd.Output()
				cancel()
				if err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						got = append(got, ee.Stderr...)
					}
					t.Fatalf("%s: %q: %v %s", title, line, err, got)
				}
				out = string(got)
			default:
				t.Fatalf("%s: %q is neither iamsql nor aws", title, line)
			}
			t.Logf("%s:\n%s", line, out)
			outs = append(outs, out)
		}
		check, ok := checks[title]
		if !ok {
			t.Fatalf("section %q has examples and no check", title)
		}
		check(t, outs)
		ran++
	}
	if ran != len(checks) {
		t.Fatalf("ran %d sections, want %d", ran, len(checks))
	}
}

// ledgerRecords is the ledger file's rotations.
func ledgerRecords(t *testing.T, path string) []rotate.Record {
	t.Helper()
	l, err := rotate.OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	return l.Records()
}

// pendingCustody are the custody journal's pending creates.
func pendingCustody(t *testing.T) []custody.Pending {
	t.Helper()
	dir, err := custody.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	p, err := custody.ListPending(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startRotation starts `iamsql rotate --apply` of carol's key into
// Secrets Manager as a process of its own.
func startRotation(t *testing.T, url, ledger string) (*exec.Cmd, *strings.Builder, *strings.Builder) {
	t.Helper()
	return startBinary(t, "--endpoint-url", url, "rotate", "--ledger", ledger, "--user", "carol",
		"--sink", "secretsmanager:carol/key", "--grace", "0", "--delete-after", "0", "--force", "--apply")
}

// waitExit waits for cmd and returns its exit status and how long it took
// from since.
func waitExit(t *testing.T, cmd *exec.Cmd, since time.Time) (int, time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCodeOf(err), time.Since(since)
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("iamsql rotate still runs 40s after the signal")
	}
	return 0, 0
}

// SIGINT or SIGTERM while a step of `iamsql rotate --apply` is in flight:
// before the new key is verified the rotation is undone (an in-flight
// CreateAccessKey's or sink write's answer is waited for first, so
// nothing is left unknown), after it the rotation stops where the ledger
// says; either way the process exits 1 saying so, no secret is lost, the
// ledger says what IAM holds, and --continue ends the rotation.
func TestRotateInterruptedAtEachStep(t *testing.T) {
	cases := []struct {
		op      string
		reached func(emu *emulator.Emulator) bool
		// want is the step the interrupted run leaves, then the one
		// --continue leaves.
		want, afterContinue rotate.Step
		stderr              string
	}{
		{"CreateAccessKey", func(emu *emulator.Emulator) bool { return len(statusOf(emu, "carol")) == 2 },
			rotate.StepRolledBack, rotate.StepRolledBack, "interrupted while creating the new key; the new key AKIA"},
		{"CreateSecret", func(emu *emulator.Emulator) bool { _, ok := emu.Secret("us-east-1", "carol/key"); return ok },
			rotate.StepRolledBack, rotate.StepRolledBack, "after delivering to secretsmanager:carol/key, before verification; the new key AKIA"},
		{"propagation", func(emu *emulator.Emulator) bool { _, ok := emu.Secret("us-east-1", "carol/key"); return ok },
			rotate.StepRolledBack, rotate.StepRolledBack, "interrupted"},
		{"UpdateAccessKey", func(emu *emulator.Emulator) bool { return statusOf(emu, "carol")[carolOld] == "Inactive" },
			rotate.StepDeactivating, rotate.StepFinished, "interrupted while deactivating the old key " + carolOld},
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, c := range cases {
			t.Run(sig.String()+"/"+c.op, func(t *testing.T) {
				emu, url, ledger := rotationWorld(t)
				if c.op == "propagation" {
					emu.SetPropagationDelay(time.Hour)
				} else {
					// Short enough to arrive within the custody wait.
					emu.SetAnswerDelay(c.op, 2*time.Second)
				}
				if c.op == "UpdateAccessKey" {
					emu.SetAnswerDelay(c.op, time.Hour) // not a custody wait: abandoned at once
				}
				cmd, out, errOut := startRotation(t, url, ledger)
				waitFor(t, c.op, func() bool { return c.reached(emu) })
				sent := time.Now()
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code, took := waitExit(t, cmd, sent)
				if code != 1 || !strings.Contains(errOut.String(), c.stderr) || took > 8*time.Second {
					t.Fatalf("exit %d after %s\nstdout %s\nstderr %s", code, took, out, errOut)
				}
				emu.SetAnswerDelay(c.op, 0)
				emu.SetPropagationDelay(0)
				recs := ledgerRecords(t, ledger)
				if len(recs) != 1 || recs[0].Step != c.want {
					t.Fatalf("ledger %+v", recs)
				}
				keys := statusOf(emu, "carol")
				switch c.want {
				case rotate.StepRolledBack:
					if len(keys) != 1 || keys[carolOld] != "Active" {
						t.Fatalf("keys %v", keys)
					}
				case rotate.StepDeactivating:
					// Both keys exist; the new one is in the sink.
					v, _ := emu.Secret("us-east-1", "carol/key")
					if len(keys) != 2 || keys[recs[0].NewKeyID] != "Active" || !strings.Contains(v, recs[0].NewKeyID) {
						t.Fatalf("keys %v, secret holds the new key: %v", keys, strings.Contains(v, recs[0].NewKeyID))
					}
				}
				if p := pendingCustody(t); len(p) != 0 {
					t.Fatalf("custody journal pending: %+v", p)
				}
				outC, errC, codeC := cli(t, "", "--endpoint-url", url, "rotate", "--ledger", ledger, "--continue")
				recs = ledgerRecords(t, ledger)
				if codeC != 0 || len(recs) != 1 || recs[0].Step != c.afterContinue {
					t.Fatalf("continue exit %d %q %q: ledger %+v", codeC, outC, errC, recs)
				}
				if c.afterContinue == rotate.StepFinished {
					if k := statusOf(emu, "carol"); len(k) != 1 || k[recs[0].NewKeyID] != "Active" {
						t.Fatalf("keys after continue %v", k)
					}
				}
			})
		}
	}
}

// A second signal cuts the custody wait: an answer IAM holds is not waited
// for any longer, nor are the deletes that undo the rotation. What is
// left is named on stderr, kept in the ledger and the custody journal,
// and --continue settles it.
func TestRotateSecondSignalCutsTheCustodyWait(t *testing.T) {
	for _, c := range []struct {
		name    string
		setup   func(emu *emulator.Emulator)
		reached func(emu *emulator.Emulator) bool
		want    rotate.Step
		stderr  string
		pending int
	}{
		{"CreateAccessKey answer held", func(emu *emulator.Emulator) { emu.SetAnswerDelay("CreateAccessKey", time.Hour) },
			func(emu *emulator.Emulator) bool { return len(statusOf(emu, "carol")) == 2 },
			rotate.StepCreating, "did not answer within the custody wait (a second interrupt cut the wait short)", 1},
		{"rollback delete held", func(emu *emulator.Emulator) {
			emu.SetPropagationDelay(time.Hour)
			emu.SetAnswerDelay("DeleteAccessKey", time.Hour)
		}, func(emu *emulator.Emulator) bool { _, ok := emu.Secret("us-east-1", "carol/key"); return ok },
			rotate.StepRollingBack, "still exists: --continue or --rollback finishes the rollback", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			emu, url, ledger := rotationWorld(t)
			c.setup(emu)
			cmd, out, errOut := startRotation(t, url, ledger)
			waitFor(t, "the step", func() bool { return c.reached(emu) })
			if c.want == rotate.StepRollingBack {
				time.Sleep(1500 * time.Millisecond) // into verification's retries
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if c.name == "rollback delete held" {
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("stdout %s\nstderr %s\nledger %+v", out, errOut, ledgerRecords(t, ledger))
					}
				})
				waitFor(t, "the rollback", func() bool {
					l, err := rotate.OpenLedger(ledger)
					if err != nil {
						return false
					}
					recs := l.Records()
					return len(recs) == 1 && recs[0].Step == rotate.StepRollingBack
				})
			}
			time.Sleep(300 * time.Millisecond)
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code, took := waitExit(t, cmd, sent)
			if code != 1 || took > 3*time.Second || !strings.Contains(errOut.String(), c.stderr) {
				t.Fatalf("exit %d after %s\nstdout %s\nstderr %s", code, took, out, errOut)
			}
			recs := ledgerRecords(t, ledger)
			if len(recs) != 1 || recs[0].Step != c.want {
				t.Fatalf("ledger %+v", recs)
			}
			if recs[0].NewKeyID != "" && !strings.Contains(errOut.String(), recs[0].NewKeyID) {
				t.Fatalf("stderr does not name the new key %s: %s", recs[0].NewKeyID, errOut)
			}
			if p := pendingCustody(t); len(p) != c.pending {
				t.Fatalf("custody journal pending %+v, want %d", p, c.pending)
			}
			emu.SetAnswerDelay("CreateAccessKey", 0)
			emu.SetAnswerDelay("DeleteAccessKey", 0)
			emu.SetPropagationDelay(0)
			// --continue rolls it back, and says so (exit 1: the key was
			// not rotated).
			began := time.Now()
			outC, errC, codeC := cli(t, "", "--endpoint-url", url, "rotate", "--ledger", ledger, "--continue")
			t.Logf("--continue took %s", time.Since(began))
			recs = ledgerRecords(t, ledger)
			if (codeC != 0 && !strings.Contains(errC, "was deleted again")) || len(recs) != 1 || recs[0].Step != rotate.StepRolledBack {
				t.Fatalf("continue exit %d %q %q: ledger %+v", codeC, outC, errC, recs)
			}
			if k := statusOf(emu, "carol"); len(k) != 1 || k[carolOld] != "Active" {
				t.Fatalf("keys %v", k)
			}
			if p := pendingCustody(t); len(p) != 0 {
				t.Fatalf("custody journal pending after continue: %+v", p)
			}
		})
	}
}

// One signal and an answer that never comes: the wait for it ends after
// the documented custody bound (about 10 s), then the key IAM made is
// found and deleted again.
func TestRotateCustodyWaitIsBounded(t *testing.T) {
	emu, url, ledger := rotationWorld(t)
	emu.SetAnswerDelay("CreateAccessKey", time.Hour)
	cmd, out, errOut := startRotation(t, url, ledger)
	waitFor(t, "the create", func() bool { return len(statusOf(emu, "carol")) == 2 })
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, took := waitExit(t, cmd, sent)
	if code != 1 || took < rotate.DefaultCustodyWait-time.Second || took > rotate.DefaultCustodyWait+8*time.Second ||
		!strings.Contains(errOut.String(), "did not answer within the custody wait (10s)") || !strings.Contains(errOut.String(), "was deleted again") {
		t.Fatalf("exit %d after %s\nstdout %s\nstderr %s", code, took, out, errOut)
	}
	if recs := ledgerRecords(t, ledger); len(recs) != 1 || recs[0].Step != rotate.StepRolledBack {
		t.Fatalf("ledger %+v", recs)
	}
	if k := statusOf(emu, "carol"); len(k) != 1 || k[carolOld] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if p := pendingCustody(t); len(p) != 0 {
		t.Fatalf("custody journal pending: %+v", p)
	}
}

// rotationGuideWorld is the world the README's and the guide's rotation
// examples run in: the demo account on an emulator the AWS configuration
// points at, the working directory and the ledger in a temporary
// directory, and user frank's key (workID) as profile "work" of a
// credentials file of its own.
func rotationGuideWorld(t *testing.T, workID, workSecret string) (emu *emulator.Emulator, url, dir, creds string) {
	t.Helper()
	awsEnv(t)
	emu, url = emutest.Start(t, emulator.Options{Seed: "demo"})
	dir = t.TempDir()
	t.Chdir(dir)
	t.Setenv("IAMSQL_ROTATION_LEDGER", filepath.Join(dir, "rotations.json"))
	t.Setenv("AWS_ENDPOINT_URL", url)
	if err := emu.AddUser(emulator.User{UserName: "frank"}); err != nil {
		t.Fatal(err)
	}
	if err := emu.AddAccessKey(emulator.AccessKey{AccessKeyID: workID, SecretAccessKey: workSecret, UserName: "frank", Status: "Active"}); err != nil {
		t.Fatal(err)
	}
	creds = filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[work]\naws_access_key_id = "+workID+"\naws_secret_access_key = "+workSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	return emu, url, dir, creds
}
