package rotate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// Credentials is a new key with its secret, on its way to a sink.
type Credentials struct {
	AccessKeyID, SecretAccessKey, UserName string
}

// A Sink is where a new key's secret is delivered, chosen before the
// rotation starts. It is written before the old key is touched.
type Sink interface {
	// Spec names the sink as the ledger records it (never a secret).
	Spec() string
	// Check refuses, before any IAM call, a sink that cannot be written.
	Check(ctx context.Context) error
	// Deliver hands the key over. An error means the sink may not hold it.
	Deliver(ctx context.Context, c Credentials) error
	// Recall reads back the secret the sink holds for keyID, so that a
	// rotation resumed after a crash can verify the new key; ok is false
	// when the sink does not hold that key or cannot be read back.
	Recall(ctx context.Context, keyID string) (secret string, ok bool, err error)
	// Undo takes a rolled-back key out of the sink where it can (the
	// profile gets its old key back, the file is removed, the secret's
	// previous version is made current again).
	Undo(ctx context.Context, keyID string) error
	// Finish is called when the rotation of the new key keyID ends:
	// backups are removed.
	Finish(ctx context.Context, keyID string) error
}

// SinkOptions are what sinks need besides their spec.
type SinkOptions struct {
	// Stdout receives the stdout sink's one printing of the secret.
	Stdout io.Writer
	// CredentialsFile is the shared credentials file of profile sinks
	// (default AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials).
	CredentialsFile string
	// SecretsManager is the client of secretsmanager sinks (in the
	// rotation's region).
	SecretsManager SecretsManagerAPI
	// Remote: the sink is chosen by a client of `iamsql serve`; only the
	// result row and Secrets Manager are allowed (never a file on the
	// server's host).
	Remote bool
}

// SecretsManagerAPI is the part of Secrets Manager the sink calls.
type SecretsManagerAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsManagerAPI = (*secretsmanager.Client)(nil)

// SinkKinds are the sink specs, for usage texts.
const SinkKinds = "stdout, file:PATH (a 0600 CSV like the console's download), profile:NAME (a credentials-file profile), secretsmanager:NAME"

// ParseSink builds the sink a spec names.
func ParseSink(spec string, o SinkOptions) (Sink, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	if o.Remote && kind != "secretsmanager" && kind != "result" {
		return nil, fmt.Errorf("sink %q: over the MySQL protocol a secret goes only to the result row (sink 'result') or to Secrets Manager ('secretsmanager:NAME'), never to a file on the server's host", spec)
	}
	switch {
	case (kind == "stdout" || kind == "result") && arg == "":
		w := o.Stdout
		if w == nil {
			w = io.Discard
		}
		return &stdoutSink{spec: kind, w: w}, nil
	case kind == "file" && arg != "":
		p, err := filepath.Abs(arg)
		if err != nil {
			return nil, err
		}
		return &fileSink{path: p}, nil
	case kind == "profile" && arg != "":
		if strings.ContainsAny(arg, "[]\n\r") {
			return nil, fmt.Errorf("sink %q: invalid profile name", spec)
		}
		path := o.CredentialsFile
		// The ledger's form names the file: profile:NAME@/abs/path.
		if i := strings.LastIndex(arg, "@/"); i > 0 {
			arg, path = arg[:i], arg[i+1:]
		}
		if path == "" {
			path = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
		}
		if path == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("sink %q: %w", spec, err)
			}
			path = filepath.Join(home, ".aws", "credentials")
		}
		return &profileSink{profile: arg, path: path}, nil
	case kind == "secretsmanager" && arg != "":
		if o.SecretsManager == nil {
			return nil, fmt.Errorf("sink %q: no Secrets Manager client", spec)
		}
		return &secretsSink{name: arg, sm: o.SecretsManager}, nil
	}
	return nil, fmt.Errorf("unknown sink %q: want %s", spec, SinkKinds)
}

// Receipt is what became of a result row carrying a new key.
type Receipt int

const (
	// Received: the row was sent and flushed without error.
	Received Receipt = iota
	// Withdrawn: it was not, and the new key was deleted again.
	Withdrawn
	// Orphaned: it was not, and the new key could not be deleted.
	Orphaned
)

// ResultSink hands the new key to the caller of a procedure as its
// result row (CALL rotate_access_key over SQL). Whether the row reached
// the caller is known only after the call returns: Apply verifies the
// key first, calls Hand, and leaves the rotation at step delivering until
// Hand's receipt is called (exactly once) — the custody rule of
// created_access_keys decides it. A ledger that still says delivering
// after a crash means nobody is known to hold the secret: Continue
// deletes the new key.
type ResultSink struct {
	Hand func(c Credentials, receipt func(Receipt)) error
}

func (s *ResultSink) Spec() string                { return "result" }
func (s *ResultSink) Check(context.Context) error { return nil }
func (s *ResultSink) Deliver(context.Context, Credentials) error {
	return errors.New("the result sink is handed over by Apply")
}
func (s *ResultSink) Recall(context.Context, string) (string, bool, error) { return "", false, nil }
func (s *ResultSink) Undo(context.Context, string) error                   { return nil }
func (s *ResultSink) Finish(context.Context, string) error                 { return nil }

// stdoutSink prints the key once (or, as "result", hands it to the
// caller's result row through w).
type stdoutSink struct {
	spec string
	w    io.Writer
}

func (s *stdoutSink) Spec() string                { return s.spec }
func (s *stdoutSink) Check(context.Context) error { return nil }
func (s *stdoutSink) Deliver(_ context.Context, c Credentials) error {
	_, err := fmt.Fprintf(s.w, "New access key for %s (shown once; store it now):\n  AccessKeyId:     %s\n  SecretAccessKey: %s\n", c.UserName, c.AccessKeyID, c.SecretAccessKey)
	return err
}
func (s *stdoutSink) Recall(context.Context, string) (string, bool, error) { return "", false, nil }
func (s *stdoutSink) Undo(context.Context, string) error                   { return nil }
func (s *stdoutSink) Finish(context.Context, string) error                 { return nil }

// fileSink writes the console's CSV form to a new 0600 file.
type fileSink struct{ path string }

const csvHeader = "Access key ID,Secret access key"

func (s *fileSink) Spec() string { return "file:" + s.path }

func (s *fileSink) Check(context.Context) error {
	if _, err := os.Lstat(s.path); err == nil {
		return fmt.Errorf("sink %s: the file exists; name a new file", s.Spec())
	}
	if st, err := os.Stat(filepath.Dir(s.path)); err != nil || !st.IsDir() {
		return fmt.Errorf("sink %s: no such directory %s", s.Spec(), filepath.Dir(s.path))
	}
	return nil
}

func (s *fileSink) Deliver(_ context.Context, c Credentials) error {
	data := csvHeader + "\n" + c.AccessKeyID + "," + c.SecretAccessKey + "\n"
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	_, err = f.WriteString(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(s.path)
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	return nil
}

func (s *fileSink) Recall(_ context.Context, keyID string) (string, bool, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return "", false, nil // torn: not delivered
	}
	for _, r := range rows {
		if len(r) == 2 && r[0] == keyID {
			return r[1], true, nil
		}
	}
	return "", false, nil
}

func (s *fileSink) Undo(ctx context.Context, keyID string) error {
	if _, ok, _ := s.Recall(ctx, keyID); !ok {
		return nil
	}
	return os.Remove(s.path)
}

func (s *fileSink) Finish(context.Context, string) error { return nil }

// profileSink writes aws_access_key_id and aws_secret_access_key of one
// profile of the shared credentials file: atomically, 0600, the previous
// file kept as a 0600 backup until the rotation ends.
type profileSink struct{ profile, path string }

func (s *profileSink) Spec() string { return "profile:" + s.profile + "@" + s.path }

// backup is the file as it was before the new key keyID was written.
func (s *profileSink) backup(keyID string) string {
	return s.path + ".iamsql-before-" + keyID + ".bak"
}

func (s *profileSink) Check(context.Context) error {
	if st, err := os.Stat(filepath.Dir(s.path)); err != nil || !st.IsDir() {
		return fmt.Errorf("sink %s: no such directory %s", s.Spec(), filepath.Dir(s.path))
	}
	if _, err := os.ReadFile(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	return nil
}

func (s *profileSink) Deliver(_ context.Context, c Credentials) error {
	old, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	if len(old) > 0 {
		if err := writeFileAtomic(s.backup(c.AccessKeyID), old); err != nil {
			return fmt.Errorf("sink %s: backup: %w", s.Spec(), err)
		}
	}
	updated := setProfile(old, s.profile, map[string]string{
		"aws_access_key_id": c.AccessKeyID, "aws_secret_access_key": c.SecretAccessKey, "aws_session_token": "",
	})
	if err := writeFileAtomic(s.path, updated); err != nil {
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	return nil
}

func (s *profileSink) Recall(_ context.Context, keyID string) (string, bool, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if id, _ := profileValue(data, s.profile, "aws_access_key_id"); id != keyID {
		return "", false, nil
	}
	secret, _ := profileValue(data, s.profile, "aws_secret_access_key")
	return secret, secret != "", nil
}

// Undo puts the backup's key back into the profile (only the profile's
// key lines: other changes made meanwhile stay).
func (s *profileSink) Undo(_ context.Context, keyID string) error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil
	}
	if id, _ := profileValue(data, s.profile, "aws_access_key_id"); id != keyID {
		return nil
	}
	vals := map[string]string{"aws_access_key_id": "", "aws_secret_access_key": "", "aws_session_token": ""}
	old, err := os.ReadFile(s.backup(keyID))
	if err == nil {
		for k := range vals {
			vals[k], _ = profileValue(old, s.profile, k)
		}
	}
	// Without a backup the profile did not exist before: its key lines go.
	if err := writeFileAtomic(s.path, setProfile(data, s.profile, vals)); err != nil {
		return fmt.Errorf("sink %s: restoring the old key: %w", s.Spec(), err)
	}
	return s.Finish(context.Background(), keyID)
}

func (s *profileSink) Finish(_ context.Context, keyID string) error {
	err := os.Remove(s.backup(keyID))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// profileValue is a key's value in a profile of an INI credentials file.
func profileValue(data []byte, profile, key string) (string, bool) {
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, ok := sectionName(line); ok {
			in = name == profile
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func sectionName(line string) (string, bool) {
	if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
		return "", false
	}
	return strings.TrimSpace(line[1 : len(line)-1]), true
}

// setProfile sets keys of a profile (an empty value removes the key),
// keeping every other line as it was; a missing profile is appended.
func setProfile(data []byte, profile string, vals map[string]string) []byte {
	var out bytes.Buffer
	done := map[string]bool{}
	in, seen := false, false
	flush := func() {
		for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
			if v, ok := vals[k]; ok && v != "" && !done[k] {
				fmt.Fprintf(&out, "%s = %s\n", k, v)
				done[k] = true
			}
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	for _, raw := range lines {
		if raw == "" {
			continue
		}
		line := strings.TrimSpace(raw)
		if name, ok := sectionName(line); ok {
			if in {
				flush()
			}
			in = name == profile
			seen = seen || in
			out.WriteString(raw)
			if !strings.HasSuffix(raw, "\n") {
				out.WriteString("\n")
			}
			continue
		}
		if in {
			k, _, ok := strings.Cut(line, "=")
			if v, set := vals[strings.TrimSpace(k)]; ok && set {
				if v != "" && !done[strings.TrimSpace(k)] {
					fmt.Fprintf(&out, "%s = %s\n", strings.TrimSpace(k), v)
				}
				done[strings.TrimSpace(k)] = true
				continue
			}
		}
		out.WriteString(raw)
		if !strings.HasSuffix(raw, "\n") {
			out.WriteString("\n")
		}
	}
	if in {
		flush()
	}
	if !seen {
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "[%s]\n", profile)
		flush()
	}
	return out.Bytes()
}

// secretsSink stores {"AccessKeyId","SecretAccessKey"} as a Secrets
// Manager secret's current version: PutSecretValue, or CreateSecret when
// the secret does not exist yet. The version id is derived from the new
// key id, so a retried call stores one version.
type secretsSink struct {
	name string
	sm   SecretsManagerAPI
}

type secretJSON struct {
	AccessKeyId     string //nolint:revive // the field name AWS's own rotation uses
	SecretAccessKey string
}

func (s *secretsSink) Spec() string                { return "secretsmanager:" + s.name }
func (s *secretsSink) Check(context.Context) error { return nil }

func (s *secretsSink) Deliver(ctx context.Context, c Credentials) error {
	return s.put(ctx, c, "iamsql-rotation-"+c.AccessKeyID)
}

func (s *secretsSink) put(ctx context.Context, c Credentials, tok string) error {
	b, _ := json.Marshal(secretJSON{AccessKeyId: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey})
	_, err := s.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.name), SecretString: aws.String(string(b)), ClientRequestToken: aws.String(tok)})
	if errorCode(err) == "ResourceNotFoundException" {
		_, err = s.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.name), SecretString: aws.String(string(b)), ClientRequestToken: aws.String(tok)})
	}
	if err != nil {
		return fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	return nil
}

func (s *secretsSink) read(ctx context.Context, stage string) (secretJSON, bool, error) {
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.name), VersionStage: aws.String(stage)})
	if errorCode(err) == "ResourceNotFoundException" {
		return secretJSON{}, false, nil
	}
	if err != nil {
		return secretJSON{}, false, fmt.Errorf("sink %s: %w", s.Spec(), err)
	}
	var v secretJSON
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v) != nil {
		return secretJSON{}, false, nil
	}
	return v, true, nil
}

func (s *secretsSink) Recall(ctx context.Context, keyID string) (string, bool, error) {
	v, ok, err := s.read(ctx, "AWSCURRENT")
	if err != nil || !ok || v.AccessKeyId != keyID {
		return "", false, err
	}
	return v.SecretAccessKey, v.SecretAccessKey != "", nil
}

// Undo makes the previous version current again when the current one
// holds the rolled-back key.
func (s *secretsSink) Undo(ctx context.Context, keyID string) error {
	cur, ok, err := s.read(ctx, "AWSCURRENT")
	if err != nil || !ok || cur.AccessKeyId != keyID {
		return err
	}
	prev, ok, err := s.read(ctx, "AWSPREVIOUS")
	if err != nil || !ok {
		return err
	}
	// A version id of its own: the previous version's id would be an
	// idempotent repeat that stages nothing.
	return s.put(ctx, Credentials{AccessKeyID: prev.AccessKeyId, SecretAccessKey: prev.SecretAccessKey}, "iamsql-restore-"+keyID)
}

func (s *secretsSink) Finish(context.Context, string) error { return nil }

// errorCode is an AWS error's code ("" for nil or a non-API error).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
