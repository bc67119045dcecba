//go:build unix

package custody

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// tryLock takes f's exclusive flock without waiting; false when another
// open file holds it (its process is alive). The lock lasts until f is
// closed, and the kernel drops it when the process dies however it dies.
func tryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if ferr != unix.EINTR {
				return
			}
		}
	})
	switch {
	case err != nil:
		return false, err
	case errors.Is(ferr, unix.EWOULDBLOCK):
		return false, nil
	case ferr != nil:
		return false, ferr
	}
	return true, nil
}

// createLockedFile creates dir/name (0600) holding first, synced and
// locked. It is written under a hidden temporary name and renamed once
// locked, so that no other process ever sees it unlocked and takes it for
// the file of a process that died.
func createLockedFile(dir, name string, first []byte) (_ *os.File, _ string, err error) {
	tmp := filepath.Join(dir, "."+name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	locked, err := tryLock(f)
	if err != nil {
		return nil, "", err
	}
	if !locked {
		return nil, "", fmt.Errorf("%s: locked by another process", tmp)
	}
	if _, err := f.Write(first); err != nil {
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp, path); err != nil {
		return nil, "", err
	}
	// The new name must survive a power loss too.
	if err := syncDir(dir); err != nil {
		os.Remove(path)
		return nil, "", err
	}
	return f, path, nil
}

// removeLocked removes the file while f still holds its lock, so that no
// one can take the lock of a file about to disappear, then closes f.
func removeLocked(f *os.File, path string) error {
	err := os.Remove(path)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
