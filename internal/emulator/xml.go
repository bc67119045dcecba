package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	apiVersion = "2010-05-08"
	xmlNS      = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// APIError is an IAM error response: code, message and the HTTP status AWS
// answers it with.
type APIError struct {
	Code    string
	Message string
	Status  int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// errorStatus is the HTTP status AWS uses for each error code the emulator
// answers (or FailNext may inject).
var errorStatus = map[string]int{
	"AccessDenied":                  403,
	"ConcurrentModification":        409,
	"DeleteConflict":                409,
	"EntityAlreadyExists":           409,
	"EntityTemporarilyUnmodifiable": 409,
	"ExpiredToken":                  403,
	"IncompleteSignature":           400,
	"InternalFailure":               500,
	"InvalidAction":                 400,
	"InvalidClientTokenId":          403,
	"InvalidInput":                  400,
	"InvalidParameterCombination":   400,
	"InvalidParameterValue":         400,
	"LimitExceeded":                 409,
	"MalformedQueryString":          400,
	"MethodNotAllowed":              405,
	"MissingAction":                 400,
	"MissingAuthenticationToken":    403,
	"MissingParameter":              400,
	"NoSuchEntity":                  404,
	"OptInRequired":                 403,
	"RequestEntityTooLarge":         413,
	"ReportExpired":                 410,
	"ReportInProgress":              404,
	"ReportNotPresent":              410,
	"RequestExpired":                400,
	"ServiceFailure":                500,
	"ServiceUnavailable":            503,
	"SignatureDoesNotMatch":         403,
	"Throttling":                    400,
	"UnmodifiableEntity":            400,
	"ValidationError":               400,
}

// Messages AWS sends for errors that do not depend on the request.
const (
	msgInvalidToken   = "The security token included in the request is invalid."
	msgBadSignature   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgMissingToken   = "Request is missing Authentication Token"
	msgRateExceeded   = "Rate exceeded"
	msgDeleteConflict = "Cannot delete entity, must delete access keys first."
)

func newError(code, msg string) *APIError {
	st, ok := errorStatus[code]
	if !ok {
		st = 400
	}
	return &APIError{Code: code, Message: msg, Status: st}
}

func errNoSuchUser(name string) *APIError {
	return newError("NoSuchEntity", "The user with name "+name+" cannot be found.")
}

func errNoSuchKey(id string) *APIError {
	return newError("NoSuchEntity", "The Access Key with id "+id+" cannot be found.")
}

// injectedError builds the response for FailNext: the code with AWS's status
// and a message in AWS's style that fits the request where it can.
func injectedError(code, op string, c *reqCtx) *APIError {
	msg := ""
	switch code {
	case "NoSuchEntity":
		switch {
		case c.params.Has("AccessKeyId"):
			msg = "The Access Key with id " + c.params.Get("AccessKeyId") + " cannot be found."
		case c.params.Has("UserName"):
			msg = "The user with name " + c.params.Get("UserName") + " cannot be found."
		default:
			msg = "The request was rejected because it referenced a resource entity that does not exist."
		}
	case "LimitExceeded":
		if op == "CreateAccessKey" {
			msg = fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", accessKeysQuota)
		} else {
			msg = "The request was rejected because it attempted to create resources beyond the current AWS account limits."
		}
	case "EntityAlreadyExists":
		msg = "User with name " + c.params.Get("UserName") + " already exists."
	case "DeleteConflict":
		msg = msgDeleteConflict
	case "ValidationError":
		msg = "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
	case "Throttling":
		msg = msgRateExceeded
	case "InvalidClientTokenId":
		msg = msgInvalidToken
	case "SignatureDoesNotMatch":
		msg = msgBadSignature
	case "MissingAuthenticationToken":
		msg = msgMissingToken
	case "AccessDenied":
		msg = "User: " + c.callerArn() + " is not authorized to perform: iam:" + op + " on resource: " + c.denyResource()
	case "InvalidAction":
		msg = "Could not find operation " + op + " for version " + apiVersion
	case "MissingAction":
		msg = "Missing Action"
	case "ServiceFailure", "InternalFailure":
		msg = "The request processing has failed because of an unknown error, exception or failure."
	case "ServiceUnavailable":
		msg = "Service is unable to handle request."
	case "ConcurrentModification":
		msg = "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again."
	default:
		msg = "Injected " + code + " error."
	}
	return newError(code, msg)
}

// newRequestID returns a random UUID (version 4), AWS's request id format.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// xmlWriter builds an XML document with escaped text, so any input echoed
// back (user names, invalid values in messages) keeps the document
// well-formed.
type xmlWriter struct{ b bytes.Buffer }

func (w *xmlWriter) open(tag string)  { w.b.WriteString("<" + tag + ">") }
func (w *xmlWriter) close(tag string) { w.b.WriteString("</" + tag + ">") }

func (w *xmlWriter) elem(tag, text string) {
	w.open(tag)
	escapeText(&w.b, text)
	w.close(tag)
}

// escapeText writes s as XML character data: markup characters escaped, a
// carriage return kept as a reference (a parser would turn a literal one
// into a newline), and anything XML 1.0 cannot carry (control characters,
// invalid UTF-8) replaced by U+FFFD.
func escapeText(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == utf8.RuneError && size == 1, !isXMLChar(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// XMLText is s as a client reads it back from the emulator's XML: what
// XML 1.0 cannot carry replaced by U+FFFD, as escapeText writes it. An
// in-process caller (Invoke) gets messages through it, so they read as
// they would over HTTP.
func XMLText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			var b strings.Builder
			for i := 0; i < len(s); {
				r, size := utf8.DecodeRuneInString(s[i:])
				if (r == utf8.RuneError && size == 1) || !isXMLChar(r) {
					r = utf8.RuneError
				}
				b.WriteRune(r)
				i += size
			}
			return b.String()
		}
	}
	return s // printable ASCII, the common case
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

func (w *xmlWriter) time(tag string, t time.Time) { w.elem(tag, formatTime(t)) }
func (w *xmlWriter) bool(tag string, v bool)      { w.elem(tag, strconv.FormatBool(v)) }

// formatTime writes a date as AWS does, with the fraction of a second
// when the date has one (as moto sends them).
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999999Z") }

// queryBody wraps a result in the {Action}Response envelope of the Query
// API whose XML namespace is ns. An empty
// result (Delete*, Update*) has no {Action}Result element, as with AWS.
func queryBody(ns, op string, res result, requestID string) []byte {
	var w xmlWriter
	w.b.WriteString(`<` + op + `Response xmlns="` + ns + `">`)
	if res != nil {
		w.open(op + "Result")
		res.writeXML(&w)
		w.close(op + "Result")
	}
	w.open("ResponseMetadata")
	w.elem("RequestId", requestID)
	w.close("ResponseMetadata")
	w.close(op + "Response")
	w.b.WriteByte('\n')
	return w.b.Bytes()
}

func queryErrorBody(ns string, e *APIError, requestID string) []byte {
	var w xmlWriter
	w.b.WriteString(`<ErrorResponse xmlns="` + ns + `">`)
	w.open("Error")
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	w.elem("Type", typ)
	w.elem("Code", e.Code)
	w.elem("Message", e.Message)
	w.close("Error")
	w.elem("RequestId", requestID)
	w.close("ErrorResponse")
	w.b.WriteByte('\n')
	return w.b.Bytes()
}

// quoteValue renders a parameter value the way AWS's validation messages
// do, bounded so a huge input does not make a huge message.
func quoteValue(v string) string {
	const max = 256
	if len(v) > max {
		v = v[:max] + "..."
	}
	return "'" + strings.ToValidUTF8(v, "\uFFFD") + "'"
}
