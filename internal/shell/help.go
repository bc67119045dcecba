package shell

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/schema"
)

// helpWidth is the width help text is wrapped to.
const helpWidth = 100

// writeHelp prints the meta-commands and what there is to ask help about.
func writeHelp(w io.Writer, cmds []metaCommand) {
	fmt.Fprintln(w, "Shell commands (SQL statements end with ; or \\G, and may span lines):")
	rows := make([][2]string, 0, len(cmds))
	width := 0
	for _, c := range cmds {
		left := strings.Join(c.names, ", ")
		if c.args != "" {
			left += " " + c.args
		}
		width = max(width, len(left))
		rows = append(rows, [2]string{left, c.help})
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(schema.Resources))
	for _, r := range schema.Resources {
		names = append(names, r.Name)
	}
	writeWrapped(w, "Tables:     ", strings.Join(names, ", ")+"  (help TABLE shows its fields, methods and required parameters)")
	for i, p := range schema.Procedures() {
		label := "Procedures: "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintf(w, "%sCALL %s\n", label, p.Method.Signature())
	}
	fmt.Fprintln(w, "Keys:       Tab completes keywords, tables, columns, procedures and parameters; Up/Down and")
	fmt.Fprintln(w, "            Ctrl-R recall history; Ctrl-C cancels the running statement or clears the input.")
	fmt.Fprintln(w, "Example:    SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';")
}

// writeTopic prints help on a table or procedure; false when there is
// no such topic.
func writeTopic(w io.Writer, topic string) bool {
	topic = strings.Trim(strings.TrimSpace(topic), ";`")
	if r, ok := schema.Lookup(topic); ok {
		writeResource(w, r)
		return true
	}
	if ref, ok := schema.LookupMethod(topic); ok && ref.Method.Procedure != "" {
		writeProcedure(w, ref)
		return true
	}
	return writeVerb(w, strings.ToUpper(topic))
}

// writeVerb prints help on a SQL verb: which tables take it, with what
// required parameters, and the examples that use it.
func writeVerb(w io.Writer, verb string) bool {
	if verb == "CALL" {
		fmt.Fprintln(w, "CALL runs a procedure; its arguments are the method's parameters, required first:")
		width := 0
		for _, p := range schema.Procedures() {
			width = max(width, len(p.Method.Signature()))
		}
		for _, p := range schema.Procedures() {
			fmt.Fprintf(w, "  CALL %-*s  %s on %s\n", width, p.Method.Signature(), p.Method.Operation, p.Resource.Name)
		}
		writeExamples(w, "CALL")
		return true
	}
	type row struct{ table, params, op string }
	var rows []row
	width := 0
	for _, r := range schema.Resources {
		for _, m := range r.Methods {
			if string(m.Verb) != verb {
				continue
			}
			rows = append(rows, row{r.Name, m.Requirement(), m.Operation})
			width = max(width, len(r.Name))
		}
	}
	if len(rows) == 0 {
		return false
	}
	where := "in WHERE"
	switch verb {
	case "INSERT":
		where = "as columns of each row"
	case "EXEC":
		where = "as @name = value"
	}
	fmt.Fprintf(w, "%s on iamsql's tables (required parameters go %s):\n", verb, where)
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s (IAM %s)\n", width, r.table, r.params, r.op)
	}
	writeExamples(w, verb)
	return true
}

func writeExamples(w io.Writer, verb string) {
	first := true
	for _, r := range schema.Resources {
		for _, ex := range r.Examples {
			if !strings.HasPrefix(strings.ToUpper(ex.SQL), verb+" ") {
				continue
			}
			if first {
				fmt.Fprintln(w, "Examples:")
				first = false
			}
			fmt.Fprintf(w, "  %s\n", ex.SQL)
		}
	}
}

func writeResource(w io.Writer, r schema.Resource) {
	fmt.Fprintf(w, "%s", r.Name)
	if len(r.StackQLIDs) > 0 {
		fmt.Fprintf(w, " (also %s)", strings.Join(r.StackQLIDs, ", "))
	}
	if r.SessionScoped {
		fmt.Fprint(w, " — session table, memory only")
	}
	fmt.Fprintln(w)
	writeWrapped(w, "  ", r.Doc)

	fmt.Fprintln(w, "\nFields (* = API parameter, usable in WHERE):")
	nameW, typeW := 0, 0
	for _, c := range r.Columns {
		nameW = max(nameW, len(c.Name)+2)
		typeW = max(typeW, len(columnType(c)))
	}
	for _, c := range r.Columns {
		name := c.Name
		if c.Param {
			name += " *"
		}
		doc := c.Doc
		var notes []string
		if len(c.Enum) > 0 {
			notes = append(notes, "one of "+strings.Join(c.Enum, ", "))
		}
		if c.Sensitive {
			notes = append(notes, "sensitive: never logged")
		}
		if len(notes) > 0 {
			doc += " (" + strings.Join(notes, "; ") + ")"
		}
		writeWrapped(w, fmt.Sprintf("  %-*s  %-*s  ", nameW, name, typeW, columnType(c)), doc)
	}

	if len(r.Methods) > 0 {
		fmt.Fprintln(w, "\nMethods:")
		for _, m := range r.Methods {
			fmt.Fprintf(w, "  %-7s %s → %s", m.Verb, m.Name, m.Operation)
			if m.Procedure != "" {
				fmt.Fprintf(w, ", CALL %s", m.Signature())
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "          %s\n", m.Requirement())
		}
	}
	if len(r.Examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, ex := range r.Examples {
			fmt.Fprintf(w, "  -- %s\n  %s\n", ex.Title, ex.SQL)
		}
	}
}

func writeProcedure(w io.Writer, ref schema.ProcedureRef) {
	m := ref.Method
	fmt.Fprintf(w, "CALL %s\n", m.Signature())
	fmt.Fprintf(w, "  %s on %s (IAM %s); requires %s", m.Name, ref.Resource.Name, m.Operation, orNone(m.Required))
	if len(m.Optional) > 0 {
		fmt.Fprintf(w, "; optional %s", strings.Join(m.Optional, ", "))
	}
	fmt.Fprintln(w)
	if len(m.Returns) > 0 {
		fmt.Fprintf(w, "  returns %s\n", strings.Join(m.Returns, ", "))
	}
	writeWrapped(w, "  ", m.Doc)
}

func columnType(c schema.Column) string {
	if c.Size > 0 {
		return fmt.Sprintf("%s(%d)", c.Type, c.Size)
	}
	return string(c.Type)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

// writeWrapped prints text after prefix, wrapped to helpWidth with
// continuation lines indented to the prefix's width.
func writeWrapped(w io.Writer, prefix, text string) {
	indent := strings.Repeat(" ", len([]rune(prefix)))
	line := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len([]rune(line))+1+len([]rune(word)) > helpWidth {
			fmt.Fprintln(w, line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

// formatNames lists the output formats for messages.
func formatNames() string {
	names := make([]string, len(output.Formats))
	for i, f := range output.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, "|")
}
