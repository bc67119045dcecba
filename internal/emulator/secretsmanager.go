package emulator

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Secrets Manager over JSON 1.1 (X-Amz-Target "secretsmanager.<Op>"):
// CreateSecret, PutSecretValue, GetSecretValue and DescribeSecret, with
// string secrets, versions staged AWSCURRENT/AWSPREVIOUS and
// ClientRequestToken idempotency, as the rotation sink uses them. Secrets
// are regional (the signing region) and belong to the account that
// signed; they live in memory only (StatePath does not persist them).

const smTargetPrefix = "secretsmanager."

var smOperations = map[string]opFunc{
	"CreateSecret":   opCreateSecret,
	"PutSecretValue": opPutSecretValue,
	"GetSecretValue": opGetSecretValue,
	"DescribeSecret": opDescribeSecret,
}

const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
	maxSecretSize = 65536
)

var (
	secretNameRe   = lazyRegexp(`^[\w/+=.@-]+$`)
	requestTokenRe = lazyRegexp(`^[\w-]{32,64}$`)
)

// secret is one Secrets Manager secret.
type secret struct {
	arn, name, region string
	created, changed  time.Time
	versions          map[string]*secretVersion // by version id
}

type secretVersion struct {
	id, value string
	created   time.Time
	stages    []string
}

// secretsLocked is the account's secrets by region and name (made on first
// use).
func (e *Emulator) secretsLocked() map[string]*secret {
	if e.secrets == nil {
		e.secrets = map[string]*secret{}
	}
	return e.secrets
}

// Secret returns the current value of a secret of the account in a region
// (for tests: what a sink delivered), and whether it exists.
func (e *Emulator) Secret(region, name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.secretsLocked()[region+"\x00"+name]
	if !ok {
		return "", false
	}
	if v := s.current(); v != nil {
		return v.value, true
	}
	return "", true
}

func (s *secret) current() *secretVersion {
	for _, v := range s.versions {
		if containsString(v.stages, stageCurrent) {
			return v
		}
	}
	return nil
}

func smInvalid(msg string) *APIError { return newError("InvalidParameterException", msg) }

func smNotFound() *APIError {
	return newError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// findSecret resolves a SecretId: a name, or an ARN (full or partial).
func (c *reqCtx) findSecret() (*secret, *APIError) {
	id := c.params.Get("SecretId")
	if id == "" {
		return nil, smInvalid("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	secrets := c.e.secretsLocked()
	if s, ok := secrets[c.region+"\x00"+id]; ok {
		return s, nil
	}
	if strings.HasPrefix(id, "arn:") {
		for _, s := range secrets {
			if s.region == c.region && (s.arn == id || strings.HasPrefix(s.arn, id+"-")) {
				return s, nil
			}
		}
	}
	return nil, smNotFound()
}

// secretValue reads SecretString and ClientRequestToken.
func (c *reqCtx) secretValue() (value string, has bool, token string, aerr *APIError) {
	if c.params.Has("SecretBinary") {
		return "", false, "", smInvalid("The emulator stores SecretString values only.")
	}
	value, has = c.params.Get("SecretString"), c.params.Has("SecretString")
	if has && (len(value) == 0 || len(value) > maxSecretSize || !utf8.ValidString(value)) {
		return "", false, "", smInvalid("1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length between 1 and 65536")
	}
	token = c.params.Get("ClientRequestToken")
	if token != "" && !requestTokenRe().MatchString(token) {
		return "", false, "", smInvalid("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64")
	}
	return value, has, token, nil
}

// putVersion stages a new current version (the old current becomes
// AWSPREVIOUS), or answers an idempotent repeat of a token.
func (c *reqCtx) putVersion(s *secret, value, token string) (*secretVersion, *APIError) {
	if token == "" {
		token = c.e.randUUID()
	}
	if v, ok := s.versions[token]; ok {
		if v.value != value {
			return nil, newError("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
		}
		return v, nil
	}
	for _, v := range s.versions {
		v.stages = removeString(v.stages, stagePrevious)
		if containsString(v.stages, stageCurrent) {
			v.stages = append(removeString(v.stages, stageCurrent), stagePrevious)
		}
		if len(v.stages) == 0 {
			delete(s.versions, v.id) // a version without a stage is gone
		}
	}
	v := &secretVersion{id: token, value: value, created: c.now, stages: []string{stageCurrent}}
	s.versions[token] = v
	s.changed = c.now
	return v, nil
}

func opCreateSecret(c *reqCtx) (result, *APIError) {
	name := c.params.Get("Name")
	switch {
	case name == "":
		return nil, smInvalid("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	case len(name) > 512 || !secretNameRe().MatchString(name):
		return nil, smInvalid("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	value, has, token, aerr := c.secretValue()
	if aerr != nil {
		return nil, aerr
	}
	secrets := c.e.secretsLocked()
	key := c.region + "\x00" + name
	if s, ok := secrets[key]; ok {
		// A repeated CreateSecret with the same token is the same call.
		if v, ok := s.versions[token]; token != "" && ok && v.value == value {
			return JSONAnswer{"ARN": s.arn, "Name": s.name, "VersionId": v.id}, nil
		}
		return nil, newError("ResourceExistsException", "The operation failed because the secret "+name+" already exists.")
	}
	s := &secret{
		arn:  "arn:aws:secretsmanager:" + c.region + ":" + c.e.accountID + ":secret:" + name + "-" + c.e.randString(6, idAlphabet),
		name: name, region: c.region, created: c.now, changed: c.now,
		versions: map[string]*secretVersion{},
	}
	secrets[key] = s
	res := JSONAnswer{"ARN": s.arn, "Name": s.name}
	if has {
		v, aerr := c.putVersion(s, value, token)
		if aerr != nil {
			return nil, aerr
		}
		res["VersionId"] = v.id
	}
	return res, nil
}

func opPutSecretValue(c *reqCtx) (result, *APIError) {
	s, aerr := c.findSecret()
	if aerr != nil {
		return nil, aerr
	}
	value, has, token, aerr := c.secretValue()
	if aerr != nil {
		return nil, aerr
	}
	if !has {
		return nil, smInvalid("You must provide either SecretString or SecretBinary.")
	}
	v, aerr := c.putVersion(s, value, token)
	if aerr != nil {
		return nil, aerr
	}
	return JSONAnswer{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "VersionStages": v.stages}, nil
}

func opGetSecretValue(c *reqCtx) (result, *APIError) {
	s, aerr := c.findSecret()
	if aerr != nil {
		return nil, aerr
	}
	var v *secretVersion
	switch id, stage := c.params.Get("VersionId"), c.params.Get("VersionStage"); {
	case id != "":
		v = s.versions[id]
		if v != nil && stage != "" && !containsString(v.stages, stage) {
			v = nil
		}
	case stage != "":
		for _, x := range s.versions {
			if containsString(x.stages, stage) {
				v = x
			}
		}
	default:
		v = s.current()
	}
	if v == nil {
		return nil, newError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stageCurrent)
	}
	return JSONAnswer{
		"ARN": s.arn, "Name": s.name, "VersionId": v.id, "SecretString": v.value,
		"VersionStages": v.stages, "CreatedDate": float64(v.created.Unix()),
	}, nil
}

func opDescribeSecret(c *reqCtx) (result, *APIError) {
	s, aerr := c.findSecret()
	if aerr != nil {
		return nil, aerr
	}
	stages := map[string][]string{}
	ids := make([]string, 0, len(s.versions))
	for id := range s.versions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		stages[id] = s.versions[id].stages
	}
	return JSONAnswer{
		"ARN": s.arn, "Name": s.name,
		"CreatedDate": float64(s.created.Unix()), "LastChangedDate": float64(s.changed.Unix()),
		"VersionIdsToStages": stages,
	}, nil
}

// randUUID is a random version id in UUID form.
func (e *Emulator) randUUID() string {
	h := e.randString(32, "0123456789abcdef")
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
