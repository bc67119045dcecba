package emulator

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Quotas AWS applies by default.
const (
	accessKeysQuota = 2
	usersQuota      = 5000
	defaultMaxItems = 100
)

// reqCtx is an authenticated request on its way through an operation.
type reqCtx struct {
	e          *Emulator
	op         string
	params     url.Values
	keyID      string // the signing key
	isRoot     bool   // signed with a root key
	signerUser string // the signing IAM user, when not root
	signerArn  string
	session    *roleSession // signed with a role's temporary credentials
	region     string       // the credential scope's region
	now        time.Time
}

// opFunc performs one Action with the state lock held. A nil result means
// the response has no {Action}Result element. A result holds copies, never
// the emulator's own records: it is used after the lock is released.
type opFunc func(c *reqCtx) (result, *APIError)

// operations are the Actions the emulator implements; any other Action is
// InvalidAction, as AWS answers an unknown one.
var operations map[string]opFunc

func init() {
	operations = map[string]opFunc{
		"CreateUser":           opCreateUser,
		"GetUser":              opGetUser,
		"ListUsers":            opListUsers,
		"DeleteUser":           opDeleteUser,
		"CreateAccessKey":      opCreateAccessKey,
		"ListAccessKeys":       opListAccessKeys,
		"UpdateAccessKey":      opUpdateAccessKey,
		"DeleteAccessKey":      opDeleteAccessKey,
		"GetAccessKeyLastUsed": opGetAccessKeyLastUsed,
		"GetAccountSummary":    opGetAccountSummary,

		"TagUser":                  opTagUser,
		"UntagUser":                opUntagUser,
		"ListUserTags":             opListUserTags,
		"ListMFADevices":           opListMFADevices,
		"GetLoginProfile":          opGetLoginProfile,
		"ListGroupsForUser":        opListGroupsForUser,
		"ListAttachedUserPolicies": opListAttachedUserPolicies,
		"ListUserPolicies":         opListUserPolicies,
		"GenerateCredentialReport": opGenerateCredentialReport,
		"GetCredentialReport":      opGetCredentialReport,
	}
}

// Operations lists the Actions the emulator implements.
func Operations() []string {
	out := make([]string, 0, len(operations))
	for op := range operations {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

func (c *reqCtx) callerArn() string {
	if c.isRoot || c.signerArn == "" {
		return c.e.rootArn()
	}
	return c.signerArn
}

// ownName is the caller's own identity as a key owner name.
func (c *reqCtx) ownName() string {
	if c.isRoot {
		return RootUserName
	}
	return c.signerUser
}

// denyResource names the resource in an AccessDenied message for an
// injected error, from the request's parameters.
func (c *reqCtx) denyResource() string {
	if name := c.params.Get("UserName"); name != "" {
		return "user " + name
	}
	return c.resourceOf(c.ownName())
}

func (c *reqCtx) resourceOf(owner string) string {
	if owner == RootUserName {
		return c.e.rootArn()
	}
	return "user " + owner
}

// denied applies the Deny rules: target is the user the operation acts on
// (RootUserName for the root user, "" for account-level operations), own
// whether that is the caller's own identity.
func (c *reqCtx) denied(target string, own bool, resource string) *APIError {
	d := c.e.denies
	match := d[denyRule{c.op, "*"}] || d[denyRule{"*", "*"}]
	if target != "" {
		for rule := range d {
			if (rule.op == c.op || rule.op == "*") && rule.user != "" && strings.EqualFold(rule.user, target) {
				match = true
			}
		}
	}
	if own {
		match = match || d[denyRule{c.op, ""}] || d[denyRule{"*", ""}]
	}
	if !match {
		return nil
	}
	return newError("AccessDenied", "User: "+c.callerArn()+" is not authorized to perform: iam:"+c.op+" on resource: "+resource)
}

// target resolves whom an operation acts on: the UserName parameter when
// given, else the caller's own identity (the root user for a root key). It
// checks Deny before existence, as AWS authorizes before looking up.
func (c *reqCtx) target(name string, given bool) (owner string, u *User, err *APIError) {
	if !given {
		if c.session != nil {
			return "", nil, newError("ValidationError", "Must specify userName when calling with non-User credentials")
		}
		owner = c.ownName()
		if err := c.denied(owner, true, c.resourceOf(owner)); err != nil {
			return "", nil, err
		}
		if c.isRoot {
			return RootUserName, nil, nil
		}
		u, ok := c.e.users[strings.ToLower(owner)]
		if !ok {
			return "", nil, errNoSuchUser(owner)
		}
		return u.UserName, u, nil
	}
	own := !c.isRoot && strings.EqualFold(name, c.signerUser)
	if err := c.denied(name, own, "user "+name); err != nil {
		return "", nil, err
	}
	u, ok := c.e.users[strings.ToLower(name)]
	if !ok {
		return "", nil, errNoSuchUser(name)
	}
	return u.UserName, u, nil
}

func opCreateUser(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	name, _ := v.str(ruleNewUserName)
	path, hasPath := v.str(rulePath)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := c.denied(name, false, "user "+name); err != nil {
		return nil, err
	}
	if !hasPath {
		path = "/"
	}
	e := c.e
	if strings.EqualFold(name, RootUserName) {
		return nil, newError("InvalidInput", "The user name "+name+" is reserved: the emulator reports the account's root user as "+RootUserName+".")
	}
	if _, ok := e.users[strings.ToLower(name)]; ok {
		return nil, newError("EntityAlreadyExists", "User with name "+name+" already exists.")
	}
	if len(e.users) >= usersQuota {
		return nil, newError("LimitExceeded", fmt.Sprintf("Cannot exceed quota for UsersPerAccount: %d", usersQuota))
	}
	u := User{UserName: name, Path: path, CreateDate: c.now}
	if err := e.addUserLocked(u); err != nil {
		return nil, newError("ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")
	}
	e.persist()
	return &UserResult{User: *e.users[strings.ToLower(name)]}, nil
}

func opGetUser(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	name, given := v.str(ruleOptionalUserName)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, u, err := c.target(name, given)
	if err != nil {
		return nil, err
	}
	if u == nil {
		// The root user, as AWS describes it: the account id as UserId, the
		// root ARN, no path or user name.
		return &UserResult{Root: true, User: User{UserID: c.e.accountID, Arn: c.e.rootArn(), CreateDate: c.e.rootCreated}}, nil
	}
	return &UserResult{User: *u}, nil
}

func opListUsers(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	prefix, _ := v.str(rulePathPrefix)
	marker, hasMarker := v.str(ruleMarker)
	maxItems := v.maxItems(defaultMaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := c.denied("", true, "arn:aws:iam::"+c.e.accountID+":user"+orSlash(prefix)); err != nil {
		return nil, err
	}
	after := ""
	if hasMarker {
		m, ok := decodeMarker(marker, "u")
		if !ok || len(m) != 1 {
			return nil, errBadMarker(c.op)
		}
		after = m[0]
	}
	res := &ListUsersResult{Users: []User{}}
	for _, u := range c.e.sortedUsers() {
		key := strings.ToLower(u.UserName)
		if hasMarker && key <= after {
			continue
		}
		if !strings.HasPrefix(u.Path, prefix) {
			continue
		}
		if len(res.Users) == maxItems {
			res.IsTruncated = true
			res.Marker = encodeMarker("u", strings.ToLower(res.Users[len(res.Users)-1].UserName))
			break
		}
		res.Users = append(res.Users, *u)
	}
	return res, nil
}

func orSlash(prefix string) string {
	if prefix == "" {
		return "/"
	}
	return prefix
}

func opDeleteUser(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	name, _ := v.str(ruleUserName)
	if err := v.err(); err != nil {
		return nil, err
	}
	owner, _, err := c.target(name, true)
	if err != nil {
		return nil, err
	}
	if len(c.e.keysOf(owner)) > 0 {
		return nil, newError("DeleteConflict", msgDeleteConflict)
	}
	delete(c.e.users, strings.ToLower(owner))
	c.e.persist()
	return nil, nil
}

func opCreateAccessKey(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	name, given := v.str(ruleOptionalUserName)
	if err := v.err(); err != nil {
		return nil, err
	}
	owner, _, err := c.target(name, given)
	if err != nil {
		return nil, err
	}
	e := c.e
	if len(e.keysOf(owner)) >= accessKeysQuota {
		return nil, newError("LimitExceeded", fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", accessKeysQuota))
	}
	k := &AccessKey{
		AccessKeyID:     e.newAccessKeyID(),
		SecretAccessKey: e.randString(40, secretAlphabet),
		UserName:        owner,
		Status:          statusActive,
		CreateDate:      c.now,
	}
	e.putKeyLocked(k)
	e.notePropagationLocked(k.AccessKeyID)
	e.persist()
	return &CreateAccessKeyResult{AccessKey: *k}, nil
}

func opListAccessKeys(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	name, given := v.str(ruleOptionalUserName)
	marker, hasMarker := v.str(ruleMarker)
	maxItems := v.maxItems(defaultMaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	owner, _, err := c.target(name, given)
	if err != nil {
		return nil, err
	}
	var afterDate int64
	var afterID string
	if hasMarker {
		m, ok := decodeMarker(marker, "k")
		if !ok || len(m) != 3 || m[0] != strings.ToLower(owner) {
			return nil, errBadMarker(c.op)
		}
		n, perr := strconv.ParseInt(m[1], 10, 64)
		if perr != nil {
			return nil, errBadMarker(c.op)
		}
		afterDate, afterID = n, m[2]
	}
	res := &ListAccessKeysResult{AccessKeyMetadata: []AccessKeyMetadata{}}
	for _, k := range c.e.keysOf(owner) {
		if hasMarker {
			d := k.CreateDate.UnixNano()
			if d < afterDate || (d == afterDate && k.AccessKeyID <= afterID) {
				continue
			}
		}
		page := res.AccessKeyMetadata
		if len(page) == maxItems {
			last := page[len(page)-1]
			res.IsTruncated = true
			res.Marker = encodeMarker("k", strings.ToLower(owner), strconv.FormatInt(last.CreateDate.UnixNano(), 10), last.AccessKeyID)
			break
		}
		res.AccessKeyMetadata = append(page, AccessKeyMetadata{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: k.CreateDate})
	}
	return res, nil
}

// ownedKey finds the key an Update/Delete names, which must belong to the
// target user; for UpdateAccessKey it also returns the new status.
func (c *reqCtx) ownedKey(withStatus bool) (*AccessKey, string, *APIError) {
	v := validator{params: c.params}
	name, given := v.str(ruleOptionalUserName)
	id, _ := v.str(ruleAccessKeyID)
	status := ""
	if withStatus {
		status, _ = v.str(ruleStatus)
	}
	if err := v.err(); err != nil {
		return nil, "", err
	}
	owner, _, err := c.target(name, given)
	if err != nil {
		return nil, "", err
	}
	k, ok := c.e.keys[id]
	if !ok || k.UserName != owner {
		return nil, "", errNoSuchKey(id)
	}
	return k, status, nil
}

func opUpdateAccessKey(c *reqCtx) (result, *APIError) {
	k, status, err := c.ownedKey(true)
	if err != nil {
		return nil, err
	}
	if k.Status != status {
		k.Status = status
		c.e.persist()
	}
	return nil, nil
}

func opDeleteAccessKey(c *reqCtx) (result, *APIError) {
	k, _, err := c.ownedKey(false)
	if err != nil {
		return nil, err
	}
	c.e.dropKeyLocked(k.AccessKeyID)
	c.e.persist()
	return nil, nil
}

func opGetAccessKeyLastUsed(c *reqCtx) (result, *APIError) {
	v := validator{params: c.params}
	id, _ := v.str(ruleAccessKeyID)
	if err := v.err(); err != nil {
		return nil, err
	}
	k, ok := c.e.keys[id]
	if !ok {
		// AWS does not reveal whether a key exists: an unknown id is
		// AccessDenied, worded like this, not NoSuchEntity.
		return nil, newError("AccessDenied", "User: "+c.callerArn()+" is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key "+id)
	}
	if err := c.denied(k.UserName, k.UserName == c.ownName(), c.resourceOf(k.UserName)); err != nil {
		return nil, err
	}
	res := &GetAccessKeyLastUsedResult{UserName: k.UserName}
	if k.LastUsed != nil {
		lu := *k.LastUsed
		res.LastUsed = &lu
	}
	return res, nil
}

func opGetAccountSummary(c *reqCtx) (result, *APIError) {
	if err := c.denied("", true, "*"); err != nil {
		return nil, err
	}
	e := c.e
	rootKeys := 0
	if len(e.keysOf(RootUserName)) > 0 {
		rootKeys = 1
	}
	// The keys and quotas AWS reports, with the account's counts; what the
	// emulator does not model (groups, roles, policies, MFA) is zero.
	entries := []SummaryEntry{
		{"AccessKeysPerUserQuota", accessKeysQuota},
		{"AccountAccessKeysPresent", rootKeys},
		{"AccountMFAEnabled", 0},
		{"AccountSigningCertificatesPresent", 0},
		{"AssumeRolePolicySizeQuota", 2048},
		{"AttachedPoliciesPerGroupQuota", 10},
		{"AttachedPoliciesPerRoleQuota", 10},
		{"AttachedPoliciesPerUserQuota", 10},
		{"GlobalEndpointTokenVersion", 1},
		{"GroupPolicySizeQuota", 5120},
		{"Groups", 0},
		{"GroupsPerUserQuota", 10},
		{"GroupsQuota", 300},
		{"InstanceProfiles", 0},
		{"InstanceProfilesQuota", 1000},
		{"MFADevices", 0},
		{"MFADevicesInUse", 0},
		{"Policies", 0},
		{"PoliciesQuota", 1500},
		{"PolicySizeQuota", 6144},
		{"PolicyVersionsInUse", 0},
		{"PolicyVersionsInUseQuota", 10000},
		{"Providers", 0},
		{"RolePolicySizeQuota", 10240},
		{"Roles", 0},
		{"RolesQuota", 1000},
		{"ServerCertificates", 0},
		{"ServerCertificatesQuota", 20},
		{"SigningCertificatesPerUserQuota", 2},
		{"UserPolicySizeQuota", 2048},
		{"Users", len(e.users)},
		{"UsersQuota", usersQuota},
		{"VersionsPerPolicyQuota", 5},
	}
	return &GetAccountSummaryResult{SummaryMap: entries}, nil
}

// persist saves after a mutation made through the API; a failure is
// logged, the in-memory state stays authoritative.
func (e *Emulator) persist() {
	if err := e.saveLocked(); err != nil {
		e.logger.Error("emulator: saving state", "err", err)
	}
}

// Markers are opaque to clients: a kind and the position after which the
// next page starts, base64url-encoded.
func encodeMarker(kind string, fields ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "1\x00" + strings.Join(fields, "\x00")))
}

func decodeMarker(m, kind string) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return nil, false
	}
	head, rest, ok := strings.Cut(string(b), "\x00")
	if !ok || head != kind+"1" {
		return nil, false
	}
	return strings.Split(rest, "\x00"), true
}

func errBadMarker(op string) *APIError {
	return newError("ValidationError", "Invalid Marker: pass the Marker value returned by the previous "+op+" call.")
}
