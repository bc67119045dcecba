// Package custody is iamsql's custody journal: a durable note of every
// access key iamsql is creating, for what no handler can catch (SIGKILL,
// power loss, the OOM killer).
//
// Before each CreateAccessKey the process records an intent, after it the
// key id IAM answered, and once the secret reached its creator or the key
// was deleted again it resolves the entry. Each record is one JSON line,
// appended and fsynced before the call goes on, so a crash leaves at most a
// torn last line. The journal never holds a secret: no method takes one.
//
// Each process writes its own file under the journal directory
// (DefaultDir), created on its first intent (0600, in a 0700 directory)
// and locked (flock) for the process's life. A file whose lock is free
// belongs to a process that is gone: Pending lists its unresolved entries,
// the keys that may exist without anyone holding their secret, and Clear
// marks one handled once it has been dealt with.
//
// Entries record the endpoint, account and profile a key was made in, so
// that it can be found again. Keys made in the in-process sandbox are not
// journaled: a nil *Journal is the journal that records nothing.
package custody

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Meta describes the process writing a journal. Endpoint, Account and
// Profile are the defaults of its entries (a Creation may name others).
type Meta struct {
	// Endpoint is the IAM endpoint URL ("" for AWS's own), Account the
	// AWS account id when known, Profile the shared-config profile.
	Endpoint, Account, Profile string
	// PID defaults to os.Getpid(), Started to now, Host to os.Hostname().
	PID     int
	Started time.Time
	Host    string
	// Command is the command line, as the caller redacted it: the journal
	// writes it as given.
	Command []string
}

// Creation is one CreateAccessKey about to be sent.
type Creation struct {
	// UserName is the user the key is for; "" means the caller's own
	// identity (IAM's meaning of an omitted UserName).
	UserName string
	// Region is the statement's region parameter (required): it picks the
	// partition's endpoint, and a statement that deletes the key needs it.
	Region string
	// Statement is the SQL that creates the key (at most maxStatement
	// bytes are kept).
	Statement string
	// Endpoint, Account and Profile default to the journal's Meta.
	Endpoint, Account, Profile string
}

// Outcome is how an entry ends.
type Outcome string

const (
	// Delivered: the secret reached the key's creator. Clears the entry.
	Delivered Outcome = "delivered"
	// RolledBack: the key was deleted again. Clears the entry.
	RolledBack Outcome = "rolled_back"
	// Failed: IAM refused the create; no key exists. Clears the entry.
	Failed Outcome = "failed"
	// Orphaned: the key exists (or may: no answer came) and could be
	// neither delivered nor deleted. The entry stays pending, flagged, and
	// can still be resolved later.
	Orphaned Outcome = "orphaned"
	// Dismissed is Clear's outcome for an entry someone took charge of
	// without deleting a key (kept it, or found none).
	Dismissed Outcome = "dismissed"
)

// maxStatement bounds the statement text kept per entry.
const maxStatement = 4096

// fileSuffix names journal files; tmpSuffix those still being created.
const (
	fileSuffix = ".journal"
	tmpSuffix  = ".tmp"
)

// validKeyID reports whether s is what IAM accepts as an access key id,
// ^\w{16,128}$; it cannot hold the characters a secret access key is
// made of ('/', '+'). (Not a regexp: compiling that one took about 2 ms
// of every start, in package init.)
func validKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

var (
	// ErrClosed is returned for a journal used after Close.
	ErrClosed = errors.New("custody: journal closed")
	// ErrBusy is returned by Clear when the file stays locked: its
	// process is alive after all, or another recovery holds it.
	ErrBusy = errors.New("custody: journal file in use")
)

// Journal is one process's custody journal. Its methods are safe for
// concurrent use. A nil *Journal journals nothing (the in-process
// sandbox's keys are not journaled): Intent returns a nil *Entry, whose
// methods do nothing.
type Journal struct {
	dir  string
	meta Meta
	now  func() time.Time

	mu      sync.Mutex
	f       *os.File // nil until the first intent
	path    string
	next    int            // the next entry's number
	open    map[int]*Entry // entries not cleared (orphaned ones included)
	torn    bool           // a write failed part way: start the next on a new line
	closed  bool
	writeFn func(f *os.File, b []byte) (int, error) // f.Write; tests make it fail
}

// Open returns the journal of this process in dir. It touches nothing on
// disk: the directory and the file are created by the first Intent, so a
// process that never creates a key leaves no trace.
func Open(dir string, meta Meta) (*Journal, error) {
	if dir == "" {
		return nil, errors.New("custody: no journal directory")
	}
	if !filepath.IsAbs(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("custody: %w", err)
		}
		dir = abs
	}
	if meta.PID == 0 {
		meta.PID = os.Getpid()
	}
	if meta.Started.IsZero() {
		meta.Started = time.Now()
	}
	if meta.Host == "" {
		meta.Host, _ = os.Hostname()
	}
	meta.Command = append([]string(nil), meta.Command...)
	return &Journal{dir: dir, meta: meta, now: time.Now, next: 1, open: map[int]*Entry{}, writeFn: (*os.File).Write}, nil
}

// DefaultDir is where iamsql keeps its journals: $XDG_STATE_HOME/iamsql/custody,
// else ~/.local/state/iamsql/custody (on Windows %LocalAppData%\iamsql\custody).
// A relative XDG_STATE_HOME is ignored, as the XDG spec says.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "iamsql", "custody"), nil
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "iamsql", "custody"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("custody: no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "iamsql", "custody"), nil
}

// Path returns the journal's file, "" before the first intent.
func (j *Journal) Path() string {
	if j == nil {
		return ""
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.path
}

// Intent records, durably, that a CreateAccessKey is about to be sent.
// Call it before sending; after an error the intent may not be on disk,
// so the key should not be created.
func (j *Journal) Intent(c Creation) (*Entry, error) {
	if j == nil {
		return nil, nil
	}
	if c.Region == "" {
		return nil, errors.New("custody: an intent needs the region")
	}
	if c.Endpoint == "" {
		c.Endpoint = j.meta.Endpoint
	}
	if c.Account == "" {
		c.Account = j.meta.Account
	}
	if c.Profile == "" {
		c.Profile = j.meta.Profile
	}
	c.Statement = truncate(c.Statement, maxStatement)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, ErrClosed
	}
	if j.f == nil {
		if err := j.createLocked(); err != nil {
			return nil, err
		}
	}
	e := &Entry{j: j, id: j.next, user: c.UserName, region: c.Region}
	// The number is used up even if the write fails: a torn record must
	// not share it with the next one.
	j.next++
	err := j.appendLocked(record{
		Type: typeIntent, ID: e.id, User: c.UserName, Region: c.Region, Statement: c.Statement,
		Endpoint: c.Endpoint, Account: c.Account, Profile: c.Profile,
	})
	if err != nil {
		return nil, err
	}
	j.open[e.id] = e
	return e, nil
}

// Close ends the journal. With nothing pending its file is removed;
// otherwise (entries unresolved or orphaned) it is kept and, its lock
// released, reported by Pending from now on.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.f == nil {
		return nil
	}
	f := j.f
	j.f = nil
	if len(j.open) > 0 {
		return wrapf(f.Close(), "closing %s", j.path)
	}
	return wrapf(removeLocked(f, j.path), "removing %s", j.path)
}

// createLocked creates the process's file, locked, with its process
// record first.
func (j *Journal) createLocked() error {
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	// MkdirAll keeps an existing directory's mode; the journal's must be
	// private. Best effort: a directory someone else owns stays as it is.
	if fi, err := os.Stat(j.dir); err == nil && fi.Mode().Perm() != 0o700 {
		_ = os.Chmod(j.dir, 0o700)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	name := fmt.Sprintf("%d-%s%s", j.meta.PID, hex.EncodeToString(rnd[:]), fileSuffix)
	head := record{
		Type: typeProcess, V: formatVersion, PID: j.meta.PID, Host: j.meta.Host,
		Started: j.meta.Started.UTC(), Command: j.meta.Command,
		Endpoint: j.meta.Endpoint, Account: j.meta.Account, Profile: j.meta.Profile,
	}
	head.Time = j.now().UTC()
	line, err := head.marshal()
	if err != nil {
		return err
	}
	f, path, err := createLockedFile(j.dir, name, line)
	if err != nil {
		return fmt.Errorf("custody: creating the journal: %w", err)
	}
	j.f, j.path = f, path
	return nil
}

// appendLocked writes one record and syncs it to disk.
func (j *Journal) appendLocked(r record) error {
	r.Time = j.now().UTC()
	line, err := r.marshal()
	if err != nil {
		return err
	}
	if j.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := j.writeFn(j.f, line)
	if err == nil {
		j.torn = false
		err = j.f.Sync()
	} else if n > 0 {
		j.torn = true
	}
	return wrapf(err, "writing %s", j.path)
}

// Entry is one journaled key creation.
type Entry struct {
	j      *Journal
	id     int
	user   string
	region string

	// guarded by j.mu
	keyID    string
	outcome  Outcome // "" while unresolved
	resolved bool    // cleared: delivered, rolled back or failed
}

// Created records, durably, the id of the key IAM created (never its
// secret: keyID must look like an access key id).
func (e *Entry) Created(keyID string) error {
	if e == nil {
		return nil
	}
	if !validKeyID(keyID) {
		return errors.New("custody: Created needs the access key id (16-128 word characters)")
	}
	j := e.j
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.closed:
		return ErrClosed
	case e.resolved:
		return fmt.Errorf("custody: entry %d is already %s", e.id, e.outcome)
	case e.keyID == keyID:
		return nil
	case e.keyID != "":
		return fmt.Errorf("custody: entry %d already holds key %s", e.id, e.keyID)
	}
	if err := j.appendLocked(record{Type: typeCreated, ID: e.id, KeyID: keyID, User: e.user, Region: e.region}); err != nil {
		return err
	}
	e.keyID = keyID
	return nil
}

// Resolve records, durably, how the entry ended. Delivered and RolledBack
// need the key id (Created first), Failed means no key exists and so
// cannot follow Created; these three clear the entry, after which it
// takes no more records. Orphaned keeps it pending, flagged, with or
// without a key id (an answer that never came).
func (e *Entry) Resolve(o Outcome) error {
	if e == nil {
		return nil
	}
	j := e.j
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.closed:
		return ErrClosed
	case e.resolved:
		return fmt.Errorf("custody: entry %d is already %s", e.id, e.outcome)
	}
	switch o {
	case Delivered, RolledBack:
		if e.keyID == "" {
			return fmt.Errorf("custody: entry %d cannot be %s without its key id (call Created)", e.id, o)
		}
	case Failed:
		if e.keyID != "" {
			return fmt.Errorf("custody: entry %d cannot be %s: key %s was created", e.id, o, e.keyID)
		}
	case Orphaned:
	default:
		return fmt.Errorf("custody: unknown outcome %q", o)
	}
	if err := j.appendLocked(record{Type: typeResolved, ID: e.id, Outcome: o, KeyID: e.keyID}); err != nil {
		return err
	}
	e.outcome = o
	if o != Orphaned {
		e.resolved = true
		delete(j.open, e.id)
	}
	return nil
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + mark
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("custody: "+format+": %w", append(args, err)...)
}
