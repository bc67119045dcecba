package provider

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

func TestEngineTextReadsAsMySQL8031(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// Executable comments MySQL 8.0.31 runs: their content, as SQL.
		{"/*!50000 INSERT INTO t (a) VALUES ('x') */", " INSERT INTO t (a) VALUES ('x') "},
		{"/*!KILL 5*/", " KILL 5 "},
		{"/*!KILL QUERY 5*/;", " KILL QUERY 5 ;"},
		{"/*!80031KILL 5*/", " KILL 5 "},
		{"SELECT 1 /*!, 2*/", "SELECT 1  , 2 "},
		// A line comment inside one ends with it.
		{"/*!SELECT 1 -- x*/, 2", " SELECT 1 -- x\n, 2"},
		// For a later MySQL: a comment, which the parser skips.
		{"/*!80032 KILL 5*/", "/* !80032 KILL 5*/"},
		{"/*!99999 KILL 5 */ SELECT 1", "/* !99999 KILL 5 */ SELECT 1"},
		// A version is exactly five digits, as in MySQL 8.0.31.
		{"/*!5 SELECT 1*/", " 5 SELECT 1 "},
		{"/*!800310 KILL 5*/", " 0 KILL 5 "},
		// Content that ends inside a string stays a (failing) executable
		// comment, in the engine's reading.
		{"/*!SELECT 'a*/'", "/*! SELECT 'a*/'"},
		{"/*!SELECT 1 // 'a*/", "/*! SELECT 1 / / 'a*/"},
		// Unterminated: left for the parser to reject.
		{"/*!KILL 5", "/*!KILL 5"},
		// Not executable comments.
		{"SELECT '/*!KILL 5*/'", "SELECT '/*!KILL 5*/'"},
		{"SELECT `/*!KILL 5*/`", "SELECT `/*!KILL 5*/`"},
		{"SELECT 1 -- /*!KILL 5*/", "SELECT 1 -- /*!KILL 5*/"},
		{"SELECT 1 # /*!KILL 5*/", "SELECT 1 # /*!KILL 5*/"},
		{"SELECT /* /*!KILL 5*/ 1", "SELECT /* /*!KILL 5*/ 1"},
		{"SELECT /*+ JOIN_ORDER(a, b) */ 1", "SELECT /*+ JOIN_ORDER(a, b) */ 1"},
		{"SELECT /*M!100101 KILL 5*/ 1", "SELECT /*M!100101 KILL 5*/ 1"},
		// MySQL reads `--x` and `//` as operators; vitess would read
		// comments.
		{"SELECT 1--1", "SELECT 1- -1"},
		{"SELECT 4 // 2", "SELECT 4 / / 2"},
		{"SELECT 1 --- x", "SELECT 1 - -- x"},
		{"SELECT 4 //* c */ 2", "SELECT 4 / /* c */ 2"},
		{"SELECT 1 -- x", "SELECT 1 -- x"},
		{"SELECT '--' '//'", "SELECT '--' '//'"},
	} {
		got := engineText(tt.in)
		if got != tt.want {
			t.Errorf("engineText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := engineText(got); again != got {
			t.Errorf("engineText is not idempotent on %q: %q", got, again)
		}
	}
}

func TestSplitStatementsReadsExecutableComments(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		// A mysqldump-style script: every statement is one.
		{"/*!40101 SET @a = 1 */;\n/*!50000 INSERT INTO t VALUES (1) */;\nSELECT 2;\n",
			[]string{"SET @a = 1", "INSERT INTO t VALUES (1)", "SELECT 2"}},
		// A semicolon inside one ends a statement, as for the engine.
		{"/*!SELECT 1; SELECT 2*/;", []string{"SELECT 1", "SELECT 2"}},
		// One for a later MySQL is a statement the engine finds empty
		// (so that it fails, rather than vanish); plain comments are none.
		{"/*!99999 INSERT INTO t VALUES (1) */;\n-- c\n/* c */;\n#c\n", []string{"/* !99999 INSERT INTO t VALUES (1) */"}},
		{"SELECT ';' /* ; */ -- ;\n;", []string{"SELECT ';' /* ; */ -- ;"}},
		{"SELECT 1--1; SELECT 2", []string{"SELECT 1- -1", "SELECT 2"}},
	} {
		got, err := SplitStatements(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitStatements(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestStatementKindIsTheEnginesReading(t *testing.T) {
	for q, want := range map[string]string{
		"/*!KILL 5*/":                       "KILL",
		"/*!50000 INSERT INTO t VALUES 1*/": "INSERT",
		"/*!99999 KILL 5*/ SELECT 1":        "SELECT",
		"-- c\n/*!KILL*/ 5":                 "KILL",
		"(SELECT 1)":                        "SELECT",
		"/*!":                               "?",
		"'x'":                               "?",
	} {
		if got := StatementKind(q); got != want {
			t.Errorf("StatementKind(%q) = %q, want %q", q, got, want)
		}
	}
	if got := StatementWords("/*!SHOW*/ /*!50000 CHARACTER SET */ LIKE 'x'", 4); !reflect.DeepEqual(got, []string{"SHOW", "CHARACTER", "SET", "LIKE"}) {
		t.Errorf("StatementWords = %q", got)
	}
}

// Statements that vitess's tokenizer would read differently from MySQL
// even once respelled are refused, never run on another reading.
func TestStatementsTheParserReadsDifferentlyAreRefused(t *testing.T) {
	for _, q := range []string{
		"SELECT @@x'; KILL 5; '",      // vitess ends @@x' early and sees the semicolons
		"SELECT @`a;b`",               // vitess ends @`a early and sees the semicolon
		"SELECT 1e-- x\n, 2",          // vitess takes the - into the number: no comment
		"SELECT 1e-- ; DELETE FROM t", // likewise: a semicolon MySQL does not see
	} {
		_, err := Rewrite(q)
		var re *ReadingError
		if !errors.As(err, &re) {
			t.Errorf("Rewrite(%q): %v, want a ReadingError", q, err)
		}
		if _, err := SplitStatements(q); err == nil {
			t.Errorf("SplitStatements(%q) accepted it", q)
		}
	}
	// Ordinary SQL is read alike.
	for _, q := range []string{
		"SELECT 'it''s', \"a\\\"b\", `c``d`, x'41', b'01', 0x41, N'n', _utf8mb4'u', @'v', @\"w\", @`x`, @@version -- c\n# d\n/* e */ /*+ f */",
		"SELECT 1e-5, 1.5E+3, .5e2, 1-1, 1 - -1, a->'$.b', a->>'$.c' FROM t WHERE x = ? AND y LIKE '%;%'; SELECT 2",
	} {
		if _, err := Rewrite(q); err != nil {
			t.Errorf("Rewrite(%q): %v", q, err)
		}
	}
}

func TestRedactLiteralsRecordsTheFirstStatementTheEngineReads(t *testing.T) {
	for in, want := range map[string]string{
		"/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */":                                    "INSERT INTO access_keys (UserName, region) VALUES (?, ?)",
		"/*!CALL create_access_key('us-east-1', 'dave')*/ -- wJalrXUtnFEMI/K7MDENG":                                              "CALL create_access_key(?, ?) /* */",
		"DELETE FROM access_keys WHERE AccessKeyId = 'AKIA1' AND region = 'us-east-1'; SELECT 'x'":                               "DELETE FROM access_keys WHERE AccessKeyId = ? AND region = ?",
		"/*!99999 SELECT 'secret' */ UPDATE access_keys SET Status = 'Inactive' WHERE UserName = 'bob' AND region = 'us-east-1'": "/* */ UPDATE access_keys SET Status = ? WHERE UserName = ? AND region = ?",
		"SELECT 1 // 'a'": "SELECT ? / / ?",
		"UPDATE access_keys SET Status = 'Inactive' /*!, x = 'y'*/": "UPDATE access_keys SET Status = ? , x = ?",
	} {
		if got := redactLiterals(in); got != want {
			t.Errorf("redactLiterals(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// readingPieces are the pieces random statements are made of: the
// characters where MySQL's and vitess's readings part, and some SQL.
var readingPieces = []string{
	"SELECT ", "KILL ", "INSERT INTO t VALUES ", "1", "5", "e", "1e", "x", "b", "N", "@", "@@", "`", "'", "\"", "\\",
	"-", "--", "-- ", "+", "/", "*", "!", "/*", "*/", "/*!", "/*!50000 ", "/*!99999 ", "/*!80031", "/*+ ", "#",
	";", " ", "\n", "\t", "\r", "(", ")", ",", ".", "=", ">", "0x", "'a'", "DELIMITER ", "\x00",
}

func randomStatement(r *rand.Rand) string {
	var b strings.Builder
	for n := 1 + r.Intn(12); n > 0; n-- {
		b.WriteString(readingPieces[r.Intn(len(readingPieces))])
	}
	return b.String()
}

// checkReadingProperties is what FuzzEngineReading and
// TestEngineReadingAgreesWithTheParser check of one text s:
//   - engineText is idempotent, and re-reading it gives the same tokens;
//   - wherever Rewrite accepts s, vitess's tokenizer reads the comments,
//     strings and semicolons of the engine text where iamsql does;
//   - the first statement SplitStatements finds is the one the engine's
//     multi-statement parse (ComMultiQuery) runs first.
func checkReadingProperties(t *testing.T, s string) {
	e := engineText(s)
	if again := engineText(e); again != e {
		t.Fatalf("engineText(%q) = %q, and again %q", s, e, again)
	}
	if text(read(s)) != e {
		t.Fatalf("read(%q) does not spell the engine text", s)
	}
	significant := func(toks []token) []string {
		var out []string
		for _, t := range toks {
			if t.kind != tokSpace {
				out = append(out, t.text)
			}
		}
		return out
	}
	if a, b := significant(read(s)), significant(tokenize(e)); !reflect.DeepEqual(a, b) {
		t.Fatalf("%q: the reading's tokens %q are not those of its text %q", s, a, b)
	}
	if !mayReadDifferently(e) {
		// The fast path: such text needs no second tokenizing.
		if err := checkReading(e + ";"); err != nil {
			t.Fatalf("%q is taken to read alike, but: %v", e, err)
		}
	}
	if _, err := Rewrite(s); err != nil {
		return
	}
	if err := checkReading(e); err != nil {
		t.Fatalf("Rewrite accepted %q but the readings differ: %v", s, err)
	}
	stmts, err := SplitStatements(s)
	if err != nil || len(stmts) == 0 {
		return
	}
	first, ferr := parseSafely(func() (ast.Statement, error) { return ast.Parse(stmts[0]) })
	whole, werr := parseSafely(func() (ast.Statement, error) {
		stmt, _, err := ast.ParseOne(t.Context(), strings.TrimSpace(e))
		return stmt, err
	})
	if ferr == nil && werr == nil && ast.String(first) != ast.String(whole) {
		t.Fatalf("%q: the first statement split off is %q, the engine runs %q", s, ast.String(first), ast.String(whole))
	}
}

// parseSafely runs a parse, taking a panic of the parser (SELECT with an
// empty string glued to it makes vitess panic) for an error: the engine
// recovers from it.
func parseSafely(parse func() (ast.Statement, error)) (stmt ast.Statement, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parser panic: %v", p)
		}
	}()
	return parse()
}

func TestEngineReadingAgreesWithTheParser(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for range 20000 {
		checkReadingProperties(t, randomStatement(r))
	}
}

func FuzzEngineReading(f *testing.F) {
	r := rand.New(rand.NewSource(2))
	for range 50 {
		f.Add(randomStatement(r))
	}
	f.Add("/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */;")
	f.Add("SELECT @@x'; KILL 5; '")
	f.Fuzz(checkReadingProperties)
}
