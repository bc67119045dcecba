package provider

import (
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/vitess/go/mysql"
	goerrors "gopkg.in/src-d/go-errors.v1"
)

// engineError gives one of go-mysql-server's errors the number MySQL
// answers it with.
type engineError struct {
	kind  *goerrors.Kind
	num   int
	state string
}

// engineErrors are errors a user causes that go-mysql-server reports as
// 1105 (unknown error) where MySQL has a number of its own, which client
// programs switch on.
var engineErrors = []engineError{
	{sql.ErrInsertIntoMismatchValueCount, 1136, "21S01"},        // ER_WRONG_VALUE_COUNT_ON_ROW
	{sql.ErrColumnNotFound, 1054, "42S22"},                      // ER_BAD_FIELD_ERROR
	{sql.ErrDuplicateAliasOrTable, 1066, "42000"},               // ER_NONUNIQ_TABLE
	{sql.ErrFunctionNotFound, 1305, "42000"},                    // ER_SP_DOES_NOT_EXIST
	{sql.ErrStoredProcedureDoesNotExist, 1305, "42000"},         // ER_SP_DOES_NOT_EXIST
	{sql.ErrInvalidArgumentNumber, 1582, "42000"},               // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
	{sql.ErrUnknownSystemVariable, 1193, "HY000"},               // ER_UNKNOWN_SYSTEM_VARIABLE
	{sql.ErrSystemVariableReadOnly, 1238, "HY000"},              // ER_INCORRECT_GLOBAL_LOCAL_VAR (max_allowed_packet)
	{planbuilder.ErrUnionSchemasDifferentLength, 1222, "21000"}, // ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT
	{sql.ErrCreateTableNotSupported, 1235, "42000"},             // ER_NOT_SUPPORTED_YET
	{sql.ErrDropTableNotSupported, 1235, "42000"},               // ER_NOT_SUPPORTED_YET
	{sql.ErrUnknownPreparedStatement, 1243, "HY000"},            // ER_UNKNOWN_STMT_HANDLER
}

// engineErrorPatterns match the messages of engineErrors' kinds, for errors
// that are already a 1105 with only the message left (go-mysql-server's
// MySQL handler makes them so before iamsql's server sees them).
var engineErrorPatterns = sync.OnceValue(func() []*regexp.Regexp {
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	out := make([]*regexp.Regexp, len(engineErrors))
	for i, e := range engineErrors {
		parts := verb.Split(e.kind.Message, -1)
		for j := range parts {
			parts[j] = regexp.QuoteMeta(parts[j])
		}
		out[i] = regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
	}
	return out
})

// Renumber gives an engine error that is a 1105 (unknown error) the
// number MySQL uses for it, when it is a syntax error (1064) or one of
// engineErrors; any other error comes back as it is. Engine.Query applies it (through
// ToSQLError), and so does the MySQL server to what go-mysql-server's
// handler answers.
func Renumber(err error) error {
	var sqlErr *mysql.SQLError
	if !errors.As(err, &sqlErr) || sqlErr.Num != mysql.ERUnknownError {
		return err
	}
	if strings.HasPrefix(sqlErr.Message, "syntax error at position ") {
		return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError, "%s", sqlErr.Message)
	}
	if num, state, ok := limitErrorNumber(sqlErr.Message); ok {
		return mysql.NewSQLError(num, state, "%s", sqlErr.Message)
	}
	for i, p := range engineErrorPatterns() {
		if p.MatchString(sqlErr.Message) {
			e := engineErrors[i]
			return mysql.NewSQLError(e.num, e.state, "%s", sqlErr.Message)
		}
	}
	return err
}
