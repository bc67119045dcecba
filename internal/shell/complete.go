package shell

import (
	"strings"
	"unicode"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/schema"
)

// Completion is derived from package schema: table names (and StackQL
// ids), the columns of the tables a statement names, procedure names, the
// parameters of a method (INSERT's column list, EXEC's @params, a CALL's
// arguments) and the values a parameter can take (regions, enums).

// statementKeywords can start a statement.
var statementKeywords = []string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "CALL", "EXEC", "DESCRIBE", "SHOW", "EXPLAIN", "WITH", "USE", "SET",
}

// sqlKeywords are offered wherever a column could go.
var sqlKeywords = []string{
	"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "BETWEEN", "AS",
	"JOIN", "INNER", "LEFT", "RIGHT", "OUTER", "ON", "ORDER", "BY", "GROUP", "HAVING", "LIMIT", "OFFSET",
	"ASC", "DESC", "DISTINCT", "COUNT", "MIN", "MAX", "SUM", "INTO", "VALUES", "SET", "CASE", "WHEN",
	"THEN", "ELSE", "END", "UNION", "ALL", "EXISTS", "NOW", "CURRENT_DATE", "DATEDIFF", "TIMESTAMPDIFF",
	"INTERVAL", "DAY", "TRUE", "FALSE",
}

// showKeywords follow SHOW.
var showKeywords = []string{
	"TABLES", "FULL", "COLUMNS", "CREATE", "DATABASES", "WARNINGS", "ERRORS", "VARIABLES", "INDEX",
	"PROCEDURE", "STATUS",
}

// tableKeywords are the keywords a table name follows.
var tableKeywords = map[string]bool{
	"FROM": true, "JOIN": true, "INTO": true, "UPDATE": true, "TABLE": true, "DESCRIBE": true, "DESC": true,
}

// Complete returns completions for the word before the cursor, in the
// shape of liner's WordCompleter: the line is head + a completion + tail.
// pos counts runes. The statement typed on earlier lines counts too.
func (s *Shell) Complete(line string, pos int) (head string, completions []string, tail string) {
	defer func() {
		// Tab must never take the shell down; at worst it completes nothing.
		if recover() != nil {
			head, completions, tail = line, nil, ""
		}
	}()
	r := []rune(line)
	if pos < 0 || pos > len(r) {
		pos = len(r)
	}
	before, tail := string(r[:pos]), string(r[pos:])

	if s.pending == "" {
		if trimmed := strings.TrimLeft(before, " \t"); strings.HasPrefix(trimmed, `\`) || startsWithWord(trimmed, "help") {
			return s.completeMeta(before, trimmed, tail)
		}
	}

	_, stmt, _ := scan(s.pending + before)
	tailOfStmt, _, _ := strings.Cut(tail, ";")
	full := stmt + tailOfStmt
	toks := lex(stmt)
	refs := referencedTables(lex(full))

	// Inside a string: complete a value of the parameter it is for.
	if n := len(toks); n > 0 && toks[n-1].kind == tokStr && toks[n-1].open {
		t := toks[n-1]
		prefix := t.text[1:]
		head = strings.TrimSuffix(before, prefix)
		var vals []string
		for _, v := range valuesOf(paramAt(toks, n-1, refs), refs) {
			vals = append(vals, v+t.text[:1])
		}
		return head, match(prefix, vals, nil), tail
	}

	word := ""
	if n := len(toks); n > 0 && toks[n-1].kind == tokWord && strings.HasSuffix(before, toks[n-1].text) {
		word = toks[n-1].text
		toks = toks[:n-1]
	}
	head = strings.TrimSuffix(before, word)
	return head, s.candidates(word, toks, refs), tail
}

// candidates decides what may stand where word is typed, after toks, in
// a statement that refers to refs.
func (s *Shell) candidates(word string, toks []ctok, refs tables) []string {
	if len(toks) == 0 {
		var words []string
		if s.pending == "" {
			words = []string{"help", "quit", "exit"}
		}
		return match(word, words, statementKeywords)
	}
	verb := strings.ToUpper(toks[0].text)
	last := toks[len(toks)-1]
	lastUp := strings.ToUpper(last.text)

	// A qualified name: alias.column, or a StackQL id.
	if i := strings.LastIndexByte(word, '.'); i >= 0 {
		if (verb == "EXEC" || verb == "EXECUTE") && len(toks) == 1 {
			return match(word, execNames(), nil)
		}
		if r, ok := refs.resolve(word[:i]); ok {
			var cols []string
			for _, c := range r.Columns {
				cols = append(cols, word[:i+1]+c.Name)
			}
			return match(word, cols, nil)
		}
		return match(word, tableCandidates(word), nil)
	}

	switch {
	case last.kind == tokWord && tableKeywords[lastUp] && !(verb == "SHOW" && lastUp != "FROM" && lastUp != "TABLE"):
		return match(word, tableCandidates(word), nil)
	case last.kind == tokPunct && last.text == "," && clause(toks) == "FROM":
		return match(word, tableCandidates(word), nil)
	case lastUp == "CALL" && len(toks) == 1:
		var procs []string
		for _, p := range schema.Procedures() {
			procs = append(procs, p.Method.Procedure+"(")
		}
		return match(word, procs, nil)
	case (verb == "EXEC" || verb == "EXECUTE") && len(toks) == 1:
		return match(word, execNames(), nil)
	case verb == "EXEC" || verb == "EXECUTE":
		return match(word, execParams(toks, word), nil)
	case verb == "SHOW" && len(toks) == 1:
		return match(word, nil, showKeywords)
	}

	// Inside parentheses: an INSERT column list or a CALL's arguments.
	if open, _ := enclosing(toks, len(toks)); open >= 0 {
		if verb == "INSERT" && isInsertColumnList(toks, open) {
			if r, ok := refs.first(); ok {
				return match(word, insertParams(r), nil)
			}
		}
		if verb == "CALL" && open == 2 {
			param := paramAt(toks, len(toks), refs)
			var vals []string
			for _, v := range valuesOf(param, refs) {
				vals = append(vals, "'"+v+"'")
			}
			return match(word, vals, nil)
		}
	}

	if verb == "UPDATE" && clause(toks) == "SET" && (lastUp == "SET" || last.text == ",") {
		if r, ok := refs.first(); ok {
			return match(word, settable(r), nil)
		}
	}
	// After `column =`: the values schema knows for it, quoted.
	if last.text == "=" {
		if vals := valuesOf(paramAt(toks, len(toks), refs), refs); len(vals) > 0 {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = "'" + v + "'"
			}
			return match(word, quoted, nil)
		}
	}
	// Where an expression starts, columns; after one, keywords. Once
	// something is typed, both.
	switch {
	case word != "":
		return match(word, columnCandidates(refs), sqlKeywords)
	case expectsExpression(last):
		return match(word, columnCandidates(refs), nil)
	default:
		return match(word, nil, sqlKeywords)
	}
}

// expectsExpression reports whether an expression (a column) can follow
// the token.
func expectsExpression(t ctok) bool {
	if t.kind == tokPunct {
		return strings.Contains(",(=<>!+-*/", t.text)
	}
	if t.kind != tokWord {
		return false
	}
	switch strings.ToUpper(t.text) {
	case "SELECT", "WHERE", "AND", "OR", "ON", "BY", "HAVING", "NOT", "DISTINCT", "SET", "WHEN", "THEN", "ELSE", "LIKE", "IS", "BETWEEN":
		return true
	}
	return false
}

// completeMeta completes backslash commands, help topics and \o formats.
func (s *Shell) completeMeta(before, trimmed, tail string) (string, []string, string) {
	fields := strings.Fields(trimmed)
	typingName := len(fields) <= 1 && !strings.HasSuffix(trimmed, " ")
	if typingName {
		word := trimmed
		var names []string
		for _, c := range s.cmds {
			for _, n := range c.names {
				if strings.HasPrefix(n, `\`) == strings.HasPrefix(word, `\`) {
					names = append(names, n)
				}
			}
		}
		return strings.TrimSuffix(before, word), match(word, names, nil), tail
	}
	word := ""
	if !strings.HasSuffix(trimmed, " ") {
		word = fields[len(fields)-1]
	}
	if len(fields) > 2 || (len(fields) == 2 && word == "") {
		return before, nil, tail
	}
	head := strings.TrimSuffix(before, word)
	switch strings.ToLower(fields[0]) {
	case `\o`:
		var names []string
		for _, f := range output.Formats {
			names = append(names, string(f))
		}
		return head, match(word, names, nil), tail
	case `\timing`:
		return head, match(word, []string{"on", "off"}, nil), tail
	case "help", `\?`, `\h`, `\d`:
		return head, match(word, append(tableNames(), schema.ProcedureNames()...), []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CALL", "EXEC"}), tail
	}
	return before, nil, tail
}

// match returns the candidates (names kept as written, keywords in the
// case the user types them in) that start with word, ignoring case. When
// several differ from word in case, they are written with word's case so
// that their common prefix does not undo what was typed; SQL names are
// case-insensitive.
func match(word string, names, keywords []string) []string {
	lower := word != "" && strings.ToLower(word) == word && strings.ToUpper(word) != word
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if len(c) < len(word) || !strings.EqualFold(c[:len(word)], word) || seen[strings.ToLower(c)] {
			return
		}
		seen[strings.ToLower(c)] = true
		out = append(out, c)
	}
	for _, n := range names {
		add(n)
	}
	for _, k := range keywords {
		if lower {
			k = strings.ToLower(k)
		}
		add(k)
	}
	if len(out) > 1 {
		for i, c := range out {
			if c[:len(word)] != word {
				out[i] = word + c[len(word):]
			}
		}
	}
	return out
}

// Lexing for completion: words (with dots and @, so qualified names and
// EXEC parameters are one word), strings, punctuation; spaces and
// comments dropped.

type ctokKind int

const (
	tokWord ctokKind = iota
	tokStr
	tokPunct
)

type ctok struct {
	kind ctokKind
	text string
	open bool // an unterminated string
}

func isCompletionWordRune(c byte) bool {
	return c == '_' || c == '$' || c == '@' || c == '.' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func lex(text string) []ctok {
	var out []ctok
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '#' || provider.IsDashComment(text[i:]):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'' || c == '"':
			end, ok := provider.QuoteEnd(text, i)
			out = append(out, ctok{kind: tokStr, text: text[i:end], open: !ok})
			i = end
		case c == '`':
			end, ok := provider.QuoteEnd(text, i)
			out = append(out, ctok{kind: tokWord, text: strings.Trim(text[i:end], "`"), open: !ok})
			i = end
		case isCompletionWordRune(c):
			j := i
			for j < len(text) && isCompletionWordRune(text[j]) {
				j++
			}
			out = append(out, ctok{kind: tokWord, text: text[i:j]})
			i = j
		default:
			out = append(out, ctok{kind: tokPunct, text: text[i : i+1]})
			i++
		}
	}
	return out
}

func startsWithWord(s, word string) bool {
	f := strings.Fields(s)
	return len(f) > 0 && strings.EqualFold(f[0], word) && (len(f) > 1 || strings.HasSuffix(s, " "))
}

// tables is what a statement refers to: table names and aliases.
type tables struct {
	order []schema.Resource
	names map[string]schema.Resource // lower-cased name or alias
}

func (t tables) resolve(name string) (schema.Resource, bool) {
	if r, ok := t.names[strings.ToLower(name)]; ok {
		return r, true
	}
	return schema.Lookup(name)
}

func (t tables) first() (schema.Resource, bool) {
	if len(t.order) == 0 {
		return schema.Resource{}, false
	}
	return t.order[0], true
}

// referencedTables finds the tables after FROM, JOIN, INTO, UPDATE and
// DESCRIBE (and in FROM lists), with their aliases.
func referencedTables(toks []ctok) tables {
	t := tables{names: map[string]schema.Resource{}}
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokWord || !tableKeywords[strings.ToUpper(toks[i].text)] {
			continue
		}
		for j := i + 1; j < len(toks) && toks[j].kind == tokWord; {
			r, ok := schema.Lookup(toks[j].text)
			if !ok {
				break
			}
			t.order = append(t.order, r)
			t.names[strings.ToLower(toks[j].text)] = r
			j++
			if j < len(toks) && strings.EqualFold(toks[j].text, "AS") {
				j++
			}
			if j < len(toks) && toks[j].kind == tokWord && !isKeyword(toks[j].text) {
				t.names[strings.ToLower(toks[j].text)] = r
				j++
			}
			if j+1 < len(toks) && toks[j].text == "," {
				j++
				continue
			}
			break
		}
	}
	return t
}

func isKeyword(w string) bool {
	w = strings.ToUpper(w)
	for _, list := range [][]string{sqlKeywords, statementKeywords} {
		for _, k := range list {
			if k == w {
				return true
			}
		}
	}
	return false
}

// clause is the last clause keyword at the top level of toks.
func clause(toks []ctok) string {
	depth := 0
	for i := len(toks) - 1; i >= 0; i-- {
		switch t := toks[i]; {
		case t.text == ")":
			depth++
		case t.text == "(":
			depth--
		case depth <= 0 && t.kind == tokWord:
			switch u := strings.ToUpper(t.text); u {
			case "SELECT", "FROM", "JOIN", "WHERE", "SET", "ON", "BY", "HAVING", "LIMIT", "VALUES":
				if u == "JOIN" {
					return "FROM"
				}
				return u
			}
		}
	}
	return ""
}

// enclosing finds the open parenthesis the position end of toks is inside
// (-1 if none) and how many commas precede it within that group.
func enclosing(toks []ctok, end int) (open, arg int) {
	depth := 0
	for i := end - 1; i >= 0; i-- {
		switch toks[i].text {
		case ")":
			depth++
		case "(":
			if depth == 0 {
				return i, arg
			}
			depth--
		case ",":
			if depth == 0 {
				arg++
			}
		}
	}
	return -1, 0
}

// isInsertColumnList reports whether the parenthesis at open is INSERT
// INTO t's column list.
func isInsertColumnList(toks []ctok, open int) bool {
	return open >= 3 && strings.EqualFold(toks[open-2].text, "INTO") && toks[open-1].kind == tokWord
}

// paramAt names the parameter a value at position end of toks is for:
// the column compared with = or IN, the EXEC @param, the CALL argument
// or the INSERT column at that position.
func paramAt(toks []ctok, end int, refs tables) string {
	if end >= 2 && toks[end-1].text == "=" && toks[end-2].kind == tokWord {
		return paramName(toks[end-2].text)
	}
	open, arg := enclosing(toks, end)
	if open < 1 {
		return ""
	}
	before := toks[open-1]
	switch {
	case strings.EqualFold(before.text, "IN") && open >= 2:
		return paramName(toks[open-2].text)
	case open >= 2 && strings.EqualFold(toks[open-2].text, "CALL"):
		if ref, ok := schema.LookupMethod(before.text); ok {
			if p := ref.Method.Params(); arg < len(p) {
				return p[arg]
			}
		}
	case strings.EqualFold(before.text, "VALUES") || before.text == ",":
		cols := insertColumns(toks)
		if cols == nil {
			if r, ok := refs.first(); ok {
				for _, c := range r.Columns {
					cols = append(cols, c.Name)
				}
			}
		}
		if arg < len(cols) {
			return cols[arg]
		}
	}
	return ""
}

// paramName strips a qualifier or @ from a column reference.
func paramName(ref string) string {
	if i := strings.LastIndexByte(ref, '.'); i >= 0 {
		ref = ref[i+1:]
	}
	return strings.TrimPrefix(ref, "@")
}

// insertColumns is the column list of INSERT INTO t (…), if given.
func insertColumns(toks []ctok) []string {
	for i := 0; i+3 < len(toks); i++ {
		if !strings.EqualFold(toks[i].text, "INTO") || toks[i+2].text != "(" {
			continue
		}
		var cols []string
		for j := i + 3; j < len(toks) && toks[j].text != ")"; j++ {
			if toks[j].kind == tokWord {
				cols = append(cols, toks[j].text)
			}
		}
		return cols
	}
	return nil
}

// valuesOf lists the values a parameter can take, when schema knows them.
func valuesOf(param string, refs tables) []string {
	if param == "" {
		return nil
	}
	if strings.EqualFold(param, "region") {
		return schema.RegionNames()
	}
	rs := append([]schema.Resource(nil), refs.order...)
	rs = append(rs, schema.Resources...)
	for _, r := range rs {
		if c, ok := r.Column(param); ok && len(c.Enum) > 0 {
			return c.Enum
		}
	}
	return nil
}

// tableCandidates are the table names, and the StackQL ids once the word
// is on its way to one (aws…).
func tableCandidates(word string) []string {
	var out []string
	for _, r := range schema.Resources {
		out = append(out, r.Name)
	}
	if len(word) < 3 || !strings.EqualFold(word[:3], "aws") {
		return out
	}
	for _, r := range schema.Resources {
		out = append(out, r.StackQLIDs...)
	}
	return out
}

// columnCandidates are the columns of the referenced tables, or of every
// table when the statement names none yet.
func columnCandidates(refs tables) []string {
	rs := refs.order
	if len(rs) == 0 {
		rs = schema.Resources
	}
	var out []string
	for _, r := range rs {
		for _, c := range r.Columns {
			out = append(out, c.Name)
		}
	}
	return out
}

// insertParams are the columns INSERT takes: its method's parameters,
// required first.
func insertParams(r schema.Resource) []string {
	if m, ok := r.Method(schema.Insert); ok {
		return m.Params()
	}
	var out []string
	for _, c := range r.Columns {
		out = append(out, c.Name)
	}
	return out
}

// settable are the columns UPDATE can set: the UPDATE method's parameters
// that are not lookup parameters (for access_keys, Status).
func settable(r schema.Resource) []string {
	m, ok := r.Method(schema.Update)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range m.Params() {
		if c, ok := r.Column(p); ok && !c.Param {
			out = append(out, c.Name)
		}
	}
	return out
}

// execNames are the StackQL method names EXEC takes.
func execNames() []string {
	var out []string
	for _, ref := range schema.Procedures() {
		for _, id := range append(append([]string(nil), ref.Resource.StackQLIDs...), ref.Resource.Name) {
			out = append(out, id+"."+ref.Method.Name)
		}
	}
	return out
}

// execParams are the @params of the EXEC'd method not given yet,
// required first.
func execParams(toks []ctok, word string) []string {
	if len(toks) < 2 {
		return nil
	}
	name := toks[1].text
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	ref, ok := schema.LookupMethod(name)
	if !ok {
		return nil
	}
	last := toks[len(toks)-1].text
	if !strings.HasPrefix(word, "@") && last != "," && len(toks) != 2 {
		return nil
	}
	given := map[string]bool{}
	for _, t := range toks[2:] {
		if strings.HasPrefix(t.text, "@") {
			given[strings.ToLower(t.text[1:])] = true
		}
	}
	var out []string
	for _, p := range ref.Method.Params() {
		if !given[strings.ToLower(p)] {
			out = append(out, "@"+p)
		}
	}
	return out
}
