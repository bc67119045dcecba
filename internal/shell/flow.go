package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/iamsql/iamsql/provider"
)

// The incident-response flow of a shell, as in mysql: \e edits the
// statement in an editor, \P pages long results, source runs a file, and
// a statement that changes more than one access key asks first.

// maxSourceDepth bounds files that source each other.
const maxSourceDepth = 16

// confirm asks the user whether a statement may change several keys; any
// answer but y or yes (Ctrl-C, the end of input) is no.
func (s *Shell) confirm(ctx context.Context, m provider.Mutation) bool {
	fmt.Fprintln(s.cfg.Err, m.Question())
	answer, err := s.readLine(ctx, "Go ahead? [y/N] ")
	if err != nil {
		return false
	}
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}

// cmdEdit opens the statement being typed, or else the last one run, in
// the editor; what is saved is then read as if typed (a statement ending
// with ; runs).
func (s *Shell) cmdEdit(string) (bool, error) {
	if s.cfg.Edit == nil {
		return false, shellError{errors.New(`\e needs a terminal`)}
	}
	text := s.pending
	if strings.TrimSpace(text) == "" {
		text = s.last
	}
	f, err := os.CreateTemp("", "iamsql-*.sql")
	if err != nil {
		return false, shellError{err}
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, shellError{err}
	}
	if err := s.cfg.Edit(f.Name()); err != nil {
		return false, shellError{fmt.Errorf("editor: %w", err)}
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return false, shellError{err}
	}
	s.pending, s.entry = "", nil
	edited := strings.TrimRight(string(b), "\n")
	if strings.TrimSpace(edited) == "" {
		return false, nil
	}
	fmt.Fprintln(s.cfg.Out, edited)
	for _, line := range strings.Split(edited, "\n") {
		s.line++
		if quit, _ := s.handleLine(s.ctx, line); quit {
			return true, nil
		}
	}
	return false, nil
}

// cmdPager sends results through a pager (\P COMMAND, or the default:
// $PAGER or less); \n sends them to the terminal again.
func (s *Shell) cmdPager(arg string) (bool, error) {
	s.pager = arg
	if s.pager == "" {
		s.pager = s.cfg.Pager
	}
	fmt.Fprintf(s.cfg.Err, "PAGER set to '%s'\n", s.pager)
	return false, nil
}

func (s *Shell) cmdNoPager(string) (bool, error) {
	s.pager = ""
	fmt.Fprintln(s.cfg.Err, "PAGER set to stdout")
	return false, nil
}

// paged starts the pager for one statement's results, when one is set;
// done waits for it to finish.
func (s *Shell) paged() (done func(), err error) {
	if s.pager == "" || s.cfg.Batch {
		return func() {}, nil
	}
	cmd := exec.Command("sh", "-c", s.pager)
	cmd.Stdout, cmd.Stderr = s.cfg.Out, s.cfg.Err
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pager %q: %w", s.pager, err)
	}
	s.runner.Out = in
	return func() {
		in.Close()
		_ = cmd.Wait()
		s.runner.Out = s.cfg.Out
	}, nil
}

// cmdSource runs the statements of a file, stopping at the first that
// fails, whose error names the file and line.
func (s *Shell) cmdSource(arg string) (bool, error) {
	name := strings.Trim(arg, `'"`)
	if name == "" {
		return false, shellError{errors.New("source needs a file name: source FILE")}
	}
	if len(s.sources) >= maxSourceDepth {
		return false, shellError{fmt.Errorf("source %s: files source each other more than %d deep", name, maxSourceDepth)}
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return false, shellError{fmt.Errorf("source: %w", err)}
	}
	text := string(b)
	units, rest, _ := scan(text)
	if strings.TrimSpace(rest) != "" {
		// The last statement needs no terminator, as in a script.
		units = append(units, unit{text: strings.TrimSpace(rest), offset: len(text) - len(rest)})
	}
	s.sources = append(s.sources, name)
	defer func() { s.sources = s.sources[:len(s.sources)-1] }()
	for _, u := range units {
		line := 1 + strings.Count(text[:u.offset], "\n")
		if !u.meta {
			if cmd, arg, ok := s.wordCommand(u.text); ok {
				if q, err := cmd.run(s, arg); q || err != nil {
					if err != nil {
						s.report(err, line)
					}
					return q, nil
				}
				continue
			}
		}
		quit, ok, aborted := s.runUnit(s.ctx, u, line)
		if quit || !ok || aborted {
			return quit, nil
		}
	}
	return false, nil
}
