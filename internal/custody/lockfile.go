package custody

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked is TryLockFile's answer when another open file holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLockFile opens path (creating it, 0600, and its directory) and takes
// its exclusive lock without waiting: the journal's lock (flock on unix,
// LockFileEx on Windows), which the kernel drops when the holding process
// dies, however it dies. ErrLocked when another open file holds it. The
// lock lasts until the returned file is closed; the file stays (removing
// a lock file others may have open would let two processes lock two
// files of one name).
func TryLockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err != nil || !ok {
		f.Close()
		if err == nil {
			err = ErrLocked
		}
		return nil, err
	}
	return f, nil
}

// LockFile is TryLockFile waiting up to wait for the lock (polled), for
// locks held only for the moments a file is read and rewritten.
func LockFile(path string, wait time.Duration) (*os.File, error) {
	deadline := time.Now().Add(wait)
	for {
		f, err := TryLockFile(path)
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
