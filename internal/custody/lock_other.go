//go:build !unix && !windows

package custody

import (
	"errors"
	"os"
)

// Without file locks a journal cannot tell a live process from a dead
// one: journaling is unsupported.

func tryLock(*os.File) (bool, error) { return false, errors.ErrUnsupported }

func createLockedFile(string, string, []byte) (*os.File, string, error) {
	return nil, "", errors.ErrUnsupported
}

func removeLocked(f *os.File, path string) error {
	f.Close()
	return os.Remove(path)
}
