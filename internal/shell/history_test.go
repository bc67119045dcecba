package shell

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSensitive(t *testing.T) {
	tests := []struct {
		entry string
		want  bool
	}{
		{"SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';", false},
		{"INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');", false},
		{"CALL create_access_key('us-east-1', 'dave');", false},
		{"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';", false},
		{"SELECT u.UserName, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1';", false},
		{`\o csv`, false},
		{"SET @key = 'AKIABOB0000000000001';", false},
		{"SET PASSWORD = 'hunter2';", true},
		{"set password for bob = 'x';", true},
		{"CREATE USER bob IDENTIFIED BY 'x';", true},
		{"ALTER USER bob identified with caching_sha2_password BY 'x';", true},
		{"SELECT SecretAccessKey FROM created_access_keys;", true},
		{"SELECT 'my secret';", true},
		{"SET @pass = 'hunter2';", true},
		{"SELECT 1; SET @api_token = 'x';", true},
		{"SELECT 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';", true},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true},
		{"SELECT 'M2Kp4p18fXHuRzw0VDNhuDy9YsUaYG54lykGR2cm' AS x;", true},
		{"SELECT 'M2Kp4p18fXHuRzw0VDNhuDy9YsUaYG54lykGR2c' AS x;", false}, // 39 characters
		{"SELECT '" + strings.Repeat("a+", 30) + "';", true},
		// Split across lines (the shell judges the whole statement).
		{"SELECT 'wJalrXUtnFEMI/K7MDENG\n  /bPxRfiCYEXAMPLEKEY';", true},
		{"SELECT AccessKeyId, CreateDate, Status, UserName\nFROM access_keys\nWHERE region = 'us-east-1';", false},
	}
	for _, tt := range tests {
		if got := Sensitive(tt.entry); got != tt.want {
			t.Errorf("Sensitive(%q) = %v, want %v", tt.entry, got, tt.want)
		}
	}
}

func TestHistoryPathFollowsXDG(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/iamsql/history"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/iamsql/history"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/state/iamsql/history"},
	}
	for _, tt := range tests {
		got, err := HistoryPath(env(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("HistoryPath(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
	if _, err := HistoryPath(env(nil)); err == nil {
		t.Errorf("HistoryPath without HOME: no error")
	}
}

func TestHistoryFileIsPrivateAndDropsSecretsOnLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	old := "SELECT 1;\nSELECT 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';\nSELECT 2;\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	got, err := h.Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"SELECT 1;", "SELECT 2;"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(path); string(b) != "SELECT 1;\nSELECT 2;\n" {
		t.Errorf("file after Load %q: the secret was not removed", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after rewrite %v, want 0600", st.Mode().Perm())
	}
	if saved, err := h.Add("SELECT '" + strings.Repeat("Ab1/", 10) + "';"); saved || err != nil {
		t.Errorf("Add(secret-like) = %v, %v", saved, err)
	}
	if saved, err := h.Add("SELECT 3\nFROM dual;"); !saved || err != nil {
		t.Errorf("Add = %v, %v", saved, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "SELECT 1;\nSELECT 2;\nSELECT 3 FROM dual;\n" {
		t.Errorf("file %q", b)
	}
}

func TestHistoryIsTrimmedToItsLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	var b strings.Builder
	for i := range 2*HistoryLimit + 5 {
		fmt.Fprintf(&b, "SELECT %d;\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != HistoryLimit || got[len(got)-1] != fmt.Sprintf("SELECT %d;", 2*HistoryLimit+4) {
		t.Errorf("Load kept %d entries ending %q", len(got), got[len(got)-1])
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != HistoryLimit {
		t.Errorf("file has %d lines after trimming, want %d", n, HistoryLimit)
	}
}

// A statement that carries a secret the session created, in pieces or
// over several lines, stays out of the history.
func TestStatementsCarryingASessionSecretStayOutOfHistory(t *testing.T) {
	r := newRig(t, typed())
	res, err := r.cfg.Engine.Query(context.Background(), r.cfg.Session, "CALL create_access_key('us-east-1', 'dave')")
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	secret := r.cfg.Session.Created(0)[0].SecretAccessKey
	piece1, piece2 := secret[:14], secret[14:28]
	r.in = typed("SELECT CONCAT('"+piece1+"',", "'"+piece2+"');", "SELECT 'ok';")
	r.cfg.In = r.in
	r.mustRun()
	for _, e := range r.in.history {
		if strings.Contains(e, piece1) || strings.Contains(e, piece2) {
			t.Errorf("history holds a piece of the secret: %q", e)
		}
	}
	if len(r.in.history) != 1 || !strings.Contains(r.in.history[0], "'ok'") {
		t.Errorf("history %q, want only the harmless statement", r.in.history)
	}
}
