package custody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var testMeta = Meta{
	Endpoint: "http://127.0.0.1:4566",
	Account:  "123456789012",
	Profile:  "dev",
	Command:  []string{"iamsql", "--profile", "dev", "exec", "INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1')"},
}

func open(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Open(dir, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func intent(t *testing.T, j *Journal, user string) *Entry {
	t.Helper()
	e, err := j.Intent(Creation{UserName: user, Region: "us-east-1", Statement: "INSERT INTO access_keys (UserName, region) VALUES ('" + user + "', 'us-east-1')"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// names lists the files in dir (nil when dir does not exist).
func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(t, err)
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// records reads a journal file's lines as JSON objects, failing on a line
// that is not one.
func records(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a whole line: %q", path, data)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// die leaves j as a killed process would: its file unlocked and kept,
// whatever it holds.
func die(j *Journal) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	j.closed = true
}

func listPending(t *testing.T, dir string) []Pending {
	t.Helper()
	ps, err := ListPending(dir)
	must(t, err)
	return ps
}

func TestOpenLeavesNoFileUntilTheFirstIntent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "iamsql", "custody")
	j := open(t, dir)
	if j.Path() != "" {
		t.Fatalf("path %q before any intent", j.Path())
	}
	must(t, j.Close())
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a journal without intents created %s (%v)", dir, err)
	}
}

func TestAJournalWhoseEntriesAllClearLeavesNoFile(t *testing.T) {
	for _, o := range []Outcome{Delivered, RolledBack, Failed} {
		t.Run(string(o), func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir)
			e := intent(t, j, "alice")
			if o != Failed {
				must(t, e.Created("AKIAALICE00000000001"))
			}
			must(t, e.Resolve(o))
			if len(names(t, dir)) != 1 {
				t.Fatalf("files before Close: %v", names(t, dir))
			}
			must(t, j.Close())
			if n := names(t, dir); len(n) != 0 {
				t.Fatalf("files after Close: %v", n)
			}
		})
	}
}

func TestJournalFileAndDirectoryArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "custody")
	must(t, os.Mkdir(dir, 0o755)) // made by someone else, too open
	j := open(t, dir)
	intent(t, j, "alice")
	fi, err := os.Stat(dir)
	must(t, err)
	if p := fi.Mode().Perm(); p != 0o700 {
		t.Errorf("directory mode %o, want 700", p)
	}
	fi, err = os.Stat(j.Path())
	must(t, err)
	if p := fi.Mode().Perm(); p != 0o600 {
		t.Errorf("file mode %o, want 600", p)
	}
	// A directory the journal creates is private from the start, parents
	// included.
	fresh := filepath.Join(parent, "xdg", "iamsql", "custody")
	intent(t, open(t, fresh), "bob")
	for _, d := range []string{fresh, filepath.Dir(fresh)} {
		fi, err := os.Stat(d)
		must(t, err)
		if p := fi.Mode().Perm(); p&0o077 != 0 {
			t.Errorf("%s mode %o", d, p)
		}
	}
}

func TestEveryTransitionIsAnAppendedRecord(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	e := intent(t, j, "alice")
	path := j.Path()
	if filepath.Dir(path) != dir || !strings.HasPrefix(filepath.Base(path), fmt.Sprint(os.Getpid())+"-") || !strings.HasSuffix(path, ".journal") {
		t.Fatalf("path %s", path)
	}
	rs := records(t, path)
	if len(rs) != 2 || rs[0]["type"] != "process" || rs[1]["type"] != "intent" {
		t.Fatalf("records %v", rs)
	}
	head := rs[0]
	if head["pid"] != float64(os.Getpid()) || head["v"] != float64(1) || head["profile"] != "dev" || head["account"] != "123456789012" ||
		head["endpoint"] != "http://127.0.0.1:4566" || head["started"] == nil || len(head["command"].([]any)) != 5 {
		t.Errorf("process record %v", head)
	}
	in := rs[1]
	if in["id"] != float64(1) || in["user"] != "alice" || in["region"] != "us-east-1" || !strings.HasPrefix(in["statement"].(string), "INSERT INTO") ||
		in["endpoint"] != "http://127.0.0.1:4566" || in["account"] != "123456789012" || in["profile"] != "dev" || in["time"] == nil {
		t.Errorf("intent record %v", in)
	}
	must(t, e.Created("AKIAALICE00000000001"))
	rs = records(t, path)
	if c := rs[2]; len(rs) != 3 || c["type"] != "created" || c["id"] != float64(1) || c["access_key_id"] != "AKIAALICE00000000001" || c["user"] != "alice" || c["region"] != "us-east-1" {
		t.Errorf("created record %v", rs)
	}
	must(t, e.Resolve(Delivered))
	rs = records(t, path)
	if r := rs[3]; len(rs) != 4 || r["type"] != "resolved" || r["id"] != float64(1) || r["outcome"] != "delivered" || r["access_key_id"] != "AKIAALICE00000000001" {
		t.Errorf("resolved record %v", rs)
	}
	// The second entry gets the next number in the same file.
	e2 := intent(t, j, "")
	must(t, e2.Resolve(Failed))
	rs = records(t, path)
	if len(rs) != 6 || rs[4]["id"] != float64(2) || rs[4]["user"] != nil || rs[5]["outcome"] != "failed" {
		t.Errorf("second entry %v", rs[4:])
	}
}

func TestACreationMayNameItsOwnAccountProfileAndEndpoint(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	_, err := j.Intent(Creation{UserName: "alice", Region: "eu-west-1", Account: "210987654321", Profile: "member", Endpoint: "https://iam.amazonaws.com"})
	must(t, err)
	intent(t, j, "bob")
	die(j)
	ps := listPending(t, dir)
	if len(ps) != 2 {
		t.Fatalf("pending %+v", ps)
	}
	if p := ps[0]; p.Account != "210987654321" || p.Profile != "member" || p.Endpoint != "https://iam.amazonaws.com" || p.Region != "eu-west-1" {
		t.Errorf("own target %+v", p)
	}
	if p := ps[1]; p.Account != "123456789012" || p.Profile != "dev" || p.Endpoint != "http://127.0.0.1:4566" {
		t.Errorf("the journal's defaults %+v", p)
	}
}

func TestTransitionsThatContradictTheRecordAreRefused(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	if _, err := j.Intent(Creation{UserName: "alice"}); err == nil {
		t.Error("an intent without a region was accepted")
	}
	created := func(e *Entry) { must(t, e.Created("AKIAALICE00000000001")) }
	for _, tc := range []struct {
		name  string
		setup func(e *Entry)
		do    func(e *Entry) error
	}{
		{"delivered without a key id", nil, func(e *Entry) error { return e.Resolve(Delivered) }},
		{"rolled back without a key id", nil, func(e *Entry) error { return e.Resolve(RolledBack) }},
		{"failed after the key was created", created, func(e *Entry) error { return e.Resolve(Failed) }},
		{"a second key id", created, func(e *Entry) error { return e.Created("AKIAALICE00000000002") }},
		{"a key id that is not one", nil, func(e *Entry) error { return e.Created("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") }},
		{"an empty key id", nil, func(e *Entry) error { return e.Created("") }},
		{"an unknown outcome", nil, func(e *Entry) error { return e.Resolve("lost") }},
		{"Dismissed, which only Clear records", nil, func(e *Entry) error { return e.Resolve(Dismissed) }},
		{"anything after delivery", func(e *Entry) { created(e); must(t, e.Resolve(Delivered)) }, func(e *Entry) error { return e.Resolve(RolledBack) }},
		{"a key id after failure", func(e *Entry) { must(t, e.Resolve(Failed)) }, func(e *Entry) error { return e.Created("AKIAALICE00000000001") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := intent(t, j, "alice")
			if tc.setup != nil {
				tc.setup(e)
			}
			before := len(records(t, j.Path()))
			if err := tc.do(e); err == nil {
				t.Fatal("accepted")
			}
			if after := records(t, j.Path()); len(after) != before {
				t.Fatalf("a refused transition was recorded: %v", after[before:])
			}
		})
	}
	t.Run("the same key id twice is one record", func(t *testing.T) {
		e := intent(t, j, "alice")
		must(t, e.Created("AKIAALICE00000000009"))
		n := len(records(t, j.Path()))
		must(t, e.Created("AKIAALICE00000000009"))
		if len(records(t, j.Path())) != n {
			t.Fatal("recorded again")
		}
	})
	t.Run("nothing after Close", func(t *testing.T) {
		e := intent(t, j, "alice")
		must(t, j.Close())
		if _, err := j.Intent(Creation{Region: "us-east-1"}); !errors.Is(err, ErrClosed) {
			t.Errorf("Intent after Close: %v", err)
		}
		if err := e.Created("AKIAALICE00000000003"); !errors.Is(err, ErrClosed) {
			t.Errorf("Created after Close: %v", err)
		}
		if err := e.Resolve(Orphaned); !errors.Is(err, ErrClosed) {
			t.Errorf("Resolve after Close: %v", err)
		}
	})
}

func TestUnresolvedEntriesAreKeptByCloseAndListed(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	created := intent(t, j, "alice")
	must(t, created.Created("AKIAALICE00000000001"))
	intent(t, j, "bob") // no answer recorded
	done := intent(t, j, "carol")
	must(t, done.Created("AKIACAROL00000000001"))
	must(t, done.Resolve(RolledBack))
	path := j.Path()
	must(t, j.Close())
	if n := names(t, dir); len(n) != 1 || filepath.Join(dir, n[0]) != path {
		t.Fatalf("files %v", n)
	}
	ps := listPending(t, dir)
	if len(ps) != 2 {
		t.Fatalf("pending %+v", ps)
	}
	a, b := ps[0], ps[1]
	if a.KeyID != "AKIAALICE00000000001" || a.UserName != "alice" || a.Orphaned || a.Created.IsZero() || a.File != path || a.Entry != 1 {
		t.Errorf("alice %+v", a)
	}
	if b.KeyID != "" || b.UserName != "bob" || b.Entry != 2 || !b.Created.IsZero() {
		t.Errorf("bob %+v", b)
	}
	for _, p := range ps {
		if p.PID != os.Getpid() || p.Region != "us-east-1" || p.Profile != "dev" || p.Account != "123456789012" || p.Time.IsZero() || p.Started.IsZero() || len(p.Command) != 5 {
			t.Errorf("context %+v", p)
		}
	}
	if !strings.HasPrefix(b.Describe(), "outcome unknown: a key may exist for user bob") {
		t.Errorf("describe %q", b.Describe())
	}
}

func TestOrphanedEntriesStayPendingFlaggedAndCanStillBeResolved(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	kept := intent(t, j, "alice")
	must(t, kept.Created("AKIAALICE00000000001"))
	must(t, kept.Resolve(Orphaned))
	unknown := intent(t, j, "bob")
	must(t, unknown.Resolve(Orphaned)) // the answer never came
	later := intent(t, j, "carol")
	must(t, later.Created("AKIACAROL00000000001"))
	must(t, later.Resolve(Orphaned))
	must(t, later.Resolve(RolledBack)) // a later delete worked
	must(t, j.Close())
	ps := listPending(t, dir)
	if len(ps) != 2 || ps[0].KeyID != "AKIAALICE00000000001" || !ps[0].Orphaned || ps[1].KeyID != "" || !ps[1].Orphaned {
		t.Fatalf("pending %+v", ps)
	}
	if d := ps[0].Describe(); !strings.HasPrefix(d, "orphaned: access key AKIAALICE00000000001 of user alice") {
		t.Errorf("describe %q", d)
	}
}

func TestANilJournalJournalsNothing(t *testing.T) {
	var j *Journal
	e, err := j.Intent(Creation{UserName: "alice", Region: "us-east-1"})
	if e != nil || err != nil {
		t.Fatalf("got %v, %v", e, err)
	}
	if e.Created("AKIAALICE00000000001") != nil || e.Resolve(Delivered) != nil || j.Close() != nil || j.Path() != "" {
		t.Fatal("a nil journal or entry did something")
	}
}

// secretLike is what an AWS secret access key looks like: 40 characters
// of base64.
var secretLike = regexp.MustCompile(`[A-Za-z0-9/+]{40}`)

func TestTheJournalNeverHoldsASecret(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	// The secrets IAM answered with: the journal's API has no way to take
	// them, so they cannot appear; the scan also catches anything shaped
	// like one.
	secrets := []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}
	for i, user := range []string{"alice", "bob"} {
		e := intent(t, j, user)
		must(t, e.Created(fmt.Sprintf("AKIA%s0000000000%d", strings.ToUpper(user)[:3], i)))
		if err := e.Created(secrets[i]); err == nil {
			t.Fatal("a secret was taken for a key id")
		}
		must(t, e.Resolve(Orphaned))
	}
	must(t, j.Close())
	for _, p := range listPending(t, dir) {
		must(t, Clear(p, Dismissed))
	}
	// Cleared files are removed; read one kept back before that.
	j2 := open(t, dir)
	e := intent(t, j2, "carol")
	must(t, e.Created("AKIACAROL00000000001"))
	die(j2)
	files := names(t, dir)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	data, err := os.ReadFile(filepath.Join(dir, files[0]))
	must(t, err)
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Fatalf("the journal holds a secret:\n%s", data)
		}
	}
	if m := secretLike.Find(data); m != nil {
		t.Fatalf("the journal holds %q, shaped like a secret:\n%s", m, data)
	}
}

func TestALiveJournalIsNotListed(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	e := intent(t, j, "alice")
	must(t, e.Created("AKIAALICE00000000001"))
	if ps := listPending(t, dir); len(ps) != 0 {
		t.Fatalf("a live journal's entries were listed: %+v", ps)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Fatalf("listing touched a live journal: %v", n)
	}
	// Its entries can still be resolved after someone listed.
	must(t, e.Resolve(Delivered))
	must(t, j.Close())
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files %v", n)
	}
}

func TestClearMarksAnEntryHandledAndRemovesTheFileWhenNothingIsLeft(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	a := intent(t, j, "alice")
	must(t, a.Created("AKIAALICE00000000001"))
	intent(t, j, "bob")
	path := j.Path()
	die(j)
	ps := listPending(t, dir)
	if len(ps) != 2 {
		t.Fatalf("pending %+v", ps)
	}
	must(t, Clear(ps[0], RolledBack))
	rs := records(t, path)
	if last := rs[len(rs)-1]; last["type"] != "cleared" || last["id"] != float64(1) || last["outcome"] != "rolled_back" || last["access_key_id"] != "AKIAALICE00000000001" || last["by_pid"] != float64(os.Getpid()) {
		t.Errorf("cleared record %v", last)
	}
	if left := listPending(t, dir); len(left) != 1 || left[0].UserName != "bob" {
		t.Fatalf("after one Clear: %+v", left)
	}
	must(t, Clear(ps[0], RolledBack)) // already handled: no error
	must(t, Clear(ps[1], Failed))
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files left: %v", n)
	}
	must(t, Clear(ps[1], Failed)) // the file is gone: nothing to do
	if err := Clear(ps[0], Orphaned); err == nil {
		t.Error("Clear accepted Orphaned")
	}
}

func TestClearRefusesAPendingThatDoesNotMatchTheFile(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	must(t, intent(t, j, "alice").Created("AKIAALICE00000000001"))
	die(j)
	p := listPending(t, dir)[0]
	p.KeyID = "AKIAOTHER00000000001"
	if err := Clear(p, RolledBack); err == nil {
		t.Fatal("cleared another key's entry")
	}
	if len(listPending(t, dir)) != 1 {
		t.Fatal("the entry was cleared")
	}
}

func TestClearOfALiveJournalIsBusy(t *testing.T) {
	defer func(d time.Duration) { clearWait = d }(clearWait)
	clearWait = 50 * time.Millisecond
	dir := t.TempDir()
	j := open(t, dir)
	intent(t, j, "alice")
	err := Clear(Pending{File: j.Path(), Entry: 1}, Dismissed)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v, want ErrBusy", err)
	}
}

func TestConcurrentClearsOfOneEntryRecordIt(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	for _, u := range []string{"alice", "bob", "carol"} {
		intent(t, j, u)
	}
	path := j.Path()
	die(j)
	ps := listPending(t, dir)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Clear(ps[0], Failed)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	cleared := 0
	for _, r := range records(t, path) {
		if r["type"] == "cleared" {
			cleared++
		}
	}
	if cleared != 1 {
		t.Fatalf("%d cleared records for one entry", cleared)
	}
	// The last two at once: both done, the file removed, no error.
	for _, p := range ps[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Clear(p, Failed); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files %v", n)
	}
}

func TestATornLastLineIsTolerated(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	e := intent(t, j, "alice")
	must(t, e.Created("AKIAALICE00000000001"))
	intent(t, j, "bob")
	path := j.Path()
	die(j)
	// The process died writing alice's resolution.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.WriteString(`{"type":"resolved","id":1,"outco`)
	must(t, err)
	must(t, f.Close())
	ps := listPending(t, dir)
	if len(ps) != 2 || ps[0].KeyID != "AKIAALICE00000000001" || ps[1].UserName != "bob" {
		t.Fatalf("pending %+v", ps)
	}
	// Clear starts its record on a new line, so it reads back.
	must(t, Clear(ps[0], RolledBack))
	data, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Contains(data, []byte(`"outco`+"\n"+`{"type":"cleared"`)) {
		t.Fatalf("the cleared record does not start a line:\n%s", data)
	}
	if left := listPending(t, dir); len(left) != 1 || left[0].UserName != "bob" {
		t.Fatalf("after Clear %+v", left)
	}
}

func TestATornIntentStillLeavesTheKeyFindable(t *testing.T) {
	// A write torn in the middle of the file (a full disk) loses that
	// record only: the created record names the user and region itself.
	dir := t.TempDir()
	j := open(t, dir)
	intent(t, j, "zed")
	path := j.Path()
	die(j)
	data, err := os.ReadFile(path)
	must(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	torn := append(append([]byte{}, lines[0]...), lines[1][:20]...)
	torn = append(torn, '\n')
	torn = append(torn, `{"type":"created","id":1,"time":"2026-01-02T03:04:05Z","user":"zed","region":"us-west-2","access_key_id":"AKIAZED000000000001"}`+"\n"...)
	must(t, os.WriteFile(path, torn, 0o600))
	ps := listPending(t, dir)
	if len(ps) != 1 || ps[0].KeyID != "AKIAZED000000000001" || ps[0].UserName != "zed" || ps[0].Region != "us-west-2" {
		t.Fatalf("pending %+v", ps)
	}
}

func TestAFailedWriteLeavesTheNextRecordOnItsOwnLine(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	e := intent(t, j, "alice")
	j.mu.Lock()
	j.writeFn = func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:len(b)/2])
		return n, errors.New("no space left on device")
	}
	j.mu.Unlock()
	if err := e.Created("AKIAALICE00000000001"); err == nil {
		t.Fatal("a failed write was not reported")
	}
	j.mu.Lock()
	j.writeFn = (*os.File).Write
	j.mu.Unlock()
	must(t, e.Created("AKIAALICE00000000001")) // not recorded the first time: again
	path := j.Path()
	die(j)
	data, err := os.ReadFile(path)
	must(t, err)
	st := replay(data)
	if st.skipped != 1 || len(st.pending()) != 1 || st.pending()[0].keyID != "AKIAALICE00000000001" {
		t.Fatalf("replay %+v of\n%s", st, data)
	}
}

func TestListPendingRemovesFilesOfGoneProcessesWithNothingPending(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	e := intent(t, j, "alice")
	must(t, e.Created("AKIAALICE00000000001"))
	must(t, e.Resolve(Delivered))
	die(j) // killed after delivering, before Close
	if ps := listPending(t, dir); len(ps) != 0 {
		t.Fatalf("pending %+v", ps)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files %v", n)
	}
}

func TestAbandonedTemporaryFilesAreRemovedOnceOld(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, ".1-aaaaaaaaaaaa.journal.tmp")
	fresh := filepath.Join(dir, ".2-bbbbbbbbbbbb.journal.tmp")
	must(t, os.WriteFile(old, []byte(`{"type":"process"}`), 0o600))
	must(t, os.WriteFile(fresh, nil, 0o600))
	past := time.Now().Add(-time.Hour)
	must(t, os.Chtimes(old, past, past))
	listPending(t, dir)
	if n := names(t, dir); len(n) != 1 || n[0] != filepath.Base(fresh) {
		t.Fatalf("files %v", n)
	}
}

func TestListPendingOfAMissingDirectoryIsEmpty(t *testing.T) {
	ps, err := ListPending(filepath.Join(t.TempDir(), "none"))
	if ps != nil || err != nil {
		t.Fatalf("got %v, %v", ps, err)
	}
}

func TestListPendingIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600))
	must(t, os.Mkdir(filepath.Join(dir, "sub.journal"), 0o700))
	if ps := listPending(t, dir); len(ps) != 0 {
		t.Fatalf("pending %+v", ps)
	}
	if n := names(t, dir); len(n) != 2 {
		t.Fatalf("files %v", n)
	}
}

func TestConcurrentIntentsInOneProcessShareItsFile(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := j.Intent(Creation{UserName: fmt.Sprintf("user%d", i), Region: "us-east-1"})
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := e.Created(fmt.Sprintf("AKIAUSER%012d", i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := names(t, dir); len(n) != 1 {
		t.Fatalf("files %v", n)
	}
	data, err := os.ReadFile(j.Path())
	must(t, err)
	st := replay(data)
	if st.skipped != 0 || len(st.pending()) != 32 {
		t.Fatalf("%d lines skipped, %d pending", st.skipped, len(st.pending()))
	}
	ids := map[int]bool{}
	for _, e := range st.pending() {
		ids[e.intent.ID] = true
	}
	if len(ids) != 32 {
		t.Fatalf("entry numbers %v", ids)
	}
}

func TestLongStatementsAreCut(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	long := "INSERT INTO access_keys (UserName, region) VALUES " + strings.Repeat("('ä', 'us-east-1'), ", 1000)
	_, err := j.Intent(Creation{UserName: "alice", Region: "us-east-1", Statement: long})
	must(t, err)
	die(j)
	p := listPending(t, dir)[0]
	if len(p.Statement) > maxStatement || !strings.HasSuffix(p.Statement, "…") || !strings.HasPrefix(long, strings.TrimSuffix(p.Statement, "…")) {
		t.Fatalf("statement of %d bytes: %q", len(p.Statement), p.Statement[len(p.Statement)-20:])
	}
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses LocalAppData")
	}
	t.Setenv("XDG_STATE_HOME", "/var/tmp/state")
	if d, err := DefaultDir(); err != nil || d != "/var/tmp/state/iamsql/custody" {
		t.Errorf("with XDG_STATE_HOME: %q, %v", d, err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, xdg := range []string{"", "relative/state"} {
		t.Setenv("XDG_STATE_HOME", xdg)
		if d, err := DefaultDir(); err != nil || d != filepath.Join(home, ".local", "state", "iamsql", "custody") {
			t.Errorf("XDG_STATE_HOME %q: %q, %v", xdg, d, err)
		}
	}
}

func TestDescribeAndRecoverySQL(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	base := Pending{UserName: "alice", Region: "us-east-1", Time: at, PID: 4242, Host: "build-1", Account: "123456789012", Profile: "prod"}
	for _, tc := range []struct {
		name          string
		edit          func(p *Pending)
		describe, sql string
	}{
		{"created, delivery not recorded", func(p *Pending) { p.KeyID = "AKIAALICE00000000001" },
			"access key AKIAALICE00000000001 of user alice was created by iamsql (pid 4242 on build-1) at 2026-03-04T05:06:07Z, which ended before recording that its secret was delivered or the key deleted; region us-east-1, account 123456789012, profile prod",
			"DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001' AND UserName = 'alice' AND region = 'us-east-1';"},
		{"orphaned", func(p *Pending) {
			p.KeyID, p.Orphaned, p.Endpoint = "AKIAALICE00000000001", true, "http://127.0.0.1:4566"
		},
			"orphaned: access key AKIAALICE00000000001 of user alice, created by iamsql (pid 4242 on build-1) at 2026-03-04T05:06:07Z, could be neither delivered nor deleted; region us-east-1, account 123456789012, profile prod, endpoint http://127.0.0.1:4566",
			"DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001' AND UserName = 'alice' AND region = 'us-east-1';"},
		{"outcome unknown", func(p *Pending) {},
			"outcome unknown: a key may exist for user alice (CreateAccessKey sent by iamsql (pid 4242 on build-1) at 2026-03-04T05:06:07Z, no answer recorded); region us-east-1, account 123456789012, profile prod",
			"SELECT AccessKeyId, UserName, Status, CreateDate FROM access_keys WHERE UserName = 'alice' AND region = 'us-east-1' AND CreateDate >= '2026-03-04 04:56:07';"},
		{"the caller's own key", func(p *Pending) {
			p.UserName, p.KeyID, p.Account, p.Profile, p.Host = "", "AKIAROOT000000000001", "", "", ""
		},
			"access key AKIAROOT000000000001 of the caller's own identity was created by iamsql (pid 4242) at 2026-03-04T05:06:07Z, which ended before recording that its secret was delivered or the key deleted; region us-east-1",
			"DELETE FROM access_keys WHERE AccessKeyId = 'AKIAROOT000000000001' AND region = 'us-east-1';"},
		{"quotes are escaped", func(p *Pending) { p.UserName = `o'brien\` },
			"outcome unknown: a key may exist for user o'brien\\ (CreateAccessKey sent by iamsql (pid 4242 on build-1) at 2026-03-04T05:06:07Z, no answer recorded); region us-east-1, account 123456789012, profile prod",
			`SELECT AccessKeyId, UserName, Status, CreateDate FROM access_keys WHERE UserName = 'o''brien\\' AND region = 'us-east-1' AND CreateDate >= '2026-03-04 04:56:07';`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			tc.edit(&p)
			if got := p.Describe(); got != tc.describe {
				t.Errorf("Describe:\n got %s\nwant %s", got, tc.describe)
			}
			if got := p.RecoverySQL(); got != tc.sql {
				t.Errorf("RecoverySQL:\n got %s\nwant %s", got, tc.sql)
			}
		})
	}
}
