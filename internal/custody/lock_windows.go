//go:build windows

package custody

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on one byte far beyond the end of f,
// without waiting; false when another handle holds it. Locking beyond the
// data leaves the records readable by others (Windows locks are
// mandatory), and Windows drops the lock when the process dies.
func tryLock(f *os.File) (bool, error) {
	ol := &windows.Overlapped{Offset: 0xFFFFFFFE, OffsetHigh: 0x7FFFFFFF}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch {
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// createLockedFile creates dir/name (0600) holding first, synced and
// locked. An open file cannot be renamed here, so it is created under its
// name; a process listing journals may hold its lock for a moment, and
// cannot remove it while it is open.
func createLockedFile(dir, name string, first []byte) (_ *os.File, _ string, err error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	for deadline := time.Now().Add(2 * time.Second); ; {
		locked, err := tryLock(f)
		if err != nil {
			return nil, "", err
		}
		if locked {
			break
		}
		if time.Now().After(deadline) {
			return nil, "", fmt.Errorf("%s: locked by another process", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := f.Write(first); err != nil {
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		return nil, "", err
	}
	return f, path, nil
}

// removeLocked closes f and removes the file. A file another process has
// open (a journal just created) is not removed.
func removeLocked(f *os.File, path string) error {
	cerr := f.Close()
	err := os.Remove(path)
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		err = nil
	}
	if err == nil {
		err = cerr
	}
	return err
}
