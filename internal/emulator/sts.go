package emulator

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// STS: AssumeRole into a role of this or another account of the
// organization, and GetCallerIdentity. The temporary credentials
// AssumeRole hands out sign requests to the role's account like any key,
// with their session token, until they expire.

const (
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"

	defaultSessionDuration = time.Hour
)

var stsOperations = map[string]opFunc{
	"AssumeRole":        opAssumeRole,
	"GetCallerIdentity": opGetCallerIdentity,
}

// Role is an IAM role that principals of the accounts it trusts may
// assume: its trust policy, reduced to the account ids it names (any
// principal of such an account) and an external id it may require.
type Role struct {
	Name string
	// Trusted are the account ids whose principals may assume the role.
	Trusted []string
	// ExternalID, when set, must be passed by AssumeRole.
	ExternalID string
}

// roleSession is one AssumeRole's temporary credentials.
type roleSession struct {
	account, role, name string
	roleID              string
	keyID               string
	secret, token       string
	expires             time.Time
}

func (s *roleSession) arn() string {
	return "arn:aws:sts::" + s.account + ":assumed-role/" + s.role + "/" + s.name
}

// directory is the state accounts share: their roles, the role sessions
// that sign for them, and the organization they belong to (nil for a
// standalone account). It has its own lock, taken after an account's
// (never the other way round), so a call in one account can assume a
// role of another.
type directory struct {
	mu       sync.Mutex
	roles    map[string]map[string]*Role // account → lower-cased role name
	sessions map[string]*roleSession     // by access key id
	org      *orgState
}

func newDirectory() *directory {
	return &directory{roles: map[string]map[string]*Role{}, sessions: map[string]*roleSession{}}
}

// SetRole adds the role to the account, or replaces the one of that name
// (to change whom it trusts).
func (e *Emulator) SetRole(r Role) error {
	if !roleNameRe().MatchString(r.Name) || len(r.Name) > 64 {
		return fmt.Errorf("emulator: SetRole: invalid role name %q", r.Name)
	}
	for _, a := range r.Trusted {
		if !validAccountID(a) {
			return fmt.Errorf("emulator: SetRole: trusted account id %q must be 12 digits", a)
		}
	}
	d := e.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.roles[e.accountID]
	if m == nil {
		m = map[string]*Role{}
		d.roles[e.accountID] = m
	}
	c := r
	c.Trusted = append([]string(nil), r.Trusted...)
	m[strings.ToLower(r.Name)] = &c
	return nil
}

// RemoveRole removes a role; AssumeRole of it is then refused.
func (e *Emulator) RemoveRole(name string) {
	d := e.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.roles[e.accountID], strings.ToLower(name))
}

// suspended reports whether the account is a suspended member of its
// organization.
func (e *Emulator) suspended() bool {
	e.dir.mu.Lock()
	defer e.dir.mu.Unlock()
	return e.dir.suspendedLocked(e.accountID)
}

// session returns the live or expired session of a key id signing for
// this account.
func (e *Emulator) session(keyID string) (*roleSession, bool) {
	d := e.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[keyID]
	if !ok || s.account != e.accountID {
		return nil, false
	}
	return s, true
}

var (
	roleNameRe    = lazyRegexp(`^[\w+=,.@-]+$`)
	roleArnRe     = lazyRegexp(`^arn:aws[\w-]*:iam::(\d{12}):role/(?:[\x{21}-\x{7F}]*/)?([\w+=,.@-]+)$`)
	sessionNameRe = lazyRegexp(`^[\w+=,.@-]*$`)
	externalIDRe  = lazyRegexp(`^[\w+=,.@:/-]*$`)

	ruleRoleArn     = stringRule{param: "RoleArn", member: "roleArn", required: true, min: 20, max: 2048}
	ruleSessionName = stringRule{param: "RoleSessionName", member: "roleSessionName", required: true, min: 2, max: 64, re: sessionNameRe, pattern: `[\w+=,.@-]*`}
	ruleExternalID  = stringRule{param: "ExternalId", member: "externalId", min: 2, max: 1224, re: externalIDRe, pattern: `[\w+=,.@:\/-]*`}
)

func opAssumeRole(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	roleArn, _ := v.str(ruleRoleArn)
	name, _ := v.str(ruleSessionName)
	extID, hasExt := v.str(ruleExternalID)
	duration := defaultSessionDuration
	if s := c.params.Get("DurationSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			v.errs = append(v.errs, "Value "+quoteValue(s)+" at 'durationSeconds' failed to satisfy constraint: Member must be an integer")
		case n < 900:
			v.errs = append(v.errs, "Value '"+s+"' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
		case n > 43200:
			v.errs = append(v.errs, "Value '"+s+"' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200")
		default:
			duration = time.Duration(n) * time.Second
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	m := roleArnRe().FindStringSubmatch(roleArn)
	if m == nil {
		return nil, newError("ValidationError", roleArn+" is invalid")
	}
	account, roleName := m[1], m[2]
	e := c.e
	denied := newError("AccessDenied", "User: "+c.callerArn()+" is not authorized to perform: sts:AssumeRole on resource: "+roleArn)
	d := e.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.suspendedLocked(account) {
		denied.Message += " (account " + account + " is " + strings.ToLower(d.org.accounts[account].Status) + ")"
		return nil, denied
	}
	r, ok := d.roles[account][strings.ToLower(roleName)]
	if !ok || !containsString(r.Trusted, e.accountID) || (r.ExternalID != "" && (!hasExt || extID != r.ExternalID)) {
		return nil, denied
	}
	s := &roleSession{
		account: account, role: r.Name, name: name,
		roleID:  roleID(account, r.Name),
		secret:  e.randString(40, secretAlphabet),
		token:   "IQoJb3JpZ2luX2VtEMUL" + e.randString(200, secretAlphabet),
		expires: c.now.Add(duration),
	}
	for {
		s.keyID = "ASIA" + e.randString(16, idAlphabet)
		if _, taken := d.sessions[s.keyID]; !taken {
			break
		}
	}
	d.pruneLocked(c.now)
	d.sessions[s.keyID] = s
	return &AssumeRoleResult{
		AccessKeyID: s.keyID, SecretAccessKey: s.secret, SessionToken: s.token, Expiration: s.expires,
		AssumedRoleID: s.roleID + ":" + s.name, Arn: s.arn(),
	}, nil
}

// pruneLocked forgets sessions that expired more than a day ago, so a
// long-running emulator does not keep every session ever made (an expired
// session is still answered ExpiredToken for that day).
func (d *directory) pruneLocked(now time.Time) {
	if len(d.sessions) < 1024 {
		return
	}
	for id, s := range d.sessions {
		if now.Sub(s.expires) > 24*time.Hour {
			delete(d.sessions, id)
		}
	}
}

func opGetCallerIdentity(c *reqCtx) (result, *APIError) {
	r := &GetCallerIdentityResult{Account: c.e.accountID, Arn: c.callerArn()}
	switch {
	case c.session != nil:
		r.UserID = c.session.roleID + ":" + c.session.name
	case c.isRoot:
		r.UserID = c.e.accountID
	default:
		if u, ok := c.e.users[strings.ToLower(c.signerUser)]; ok {
			r.UserID = u.UserID
		}
	}
	return r, nil
}

// roleID is a role's stable id, derived from its account and name.
func roleID(account, name string) string {
	sum := sha256.Sum256([]byte("iamsql-role:" + account + ":" + strings.ToLower(name)))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:10])
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AssumeRoleResult is AssumeRole's answer: temporary credentials and the
// assumed role's identity.
type AssumeRoleResult struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	AssumedRoleID, Arn                         string
}

func (r *AssumeRoleResult) writeXML(w *xmlWriter) {
	w.open("Credentials")
	w.elem("AccessKeyId", r.AccessKeyID)
	w.elem("SecretAccessKey", r.SecretAccessKey)
	w.elem("SessionToken", r.SessionToken)
	w.time("Expiration", r.Expiration)
	w.close("Credentials")
	w.open("AssumedRoleUser")
	w.elem("AssumedRoleId", r.AssumedRoleID)
	w.elem("Arn", r.Arn)
	w.close("AssumedRoleUser")
}

// GetCallerIdentityResult is who signed: the account, the principal's
// unique id and its ARN.
type GetCallerIdentityResult struct{ Account, UserID, Arn string }

func (r *GetCallerIdentityResult) writeXML(w *xmlWriter) {
	w.elem("UserId", r.UserID)
	w.elem("Account", r.Account)
	w.elem("Arn", r.Arn)
}
