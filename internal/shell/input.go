package shell

import (
	"strings"

	"github.com/iamsql/iamsql/provider"
)

// The shell reads SQL the way the mysql client does: a statement may span
// lines and ends at a top-level `;`, `\g` or `\G` (outside strings, quoted
// identifiers and comments); `\c` throws the statement typed so far away;
// a line that starts a statement with a backslash is a meta-command. An
// executable comment (/*! … */) is read whole, as SQL, and what the
// engine reads in a unit is split into statements by the engine's reading
// (provider.SplitStatements), so a script runs here as it does in exec.

// unit is one complete piece of input: a statement to run or a
// meta-command.
type unit struct {
	// text is the statement without its terminator, or the meta-command
	// line (e.g. `\o json`).
	text     string
	meta     bool
	vertical bool // ended with \G
	// offset is where the unit starts in the scanned text (its first
	// non-space byte), for line numbers in batch errors.
	offset int
}

// openState is what an incomplete statement is waiting for; it picks the
// continuation prompt.
type openState byte

const (
	openNone    openState = 0
	openStmt    openState = '-'
	openComment openState = '*'
	// A quote character (', ", `) means a string or quoted identifier is
	// open.
)

// scan splits text into complete units and the incomplete rest. rest is
// empty when nothing meaningful is pending (only spaces or finished
// comments).
func scan(text string) (units []unit, rest string, open openState) {
	start := 0       // start of the current statement
	meaningful := -1 // offset of its first meaningful byte, -1 if none yet
	emit := func(end int, vertical bool) {
		if meaningful >= 0 {
			units = append(units, unit{text: strings.TrimSpace(text[meaningful:end]), vertical: vertical, offset: meaningful})
		}
	}
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#' || provider.IsDashComment(text[i:]):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			if strings.HasPrefix(text[i:], "/*!") && meaningful < 0 {
				// An executable comment is a statement, or part of one.
				meaningful = i
			}
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return units, text[start:], openComment
			}
			i += 2 + end + 2
		case c == '\'' || c == '"' || c == '`':
			if meaningful < 0 {
				meaningful = i
			}
			end, ok := provider.QuoteEnd(text, i)
			if !ok {
				return units, text[start:], openState(c)
			}
			i = end
		case c == ';':
			emit(i, false)
			i++
			start, meaningful = i, -1
		case c == '\\' && i+1 < len(text):
			switch cmd := text[i+1]; {
			case cmd == 'G' || cmd == 'g':
				emit(i, cmd == 'G')
				i += 2
				start, meaningful = i, -1
			case cmd == 'c':
				i += 2
				start, meaningful = i, -1
			case meaningful < 0:
				// A meta-command: the rest of its line.
				eol := strings.IndexByte(text[i:], '\n')
				if eol < 0 {
					eol = len(text) - i
				}
				units = append(units, unit{text: strings.TrimSpace(text[i : i+eol]), meta: true, offset: i})
				i += eol
				start, meaningful = i, -1
			default:
				i++ // left for the SQL parser to reject
			}
		default:
			if meaningful < 0 {
				meaningful = i
			}
			i++
		}
	}
	if meaningful < 0 {
		return units, "", openNone
	}
	return units, text[start:], openStmt
}
