package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// MySQL error numbers iamsql answers with, so a client can tell failures
// apart. Every error a statement can return is built here.
const (
	ErrNumAccessDenied    = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR: IAM AccessDenied
	ErrNumAuthFailed      = 1045 // ER_ACCESS_DENIED_ERROR: bad or unknown AWS credentials
	ErrNumNotFound        = 1032 // ER_KEY_NOT_FOUND: NoSuchEntity
	ErrNumLimitExceeded   = 1226 // ER_USER_LIMIT_REACHED: LimitExceeded (2 keys per user)
	ErrNumDuplicate       = 1062 // ER_DUP_ENTRY: EntityAlreadyExists
	ErrNumConflict        = 1217 // ER_ROW_IS_REFERENCED: DeleteConflict
	ErrNumThrottled       = 1205 // ER_LOCK_WAIT_TIMEOUT: throttling outlived its retries; try again later
	ErrNumBadParam        = 1210 // ER_WRONG_ARGUMENTS: missing or invalid parameter
	ErrNumReadOnly        = 1290 // ER_OPTION_PREVENTS_STATEMENT: --read-only
	ErrNumInterrupted     = 1317 // ER_QUERY_INTERRUPTED: cancelled
	ErrNumTimeout         = 3024 // ER_QUERY_TIMEOUT
	ErrNumNoSuchProcedure = 1305 // ER_SP_DOES_NOT_EXIST: CALL of an unknown procedure
	ErrNumEmptyQuery      = 1065 // ER_EMPTY_QUERY: nothing the engine runs
	ErrNumNoSuchThread    = 1094 // ER_NO_SUCH_THREAD: KILL of an unknown connection
	ErrNumKillDenied      = 1095 // ER_KILL_DENIED_ERROR: KILL of another user's connection
	ErrNumUnknown         = 1105 // ER_UNKNOWN_ERROR: anything else

	// NoteCreatedKeys is the code of the note an INSERT that created keys
	// leaves, telling a MySQL client where the secrets are.
	NoteCreatedKeys = 4100
	// WarnPartial is the code of the warning a statement leaves for each
	// part of the account it could not read (its result is partial; the
	// session's Incomplete says what, by identity).
	WarnPartial = 4101
	// NoteKeyGone: a key was deleted while the statement read it.
	NoteKeyGone = 4102
	// NoteUserGone: a user was deleted while the statement read it.
	NoteUserGone = 4104
	// NoteNoSuchValue: a lookup named a value no row can have (an invalid
	// user name or key id), so it has no rows and made no call.
	NoteNoSuchValue = 4105
	// NoteAccountsLeftOut: org mode left accounts out of a read because
	// the configuration's account lists (OrgConfig.Accounts,
	// ExcludeAccounts) say so; the result is not partial.
	NoteAccountsLeftOut = 4106
)

// iamCode is an error's IAM error code, "" when it has none.
func iamCode(err error) string {
	var ie *IAMError
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}

// IAMError is an IAM API failure, with the IAM code and message kept.
type IAMError struct {
	Operation string
	Code      string
	Message   string
	Err       error
}

func (e *IAMError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("IAM %s failed: %s", e.Operation, e.Code)
	}
	return fmt.Sprintf("IAM %s failed: %s: %s", e.Operation, e.Code, e.Message)
}

func (e *IAMError) Unwrap() error { return e.Err }

// iamError classifies an SDK error from one IAM operation by its API error
// code (never by string matching) and keeps the cause.
func iamError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return &IAMError{Operation: op, Code: "Canceled", Message: "the statement was cancelled", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &IAMError{Operation: op, Code: "Timeout", Message: "the statement timed out", Err: err}
	}
	var creds *awsiam.CredentialsError
	if errors.As(err, &creds) {
		return &IAMError{Operation: op, Code: creds.Code, Message: creds.Message, Err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return &IAMError{Operation: op, Code: api.ErrorCode(), Message: api.ErrorMessage(), Err: err}
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		return &IAMError{Operation: op, Code: "RetriesExhausted", Message: maxAttempts.Error(), Err: err}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &netErr) || errors.As(err, &opErr) || strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF") {
		return &IAMError{Operation: op, Code: "ConnectionError", Message: "could not reach IAM: " + rootCause(err).Error(), Err: err}
	}
	return &IAMError{Operation: op, Code: "RequestFailed", Message: rootCause(err).Error(), Err: err}
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// sqlErrorNumber picks the MySQL error number for an IAM error code.
func sqlErrorNumber(code string) (int, string) {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return ErrNumAccessDenied, "42000"
	case "NoCredentials", "SSOSessionExpired", "UnknownProfile",
		"InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken", "ExpiredToken", "InvalidAccessKeyId", "UnrecognizedClientException":
		return ErrNumAuthFailed, mysql.SSAccessDeniedError
	case "NoSuchEntity":
		return ErrNumNotFound, "HY000"
	case "LimitExceeded":
		return ErrNumLimitExceeded, "42000"
	case "EntityAlreadyExists":
		return ErrNumDuplicate, "23000"
	case "DeleteConflict":
		return ErrNumConflict, "23000"
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return ErrNumThrottled, "HY000"
	case "ValidationError", "InvalidInput":
		return ErrNumBadParam, "HY000"
	case "Canceled":
		return ErrNumInterrupted, "70100"
	case "Timeout":
		return ErrNumTimeout, "HY000"
	}
	return ErrNumUnknown, mysql.SSUnknownSQLState
}

// ToSQLError turns any error a statement produced into a MySQL error with a
// number a client can act on. Errors already carrying a number pass through.
func ToSQLError(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if w, ok := err.(sql.WrappedInsertError); ok {
		return ToSQLError(w.Cause)
	}
	var sqlErr *mysql.SQLError
	if errors.As(err, &sqlErr) {
		return withSuggestion(sqlErr)
	}
	var ie *IAMError
	if errors.As(err, &ie) {
		num, state := sqlErrorNumber(ie.Code)
		return mysql.NewSQLError(num, state, "%s", err.Error())
	}
	var creds *awsiam.CredentialsError
	if errors.As(err, &creds) {
		num, state := sqlErrorNumber(creds.Code)
		return mysql.NewSQLError(num, state, "%s", creds.Message)
	}
	var missing *schema.MissingParam
	var invalid *schema.InvalidParam
	if errors.As(err, &missing) || errors.As(err, &invalid) {
		return mysql.NewSQLError(ErrNumBadParam, "HY000", "%s", err.Error())
	}
	var unknownName *UnknownNameError
	if errors.As(err, &unknownName) {
		return mysql.NewSQLError(mysql.ERNoSuchTable, "42S02", "%s", err.Error())
	}
	var unknownProc *UnknownProcedureError
	if errors.As(err, &unknownProc) {
		return mysql.NewSQLError(ErrNumNoSuchProcedure, "42000", "%s", err.Error())
	}
	var reading *ReadingError
	if errors.As(err, &reading) {
		return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError, "%s", err.Error())
	}
	var be *BudgetError
	if errors.As(err, &be) {
		return budgetSQLError(be)
	}
	var ro *ReadOnlyError
	if errors.As(err, &ro) {
		return mysql.NewSQLError(ErrNumReadOnly, "HY000", "%s", err.Error())
	}
	if errors.Is(err, context.Canceled) {
		return mysql.NewSQLError(ErrNumInterrupted, "70100", "query execution was interrupted")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return mysql.NewSQLError(ErrNumTimeout, "HY000", "query execution was interrupted, maximum statement execution time exceeded")
	}
	if num, state, ok := limitErrorNumber(err.Error()); ok {
		return mysql.NewSQLError(num, state, "%s", err.Error())
	}
	if sql.ErrSyntaxError.Is(err) {
		return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError, "%s", err.Error())
	}
	// GMS's own errors (unknown table, ...) carry their numbers; some
	// more get MySQL's here.
	return Renumber(sql.CastSQLError(err))
}

// CancelOnly reports whether err says only that its statement was
// cancelled or timed out. A front end that replaces such an error by its
// own words (Ctrl-C, a statement timeout, a client gone) keeps any other:
// it may say what happened to a key the statement created (deleted again,
// its outcome unknown).
func CancelOnly(err error) bool {
	if err == nil {
		return true
	}
	var se *mysql.SQLError
	if !errors.As(ToSQLError(err), &se) || (se.Num != ErrNumInterrupted && se.Num != ErrNumTimeout) {
		return false
	}
	for _, end := range []string{"query execution was interrupted", "maximum statement execution time exceeded",
		"the statement was cancelled", "the statement timed out"} {
		if strings.HasSuffix(se.Message, end) {
			return true
		}
	}
	return false
}

// ReadOnlyError is returned when a mutating statement reaches a read-only
// engine.
type ReadOnlyError struct{ Statement string }

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("iamsql is read-only: %s would change IAM and was refused before any IAM call", e.Statement)
}

// paramError wraps parameter problems so they carry ErrNumBadParam.
func paramError(err error) error {
	if err == nil {
		return nil
	}
	return mysql.NewSQLError(ErrNumBadParam, "HY000", "%s", err.Error())
}

// FormatError renders an error the way the mysql client does:
// "ERROR 1210 (HY000): message".
func FormatError(err error) string {
	var sqlErr *mysql.SQLError
	if errors.As(ToSQLError(err), &sqlErr) {
		return fmt.Sprintf("ERROR %d (%s): %s", sqlErr.Num, sqlErr.State, oneLine(sqlErr.Message))
	}
	return "ERROR: " + oneLine(err.Error())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
