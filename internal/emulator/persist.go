package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateFile is the on-disk form of the account (Options.StatePath). It holds
// secrets, so it is written with mode 0600.
type stateFile struct {
	Format      int         `json:"format"`
	AccountID   string      `json:"account_id"`
	RootCreated time.Time   `json:"root_created"`
	Users       []User      `json:"users"`
	Keys        []AccessKey `json:"access_keys"`
}

const stateFormat = 1

// loadState reads StatePath; it reports false when the file does not exist.
func (e *Emulator) loadState() (bool, error) {
	data, err := os.ReadFile(e.statePath)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("emulator: reading state: %w", err)
	}
	var sf stateFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return false, fmt.Errorf("emulator: state file %s: %w", e.statePath, err)
	}
	if sf.Format != stateFormat {
		return false, fmt.Errorf("emulator: state file %s: unsupported format %d", e.statePath, sf.Format)
	}
	if sf.AccountID != "" {
		if !validAccountID(sf.AccountID) {
			return false, fmt.Errorf("emulator: state file %s: invalid account id %q", e.statePath, sf.AccountID)
		}
		e.accountID = sf.AccountID
	}
	e.rootCreated = sf.RootCreated.UTC()
	if e.rootCreated.IsZero() {
		e.rootCreated = e.nowUTC()
	}
	for _, u := range sf.Users {
		if err := e.addUserLocked(u); err != nil {
			return false, fmt.Errorf("emulator: state file %s: %w", e.statePath, err)
		}
	}
	for _, k := range sf.Keys {
		if k.AccessKeyID == e.rootKeyID {
			if k.UserName != RootUserName {
				return false, fmt.Errorf("emulator: state file %s: the root access key %s belongs to user %q", e.statePath, k.AccessKeyID, k.UserName)
			}
			// The configured root credentials are authoritative.
			k.SecretAccessKey = e.rootSecret
		}
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return false, fmt.Errorf("emulator: state file %s: access key without id or secret", e.statePath)
		}
		if err := e.addKeyLocked(k); err != nil {
			return false, fmt.Errorf("emulator: state file %s: %w", e.statePath, err)
		}
	}
	// The configured root key keeps the emulator usable after it was
	// deleted in an earlier run, as long as the quota leaves room for it.
	if _, ok := e.keys[e.rootKeyID]; !ok && len(e.keysOf(RootUserName)) < accessKeysQuota {
		e.putKeyLocked(&AccessKey{
			AccessKeyID: e.rootKeyID, SecretAccessKey: e.rootSecret,
			UserName: RootUserName, Status: statusActive, CreateDate: e.nowUTC(),
		})
	}
	return true, nil
}

// saveLocked writes the state to StatePath (when set) through a temporary
// file and an atomic rename.
func (e *Emulator) saveLocked() error {
	if e.statePath == "" {
		return nil
	}
	s := e.snapshotLocked()
	sf := stateFile{Format: stateFormat, AccountID: s.AccountID, RootCreated: e.rootCreated, Users: s.Users, Keys: s.Keys}
	if sf.Users == nil {
		sf.Users = []User{}
	}
	if sf.Keys == nil {
		sf.Keys = []AccessKey{}
	}
	data, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return fmt.Errorf("emulator: encoding state: %w", err)
	}
	dir := filepath.Dir(e.statePath)
	f, err := os.CreateTemp(dir, "."+filepath.Base(e.statePath)+".tmp*")
	if err != nil {
		return fmt.Errorf("emulator: saving state: %w", err)
	}
	tmp := f.Name()
	cleanup := func() { _ = os.Remove(tmp) }
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		cleanup()
		return fmt.Errorf("emulator: saving state: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		cleanup()
		return fmt.Errorf("emulator: saving state: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return fmt.Errorf("emulator: saving state: %w", err)
	}
	if err := os.Rename(tmp, e.statePath); err != nil {
		cleanup()
		return fmt.Errorf("emulator: saving state: %w", err)
	}
	return nil
}
