package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/iamsql/iamsql/internal/suggest"
	"github.com/iamsql/iamsql/schema"
)

// The SQL front-end accepts what StackQL users write and MySQL's parser
// does not: three-part resource names (aws.iam_api.access_keys) and
// `EXEC <resource>.<method> @param = value, ...`. It rewrites statements
// token by token — never inside string literals, quoted identifiers or
// comments — into MySQL the engine parses.

type tokKind int

const (
	tokSpace tokKind = iota
	tokComment
	tokString // '...' or "...", or a hex or bit literal x'...', b'...'

	tokQuotedIdent
	tokWord // identifiers, keywords, numbers
	tokPunct
)

type token struct {
	kind tokKind
	text string
	// pos is where the token starts in the text read; exec marks a token
	// of an executable comment (see read).
	pos  int
	exec bool
}

// tokenize splits SQL into tokens; concatenating their text gives back the
// input exactly. It never fails: an unterminated string or comment runs to
// the end of the input and is left for the parser to reject.
func tokenize(s string) []token {
	out := make([]token, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		var t token
		t, i = nextToken(s, i)
		out = append(out, t)
	}
	return out
}

// nextToken returns the token that starts at s[i] and the offset past it.
func nextToken(s string, i int) (token, int) {
	c := s[i]
	start := i
	kind := tokPunct
	switch {
	case isSpaceByte(c):
		kind = tokSpace
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
	case c == '#' || IsDashComment(s[i:]):
		kind = tokComment
		for i < len(s) && s[i] != '\n' {
			i++
		}
	case c == '/' && strings.HasPrefix(s[i:], "/*"):
		kind = tokComment
		if end := strings.Index(s[i+2:], "*/"); end < 0 {
			i = len(s)
		} else {
			i += 2 + end + 2
		}
	case c == '\'' || c == '"' || c == '`':
		kind = tokString
		if c == '`' {
			kind = tokQuotedIdent
		}
		i, _ = QuoteEnd(s, i)
	case isWordByte(c):
		kind = tokWord
		for i < len(s) && isWordByte(s[i]) {
			i++
		}
		if i == start+1 && strings.IndexByte("xXbB", c) >= 0 && i < len(s) && s[i] == '\'' {
			// A hex or bit literal, x'4A' or b'01': it ends at the next
			// quote (no escapes), as for MySQL and the parser.
			kind = tokString
			if end := strings.IndexByte(s[i+1:], '\''); end >= 0 {
				i += 1 + end + 1
			} else {
				i = len(s)
			}
		}
	default:
		i++
	}
	return token{kind: kind, text: s[start:i], pos: start}, i
}

// IsDashComment reports whether s starts a `-- ` comment: MySQL needs a
// space or a control character (tab, end of line, ...) after the dashes
// (`--x` is not a comment: the engine reads it as MySQL does, see read).
// The shell's reader and completer share this and QuoteEnd with the
// front-end, so all three agree on where SQL text ends.
func IsDashComment(s string) bool {
	if !strings.HasPrefix(s, "--") {
		return false
	}
	return len(s) == 2 || s[2] <= ' ' || s[2] == 0x7f
}

// QuoteEnd returns the offset just past the string or quoted identifier
// opening at s[i], and false when it is not closed (the offset is then
// len(s)). Doubled quotes and, outside backticks, backslash escapes stay
// inside.
func QuoteEnd(s string, i int) (int, bool) {
	q := s[i]
	j := i + 1
	for j < len(s) {
		switch {
		case s[j] == '\\' && q != '`':
			j += 2
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j += 2
				continue
			}
			return j + 1, true
		default:
			j++
		}
	}
	return len(s), false
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// identText is an identifier token's name, unquoted.
func identText(t token) (string, bool) {
	switch t.kind {
	case tokWord:
		return t.text, true
	case tokQuotedIdent:
		if len(t.text) >= 2 {
			return strings.ReplaceAll(t.text[1:len(t.text)-1], "``", "`"), true
		}
	}
	return "", false
}

// Rewrite turns one or more StackQL-flavoured statements into MySQL, in
// the engine's reading of them (engineText).
func Rewrite(query string) (string, error) {
	query = engineText(query)
	if err := checkReading(query); err != nil {
		return "", err
	}
	if plainMySQL(query) {
		return query, nil
	}
	return rewriteTokens(query)
}

// plainMySQL reports whether query certainly needs nothing of the front
// end: a StackQL resource id is a dotted name, a method call starts with
// EXEC, a procedure call (checked) with CALL, SHOW PROCEDURE(S) and
// StackQL's SHOW SERVICES/RESOURCES/METHODS with SHOW and DESCRIBE
// EXTENDED with DESC, so text with no dot and none of these words in any case is MySQL
// as it stands. It spares a server the
// tokenizing of every ordinary statement (FuzzRewrite checks that
// rewriteTokens agrees).
func plainMySQL(query string) bool {
	if strings.IndexByte(query, '.') >= 0 {
		return false
	}
	for i := 0; i+4 <= len(query); i++ {
		w := [4]byte{query[i] | 0x20, query[i+1] | 0x20, query[i+2] | 0x20, query[i+3] | 0x20}
		if w == [4]byte{'e', 'x', 'e', 'c'} || w == [4]byte{'c', 'a', 'l', 'l'} || w == [4]byte{'s', 'h', 'o', 'w'} || w == [4]byte{'d', 'e', 's', 'c'} {
			return false
		}
	}
	return true
}

func rewriteTokens(query string) (string, error) {
	toks := tokenize(query)
	var b strings.Builder
	stmtStart := 0
	for i := 0; i <= len(toks); i++ {
		if i == len(toks) || (toks[i].kind == tokPunct && toks[i].text == ";") {
			s, err := rewriteStatement(toks[stmtStart:i])
			if err != nil {
				return "", err
			}
			b.WriteString(s)
			if i < len(toks) {
				b.WriteString(";")
			}
			stmtStart = i + 1
		}
	}
	return b.String(), nil
}

// significant returns the indexes of non-space, non-comment tokens.
func significant(toks []token) []int {
	var out []int
	for i, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment {
			out = append(out, i)
		}
	}
	return out
}

func rewriteStatement(toks []token) (string, error) {
	sig := significant(toks)
	if isWords(toks, sig, 0, "EXEC") {
		return rewriteExec(toks, sig)
	}
	if isWords(toks, sig, 0, "CALL") {
		if err := checkCall(toks, sig); err != nil {
			return "", err
		}
		toks = callDefaults(toks, sig)
	}
	if q, ok := rewriteShowProcedures(toks, sig); ok {
		return q, nil
	}
	if q, ok, err := rewriteDiscovery(toks, sig); ok {
		return q, err
	}
	return rewriteNames(toks)
}

// isWords reports whether the significant tokens from sig[k] on start
// with words, case-insensitively.
func isWords(toks []token, sig []int, k int, words ...string) bool {
	if k+len(words) > len(sig) {
		return false
	}
	for i, w := range words {
		t := toks[sig[k+i]]
		if t.kind != tokWord || !strings.EqualFold(t.text, w) {
			return false
		}
	}
	return true
}

// procedureStatus is SHOW PROCEDURE STATUS over iamsql's procedures, with
// MySQL's columns: go-mysql-server lists only procedures a database
// stores, so it would answer an empty result.
const procedureStatus = "SELECT 'iam' AS `Db`, SUBSTRING_INDEX(ProcedureCall, '(', 1) AS `Name`, 'PROCEDURE' AS `Type`, " +
	"'iamsql@localhost' AS `Definer`, CAST(NULL AS DATETIME) AS `Modified`, CAST(NULL AS DATETIME) AS `Created`, " +
	"'INVOKER' AS `Security_type`, CONCAT(ProcedureCall, ': IAM ', Operation, ' (', TableName, '.', Method, ')') AS `Comment`, " +
	"'utf8mb4' AS `character_set_client`, 'utf8mb4_0900_bin' AS `collation_connection`, 'utf8mb4_0900_bin' AS `Database Collation` " +
	"FROM methods WHERE ProcedureCall IS NOT NULL"

// rewriteShowProcedures answers SHOW PROCEDURE STATUS [LIKE 'pattern' |
// WHERE condition] from the methods table, and SHOW PROCEDURES with each
// procedure's call and parameters.
func rewriteShowProcedures(toks []token, sig []int) (string, bool) {
	switch {
	case isWords(toks, sig, 0, "SHOW", "PROCEDURES") && len(sig) == 2:
		return "SELECT SUBSTRING_INDEX(ProcedureCall, '(', 1) AS `Procedure`, ProcedureCall AS `Call`, RequiredParams, OptionalParams, Operation, TableName " +
			"FROM methods WHERE ProcedureCall IS NOT NULL ORDER BY 1", true
	case !isWords(toks, sig, 0, "SHOW", "PROCEDURE", "STATUS"):
		return "", false
	}
	q := "SELECT * FROM (" + procedureStatus + ") AS procedures"
	if len(sig) == 3 {
		return q + " ORDER BY `Name`", true
	}
	if len(sig) < 5 {
		return "", false // the engine reports the syntax error
	}
	// The filter as written, comments included: a trailing -- comment ends
	// at the newline put before ORDER BY.
	var filter strings.Builder
	for _, t := range toks[sig[4]:] {
		filter.WriteString(t.text)
	}
	switch {
	case isWords(toks, sig, 3, "LIKE") && len(sig) == 5 && toks[sig[4]].kind == tokString:
		return q + " WHERE `Name` LIKE " + filter.String() + "\nORDER BY `Name`", true
	case isWords(toks, sig, 3, "WHERE"):
		return q + " WHERE " + filter.String() + "\nORDER BY `Name`", true
	}
	return "", false // the engine reports the syntax error
}

// UnknownProcedureError is a CALL of a procedure iamsql does not have
// (go-mysql-server would say the database doesn't support stored
// procedures, next to the ones that work).
type UnknownProcedureError struct{ Name string }

func (e *UnknownProcedureError) Error() string {
	names := schema.ProcedureNames()
	msg := fmt.Sprintf("PROCEDURE %s does not exist", e.Name)
	if s, ok := suggest.Closest(e.Name[strings.LastIndexByte(e.Name, '.')+1:], names); ok {
		msg += fmt.Sprintf("; did you mean %s? iamsql's procedures are", s)
	} else {
		msg += "; iamsql's procedures are"
	}
	return msg + fmt.Sprintf(" %s (SELECT * FROM methods describes them)", strings.Join(names, ", "))
}

// checkCall refuses a CALL of an unknown procedure of the iam database.
func checkCall(toks []token, sig []int) error {
	parts, _ := qualifiedName(toks, sig, 1)
	if len(parts) == 0 || len(parts) > 2 || (len(parts) == 2 && !strings.EqualFold(parts[0], DatabaseName)) {
		return nil // not a name, or another database's: the engine answers
	}
	name := parts[len(parts)-1]
	for _, ref := range schema.Procedures() {
		if strings.EqualFold(ref.Method.Procedure, name) {
			return nil
		}
	}
	return &UnknownProcedureError{Name: DatabaseName + "." + name}
}

// qualifiedName reads name(.name)* starting at sig[k]; it returns the parts
// and the position in sig after the name.
func qualifiedName(toks []token, sig []int, k int) ([]string, int) {
	var parts []string
	for k < len(sig) {
		name, ok := identText(toks[sig[k]])
		if !ok {
			break
		}
		parts = append(parts, name)
		k++
		if k < len(sig) && toks[sig[k]].kind == tokPunct && toks[sig[k]].text == "." {
			k++
			continue
		}
		break
	}
	return parts, k
}

// rewriteNames replaces StackQL resource ids with the table name. An
// aws.service.resource name that names no resource is an error with the
// nearest one (the parser would only say "syntax error").
func rewriteNames(toks []token) (string, error) {
	sig := significant(toks)
	var b strings.Builder
	emitted := 0 // toks[:emitted] are written
	for k := 0; k < len(sig); k++ {
		i := sig[k]
		if _, ok := identText(toks[i]); !ok {
			continue
		}
		// A name preceded by "." is the tail of another name.
		if k > 0 && toks[sig[k-1]].kind == tokPunct && toks[sig[k-1]].text == "." {
			continue
		}
		parts, next := qualifiedName(toks, sig, k)
		if len(parts) != 3 {
			k = next - 1
			continue
		}
		res, ok := schema.Lookup(strings.Join(parts, "."))
		if !ok && strings.EqualFold(parts[0], "aws") {
			return "", unknownName("resource", strings.Join(parts, "."), tableNames())
		}
		if !ok {
			k = next - 1
			continue
		}
		for _, t := range toks[emitted:i] {
			b.WriteString(t.text)
		}
		b.WriteString(res.Name)
		emitted = sig[next-1] + 1
		k = next - 1
	}
	for _, t := range toks[emitted:] {
		b.WriteString(t.text)
	}
	return b.String(), nil
}

// rewriteExec turns `EXEC [aws.iam_api.]access_keys.access_keys_Update
// @AccessKeyId = 'A', @Status = 'Inactive', @region = 'us-east-1'` into
// `CALL update_access_key('A', 'Inactive', 'us-east-1')`.
func rewriteExec(toks []token, sig []int) (string, error) {
	parts, k := qualifiedName(toks, sig, 1)
	if len(parts) == 0 {
		return "", fmt.Errorf("EXEC: expected a method name, as in EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = '…', @Status = '…', @region = '…'")
	}
	methodName := parts[len(parts)-1]
	ref, ok := schema.LookupMethod(methodName)
	if !ok {
		return "", fmt.Errorf("EXEC: unknown method %q; methods: %s", methodName, strings.Join(execMethods(), ", "))
	}
	if len(parts) > 1 {
		resName := strings.Join(parts[:len(parts)-1], ".")
		if res, ok := schema.Lookup(resName); !ok || res.Name != ref.Resource.Name {
			return "", fmt.Errorf("EXEC: %s is not a method of %s", methodName, resName)
		}
	}
	m := ref.Method
	if m.Procedure == "" {
		return "", fmt.Errorf("EXEC: %s is reached with %s, not EXEC", m.Name, m.Verb)
	}
	values := map[string]string{}
	for k < len(sig) {
		t := toks[sig[k]]
		if t.kind == tokPunct && t.text == "," {
			k++
			continue
		}
		if !(t.kind == tokPunct && t.text == "@") || k+1 >= len(sig) {
			return "", fmt.Errorf("EXEC %s: expected @param = value, found %q", m.Name, t.text)
		}
		name, ok := identText(toks[sig[k+1]])
		if !ok {
			return "", fmt.Errorf("EXEC %s: expected a parameter name after @", m.Name)
		}
		param := canonicalParam(m, name)
		if param == "" {
			return "", paramError(fmt.Errorf("EXEC %s: unknown parameter @%s; it takes %s", m.Name, name, strings.Join(m.Params(), ", ")))
		}
		k += 2
		if k >= len(sig) || toks[sig[k]].text != "=" {
			return "", fmt.Errorf("EXEC %s: expected = after @%s", m.Name, name)
		}
		k++
		// The value runs to the next top-level comma.
		start := k
		depth := 0
		for k < len(sig) {
			tt := toks[sig[k]]
			if tt.kind == tokPunct {
				switch tt.text {
				case "(":
					depth++
				case ")":
					depth--
				case ",":
					if depth == 0 {
						goto done
					}
				case "@":
					if depth == 0 && k > start {
						goto done
					}
				}
			}
			k++
		}
	done:
		if k == start {
			return "", fmt.Errorf("EXEC %s: @%s has no value", m.Name, name)
		}
		var v strings.Builder
		for _, t := range toks[sig[start] : sig[k-1]+1] {
			v.WriteString(t.text)
		}
		if _, dup := values[param]; dup {
			return "", paramError(fmt.Errorf("EXEC %s: @%s given twice", m.Name, param))
		}
		values[param] = v.String()
	}
	for _, req := range m.Required {
		if _, ok := values[req]; !ok && m.Defaults[req] == "" {
			return "", paramError(&schema.MissingParam{Resource: ref.Resource.Name, Param: req, Method: m})
		}
	}
	var args []string
	names := m.Params()
	last := 0
	for i, n := range names {
		if _, ok := values[n]; ok {
			last = i + 1
		}
	}
	for _, n := range names[:last] {
		v, ok := values[n]
		if !ok {
			v = "''"
			if d, ok := m.Defaults[n]; ok {
				v = sqlQuote(d)
			}
		}
		args = append(args, v)
	}

	return "CALL " + m.Procedure + "(" + strings.Join(args, ", ") + ")", nil
}

func canonicalParam(m schema.Method, name string) string {
	for _, p := range m.Params() {
		if strings.EqualFold(p, name) {
			return p
		}
	}
	return ""
}

func execMethods() []string {
	var out []string
	for _, ref := range schema.Procedures() {
		if ref.Method.Verb == schema.Exec || ref.Method.Procedure != "" {
			out = append(out, ref.Method.Name)
		}
	}
	return out
}

// redactLiterals is the first statement in q as the engine reads it, with
// every literal replaced by ?, so that an audit record or log line shows
// the statement's shape without its values, on one line: `/*!50000
// INSERT INTO t (a) VALUES ('x') */` is recorded as `INSERT INTO t (a)
// VALUES (?)`.
func redactLiterals(q string) string {
	var b strings.Builder
	for _, t := range firstTokens(q) {
		switch {
		case t.kind == tokString:
			b.WriteString("?")
		case t.kind == tokWord && t.text[0] >= '0' && t.text[0] <= '9':
			b.WriteString("?")
		case t.kind == tokQuotedIdent || t.kind == tokWord && len(t.text) >= 30:
			// An identifier can carry a value too (an alias, a column
			// name made up of a secret).
			b.WriteString("`?`")
		case t.kind == tokComment:
			// Plain comments, hints, executable comments for a later
			// MySQL: nothing the engine runs.
			b.WriteString("/* */")
		case t.kind == tokSpace:
			if !strings.HasSuffix(b.String(), " ") {
				b.WriteString(" ") // one line, one space
			}
		default:
			b.WriteString(t.text)
		}
	}
	return strings.TrimSpace(b.String())
}

// frontEnd is the engine's parser: Rewrite, then MySQL's parser.
type frontEnd struct {
	inner sql.Parser
}

var _ sql.Parser = frontEnd{}

// Every parse refuses a statement beyond the statement limits
// (limits.go) before go-mysql-server plans it.

// admit refuses a statement longer than max_allowed_packet and waits for
// its share of the parse budget (memory.go).
func admit(ctx context.Context, query string) (release func(), err error) {
	if err := CheckStatementSize(query); err != nil {
		return nil, err
	}
	return holdParse(ctx, query)
}
func (f frontEnd) ParseSimple(query string) (ast.Statement, error) {
	release, err := admit(context.Background(), query)
	if err != nil {
		return nil, err
	}
	defer release()
	q, err := Rewrite(query)
	if err != nil {
		return nil, err
	}
	stmt, err := f.inner.ParseSimple(q)
	if err == nil {
		err = checkLimits(stmt)
	}
	return stmt, err
}

func (f frontEnd) Parse(ctx *sql.Context, query string, multi bool) (ast.Statement, string, string, error) {
	release, err := admit(ctx, query)
	if err != nil {
		return nil, "", "", err
	}
	defer release()
	q, err := Rewrite(query)
	if err != nil {
		return nil, "", "", err
	}
	stmt, parsed, rest, err := f.inner.Parse(ctx, q, multi)
	if err == nil {
		err = checkLimits(stmt)
	}
	return stmt, parsed, rest, err
}

func (f frontEnd) ParseWithOptions(ctx context.Context, query string, delim rune, multi bool, opts ast.ParserOptions) (ast.Statement, string, string, error) {
	release, err := admit(ctx, query)
	if err != nil {
		return nil, "", "", err
	}
	defer release()
	q, err := Rewrite(query)
	if err != nil {
		return nil, "", "", err
	}
	stmt, parsed, rest, err := f.inner.ParseWithOptions(ctx, q, delim, multi, opts)
	if err == nil {
		err = checkLimits(stmt)
	}
	return stmt, parsed, rest, err
}

// ParseOneWithOptions parses the first statement. The index it returns
// points into the caller's original text, not the rewritten one.
func (f frontEnd) ParseOneWithOptions(ctx context.Context, query string, opts ast.ParserOptions) (ast.Statement, int, error) {
	release, err := admit(ctx, query)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	first, next := firstStatement(query)
	q, err := Rewrite(first)
	if err != nil {
		return nil, 0, err
	}
	stmt, _, err := f.inner.ParseOneWithOptions(ctx, q, opts)
	if err == nil {
		err = checkLimits(stmt)
	}
	return stmt, next, err
}

// callDefaults rewrites an argument written DEFAULT in a CALL of one of
// iamsql's procedures (go-mysql-server cannot resolve it) into the value
// the method declares for it (schema.Method.Defaults), else NULL.
func callDefaults(toks []token, sig []int) []token {
	parts, k := qualifiedName(toks, sig, 1)
	if len(parts) == 0 || len(parts) > 2 || k >= len(sig) || toks[sig[k]].text != "(" {
		return toks
	}
	var m schema.Method
	found := false
	for _, ref := range schema.Procedures() {
		if strings.EqualFold(ref.Method.Procedure, parts[len(parts)-1]) {
			m, found = ref.Method, true
		}
	}
	if !found {
		return toks
	}
	names := m.Params()
	var out []token
	arg, depth, start := 0, 0, k+1
	for j := k + 1; j < len(sig); j++ {
		t := toks[sig[j]]
		if t.kind != tokPunct {
			continue
		}
		switch {
		case t.text == "(":
			depth++
		case t.text == ")" && depth > 0:
			depth--
		case (t.text == "," || t.text == ")") && depth == 0:
			if j == start+1 && isWords(toks, sig, start, "DEFAULT") {
				if out == nil {
					out = append([]token(nil), toks...)
				}
				v := "NULL"
				if arg < len(names) {
					if d, ok := m.Defaults[names[arg]]; ok {
						v = sqlQuote(d)
					}
				}
				out[sig[start]] = token{kind: tokString, text: v, pos: toks[sig[start]].pos, exec: toks[sig[start]].exec}
			}
			if t.text == ")" {
				j = len(sig)
				break
			}
			arg++
			start = j + 1
		}
	}
	if out == nil {
		return toks
	}
	return out
}

// sqlQuote is s as a SQL string literal.
func sqlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
