package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/peterh/liner"
)

// Terminal is the line editor of an interactive shell on a real terminal
// (github.com/peterh/liner): Emacs-style editing, Up/Down and Ctrl-R
// through the history, Tab completion. Between prompts the terminal
// delivers Ctrl-C as SIGINT, which is how a running statement is
// cancelled; at the prompt Ctrl-C is a key that clears the input.
type Terminal struct {
	st *liner.State
}

var (
	_ LineReader      = (*Terminal)(nil)
	_ historyRecaller = (*Terminal)(nil)
	_ completing      = (*Terminal)(nil)
)

// NewTerminal takes over the process's terminal (standard input and
// output) until Close.
func NewTerminal() *Terminal {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	st.SetMultiLineMode(true)
	return &Terminal{st: st}
}

// ReadLine implements LineReader.
func (t *Terminal) ReadLine(prompt string) (string, error) {
	line, err := t.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", ErrInterrupt
	}
	return line, err
}

// AddHistory makes an entry recallable with Up and Ctrl-R.
func (t *Terminal) AddHistory(entry string) { t.st.AppendHistory(entry) }

// SetCompleter sets what Tab calls.
func (t *Terminal) SetCompleter(f func(line string, pos int) (string, []string, string)) {
	t.st.SetWordCompleter(f)
}

// Close gives the terminal back in the mode it was found in.
func (t *Terminal) Close() error { return t.st.Close() }

// PlainReader reads lines from a reader without editing: scripts on
// standard input, or a terminal whose output is redirected. Prompts, if
// any, go to Prompts.
type PlainReader struct {
	r       *bufio.Reader
	prompts io.Writer
}

var _ LineReader = (*PlainReader)(nil)

// NewPlainReader reads lines from r; prompts are written to prompts
// unless it is nil.
func NewPlainReader(r io.Reader, prompts io.Writer) *PlainReader {
	return &PlainReader{r: bufio.NewReader(r), prompts: prompts}
}

// ReadLine implements LineReader.
func (p *PlainReader) ReadLine(prompt string) (string, error) {
	if p.prompts != nil {
		fmt.Fprint(p.prompts, prompt)
	}
	line, err := p.r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
