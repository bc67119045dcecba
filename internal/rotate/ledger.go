package rotate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamsql/iamsql/internal/custody"
)

// Step is where a rotation stands. Each is written to the ledger before
// the call it names is sent (…ing) and after it answered.
type Step string

const (
	StepMakingRoom   Step = "making_room"  // deleting an inactive, unused second key
	StepCreating     Step = "creating"     // CreateAccessKey sent, no answer recorded
	StepCreated      Step = "created"      // the new key exists; its secret is only in memory
	StepDelivering   Step = "delivering"   // the sink is being written
	StepDelivered    Step = "delivered"    // the sink holds the new key
	StepVerified     Step = "verified"     // the new key signed GetCallerIdentity as the user
	StepDeactivated  Step = "deactivated"  // the old key is inactive
	StepFinished     Step = "finished"     // the old key is deleted
	StepKept         Step = "kept"         // the old key was used after the switch: left inactive
	StepRolledBack   Step = "rolled_back"  // the new key is deleted (the old key active again)
	StepFailed       Step = "failed"       // stopped before the old key was touched; nothing to undo
	StepRollingBack  Step = "rolling_back" // reactivating the old key and deleting the new one
	StepDeactivating Step = "deactivating" // UpdateAccessKey Inactive sent
	StepDeleting     Step = "deleting"     // DeleteAccessKey of the old key sent
)

// Done reports whether a rotation has ended (nothing left to do).
func (s Step) Done() bool {
	switch s {
	case StepFinished, StepKept, StepRolledBack, StepFailed:
		return true
	}
	return false
}

// Record is one rotation in the ledger. It never holds a secret.
type Record struct {
	ID       string `json:"id"`
	Account  string `json:"account,omitempty"`
	Region   string `json:"region"`
	UserName string `json:"user_name"`
	// Self: the key is the caller's own (IAM calls name no UserName).
	Self     bool   `json:"self,omitempty"`
	OldKeyID string `json:"old_key_id"`
	NewKeyID string `json:"new_key_id,omitempty"`
	// RemovedKeyID is the inactive key deleted to make room (--make-room).
	RemovedKeyID string `json:"removed_key_id,omitempty"`
	Step         Step   `json:"step"`
	Sink         string `json:"sink"`
	// Grace and DeleteAfter are the waits before deactivating the old key
	// (after verification) and before deleting it (after deactivation).
	Grace       Duration `json:"grace"`
	DeleteAfter Duration `json:"delete_after"`
	// ForceDelete: the old key may be deleted before the last-used lag
	// has passed since its deactivation (--force).
	ForceDelete bool       `json:"force_delete,omitempty"`
	Started     time.Time  `json:"started"`
	Created     *time.Time `json:"created,omitempty"`
	Delivered   *time.Time `json:"delivered,omitempty"`
	Verified    *time.Time `json:"verified,omitempty"`
	Deactivated *time.Time `json:"deactivated,omitempty"`
	Ended       *time.Time `json:"ended,omitempty"`
	Updated     time.Time  `json:"updated"`
	// Note says why a rotation stopped, failed or kept its old key.
	Note string `json:"note,omitempty"`
}

// DeactivateAt is when the old key is due to be deactivated (zero before
// verification).
func (r *Record) DeactivateAt() time.Time {
	if r.Verified == nil {
		return time.Time{}
	}
	return r.Verified.Add(time.Duration(r.Grace))
}

// DeleteAt is when the old key is due to be deleted (zero before
// deactivation): DeleteAfter after deactivation, and not before the
// last-used lag has passed (DeleteNotBefore).
func (r *Record) DeleteAt() time.Time {
	if r.Deactivated == nil {
		return time.Time{}
	}
	t := r.Deactivated.Add(time.Duration(r.DeleteAfter))
	if nb := r.DeleteNotBefore(); t.Before(nb) {
		return nb
	}
	return t
}

// DeleteNotBefore is the earliest the old key may be deleted (zero before
// deactivation): once LastUsedLag has passed since its deactivation,
// GetAccessKeyLastUsed shows every use made while it was active, so the
// delete check cannot miss one; at deactivation with ForceDelete.
func (r *Record) DeleteNotBefore() time.Time {
	if r.Deactivated == nil {
		return time.Time{}
	}
	if r.ForceDelete {
		return *r.Deactivated
	}
	return r.Deactivated.Add(LastUsedLag)
}

// Duration is a time.Duration written as Go writes one ("168h0m0s").
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Ledger is the rotation ledger: a JSON file (0600) rewritten atomically
// after every step, so a crash leaves the previous or the next state,
// never a torn one. Several processes may share one ledger file (cron's
// iamsql rotate --continue, a CALL in iamsql serve): each write is a
// read-merge-write under the file's lock (path + ".lock"), and a rotation
// is advanced only by the process holding its claim (Claim).
type Ledger struct {
	path string
	mu   sync.Mutex
	recs []*Record
}

type ledgerFile struct {
	Format    int       `json:"format"`
	Rotations []*Record `json:"rotations"`
}

const ledgerFormat = 1

// DefaultLedgerPath is ~/.iamsql/rotations.json (IAMSQL_ROTATION_LEDGER
// overrides it).
func DefaultLedgerPath() (string, error) {
	if p := os.Getenv("IAMSQL_ROTATION_LEDGER"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("rotation ledger: %w (set IAMSQL_ROTATION_LEDGER)", err)
	}
	return filepath.Join(home, ".iamsql", "rotations.json"), nil
}

// OpenLedger reads the ledger at path; a missing file is an empty ledger,
// made on its first write.
func OpenLedger(path string) (*Ledger, error) {
	l := &Ledger{path: path}
	recs, err := readLedger(path)
	if err != nil {
		return nil, err
	}
	l.recs = recs
	return l, nil
}

// maxLedgerSize bounds what is read of a ledger file (a rotation is
// about 1 KB: this is tens of thousands of rotations).
const maxLedgerSize = 64 << 20

func readLedger(path string) ([]*Record, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("rotation ledger: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLedgerSize+1))
	if err != nil {
		return nil, fmt.Errorf("rotation ledger: %w", err)
	}
	if len(data) > maxLedgerSize {
		return nil, fmt.Errorf("rotation ledger %s: larger than %d MiB", path, maxLedgerSize>>20)
	}
	var lf ledgerFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, fmt.Errorf("rotation ledger %s: %w", path, err)
	}
	if lf.Format != ledgerFormat {
		return nil, fmt.Errorf("rotation ledger %s: format %d, want %d", path, lf.Format, ledgerFormat)
	}
	for i, r := range lf.Rotations {
		if r == nil {
			return nil, fmt.Errorf("rotation ledger %s: rotation %d is null", path, i)
		}
	}
	return lf.Rotations, nil
}

// Reload reads the ledger file again: what other processes recorded.
func (l *Ledger) Reload() error {
	recs, err := readLedger(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.recs = recs
	l.mu.Unlock()
	return nil
}

// writeLockWait bounds waiting for another process's ledger write (a
// read, a merge and an fsynced rename: milliseconds).
const writeLockWait = 10 * time.Second

// Claim takes the exclusive right to advance rotations of keyID (the
// old key a rotation replaces) across processes, without waiting: a
// second iamsql process (another rotate, a CALL in serve) is refused
// while one holds it. The kernel drops a claim when its process dies.
// release gives it up.
func (l *Ledger) Claim(keyID string) (release func(), err error) {
	if !accessKeyIDName(keyID) {
		return nil, fmt.Errorf("rotation ledger: invalid key id %q", keyID)
	}
	dir := filepath.Join(filepath.Dir(l.path), "."+filepath.Base(l.path)+".claims")
	f, err := custody.TryLockFile(filepath.Join(dir, keyID))
	if errors.Is(err, custody.ErrLocked) {
		return nil, &BusyError{KeyID: keyID}
	}
	if err != nil {
		return nil, fmt.Errorf("rotation ledger: claiming %s: %w", keyID, err)
	}
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }, nil
}

// BusyError: another process is advancing a rotation of the key.
type BusyError struct{ KeyID string }

func (e *BusyError) Error() string {
	return fmt.Sprintf("the rotation of %s is being carried out by another iamsql process (iamsql rotate, or a CALL in iamsql serve): nothing was done; try again when it has finished", e.KeyID)
}

func accessKeyIDName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Path is the ledger's file.
func (l *Ledger) Path() string { return l.path }

// Records returns copies of the rotations, oldest first.
func (l *Ledger) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Record, len(l.recs))
	for i, r := range l.recs {
		out[i] = *r
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// Get returns a copy of the rotation with id.
func (l *Ledger) Get(id string) (Record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.ID == id {
			return *r, true
		}
	}
	return Record{}, false
}

// open returns the unfinished rotation of a key (old or new), if any.
func (l *Ledger) open(keyID string) (Record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if !r.Step.Done() && (r.OldKeyID == keyID || r.NewKeyID == keyID) {
			return *r, true
		}
	}
	return Record{}, false
}

// Put records r (added, or replacing the record of its id) and writes the
// file: under the file's lock, merged into what the file holds now (other
// processes' rotations are kept). When the write fails the ledger keeps
// its previous state.
func (l *Ledger) Put(r Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("rotation ledger: %w", err)
	}
	lock, err := custody.LockFile(l.path+".lock", writeLockWait)
	if err != nil {
		return fmt.Errorf("rotation ledger: locking %s: %w", l.path, err)
	}
	defer lock.Close()
	current, err := readLedger(l.path)
	if err != nil {
		return err
	}
	recs := make([]*Record, 0, len(current)+1)
	found := false
	for _, x := range current {
		if x.ID == r.ID {
			c := r
			recs = append(recs, &c)
			found = true
			continue
		}
		recs = append(recs, x)
	}
	if !found {
		c := r
		recs = append(recs, &c)
	}
	data, err := json.MarshalIndent(ledgerFile{Format: ledgerFormat, Rotations: recs}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(l.path, append(data, '\n')); err != nil {
		return fmt.Errorf("rotation ledger: %w", err)
	}
	l.recs = recs
	return nil
}

// writeFileAtomic writes data to path through a 0600 temporary file in the
// same directory, fsynced and renamed over path, then syncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// ParseDuration reads a wait as iamsql rotate and the rotation procedures
// take it: Go's form (36h, 90m) or whole or fractional days (7d).
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || v < 0 || v > 100*365 {
			return 0, fmt.Errorf("%q is not a duration like 7d or 36h", s)
		}
		return time.Duration(v * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 7d or 36h", s)
	}
	return d, nil
}

// FormatDuration writes a wait as ParseDuration reads it (7d, 36h0m0s, 0).
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
