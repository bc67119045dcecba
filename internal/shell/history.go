package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// HistoryLimit is how many entries the shell recalls; the file is trimmed
// to it when it has grown to twice as many.
const HistoryLimit = 1000

var (
	// secretWords are words of statements that carry a password or secret.
	secretWords = regexp.MustCompile(`(?i)password|passwd|identified|secret`)
	// setOfSecret is a SET of something that sounds like a credential
	// (SET @pw = '…', SET @token = '…').
	setOfSecret = regexp.MustCompile(`(?i)(^|;)\s*set\s[^;]*(pass|pwd|token|credential)`)
	// secretLike is a run of at least 40 characters from the alphabet of
	// AWS secret access keys. Longer runs count too: a false positive only
	// costs one history entry, a false negative leaks a secret.
	secretLike = regexp.MustCompile(`[A-Za-z0-9/+]{40,}`)
)

// Sensitive reports whether a line of input could carry a secret and so
// must never be stored in the history: it mentions a password, IDENTIFIED,
// a secret (SecretAccessKey included), SETs a credential-like variable, or
// contains a string that looks like an AWS secret access key.
func Sensitive(entry string) bool {
	// A secret typed across lines is one once the lines are joined.
	lines := strings.Split(entry, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	joined := strings.Join(lines, "")
	return secretWords.MatchString(entry) || setOfSecret.MatchString(entry) || secretLike.MatchString(entry) || secretLike.MatchString(joined)
}

// HistoryPath is where the shell keeps its history:
// $XDG_STATE_HOME/iamsql/history, or ~/.local/state/iamsql/history when
// XDG_STATE_HOME is unset or not absolute (as the XDG spec says).
func HistoryPath(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "iamsql", "history"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("neither XDG_STATE_HOME nor HOME is set")
	}
	return filepath.Join(home, ".local", "state", "iamsql", "history"), nil
}

// History is the shell's history file: one entry a line, mode 0600, never
// an entry that Sensitive flags.
type History struct {
	path string
}

// OpenHistory opens (creating it and its directory when needed) the
// history file at path, and makes sure only its owner can read it.
func OpenHistory(path string) (*History, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
	}
	return &History{path: path}, nil
}

// Path is the history file's path.
func (h *History) Path() string { return h.path }

// Load returns the newest entries, oldest first, leaving out any that
// Sensitive flags (a file written by something else may hold them). When
// the file has grown past twice HistoryLimit or held a flagged entry, it
// is rewritten without them.
func (h *History) Load() ([]string, error) {
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var entries []string
	lines, dropped := 0, false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines++
		e := sc.Text()
		if strings.TrimSpace(e) == "" {
			continue
		}
		if Sensitive(e) {
			dropped = true
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if len(entries) > HistoryLimit {
		entries = entries[len(entries)-HistoryLimit:]
	}
	if dropped || lines > 2*HistoryLimit {
		if err := h.rewrite(entries); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

func (h *History) rewrite(entries []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*")
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for _, e := range entries {
		w.WriteString(e)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("history: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Add appends an entry to the file unless Sensitive flags it; it reports
// whether the entry was stored. The entry is written at once, so a shell
// that is killed loses nothing.
func (h *History) Add(entry string) (bool, error) {
	entry = historyEntry(entry)
	if entry == "" || Sensitive(entry) {
		return false, nil
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return false, fmt.Errorf("history: %w", err)
	}
	if _, err := f.WriteString(entry + "\n"); err != nil {
		f.Close()
		return false, fmt.Errorf("history: %w", err)
	}
	return true, f.Close()
}

// historyEntry makes one line of a (possibly multi-line) input: lines
// trimmed and joined by a space.
func historyEntry(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
