package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4 verification, following AWS's specification
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
// as the Go SDK and botocore implement it: header auth (Authorization) and
// query auth (presigned URLs).

const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	scopeTerm      = "aws4_request"
	signingService = "iam"
	unsignedBody   = "UNSIGNED-PAYLOAD"
)

// sigRequest is the signature a request carries, parsed but not verified.
type sigRequest struct {
	keyID, date, region, service, terminator string
	signedHeaders                            []string
	signature                                string
	amzDate                                  string
	presigned                                bool
}

// parseSignature extracts the SigV4 fields from the Authorization header or
// the query string. It answers MissingAuthenticationToken when the request
// carries neither, and IncompleteSignature when they are malformed.
func parseSignature(r *http.Request, query url.Values) (*sigRequest, *APIError) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return parseAuthHeader(r, auth)
	}
	if query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Signature") || query.Has("X-Amz-Credential") {
		return parseQueryAuth(query)
	}
	return nil, newError("MissingAuthenticationToken", msgMissingToken)
}

func parseAuthHeader(r *http.Request, auth string) (*sigRequest, *APIError) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	if alg != sigAlgorithm {
		return nil, newError("IncompleteSignature", "Unsupported AWS 'algorithm': '"+alg+"'")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		if d := r.Header.Get("Date"); d != "" {
			if t, err := http.ParseTime(d); err == nil {
				amzDate = t.UTC().Format(amzDateFormat)
			}
		}
	}
	if amzDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, newError("IncompleteSignature", strings.Join(missing, " ")+" Authorization="+auth)
	}
	s := &sigRequest{signature: fields["Signature"], amzDate: amzDate}
	if err := s.setCredential(fields["Credential"]); err != nil {
		return nil, err
	}
	s.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	return s, nil
}

func parseQueryAuth(q url.Values) (*sigRequest, *APIError) {
	if alg := q.Get("X-Amz-Algorithm"); alg != sigAlgorithm {
		return nil, newError("IncompleteSignature", "Unsupported AWS 'algorithm': '"+alg+"'")
	}
	var missing []string
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			missing = append(missing, "AWS query-string parameters must include '"+k+"'.")
		}
	}
	if len(missing) > 0 {
		return nil, newError("IncompleteSignature", strings.Join(missing, " ")+" Re-examine the query-string parameters.")
	}
	s := &sigRequest{signature: q.Get("X-Amz-Signature"), amzDate: q.Get("X-Amz-Date"), presigned: true}
	if err := s.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	s.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	return s, nil
}

// setCredential splits AKID/date/region/service/aws4_request. The key id
// itself never contains a slash.
func (s *sigRequest) setCredential(cred string) *APIError {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return newError("IncompleteSignature", "Credential should have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	s.keyID, s.date, s.region, s.service, s.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

// checkScope answers the scope errors AWS reports once the key is known.
func (s *sigRequest) checkScope(service string) *APIError {
	if s.service != service {
		return newError("SignatureDoesNotMatch", "Credential should be scoped to correct service: '"+service+"'. ")
	}
	if s.terminator != scopeTerm {
		return newError("SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: 'aws4_request', not '"+s.terminator+"'. ")
	}
	if s.region == "" {
		return newError("SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")
	}
	t, err := time.Parse(amzDateFormat, s.amzDate)
	if err != nil {
		return newError("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '"+s.amzDate+"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	if t.Format("20060102") != s.date {
		return newError("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+s.date+"' != '"+t.Format("20060102")+"', from '"+s.amzDate+"'.")
	}
	return nil
}

// verify recomputes the signature with the secret and compares. Clients
// differ in small ways (path escaping, presigned payload hash), so every
// canonical form a conforming client may have used is tried.
func (s *sigRequest) verify(r *http.Request, query url.Values, body []byte, secret string) bool {
	want, err := hex.DecodeString(s.signature)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	headers, ok := canonicalHeaders(r, s.signedHeaders)
	if !ok {
		return false
	}
	q := query
	if s.presigned {
		q = cloneValues(query)
		q.Del("X-Amz-Signature")
	}
	canonQuery := canonicalQuery(q)
	payloads := []string{hexSHA256(body)}
	if s.presigned {
		payloads = append(payloads, unsignedBody)
	}
	rawPath := r.URL.EscapedPath()
	if rawPath == "" {
		rawPath = "/"
	}
	paths := []string{escapePath(rawPath), rawPath}

	scope := s.date + "/" + s.region + "/" + s.service + "/" + s.terminator
	key := signingKey(secret, s.date, s.region, s.service)
	signed := strings.Join(s.signedHeaders, ";")
	for _, p := range paths {
		for _, payload := range payloads {
			canonical := strings.Join([]string{r.Method, p, canonQuery, headers, signed, payload}, "\n")
			h := sha256.Sum256([]byte(canonical))
			toSign := sigAlgorithm + "\n" + s.amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
			if hmac.Equal(hmacSHA256(key, toSign), want) {
				return true
			}
		}
	}
	return false
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerm)
}

// canonicalHeaders renders the signed headers, in the order the client
// listed them (which SigV4 requires to be sorted, so a client that did not
// sort cannot match anyway).
func canonicalHeaders(r *http.Request, names []string) (string, bool) {
	var b strings.Builder
	for _, name := range names {
		if name == "" || name != strings.ToLower(name) {
			return "", false
		}
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(collapseSpaces(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), true
}

// collapseSpaces trims a header value and reduces runs of spaces to one.
func collapseSpaces(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// canonicalQuery encodes names and values (RFC 3986 unreserved characters
// stay, a space is %20) and sorts after encoding.
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		ek := uriEncode(k, true)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// escapePath encodes an (already escaped) path once more, keeping slashes:
// the double encoding SigV4 uses for every service but S3.
func escapePath(p string) string { return uriEncode(p, false) }

func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
