// Package shell is iamsql's interactive SQL shell, in the manner of the
// mysql, psql and sqlite3 shells: a prompt naming the database, statements
// that span lines and end with `;` (or `\G` for vertical output),
// meta-commands (help, \o, \timing, \q), Tab completion and help derived
// from package schema, a history file that never stores a secret, and
// Ctrl-C that cancels the running statement — with its in-flight IAM
// calls — rather than the shell. Without a terminal it runs a script the
// way `mysql < script.sql` does.
//
// The shell reads lines through LineReader, so tests drive it by feeding
// lines; Terminal is the real line editor.
package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/run"
	"github.com/iamsql/iamsql/provider"
)

// LineReader reads the shell's input one line at a time.
type LineReader interface {
	// ReadLine shows prompt and returns the line typed, without its end
	// of line. It returns ErrInterrupt when the user pressed Ctrl-C, and
	// io.EOF at the end of input (Ctrl-D).
	ReadLine(prompt string) (string, error)
}

// A LineReader may also recall history and complete words; the shell uses
// these when it has them.
type (
	historyRecaller interface{ AddHistory(entry string) }
	completing      interface {
		SetCompleter(func(line string, pos int) (head string, completions []string, tail string))
	}
)

// ErrInterrupt is returned by a LineReader when Ctrl-C was pressed at the
// prompt: the input typed so far is dropped.
var ErrInterrupt = errors.New("interrupted")

// ErrFailed is returned by Run in batch mode when a statement failed; its
// error has already been printed.
var ErrFailed = errors.New("a statement failed")

// ErrPartial is returned by Run in batch mode when every statement ran but
// a result was partial (a part of the account could not be read).
var ErrPartial = errors.New("a result was partial: a part of the account could not be read (see the warnings)")

// Config configures a Shell.
type Config struct {
	Engine  *provider.Engine
	Session *provider.Session
	In      LineReader
	// Out receives results; Err errors, notes and summaries.
	Out, Err io.Writer
	Format   output.Format
	// Interrupts delivers Ctrl-C while a statement runs; each receive
	// cancels the running statement.
	Interrupts <-chan struct{}
	// History, when set, stores what is entered (never a secret).
	History *History
	// Batch runs a script: no greeting, no history, errors carry line
	// numbers and the first failed statement ends the run (unless Force).
	// Otherwise the shell is interactive and goes on after errors.
	Batch bool
	Force bool
	// Greeting is printed when an interactive shell starts.
	Greeting string
	// Footers adds mysql's "N rows in set (0.01 sec)" and the time of
	// "Query OK" in the table and vertical formats.
	Footers bool
	// Confirm asks before a statement changes more than one access key
	// (an interactive shell without --yes).
	Confirm bool
	// Edit opens a file in the user's editor and returns when it is
	// closed (\e); nil without a terminal.
	Edit func(path string) error
	// Pager is the command \P pages results through when given none
	// ($PAGER, or less).
	Pager string
	// Prompt is put before the database name in the prompt: whom the
	// shell acts as ("alice@123456789012 ").
	Prompt string
	// Status describes the connection for \s (version, account,
	// principal, profile, endpoint), as label and value.
	Status func(ctx context.Context) [][2]string
}

// Shell is one shell session.
type Shell struct {
	cfg    Config
	runner *run.Runner
	cmds   []metaCommand
	timing bool

	// pending is the input of an unfinished statement; entry is the raw
	// input since the last complete one, for the history.
	pending     string
	pendingLine int
	entry       []string
	line        int
	failed      bool

	// ctx is Run's, for meta-commands that run statements (source, \e).
	ctx context.Context
	// last is the last statement run, for \e.
	last string
	// pager pages results when set (\P).
	pager string
	// sources are the files being sourced, innermost last.
	sources []string
}

// New returns a shell over cfg.Engine and cfg.Session.
func New(cfg Config) *Shell {
	if cfg.Format == "" {
		cfg.Format = output.Table
	}
	s := &Shell{
		cfg: cfg,
		runner: &run.Runner{
			Engine: cfg.Engine, Session: cfg.Session,
			Out: cfg.Out, Err: cfg.Err, Format: cfg.Format, Footers: cfg.Footers,
		},
	}
	s.cmds = metaCommands()
	if cfg.Confirm && !cfg.Batch {
		cfg.Session.Confirm = s.confirm
	}
	return s
}

// Run reads and runs input until \q, the end of input or ctx ends. In
// batch mode it returns ErrFailed when a statement failed.
func (s *Shell) Run(ctx context.Context) error {
	s.ctx = ctx
	if c, ok := s.cfg.In.(completing); ok {
		c.SetCompleter(s.Complete)
	}
	if h, ok := s.cfg.In.(historyRecaller); ok && s.cfg.History != nil && !s.cfg.Batch {
		entries, err := s.cfg.History.Load()
		if err != nil {
			fmt.Fprintf(s.cfg.Err, "iamsql: %v\n", err)
		}
		for _, e := range entries {
			h.AddHistory(e)
		}
	}
	if !s.cfg.Batch && s.cfg.Greeting != "" {
		fmt.Fprint(s.cfg.Out, s.cfg.Greeting)
	}
	for {
		s.drainInterrupts()
		text, err := s.readLine(ctx, s.prompt())
		switch {
		case errors.Is(err, ErrInterrupt):
			s.pending, s.entry = "", nil
			continue
		case errors.Is(err, io.EOF):
			return s.finish(ctx)
		case err != nil:
			return err
		}
		s.line++
		if quit, stop := s.handleLine(ctx, text); quit || stop {
			if stop {
				return ErrFailed
			}
			if !s.cfg.Batch {
				fmt.Fprintln(s.cfg.Out, "Bye")
			}
			return s.result()
		}
	}
}

// finish handles the end of input: a script's last statement needs no
// terminator, as with mysql.
func (s *Shell) finish(ctx context.Context) error {
	if s.cfg.Batch && s.pending != "" {
		// Run it as it is, even with a string left open: the parser
		// says what is wrong with it.
		text := s.pending
		s.pending = ""
		_, ok, _ := s.runUnit(ctx, unit{text: strings.TrimSpace(text)}, s.pendingLine)
		if !ok && !s.cfg.Force {
			return ErrFailed
		}
	}
	if !s.cfg.Batch {
		fmt.Fprintln(s.cfg.Out, "\nBye") // Ctrl-D left the cursor after the prompt
	}
	return s.result()
}

func (s *Shell) result() error {
	switch {
	case s.cfg.Batch && s.failed:
		return ErrFailed
	case s.cfg.Batch && s.runner.Partial:
		return ErrPartial
	}
	return nil
}

// readLine reads a line, giving up when ctx ends (SIGTERM) even if the
// reader is blocked on a terminal.
func (s *Shell) readLine(ctx context.Context, prompt string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type read struct {
		line string
		err  error
	}
	ch := make(chan read, 1)
	go func() {
		l, err := s.cfg.In.ReadLine(prompt)
		ch <- read{l, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// prompt names the current database, like mysql's "mysql>"; the
// continuation prompt says what the statement is waiting for.
func (s *Shell) prompt() string {
	if s.pending == "" {
		db := s.cfg.Session.GetCurrentDatabase()
		if db == "" {
			db = "iamsql"
		}
		return s.cfg.Prompt + db + "> "
	}
	_, _, open := scan(s.pending)
	switch open {
	case '\'', '"', '`':
		return "  " + string(rune(open)) + "> "
	case openComment:
		return " /*> "
	}
	return "  -> "
}

// handleLine takes one line of input. quit is set by \q; stop when a
// batch must end because a statement failed.
func (s *Shell) handleLine(ctx context.Context, text string) (quit, stop bool) {
	if strings.TrimSpace(text) == `\e` && !s.cfg.Batch {
		// \e edits what is typed so far, so it is taken even inside a
		// statement.
		q, err := s.cmdEdit("")
		if err != nil {
			s.report(err, s.line)
		}
		return q, false
	}
	if s.pending == "" {
		if cmd, arg, ok := s.wordCommand(text); ok {
			s.remember(text)
			s.commitHistory()
			q, err := cmd.run(s, arg)
			if err != nil {
				s.report(err, s.line)
				return false, s.cfg.Batch && !s.cfg.Force
			}
			return q, false
		}
		s.pendingLine = s.line
	}
	s.remember(text)
	s.pending += text + "\n"
	units, rest, _ := scan(s.pending)
	for _, u := range units {
		line := s.pendingLine + strings.Count(s.pending[:u.offset], "\n")
		q, ok, aborted := s.runUnit(ctx, u, line)
		if q {
			s.commitHistory()
			return true, false
		}
		if aborted {
			// Ctrl-C ends what was typed, not just the one statement.
			rest = ""
			break
		}
		if !ok && s.cfg.Batch && !s.cfg.Force {
			return false, true
		}
	}
	if rest == "" {
		s.pending = ""
		s.commitHistory()
		return false, false
	}
	// Keep the unfinished statement; line numbers count from its start.
	s.pendingLine += strings.Count(s.pending[:len(s.pending)-len(rest)], "\n")
	s.pending = rest
	return false, false
}

func (s *Shell) remember(text string) { s.entry = append(s.entry, text) }

// commitHistory stores the input that made up the finished statements.
func (s *Shell) commitHistory() {
	raw := strings.Join(s.entry, "\n")
	entry := historyEntry(raw)
	s.entry = nil
	if s.cfg.Batch || entry == "" || Sensitive(raw) || s.cfg.Session.MentionsSecret(raw) {
		return
	}
	if h, ok := s.cfg.In.(historyRecaller); ok {
		h.AddHistory(entry)
	}
	if s.cfg.History != nil {
		if _, err := s.cfg.History.Add(entry); err != nil {
			fmt.Fprintf(s.cfg.Err, "iamsql: %v\n", err)
		}
	}
}

// runUnit runs a statement or meta-command. ok is false when it failed;
// aborted when Ctrl-C cancelled it.
func (s *Shell) runUnit(ctx context.Context, u unit, line int) (quit, ok, aborted bool) {
	if u.meta {
		cmd, arg, found := s.lookupMeta(u.text)
		if !found {
			s.report(shellError{fmt.Errorf("unknown command %s (type help or \\? for the list)", strings.Fields(u.text)[0])}, line)
			return false, false, false
		}
		q, err := cmd.run(s, arg)
		if err != nil {
			s.report(err, line)
			return false, false, false
		}
		return q, true, false
	}
	stmts, err := provider.SplitStatements(u.text)
	if err != nil {
		s.report(err, line)
		return false, false, false
	}
	ok = true
	s.last = u.text + ";"
	if u.vertical {
		s.last = u.text + `\G`
	}
	for _, stmt := range stmts {
		aborted, err := s.runStatement(ctx, stmt, u.vertical)
		switch {
		case aborted:
			fmt.Fprintln(s.cfg.Err, "Query aborted by Ctrl-C")
			if !provider.CancelOnly(err) {
				// What happened to the keys it created (deleted again, or
				// its outcome unknown) is the user's to know.
				s.report(err, line)
			}
			s.failed = true
		case err != nil:
			s.report(err, line)
		}
		if s.timing {
			s.printTiming()
		}
		if aborted {
			return false, false, true
		}
		if err != nil {
			ok = false
			if s.cfg.Batch && !s.cfg.Force {
				break
			}
		}
	}
	return false, ok, false
}

// runStatement runs one statement with a context that Ctrl-C cancels. A
// second Ctrl-C while it still runs (waiting for IAM's answer to a create,
// deleting keys again) cuts that custody work short.
func (s *Shell) runStatement(ctx context.Context, stmt string, vertical bool) (aborted bool, err error) {
	if vertical {
		defer func(f output.Format) { s.runner.Format = f }(s.runner.Format)
		s.runner.Format = output.Vertical
	}
	hard, hardCancel := context.WithCancel(provider.HardStop(ctx))
	defer hardCancel()
	stmtCtx, cancel := context.WithCancel(provider.WithHardStop(ctx, hard))
	defer cancel()
	interrupted := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-s.cfg.Interrupts:
			close(interrupted)
			cancel()
		case <-done:
			return
		}
		select {
		case <-s.cfg.Interrupts:
			hardCancel()
		case <-done:
		}
	}()
	unpage, err := s.paged()
	if err != nil {
		close(done)
		return false, err
	}
	err = s.run(stmtCtx, stmt)
	unpage()
	close(done)
	select {
	case <-interrupted:
		aborted = err != nil
	default:
	}
	return aborted, err
}

// run runs one statement. A panic below it ends the statement, not the
// shell: a shell people live in must not vanish with their session.
func (s *Shell) run(ctx context.Context, stmt string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if ctx.Err() != nil {
				err = ctx.Err() // e.g. an HTTP handler aborted by the cancellation
				return
			}
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return s.runner.Run(ctx, stmt)
}

// drainInterrupts drops a Ctrl-C that came after the last statement had
// finished, so it does not cancel the next one.
func (s *Shell) drainInterrupts() {
	for {
		select {
		case <-s.cfg.Interrupts:
		default:
			return
		}
	}
}

// printTiming is what \timing adds after a statement: its time and the
// IAM calls it made, by operation.
func (s *Shell) printTiming() {
	st := s.runner.Last
	calls := fmt.Sprintf("%d IAM call", st.CallCount())
	if st.CallCount() != 1 {
		calls += "s"
	}
	if len(st.Calls) > 0 {
		calls += " (" + provider.FormatCalls(st.Calls, "%s %d") + ")"
	}
	fmt.Fprintf(s.cfg.Err, "Time: %.3f sec, %s\n", st.Elapsed.Seconds(), calls)
}

// report prints an error on one line; in a script, with the line where
// the statement started, as mysql does.
func (s *Shell) report(err error, line int) {
	s.failed = true
	msg := "ERROR: " + err.Error()
	var se shellError
	if !errors.As(err, &se) {
		msg = provider.FormatError(err)
	}
	switch {
	case len(s.sources) > 0:
		msg = atLine(msg, line) + fmt.Sprintf(" (in %s)", s.sources[len(s.sources)-1])
	case s.cfg.Batch:
		msg = atLine(msg, line)
	}
	fmt.Fprintln(s.cfg.Err, msg)
}

// shellError is a mistake in a meta-command, not an SQL error.
type shellError struct{ error }

// atLine turns "ERROR 1210 (HY000): …" into "ERROR 1210 (HY000) at line
// 3: …".
func atLine(msg string, line int) string {
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "ERROR") {
		return fmt.Sprintf("%s at line %d%s", msg[:i], line, msg[i:])
	}
	return fmt.Sprintf("%s (line %d)", msg, line)
}
