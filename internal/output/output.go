// Package output prints query results in the formats iamsql offers: a
// bordered table (go-pretty), vertical records (like mysql's \G), JSON,
// JSON lines, CSV and Markdown. Every format goes through one Writer, so
// exec, the shell and reports print the same way.
package output

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Format names an output format.
type Format string

// The formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	JSONL    Format = "jsonl"
	CSV      Format = "csv"
	Markdown Format = "markdown"
	Vertical Format = "vertical"
)

// Formats lists the formats a user can choose.
var Formats = []Format{Table, JSON, JSONL, CSV, Markdown, Vertical}

// ParseFormat checks a user-supplied format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	if strings.EqualFold(s, "md") {
		return Markdown, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown output format %q (choose one of %s)", s, strings.Join(names, ", "))
}

// Writer receives a result's rows one at a time. Close finishes the output;
// formats that must see every row first (table, markdown) print then.
type Writer interface {
	WriteRow(values []any) error
	Close() error
}

// NewWriter starts printing a result with the given column names.
func NewWriter(w io.Writer, f Format, columns []string) Writer {
	switch f {
	case JSON:
		return &jsonWriter{w: w, cols: columns, array: true}
	case JSONL:
		return &jsonWriter{w: w, cols: columns}
	case CSV:
		cw := csv.NewWriter(w)
		return &csvWriter{w: cw, cols: columns}
	case Vertical:
		return &verticalWriter{w: w, cols: columns}
	case Markdown:
		return newPrettyWriter(w, columns, true)
	default:
		return newPrettyWriter(w, columns, false)
	}
}

// Text formats a value for human-readable output: NULL for nil, dates as
// "2006-01-02 15:04:05" (UTC).
func Text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return v.UTC().Format(time.DateTime)
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// exactText is Text for the formats programs read (CSV): a date keeps the
// fraction of a second IAM sent (moto sends microseconds, AWS whole
// seconds), with no trailing zeros.
func exactText(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("2006-01-02 15:04:05.999999999")
	}
	return Text(v)
}

// jsonValue formats a value for JSON: dates as RFC 3339 UTC, with the
// fraction of a second IAM sent.
func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	default:
		return Text(v)
	}
}

type prettyWriter struct {
	w        io.Writer
	t        table.Writer
	markdown bool
	rows     int
	cols     int
}

func newPrettyWriter(w io.Writer, columns []string, markdown bool) *prettyWriter {
	t := table.NewWriter()
	t.SetStyle(table.StyleDefault)
	t.Style().Format.Header = text.FormatDefault
	header := make(table.Row, len(columns))
	for i, c := range columns {
		header[i] = c
	}
	t.AppendHeader(header)
	return &prettyWriter{w: w, t: t, markdown: markdown, cols: len(columns)}
}

func (p *prettyWriter) WriteRow(values []any) error {
	row := make(table.Row, len(values))
	for i, v := range values {
		s := Text(v)
		if p.markdown {
			// go-pretty escapes "|" itself.
			s = strings.ReplaceAll(s, "\n", " ")
		}
		row[i] = s
	}
	p.t.AppendRow(row)
	p.rows++
	return nil
}

// Close renders the table; a failed write is its error (a secret that
// could not be written was not delivered).
func (p *prettyWriter) Close() error {
	out := p.t.Render()
	if p.markdown {
		out = p.t.RenderMarkdown()
	}
	_, err := io.WriteString(p.w, out+"\n")
	return err
}

type jsonWriter struct {
	w     io.Writer
	cols  []string
	array bool
	n     int
}

// marshalRow keeps column order, which a map would lose.
func (j *jsonWriter) marshalRow(values []any) ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range j.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		var v any
		if i < len(values) {
			v = jsonValue(values[i])
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (j *jsonWriter) WriteRow(values []any) error {
	data, err := j.marshalRow(values)
	if err != nil {
		return err
	}
	prefix := ""
	if j.array {
		prefix = ",\n  "
		if j.n == 0 {
			prefix = "[\n  "
		}
	}
	j.n++
	if j.array {
		_, err = fmt.Fprintf(j.w, "%s%s", prefix, data)
	} else {
		_, err = fmt.Fprintf(j.w, "%s\n", data)
	}
	return err
}

func (j *jsonWriter) Close() error {
	if !j.array {
		return nil
	}
	if j.n == 0 {
		_, err := io.WriteString(j.w, "[]\n")
		return err
	}
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}

type csvWriter struct {
	w       *csv.Writer
	cols    []string
	started bool
}

func (c *csvWriter) header() error {
	if c.started {
		return nil
	}
	c.started = true
	return c.w.Write(c.cols)
}

func (c *csvWriter) WriteRow(values []any) error {
	if err := c.header(); err != nil {
		return err
	}
	rec := make([]string, len(values))
	for i, v := range values {
		if v != nil {
			rec[i] = exactText(v)
		}
	}
	if err := c.w.Write(rec); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) Close() error {
	if err := c.header(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

type verticalWriter struct {
	w    io.Writer
	cols []string
	n    int
}

func (v *verticalWriter) WriteRow(values []any) error {
	v.n++
	width := 0
	for _, c := range v.cols {
		if len(c) > width {
			width = len(c)
		}
	}
	if _, err := fmt.Fprintf(v.w, "*************************** %d. row ***************************\n", v.n); err != nil {
		return err
	}
	for i, c := range v.cols {
		var val any
		if i < len(values) {
			val = values[i]
		}
		if _, err := fmt.Fprintf(v.w, "%*s: %s\n", width, c, Text(val)); err != nil {
			return err
		}
	}
	return nil
}

func (v *verticalWriter) Close() error { return nil }
