package provider

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// The engine's reading of a statement's text.
//
// MySQL and go-mysql-server's parser (dolthub/vitess) read some text
// differently: vitess runs the content of every executable comment
// (/*! … */, /*!NNNNN … */) whatever its version, and takes `--x` and `//`
// for comments where MySQL reads operators. iamsql settles it once: the
// front-end hands the parser a spelling of the statement on which vitess
// reads exactly what MySQL 8.0.31 reads (engineText). Everything else that
// looks at statement text — splitting a script into statements, the kind
// the server logs, what the audit log records — uses the same reading
// (read), and every check of what a statement does (read-only, safe
// updates, KILL) is made on the plan the engine builds from it. So no
// spelling makes a check see one statement and the engine run another.

// serverVersionID is the MySQL version iamsql answers as (@@version
// 8.0.31): an executable comment /*!NNNNN … */ runs when NNNNN is at most
// this, and is a plain comment otherwise, as in MySQL 8.0.31.
const serverVersionID = 80031

// read returns the tokens of query as the engine reads them: tokenize's
// tokens, except that
//   - an executable comment MySQL would run is replaced by the tokens of its
//     content, between spaces (exec set on all of them);
//   - one for a later MySQL version becomes a plain comment (exec set);
//   - a space separates `-` from a `-` after it, and `/` from a `/` after
//     it, so that vitess reads two operators, as MySQL does, not a comment.
//
// Concatenating the tokens' text gives the text the engine parses
// (engineText). Each token's pos is where it starts in query.
func read(query string) []token {
	return readTokens(tokenize(query), 0)
}

func readTokens(toks []token, base int) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		t.pos += base
		if t.kind == tokComment && strings.HasPrefix(t.text, "/*!") {
			out = appendExecutable(out, t)
			continue
		}
		if skippedVersion(t) > 0 {
			t.exec = true // read again: still a statement that is empty
		}
		out = appendSeparated(out, t)
	}
	return out
}

// appendSeparated appends t, with a space before it where vitess would
// otherwise read the end of the previous token and the start of t as a
// comment (`-` `-x` or `/` `/`).
func appendSeparated(out []token, t token) []token {
	if n := len(out); n > 0 && out[n-1].kind == tokPunct {
		if prev := out[n-1].text; (prev == "-" || prev == "/") && strings.HasPrefix(t.text, prev) {
			out = append(out, token{kind: tokSpace, text: " ", pos: t.pos, exec: t.exec})
		}
	}
	return append(out, t)
}

// appendExecutable appends the reading of an executable comment t.
func appendExecutable(out []token, t token) []token {
	t.exec = true
	body, closed := strings.CutSuffix(t.text[3:], "*/")
	if !closed || len(t.text) < 5 {
		// Unterminated: the parser rejects it, as MySQL does.
		return appendSeparated(out, t)
	}
	version, content := splitVersion(body)
	if version > serverVersionID {
		// MySQL 8.0.31 skips it; vitess skips it once it is a plain
		// comment, /* !NNNNN … */ (skippedVersion).
		t.text = "/* " + t.text[2:]
		return appendSeparated(out, t)
	}
	offset := t.pos + 3 + len(body) - len(content)
	inner := readTokens(tokenize(content), offset)
	for i := range inner {
		inner[i].exec = true
	}
	if !complete(inner) {
		// The content ends inside a string, quoted name or comment, which
		// MySQL would end at the comment's end: an error either way. It
		// stays an executable comment, so the parser reads only the
		// content (in the reading above) and rejects it.
		var b strings.Builder
		for _, it := range inner {
			b.WriteString(it.text)
		}
		t.text = "/*! " + strings.TrimSpace(b.String()) + "*/"
		return appendSeparated(out, t)
	}
	// Spaces keep the content's first and last tokens apart from what
	// is around the comment.
	if len(inner) == 0 || inner[0].kind != tokSpace {
		out = append(out, token{kind: tokSpace, text: " ", pos: t.pos, exec: true})
	}
	for _, it := range inner {
		out = appendSeparated(out, it)
	}
	end := " "
	if n := len(inner); n > 0 {
		switch last := inner[n-1]; {
		case last.kind == tokSpace:
			return out
		case last.kind == tokComment && !strings.HasPrefix(last.text, "/*"):
			end = "\n" // a line comment ends with the executable comment
		}
	}
	return append(out, token{kind: tokSpace, text: end, pos: t.pos + len(t.text), exec: true})
}

// splitVersion splits an executable comment's body into its version and
// content: MySQL 8.0.31 takes exactly five digits after /*! as a version
// (/*!50000 …), and none otherwise (0 then).
func splitVersion(body string) (int, string) {
	if len(body) < 5 {
		return 0, body
	}
	for i := range 5 {
		if body[i] < '0' || body[i] > '9' {
			return 0, body
		}
	}
	v, _ := strconv.Atoi(body[:5])
	return v, body[5:]
}

// skippedVersion is the version of an executable comment the reading
// turned into a plain comment because it is for a later MySQL, or 0.
func skippedVersion(t token) int {
	if t.kind != tokComment || !strings.HasPrefix(t.text, "/* !") {
		return 0
	}
	if v, _ := splitVersion(t.text[4:]); v > serverVersionID {
		return v
	}
	return 0
}

// complete reports whether toks end outside any string, quoted name or
// comment.
func complete(toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	t := toks[len(toks)-1]
	switch t.kind {
	case tokString, tokQuotedIdent:
		if c := t.text[0]; c != '\'' && c != '"' && c != '`' { // x'…', b'…'
			return len(t.text) >= 3 && strings.IndexByte(t.text[2:], '\'') == len(t.text)-3
		}
		end, ok := QuoteEnd(t.text, 0)
		return ok && end == len(t.text)
	case tokComment:
		return !strings.HasPrefix(t.text, "/*") || (len(t.text) >= 4 && strings.HasSuffix(t.text, "*/"))
	}
	return true
}

// engineText is query spelled as the engine must read it (see read). Text
// without an executable comment, `--` or `//` is returned as it is.
func engineText(query string) string {
	if !strings.Contains(query, "/*!") && !strings.Contains(query, "--") && !strings.Contains(query, "//") {
		return query
	}
	return text(read(query))
}

// EngineText is query as iamsql's engine reads it: the content of each
// executable comment MySQL 8.0.31 runs, in place of the comment.
func EngineText(query string) string { return engineText(query) }

func text(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// statements splits a reading at its semicolons. A statement made of
// nothing but spaces and plain comments is dropped (the mysql client never
// sends one); one with an executable comment in it is kept, even one for
// a later MySQL version, so that it fails as empty rather than vanish.
func statements(toks []token) [][]token {
	var out [][]token
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && !(toks[i].kind == tokPunct && toks[i].text == ";") {
			continue
		}
		stmt := toks[start:i]
		for _, t := range stmt {
			if t.exec || (t.kind != tokSpace && t.kind != tokComment) {
				out = append(out, stmt)
				break
			}
		}
		start = i + 1
	}
	return out
}

// SplitStatements splits a script into the statements the engine reads in
// it, at semicolons outside strings and comments (a semicolon inside an
// executable comment ends a statement too, as it does for the engine). A
// statement is returned as the engine reads it (EngineText). Statements
// made of spaces and plain comments only are dropped. A script the parser
// would read differently (ReadingError) is refused whole.
func SplitStatements(script string) ([]string, error) {
	toks := read(script)
	if err := checkReading(text(toks)); err != nil {
		return nil, ToSQLError(err)
	}
	var out []string
	for _, stmt := range statements(toks) {
		out = append(out, strings.TrimSpace(text(stmt)))
	}
	return out, nil
}

// firstStatement returns the engine's reading of the first statement in
// query and the index in query just past its terminating semicolon (or
// len(query) when it has none).
func firstStatement(query string) (string, int) {
	toks := read(query)
	for i, t := range toks {
		if t.kind == tokPunct && t.text == ";" {
			return text(toks[:i]), t.pos + 1
		}
	}
	return text(toks), len(query)
}

// firstTokens are the tokens of the first statement in query, as the
// engine reads it.
func firstTokens(query string) []token {
	if stmts := statements(read(query)); len(stmts) > 0 {
		return stmts[0]
	}
	return nil
}

// StatementWords returns up to n words that begin the first statement in
// query as the engine reads it (after any comments and opening
// parentheses), upper-cased: what a log may show of a statement, never
// its values. It reads no further into query than it needs.
func StatementWords(query string, n int) []string {
	var words []string
	for i := 0; i < len(query) && len(words) < n; {
		var t token
		t, i = nextToken(query, i)
		toks := []token{t}
		if t.kind == tokComment && strings.HasPrefix(t.text, "/*!") {
			toks = read(t.text)
		}
		for _, t := range toks {
			switch {
			case len(words) == n:
			case t.kind == tokSpace || t.kind == tokComment:
			case t.kind == tokPunct && t.text == "(" && len(words) == 0:
			case t.kind == tokWord && (t.text[0] < '0' || t.text[0] > '9'):
				words = append(words, strings.ToUpper(t.text))
			default:
				return words
			}
		}
	}
	return words
}

// StatementKind is the first keyword of the first statement in query as
// the engine reads it (SELECT, INSERT, KILL, EXEC, ...), or "?".
func StatementKind(query string) string {
	if w := StatementWords(query, 1); len(w) == 1 {
		return w[0]
	}
	return "?"
}

// emptyStatementError is the error for a statement with nothing in it
// for the engine: MySQL's "Query was empty".
func emptyStatementError(query string) error {
	why := ""
	for _, t := range read(query) {
		if v := skippedVersion(t); v > 0 {
			why = fmt.Sprintf(": /*!%05d … */ runs only on MySQL %d.%d.%d and later, and iamsql answers as MySQL 8.0.31, which skips it", v, v/10000, v/100%100, v%100)
			break
		}
	}
	return mysql.NewSQLError(ErrNumEmptyQuery, "42000", "Query was empty%s", why)
}

// ReadingError is a statement that MySQL and go-mysql-server's parser
// would read differently even in the spelling the front-end gives it (see
// read): a comment, string or semicolon one of them sees where the other
// does not (vitess takes the sign of `1e-- x` into the number; `@@x'…`
// and @`a;b` end early for it). It is refused rather than run on a
// reading the checks did not see.
type ReadingError struct{ What string }

func (e *ReadingError) Error() string {
	return fmt.Sprintf("iamsql's SQL engine would read this statement differently from MySQL (%s); write it another way", e.What)
}

// mayReadDifferently reports whether the readings of q could part: only
// where a comment may start (#, -, /), at a semicolon, at @ (vitess's
// reading of @@x'… and @`…) or at a NUL byte (which vitess takes for a
// string quote), outside quotes. Most statements have none of these
// outside their string literals and are not tokenized twice.
func mayReadDifferently(q string) bool {
	for i := 0; i < len(q); {
		switch c := q[i]; c {
		case '\'', '"', '`':
			i, _ = QuoteEnd(q, i)
		case ';', '#', '-', '/', '@', 0:
			return true
		default:
			i++
		}
	}
	return false
}

// checkReading makes sure the parser reads the comments, string literals
// and semicolons of q (an engineText) exactly where read does. Text the
// parser's tokenizer rejects is left to the parser to report.
func checkReading(q string) error {
	if !mayReadDifferently(q) {
		return nil
	}
	type mark struct{ what, text string }
	var want []mark
	afterString := false // the last token that is not a space is a quoted string
	for _, t := range tokenize(q) {
		quoted := t.kind == tokString && (t.text[0] == '\'' || t.text[0] == '"')
		switch {
		case t.kind == tokComment:
			want = append(want, mark{"a comment", strings.TrimRight(t.text, "\r\n")})
		case t.kind == tokString && !(quoted && afterString):
			// Adjacent quoted strings are one ('a' 'b' is 'ab'), one
			// token for vitess; a hex or bit literal is one of its own.
			want = append(want, mark{what: "a string"})
		case t.kind == tokPunct && t.text == ";":
			want = append(want, mark{what: "a semicolon"})
		}
		if t.kind != tokSpace {
			afterString = quoted
		}
	}
	tk := ast.NewStringTokenizer(q)
	for i := 0; ; {
		var got mark
		switch typ, val := tk.Scan(); typ {
		case 0:
			if i < len(want) {
				return &ReadingError{What: "it does not see " + want[i].what + " there"}
			}
			return nil
		case ast.LEX_ERROR:
			return nil
		case ast.COMMENT:
			got = mark{"a comment", strings.TrimRight(string(val), "\r\n")}
		case ast.STRING, ast.HEX, ast.BIT_LITERAL:
			got = mark{what: "a string"}
		case ';':
			got = mark{what: "a semicolon"}
		default:
			continue
		}
		if i >= len(want) || want[i] != got {
			return &ReadingError{What: "it sees " + got.what + " where MySQL does not"}
		}
		i++
	}
}
