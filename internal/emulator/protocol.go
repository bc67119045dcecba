package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// service is one AWS API the emulator answers. IAM and STS speak the Query
// protocol (form-encoded Action and Version, XML answers in the API's
// namespace); Organizations speaks JSON 1.1 (the operation in the
// X-Amz-Target header, JSON in and out). Each is signed with SigV4 scoped
// to its own signing name, and verified the same way.
type service struct {
	signingName string // the credential scope's service
	version     string // Query APIs: the Version parameter
	xmlns       string // Query APIs: the answers' XML namespace
	json        bool
	target      string // JSON APIs: X-Amz-Target's prefix before the operation
	ops         map[string]opFunc
}

var iamService, stsService, orgService, smService *service

func init() {
	iamService = &service{signingName: signingService, version: apiVersion, xmlns: xmlNS, ops: operations}
	stsService = &service{signingName: "sts", version: stsVersion, xmlns: stsNS, ops: stsOperations}
	orgService = &service{signingName: "organizations", json: true, target: orgTargetPrefix, ops: orgOperations}
	smService = &service{signingName: "secretsmanager", json: true, target: smTargetPrefix, ops: smOperations}
}

// serviceOf picks the API of a request before its body is read: a JSON
// request names its target in a header; a Query request is IAM until its
// Version says STS.
func serviceOf(r *http.Request) *service {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if strings.HasPrefix(t, smTargetPrefix) {
			return smService
		}
		return orgService
	}
	return iamService
}

// action is the operation a request asks for.
func (s *service) action(r *http.Request, params url.Values) string {
	if s.json {
		t := r.Header.Get("X-Amz-Target")
		if op, ok := strings.CutPrefix(t, s.target); ok {
			return op
		}
		return t
	}
	return params.Get("Action")
}

// checkAction answers an action the API does not have, or a Query request
// without the right Version, as AWS does.
func (s *service) checkAction(action string, known bool, params url.Values) *APIError {
	if s.json {
		if !known {
			return newError("UnknownOperationException", "The action or operation requested is invalid. Verify that the action is typed correctly.")
		}
		return nil
	}
	switch {
	case action == "":
		return newError("MissingAction", "Missing Action")
	case !known:
		v := params.Get("Version")
		if v == "" {
			v = s.version
		}
		return newError("InvalidAction", "Could not find operation "+action+" for version "+v)
	}
	switch v := params.Get("Version"); {
	case !params.Has("Version"):
		return newError("MissingParameter", "The request must contain the parameter Version")
	case v != s.version:
		return newError("InvalidAction", "Could not find operation "+action+" for version "+v)
	}
	return nil
}

// jsonCodes are the error codes a JSON API answers for the Query codes
// the shared code paths (authentication, throttling, validation) raise.
var jsonCodes = map[string]string{
	"AccessDenied":               "AccessDeniedException",
	"IncompleteSignature":        "IncompleteSignatureException",
	"InternalFailure":            "ServiceException",
	"InvalidClientTokenId":       "UnrecognizedClientException",
	"MissingAuthenticationToken": "MissingAuthenticationTokenException",
	"ServiceFailure":             "ServiceException",
	"ServiceUnavailable":         "ServiceException",
	"SignatureDoesNotMatch":      "InvalidSignatureException",
	"Throttling":                 "TooManyRequestsException",
	"ValidationError":            "InvalidInputException",
	"MalformedQueryString":       "SerializationException",
	"RequestEntityTooLarge":      "SerializationException",
	"MethodNotAllowed":           "UnknownOperationException",
}

// errorOf is err as this API names it.
func (s *service) errorOf(err *APIError) *APIError {
	if !s.json {
		return err
	}
	if c, ok := jsonCodes[err.Code]; ok {
		return &APIError{Code: c, Message: err.Message, Status: err.Status}
	}
	return err
}

func (s *service) errorBody(err *APIError, requestID string) []byte {
	if !s.json {
		return queryErrorBody(s.xmlns, err, requestID)
	}
	b, _ := json.Marshal(map[string]string{"__type": err.Code, "message": err.Message})
	return b
}

// jsonResult is a JSON API's answer.
type jsonResult interface{ jsonValue() any }

func (s *service) successBody(op string, res result, requestID string) []byte {
	if !s.json {
		return queryBody(s.xmlns, op, res, requestID)
	}
	var v any = struct{}{}
	if j, ok := res.(jsonResult); ok {
		v = j.jsonValue()
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("{}")
	}
	return b
}

// jsonParams reads a JSON 1.1 request body's top-level members as
// parameters (the operations served take only scalars).
func jsonParams(body []byte) (url.Values, *APIError) {
	params := url.Values{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return params, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, newError("SerializationException", "The request body is not valid JSON: "+err.Error())
	}
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case string:
			params.Set(k, v)
		case float64:
			params.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			params.Set(k, strconv.FormatBool(v))
		default:
			b, _ := json.Marshal(v)
			params.Set(k, string(b))
		}
	}
	return params, nil
}

// sessionToken is the session token a request carries (temporary
// credentials), from the header or a presigned URL.
func sessionToken(r *http.Request, query url.Values) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	return query.Get("X-Amz-Security-Token")
}
