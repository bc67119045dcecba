package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// lazyRegexp compiles pattern when first used: the emulator is linked
// into every iamsql binary, and a real-AWS run never validates a request.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// Constraints from the IAM API reference (botocore's iam service model).
// AWS matches the patterns against the whole value; Go's \w is ASCII only,
// like Java's.
var (
	userNameRe    = lazyRegexp(`^[\w+=,.@-]+$`)
	accessKeyIDRe = lazyRegexp(`^[\w]+$`)
	pathRe        = lazyRegexp(`^(/|/[\x{21}-\x{7F}]+/)$`)
	pathPrefixRe  = lazyRegexp(`^/[\x{21}-\x{7F}]*$`)
	markerRe      = lazyRegexp(`^[\x{20}-\x{FF}]+$`)
)

// Pattern texts as AWS prints them in validation messages.
const (
	userNamePattern    = `[\w+=,.@-]+`
	accessKeyIDPattern = `[\w]+`
	pathPattern        = `(\u002F)|(\u002F[\u0021-\u007F]+\u002F)`
	pathPrefixPattern  = `\u002F[\u0021-\u007F]*`
	markerPattern      = `[\u0020-\u00FF]+`
)

// stringRule is the shape of one string parameter.
type stringRule struct {
	param, member string // form name (UserName) and AWS's member name (userName)
	required      bool
	min, max      int
	re            func() *regexp.Regexp
	pattern       string
	enum          []string
}

var (
	ruleNewUserName      = stringRule{param: "UserName", member: "userName", required: true, min: 1, max: 64, re: userNameRe, pattern: userNamePattern}
	ruleUserName         = stringRule{param: "UserName", member: "userName", required: true, min: 1, max: 128, re: userNameRe, pattern: userNamePattern}
	ruleOptionalUserName = stringRule{param: "UserName", member: "userName", min: 1, max: 128, re: userNameRe, pattern: userNamePattern}
	rulePath             = stringRule{param: "Path", member: "path", min: 1, max: 512, re: pathRe, pattern: pathPattern}
	rulePathPrefix       = stringRule{param: "PathPrefix", member: "pathPrefix", min: 1, max: 512, re: pathPrefixRe, pattern: pathPrefixPattern}
	ruleMarker           = stringRule{param: "Marker", member: "marker", min: 1, max: 320, re: markerRe, pattern: markerPattern}
	ruleAccessKeyID      = stringRule{param: "AccessKeyId", member: "accessKeyId", required: true, min: 16, max: 128, re: accessKeyIDRe, pattern: accessKeyIDPattern}
	ruleStatus           = stringRule{param: "Status", member: "status", required: true, enum: []string{statusActive, statusInactive}}
)

// validator collects constraint violations and reports them in one
// ValidationError, worded as AWS words it.
type validator struct {
	params url.Values
	errs   []string
}

// str checks one string parameter and returns its value and whether it was
// given.
func (v *validator) str(r stringRule) (string, bool) {
	vals, ok := v.params[r.param]
	if !ok || len(vals) == 0 {
		if r.required {
			v.errs = append(v.errs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", r.member))
		}
		return "", false
	}
	s := vals[0]
	n := utf8.RuneCountInString(s)
	bad := func(constraint string) {
		v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", quoteValue(s), r.member, constraint))
	}
	if r.min > 0 && n < r.min {
		bad(fmt.Sprintf("Member must have length greater than or equal to %d", r.min))
	}
	if r.max > 0 && n > r.max {
		bad(fmt.Sprintf("Member must have length less than or equal to %d", r.max))
	}
	if r.re != nil && s != "" && (!utf8.ValidString(s) || !r.re().MatchString(s)) {
		bad("Member must satisfy regular expression pattern: " + r.pattern)
	}
	if r.enum != nil {
		found := false
		for _, e := range r.enum {
			if s == e {
				found = true
			}
		}
		if !found {
			bad("Member must satisfy enum value set: [" + strings.Join(r.enum, ", ") + "]")
		}
	}
	return s, true
}

// maxItems checks MaxItems (1-1000) and returns it, or def when absent.
func (v *validator) maxItems(def int) int {
	vals, ok := v.params["MaxItems"]
	if !ok || len(vals) == 0 {
		return def
	}
	s := vals[0]
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		v.errs = append(v.errs, fmt.Sprintf("Value %s at 'maxItems' failed to satisfy constraint: Member must be an integer", quoteValue(s)))
		return def
	}
	if n < 1 {
		v.errs = append(v.errs, fmt.Sprintf("Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", n))
		return def
	}
	if n > 1000 {
		v.errs = append(v.errs, fmt.Sprintf("Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000", n))
		return def
	}
	return n
}

func (v *validator) err() *APIError {
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return newError("ValidationError", "1 validation error detected: "+v.errs[0])
	default:
		return newError("ValidationError", fmt.Sprintf("%d validation errors detected: %s", len(v.errs), strings.Join(v.errs, "; ")))
	}
}

// checkUserName validates a user name for AddUser; "" means valid.
func checkUserName(name string) string {
	v := validator{params: url.Values{"UserName": {name}}}
	v.str(ruleNewUserName)
	if e := v.err(); e != nil {
		return e.Message
	}
	return ""
}
