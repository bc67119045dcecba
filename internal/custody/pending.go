package custody

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Pending is an entry left unresolved by a process that is gone: a key
// that exists, or may, with nobody known to hold its secret.
type Pending struct {
	// File is the journal file and Entry the entry's number in it.
	File  string
	Entry int
	// KeyID is the created key's id; "" when the process ended before
	// IAM's answer was recorded (the outcome is unknown).
	KeyID string
	// Orphaned is set when the process knew the key could be neither
	// delivered nor deleted (and said so to its user).
	Orphaned bool
	// UserName is the key's user, "" for the caller's own identity.
	UserName, Region, Statement string
	Endpoint, Account, Profile  string
	// Time is when the intent was recorded, Created when the key id was.
	Time, Created time.Time
	// The process that wrote the entry.
	PID     int
	Host    string
	Started time.Time
	Command []string
}

// ListPending returns the unresolved entries of the journals in dir whose
// process is gone (their lock is free), oldest first. Entries of running
// processes are not listed, nor those of a file another process is
// clearing at that moment. A file of a gone process with nothing pending
// (it died after resolving everything) is removed. A missing dir has
// nothing pending. Files that cannot be read are named in the error,
// alongside what could be read.
func ListPending(dir string) ([]Pending, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	var out []Pending
	var errs []error
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		name := de.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, fileSuffix):
			ps, err := pendingOf(path)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, ps...)
		case strings.HasPrefix(name, ".") && strings.HasSuffix(name, tmpSuffix):
			// Its creator holds it for microseconds; one this old was
			// left by a process that died creating its journal.
			if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				removeAbandoned(path)
			}
		}
	}
	sort.SliceStable(out, func(i, k int) bool {
		if !out[i].Time.Equal(out[k].Time) {
			return out[i].Time.Before(out[k].Time)
		}
		if out[i].File != out[k].File {
			return out[i].File < out[k].File
		}
		return out[i].Entry < out[k].Entry
	})
	return out, errors.Join(errs...)
}

// pendingOf reads one journal file if its process is gone.
func pendingOf(path string) ([]Pending, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) { // removed meanwhile
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	locked, err := tryLock(f)
	if err != nil || !locked {
		f.Close()
		return nil, wrapf(err, "locking %s", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, wrapf(err, "reading %s", path)
	}
	st := replay(data)
	pend := st.pending()
	if len(pend) == 0 {
		return nil, wrapf(ignoreNotExist(removeLocked(f, path)), "removing %s", path)
	}
	f.Close()
	head := st.head
	if head == nil {
		head = &record{}
	}
	out := make([]Pending, 0, len(pend))
	for _, e := range pend {
		out = append(out, Pending{
			File: path, Entry: e.intent.ID, KeyID: e.keyID, Orphaned: e.orphaned,
			UserName: e.intent.User, Region: e.intent.Region, Statement: e.intent.Statement,
			Endpoint: e.intent.Endpoint, Account: e.intent.Account, Profile: e.intent.Profile,
			Time: e.intent.Time, Created: e.created,
			PID: head.PID, Host: head.Host, Started: head.Started, Command: head.Command,
		})
	}
	return out, nil
}

// removeAbandoned removes a file left by a process that died while
// creating its journal (before its first intent was written).
func removeAbandoned(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	if locked, err := tryLock(f); err != nil || !locked {
		f.Close()
		return
	}
	_ = removeLocked(f, path)
}

// clearWait bounds how long Clear waits for a file another recovery
// holds (a variable for tests).
var clearWait = 2 * time.Second

// Clear marks a pending entry handled, with how (RolledBack once its key
// was deleted, Failed when no key was found, Delivered or Dismissed when
// someone has or keeps it), and removes its file when nothing is left
// pending there. An entry already handled (by another process, say) is
// not an error. It holds the file's lock while it edits, so two processes
// clearing at once do not interfere; ErrBusy means the lock stayed taken.
func Clear(p Pending, how Outcome) error {
	switch how {
	case RolledBack, Failed, Delivered, Dismissed:
	default:
		return fmt.Errorf("custody: Clear cannot mark an entry %q", how)
	}
	f, err := os.OpenFile(p.File, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) { // everything in it was cleared
		return nil
	}
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	deadline := time.Now().Add(clearWait)
	for {
		locked, err := tryLock(f)
		if err != nil {
			return wrapf(err, "locking %s", p.File)
		}
		if locked {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s", ErrBusy, p.File)
		}
		time.Sleep(10 * time.Millisecond)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return wrapf(err, "reading %s", p.File)
	}
	st := replay(data)
	e := st.entries[p.Entry]
	if e == nil || e.cleared {
		return nil
	}
	if p.KeyID != "" && e.keyID != p.KeyID {
		return fmt.Errorf("custody: entry %d of %s is key %q, not %s", p.Entry, p.File, e.keyID, p.KeyID)
	}
	line, err := record{Type: typeCleared, ID: p.Entry, Time: time.Now().UTC(), KeyID: e.keyID, Outcome: how, By: os.Getpid()}.marshal()
	if err != nil {
		return err
	}
	if !st.complete {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		return wrapf(err, "writing %s", p.File)
	}
	if err := f.Sync(); err != nil {
		return wrapf(err, "writing %s", p.File)
	}
	e.cleared = true
	if len(st.pending()) > 0 {
		return nil
	}
	g := f
	f = nil
	return wrapf(ignoreNotExist(removeLocked(g, p.File)), "removing %s", p.File)
}

// Describe says in one line what is left and where.
func (p Pending) Describe() string {
	var b strings.Builder
	who := "user " + p.UserName
	if p.UserName == "" {
		who = "the caller's own identity"
	}
	by := fmt.Sprintf("iamsql (pid %d", p.PID)
	if p.Host != "" {
		by += " on " + p.Host
	}
	by += ")"
	at := p.Time.UTC().Format(time.RFC3339)
	switch {
	case p.KeyID != "" && p.Orphaned:
		fmt.Fprintf(&b, "orphaned: access key %s of %s, created by %s at %s, could be neither delivered nor deleted", p.KeyID, who, by, at)
	case p.KeyID != "":
		fmt.Fprintf(&b, "access key %s of %s was created by %s at %s, which ended before recording that its secret was delivered or the key deleted", p.KeyID, who, by, at)
	default:
		fmt.Fprintf(&b, "outcome unknown: a key may exist for %s (CreateAccessKey sent by %s at %s, no answer recorded)", who, by, at)
	}
	fmt.Fprintf(&b, "; region %s", p.Region)
	for _, kv := range [][2]string{{"account", p.Account}, {"profile", p.Profile}, {"endpoint", p.Endpoint}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, ", %s %s", kv[0], kv[1])
		}
	}
	return b.String()
}

// unknownMargin widens the CreateDate bound of the statement that looks
// for a key of unknown outcome, for a clock that is behind IAM's.
const unknownMargin = 10 * time.Minute

// RecoverySQL is the statement that deals with the entry: the DELETE of
// its key, or, when the outcome is unknown, the SELECT that finds the keys
// that may be it (created since shortly before the intent).
func (p Pending) RecoverySQL() string {
	var where []string
	if p.KeyID != "" {
		where = append(where, "AccessKeyId = "+quote(p.KeyID))
	}
	if p.UserName != "" {
		where = append(where, "UserName = "+quote(p.UserName))
	}
	where = append(where, "region = "+quote(p.Region))
	if p.KeyID != "" {
		return "DELETE FROM access_keys WHERE " + strings.Join(where, " AND ") + ";"
	}
	since := p.Time.UTC().Add(-unknownMargin).Format(time.DateTime)
	where = append(where, "CreateDate >= "+quote(since))
	return "SELECT AccessKeyId, UserName, Status, CreateDate FROM access_keys WHERE " + strings.Join(where, " AND ") + ";"
}

// quote is a MySQL string literal.
func quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
