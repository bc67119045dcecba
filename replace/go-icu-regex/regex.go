// Package regex is the API of github.com/dolthub/go-icu-regex implemented
// with Go's regexp package (RE2), for go-mysql-server's REGEXP functions.
// Positions and occurrences start at 1, as in MySQL.
package regex

import (
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"gopkg.in/src-d/go-errors.v1"
)

// Regex matches one pattern against one string at a time.
type Regex interface {
	SetRegexString(ctx context.Context, regexStr string, flags RegexFlags) error
	SetMatchString(ctx context.Context, matchStr string) error
	IndexOf(ctx context.Context, start int, occurrence int, endIndex bool) (int, error)
	Matches(ctx context.Context, start int, occurrence int) (bool, error)
	Replace(ctx context.Context, replacementStr string, position int, occurrence int) (string, error)
	Substring(ctx context.Context, start int, occurrence int) (string, bool, error)
	StringBufferSize() uint32
	Close() error
}

var (
	// ErrRegexNotYetSet is returned when the regex is used before SetRegexString.
	ErrRegexNotYetSet = errors.NewKind("SetRegexString must be called before any other function")
	// ErrMatchNotYetSet is returned when matching before SetMatchString.
	ErrMatchNotYetSet = errors.NewKind("SetMatchString must be called as there is nothing to match against")
	// ErrInvalidRegex is returned for a pattern that does not compile.
	ErrInvalidRegex = errors.NewKind("the given regular expression is invalid")
)

// ShouldPanic is kept for API compatibility; nothing here leaks.
var ShouldPanic = true

var leakHandler atomic.Value

// SetRegexLeakHandler is kept for API compatibility: a Regex holds no
// resources outside the Go heap, so nothing can leak.
func SetRegexLeakHandler(handler func()) { leakHandler.Store(handler) }

// RegexFlags change how a pattern matches; the values are ICU's.
type RegexFlags uint32

// The flags go-mysql-server uses, with ICU's values.
const (
	RegexFlags_None                     RegexFlags = 0
	RegexFlags_Case_Insensitive         RegexFlags = 2
	RegexFlags_Comments                 RegexFlags = 4
	RegexFlags_Dot_All                  RegexFlags = 32
	RegexFlags_Literal                  RegexFlags = 16
	RegexFlags_Multiline                RegexFlags = 8
	RegexFlags_Unix_Lines               RegexFlags = 1
	RegexFlags_Unicode_Word             RegexFlags = 256
	RegexFlags_Error_On_Unknown_Escapes RegexFlags = 512
)

// CreateRegex returns a Regex. The buffer size is accepted for API
// compatibility.
func CreateRegex(stringBufferInBytes uint32) Regex {
	return &re2{bufSize: stringBufferInBytes}
}

type re2 struct {
	re      *regexp.Regexp
	text    string
	textSet bool
	bufSize uint32
}

func (r *re2) SetRegexString(_ context.Context, pattern string, flags RegexFlags) error {
	if flags&RegexFlags_Literal != 0 {
		pattern = regexp.QuoteMeta(pattern)
	}
	var prefix strings.Builder
	if flags&RegexFlags_Case_Insensitive != 0 {
		prefix.WriteString("i")
	}
	if flags&RegexFlags_Multiline != 0 {
		prefix.WriteString("m")
	}
	if flags&RegexFlags_Dot_All != 0 {
		prefix.WriteString("s")
	}
	if prefix.Len() > 0 {
		pattern = "(?" + prefix.String() + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return ErrInvalidRegex.Wrap(err)
	}
	r.re = re
	return nil
}

func (r *re2) SetMatchString(_ context.Context, s string) error {
	if r.re == nil {
		return ErrRegexNotYetSet.New()
	}
	r.text, r.textSet = s, true
	return nil
}

func (r *re2) ready() error {
	if r.re == nil {
		return ErrRegexNotYetSet.New()
	}
	if !r.textSet {
		return ErrMatchNotYetSet.New()
	}
	return nil
}

// byteOffset converts a 0-based code point index into a byte offset.
func byteOffset(s string, cp int) int {
	if cp <= 0 {
		return 0
	}
	i := 0
	for n := 0; n < cp && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// find returns the byte span of the occurrence-th match (occurrence < 1
// counts as 1) starting at or after code point from.
func (r *re2) find(from, occurrence int) (start, end int, ok bool) {
	if occurrence < 1 {
		occurrence = 1
	}
	off := byteOffset(r.text, from)
	n := 0
	for _, m := range r.re.FindAllStringIndex(r.text, -1) {
		if m[0] < off {
			continue
		}
		if n++; n == occurrence {
			return m[0], m[1], true
		}
	}
	return 0, 0, false
}

func (r *re2) IndexOf(_ context.Context, start, occurrence int, endIndex bool) (int, error) {
	if err := r.ready(); err != nil {
		return 0, err
	}
	s, e, ok := r.find(start-1, occurrence)
	if !ok {
		return 0, nil
	}
	if endIndex {
		return utf8.RuneCountInString(r.text[:e]) + 1, nil
	}
	return utf8.RuneCountInString(r.text[:s]) + 1, nil
}

// Matches takes a 0-based start, as the ICU binding does.
func (r *re2) Matches(_ context.Context, start, occurrence int) (bool, error) {
	if err := r.ready(); err != nil {
		return false, err
	}
	_, _, ok := r.find(start, occurrence)
	return ok, nil
}

// Replace replaces the occurrence-th match at or after position, or every
// one when occurrence is 0. $1 in the replacement is the first group.
func (r *re2) Replace(_ context.Context, repl string, position, occurrence int) (string, error) {
	if err := r.ready(); err != nil {
		return "", err
	}
	off := byteOffset(r.text, position-1)
	var b strings.Builder
	last, n := 0, 0
	for _, m := range r.re.FindAllStringSubmatchIndex(r.text, -1) {
		if m[0] < off {
			continue
		}
		n++
		if occurrence > 0 && n != occurrence {
			continue
		}
		b.WriteString(r.text[last:m[0]])
		b.Write(r.re.ExpandString(nil, repl, r.text, m))
		last = m[1]
		if occurrence > 0 {
			break
		}
	}
	b.WriteString(r.text[last:])
	return b.String(), nil
}

func (r *re2) Substring(_ context.Context, start, occurrence int) (string, bool, error) {
	if err := r.ready(); err != nil {
		return "", false, err
	}
	s, e, ok := r.find(start-1, occurrence)
	if !ok {
		return "", false, nil
	}
	return r.text[s:e], true, nil
}

func (r *re2) StringBufferSize() uint32 { return r.bufSize }

func (r *re2) Close() error { return nil }
