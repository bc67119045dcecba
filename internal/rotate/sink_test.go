package rotate

import (
	"strings"
	"testing"
)

// Over the MySQL protocol a secret goes only to the result row or Secrets
// Manager, never to a file on the server's host.
func TestRemoteSinksAreTheResultRowAndSecretsManagerOnly(t *testing.T) {
	w := newWorld(t)
	o := w.options().Sinks
	o.Remote = true
	for _, spec := range []string{"stdout", "file:/tmp/k.csv", "profile:work"} {
		_, err := ParseSink(spec, o)
		if err == nil || !strings.Contains(err.Error(), "never to a file on the server's host") {
			t.Fatalf("%s: %v", spec, err)
		}
	}
	for spec, want := range map[string]string{"result": "result", "secretsmanager:app/key": "secretsmanager:app/key"} {
		s, err := ParseSink(spec, o)
		if err != nil || s.Spec() != want {
			t.Fatalf("%s: %v %v", spec, s, err)
		}
	}
	for _, spec := range []string{"", "file:", "profile:", "secretsmanager:", "stdout:x", "ftp:host", "profile:a]b"} {
		if _, err := ParseSink(spec, w.options().Sinks); err == nil {
			t.Fatalf("sink %q accepted", spec)
		}
	}
}

// The profile a sink writes keeps every other line; a missing profile is
// added; the session token of a profile with temporary credentials goes.
func TestSetProfileKeepsTheRestOfTheFile(t *testing.T) {
	in := "# mine\n[default]\nregion = eu-west-1\n\n[work]\naws_access_key_id = OLD\naws_session_token = TOKEN\naws_secret_access_key = OLDSECRET\noutput = json\n[other]\nx = 1\n"
	vals := map[string]string{"aws_access_key_id": "NEW", "aws_secret_access_key": "NEWSECRET", "aws_session_token": ""}
	want := "# mine\n[default]\nregion = eu-west-1\n\n[work]\naws_access_key_id = NEW\naws_secret_access_key = NEWSECRET\noutput = json\n[other]\nx = 1\n"
	if got := string(setProfile([]byte(in), "work", vals)); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	want = in + "\n[new]\naws_access_key_id = NEW\naws_secret_access_key = NEWSECRET\n"
	if got := string(setProfile([]byte(in), "new", vals)); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
