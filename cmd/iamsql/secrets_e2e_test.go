package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// secretPattern matches a secret access key as IAM (and the emulator)
// issues them: 40 characters of [A-Za-z0-9/+].
var secretPattern = regexp.MustCompile(`[A-Za-z0-9/+]{40}`)

// secretRun is one way of creating a key, run as the real binary with
// debug logging and an audit log, HOME and state pointing into a
// directory of its own.
type secretRun struct {
	name  string
	args  []string
	stdin string
}

// TestSecretsReachOnlyTheCreatorsOutput creates keys through every
// command-line path and then searches every byte iamsql wrote — stderr
// with debug logs, the audit log, and every file under its HOME and state
// directories — for the secrets printed on stdout.
func TestSecretsReachOnlyTheCreatorsOutput(t *testing.T) {
	bin := binary(t)
	runs := []secretRun{
		{"CALL in exec", []string{"exec", "CALL create_access_key('us-east-1', 'dave')"}, ""},
		{"INSERT in exec", []string{"exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('bob', 'us-east-1')"}, ""},
		{"StackQL INSERT in exec, json", []string{"-o", "json", "exec", "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1'"}, ""},
		{"INSERT in a stdin script", nil, "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\nSELECT * FROM created_access_keys;\n"},
		{"failed multi-row INSERT", []string{"exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('alice', 'us-east-1')"}, ""},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			home := filepath.Join(dir, "home")
			state := filepath.Join(dir, "state")
			audit := filepath.Join(dir, "audit.jsonl")
			for _, d := range []string{home, state} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--sandbox", "--debug", "--audit-log", audit}, r.args...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+state, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
			cmd.Stdin = strings.NewReader(r.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run() // the failed INSERT exits 1; its secret must not be anywhere either

			secrets := secretsIn(stdout.String())
			if r.name != "failed multi-row INSERT" && len(secrets) == 0 {
				t.Fatalf("no secret on stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			}
			if r.name == "failed multi-row INSERT" {
				// The created key was deleted again; nothing to show.
				if len(secrets) != 0 || !strings.Contains(stderr.String(), "LimitExceeded") {
					t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
				}
				return
			}
			if !strings.Contains(stderr.String(), "level=DEBUG") {
				t.Errorf("debug logging was not on: %q", stderr.String())
			}
			for _, s := range secrets {
				if strings.Contains(stderr.String(), s) {
					t.Errorf("secret on stderr")
				}
			}
			auditBytes, err := os.ReadFile(audit)
			if err != nil || !bytes.Contains(auditBytes, []byte(`"operation":"CreateAccessKey"`)) {
				t.Errorf("audit log: %v %q", err, auditBytes)
			}
			// Every file iamsql wrote on its own.
			err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				for _, s := range secrets {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("secret found in %s", path)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// secretsIn finds secrets in a creator's output, ignoring the sandbox's
// well-known root secret and anything that is not in a SecretAccessKey
// position (key ids are 20 characters, so they never match).
func secretsIn(out string) []string {
	var found []string
	for _, s := range secretPattern.FindAllString(out, -1) {
		if s != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
			found = append(found, s)
		}
	}
	return found
}
