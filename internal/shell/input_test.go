package shell

import (
	"reflect"
	"testing"
)

func TestScanSplitsStatementsLikeMysql(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		units []unit
		rest  string
		open  openState
	}{
		{"one statement", "SELECT 1;\n", []unit{{text: "SELECT 1"}}, "", openNone},
		{"unfinished", "SELECT 1\n", nil, "SELECT 1\n", openStmt},
		{"two on a line and a rest", "SELECT 1; SELECT 2; SELECT", []unit{{text: "SELECT 1"}, {text: "SELECT 2", offset: 10}}, " SELECT", openStmt},
		{"semicolon in a string", "SELECT 'a;b';", []unit{{text: "SELECT 'a;b'"}}, "", openNone},
		{"open string", "SELECT 'a;\n", nil, "SELECT 'a;\n", '\''},
		{"open double quote", "SELECT \"a\n", nil, "SELECT \"a\n", '"'},
		{"open backtick", "SELECT `a\n", nil, "SELECT `a\n", '`'},
		{"escaped quote", `SELECT 'it\'s;';`, []unit{{text: `SELECT 'it\'s;'`}}, "", openNone},
		{"doubled quote", "SELECT 'it''s;';", []unit{{text: "SELECT 'it''s;'"}}, "", openNone},
		{"vertical", `SELECT 1\G`, []unit{{text: "SELECT 1", vertical: true}}, "", openNone},
		{"\\g", `SELECT 1\g`, []unit{{text: "SELECT 1"}}, "", openNone},
		{"\\G in a string", `SELECT '\G';`, []unit{{text: `SELECT '\G'`}}, "", openNone},
		{"clear", "SELECT * FROM\nwhatever \\c", nil, "", openNone},
		{"meta-command", "\\o json\n", []unit{{text: `\o json`, meta: true}}, "", openNone},
		{"meta-command after a statement", "SELECT 1; \\timing\n", []unit{{text: "SELECT 1"}, {text: `\timing`, meta: true, offset: 10}}, "", openNone},
		{"backslash inside a statement is SQL's", "SELECT \\N;", []unit{{text: `SELECT \N`}}, "", openNone},
		{"dash comment hides ;", "SELECT 1 -- not the end;\n", nil, "SELECT 1 -- not the end;\n", openStmt},
		{"hash comment", "# only a comment;\n", nil, "", openNone},
		{"open block comment", "SELECT /* x;\n", nil, "SELECT /* x;\n", openComment},
		{"closed block comment", "/* c */ SELECT 1;", []unit{{text: "SELECT 1", offset: 8}}, "", openNone},
		{"minus minus without space is not a comment", "SELECT 1--1;", []unit{{text: "SELECT 1--1"}}, "", openNone},
		{"empty statements", ";;\n", nil, "", openNone},
		// An executable comment is SQL: the engine runs its content.
		{"executable comment", "/*!50000 INSERT INTO t VALUES (1) */;\n", []unit{{text: "/*!50000 INSERT INTO t VALUES (1) */"}}, "", openNone},
		{"executable comment after a comment", "/* c */ /*!KILL 5*/;", []unit{{text: "/*!KILL 5*/", offset: 8}}, "", openNone},
		{"semicolon in an executable comment", "/*!SELECT 1; SELECT 2*/;", []unit{{text: "/*!SELECT 1; SELECT 2*/"}}, "", openNone},
		{"open executable comment", "/*!SELECT 1;\n", nil, "/*!SELECT 1;\n", openComment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, rest, open := scan(tt.text)
			if !reflect.DeepEqual(units, tt.units) || rest != tt.rest || open != tt.open {
				t.Errorf("scan(%q) = %+v, %q, %q; want %+v, %q, %q", tt.text, units, rest, open, tt.units, tt.rest, tt.open)
			}
		})
	}
}
