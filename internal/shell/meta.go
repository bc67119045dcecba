package shell

import (
	"fmt"
	"strings"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/schema"
)

// metaCommand is a shell command that is not SQL. The commands are data:
// help lists them and completion offers their names.
type metaCommand struct {
	// names are the spellings; the first backslash one is the canonical.
	// Words (help, quit) are recognised only at the start of a statement.
	names []string
	args  string
	help  string
	run   func(s *Shell, arg string) (quit bool, err error)
	// wordArgs lets the word spellings take an argument (help TOPIC,
	// source FILE, pager CMD).
	wordArgs bool
}

func metaCommands() []metaCommand {
	return []metaCommand{
		{names: []string{"help", `\?`, `\h`}, args: "[TOPIC]", help: "this help; help TABLE, help PROCEDURE or help SELECT (a verb) shows what it takes", run: (*Shell).cmdHelp, wordArgs: true},
		{names: []string{`\q`, "quit", "exit"}, help: "quit (so does Ctrl-D)", run: func(*Shell, string) (bool, error) { return true, nil }},
		{names: []string{`\G`}, help: "end a statement and print its result vertically, one field per line"},
		{names: []string{`\c`}, help: "clear the statement typed so far (so does Ctrl-C)"},
		{names: []string{`\o`}, args: "[FORMAT]", help: "show or set the output format: " + strings.ReplaceAll(formatNames(), "|", ", "), run: (*Shell).cmdFormat},
		{names: []string{`\timing`}, args: "[on|off]", help: "after each statement, show its time and the IAM calls it made", run: (*Shell).cmdTiming},
		{names: []string{`\d`}, args: "[TABLE]", help: "list the tables, or describe one (like help TABLE)", run: (*Shell).cmdDescribe},
		{names: []string{`\s`, "status"}, help: "the connection: version, AWS account, principal, profile, endpoint; and the shell's settings", run: (*Shell).cmdStatus},
		{names: []string{`\e`, "edit"}, help: "edit the statement typed so far (or the last one) in $EDITOR; it runs if it ends with ;", run: (*Shell).cmdEdit},
		{names: []string{`\P`, "pager"}, args: "[COMMAND]", help: "send results through a pager (default $PAGER or less)", run: (*Shell).cmdPager, wordArgs: true},
		{names: []string{`\n`, "nopager"}, help: "send results to the terminal again", run: (*Shell).cmdNoPager},
		{names: []string{`\.`, "source"}, args: "FILE", help: "run the statements in FILE, stopping at the first error", run: (*Shell).cmdSource, wordArgs: true},
	}
}

// wordCommand recognises help, ?, quit and exit typed at the start of a
// statement (a trailing ; is allowed, as in mysql).
func (s *Shell) wordCommand(line string) (metaCommand, string, bool) {
	fields := strings.Fields(strings.TrimSpace(line))
	if len(fields) == 0 {
		return metaCommand{}, "", false
	}
	word := strings.ToLower(strings.TrimSuffix(fields[0], ";"))
	if word == "?" {
		word = "help"
	}
	for _, c := range s.cmds {
		for _, n := range c.names {
			// Backslash commands are found by scan; only words here.
			if n != word || strings.HasPrefix(n, `\`) {
				continue
			}
			arg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
			arg = strings.TrimSpace(strings.TrimSuffix(arg, ";"))
			if !c.wordArgs && arg != "" {
				return metaCommand{}, "", false // "exit now" is not the command
			}
			return c, arg, true
		}
	}
	return metaCommand{}, "", false
}

// lookupMeta finds the backslash command a line starts with.
func (s *Shell) lookupMeta(text string) (metaCommand, string, bool) {
	name, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(arg), ";"))
	for _, c := range s.cmds {
		for _, n := range c.names {
			if n == name && c.run != nil {
				return c, arg, true
			}
		}
	}
	return metaCommand{}, "", false
}

func (s *Shell) cmdHelp(topic string) (bool, error) {
	if topic == "" {
		writeHelp(s.cfg.Out, s.cmds)
		return false, nil
	}
	if !writeTopic(s.cfg.Out, topic) {
		return false, shellError{fmt.Errorf("no help for %q: ask about a table (%s), a procedure (%s) or a verb (SELECT, INSERT, UPDATE, DELETE, CALL, EXEC)", topic, strings.Join(tableNames(), ", "), strings.Join(schema.ProcedureNames(), ", "))}
	}
	return false, nil
}

func (s *Shell) cmdFormat(arg string) (bool, error) {
	if arg == "" {
		fmt.Fprintf(s.cfg.Out, "Output format: %s (choose with \\o %s)\n", s.runner.Format, formatNames())
		return false, nil
	}
	f, err := output.ParseFormat(arg)
	if err != nil {
		return false, shellError{err}
	}
	s.runner.Format = f
	fmt.Fprintf(s.cfg.Err, "Output format is %s\n", f)
	return false, nil
}

func (s *Shell) cmdTiming(arg string) (bool, error) {
	switch strings.ToLower(arg) {
	case "":
		s.timing = !s.timing
	case "on":
		s.timing = true
	case "off":
		s.timing = false
	default:
		return false, shellError{fmt.Errorf(`\timing takes on or off, not %q`, arg)}
	}
	state := "off"
	if s.timing {
		state = "on"
	}
	fmt.Fprintf(s.cfg.Err, "Timing is %s\n", state)
	return false, nil
}

func (s *Shell) cmdDescribe(arg string) (bool, error) {
	if arg != "" {
		return s.cmdHelp(arg)
	}
	width := 0
	for _, r := range schema.Resources {
		width = max(width, len(r.Name))
	}
	for _, r := range schema.Resources {
		first, _, _ := strings.Cut(r.Doc, ". ")
		req := ""
		if m, ok := r.Method(schema.Select); ok && len(m.Required) > 0 {
			req = " (SELECT requires " + strings.Join(m.Required, ", ") + ")"
		}
		writeWrapped(s.cfg.Out, fmt.Sprintf("  %-*s  ", width, r.Name), strings.TrimSuffix(first, ".")+"."+req)
	}
	return false, nil
}

func tableNames() []string {
	out := make([]string, 0, len(schema.Resources))
	for _, r := range schema.Resources {
		out = append(out, r.Name)
	}
	return out
}

// cmdStatus is mysql's \s: where the shell is connected and how it is set.
func (s *Shell) cmdStatus(string) (bool, error) {
	var rows [][2]string
	if s.cfg.Status != nil {
		rows = s.cfg.Status(s.ctx)
	}
	pager := s.pager
	if pager == "" {
		pager = "stdout"
	}
	timing := "off"
	if s.timing {
		timing = "on"
	}
	rows = append(rows, [][2]string{
		{"Current database", s.cfg.Session.GetCurrentDatabase()},
		{"Output format", string(s.runner.Format)},
		{"Timing", timing},
		{"Pager", pager},
	}...)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0])+1)
	}
	fmt.Fprintln(s.cfg.Out, "--------------")
	for _, r := range rows {
		fmt.Fprintf(s.cfg.Out, "%-*s %s\n", width, r[0]+":", r[1])
	}
	fmt.Fprintln(s.cfg.Out, "--------------")
	return false, nil
}
