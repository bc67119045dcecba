package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	vtlog "github.com/dolthub/vitess/go/vt/log"
	"github.com/sirupsen/logrus"

	"github.com/iamsql/iamsql/provider"
)

const levelDebug = slog.LevelDebug

var routeMu sync.Mutex

// routeLibraryLogs sends the logs of the protocol libraries to the
// server's logger at debug level. go-mysql-server logs through logrus:
// at logrus's debug and trace levels it writes statement text and result
// rows, so logrus is capped at info, and the statement text it attaches
// at other levels is dropped. vitess logs through the standard log
// package. Both are process-wide: the last server started wins.
func routeLibraryLogs(l *slog.Logger) {
	routeMu.Lock()
	defer routeMu.Unlock()

	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(logrusHook{l})
	if l.Enabled(context.Background(), levelDebug) {
		std.SetLevel(logrus.InfoLevel)
	} else {
		std.SetLevel(logrus.ErrorLevel)
	}

	debug := func(args ...any) { l.Debug(withoutValues(strings.TrimSpace(fmt.Sprint(args...))), "source", "vitess") }
	debugf := func(format string, args ...any) {
		msg := withoutValues(fmt.Sprintf(format, args...))
		if strings.Contains(format, "panic") {
			l.Error(msg, "source", "vitess")
			return
		}
		l.Debug(msg, "source", "vitess")
	}
	vtlog.Info, vtlog.Warning, vtlog.Error = debug, debug, debug
	vtlog.Infof, vtlog.Warningf, vtlog.Errorf = debugf, debugf, debugf
}

// logrusHook forwards go-mysql-server's log entries, without statement
// text: the error of a failed statement is logged as its number, since
// its message may quote the statement's values (an invalid region, a user
// name IAM did not find, a value that came from created_access_keys).
type logrusHook struct{ l *slog.Logger }

func (h logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h logrusHook) Fire(e *logrus.Entry) error {
	attrs := []any{"source", "go-mysql-server", "gms_level", e.Level.String()}
	for k, v := range e.Data {
		switch k {
		case "query", "prepared", sql.ConnectTimeLogKey:
			continue
		case logrus.ErrorKey:
			if err, ok := v.(error); ok {
				attrs = append(attrs, "error_code", errorCode(sql.CastSQLError(err)))
				continue
			}
		}
		attrs = append(attrs, k, withoutValues(fmt.Sprint(v)))
	}
	h.l.Debug(withoutValues(e.Message), attrs...)
	return nil
}

// withoutValues blanks whatever a library's log message quotes ('…',
// "…" or `…`): that is where error texts put statement values, e.g.
// `syntax error at position 9 near 'x'` or `invalid region "x"`.
func withoutValues(msg string) string {
	if !strings.ContainsAny(msg, "'\"`") {
		return msg
	}
	var b strings.Builder
	var quote rune
	for _, r := range msg {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				b.WriteString("…")
				b.WriteRune(r)
			}
		case r == '\'' || r == '"' || r == '`':
			quote = r
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	if quote != 0 {
		b.WriteString("…")
	}
	return b.String()
}

// statementKind is a statement's first keyword (SELECT, INSERT, CALL,
// EXEC, ...) as the engine reads it (an executable comment's content
// counts): what the logs show of a statement, never its values.
func statementKind(q string) string { return provider.StatementKind(q) }
