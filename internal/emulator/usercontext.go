package emulator

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The context of a user a key audit reads: its tags (the console keeps an
// access key's description as a tag whose key is the key's id), console
// password, MFA devices, groups and policies. The emulator keeps them with
// the user (User) and answers IAM's operations on them; groups and
// policies are names and ARNs, not entities of their own.

// Tag is a user tag.
type Tag struct{ Key, Value string }

// LoginProfile is a user's console password.
type LoginProfile struct {
	CreateDate            time.Time
	PasswordResetRequired bool `json:",omitempty"`
}

// MFADevice is an MFA device enabled for a user.
type MFADevice struct {
	SerialNumber string
	EnableDate   time.Time
}

// Quotas and sizes IAM documents for tags.
const (
	tagsPerUser    = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

var (
	tagKeyRe   = lazyRegexp(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRe = lazyRegexp(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

const tagPattern = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`

func (u *User) clone() User {
	c := *u
	if u.PasswordLastUsed != nil {
		t := *u.PasswordLastUsed
		c.PasswordLastUsed = &t
	}
	if u.LoginProfile != nil {
		lp := *u.LoginProfile
		c.LoginProfile = &lp
	}
	c.Tags = slices.Clone(u.Tags)
	c.MFADevices = slices.Clone(u.MFADevices)
	c.Groups = slices.Clone(u.Groups)
	c.AttachedPolicies = slices.Clone(u.AttachedPolicies)
	c.InlinePolicies = slices.Clone(u.InlinePolicies)
	return c
}

// normalizeContextLocked checks and orders a user's context as AddUser
// receives it. The user's slices are replaced, never written in place: a
// result handed out earlier may still share the old ones.
func (e *Emulator) normalizeContextLocked(u *User) error {
	if len(u.Tags) > tagsPerUser {
		return fmt.Errorf("user %s: %d tags, more than IAM's %d", u.UserName, len(u.Tags), tagsPerUser)
	}
	seen := map[string]bool{}
	for _, t := range u.Tags {
		if msg := checkTag(t); msg != "" {
			return fmt.Errorf("user %s: %s", u.UserName, msg)
		}
		if seen[strings.ToLower(t.Key)] {
			return fmt.Errorf("user %s: duplicate tag key %q", u.UserName, t.Key)
		}
		seen[strings.ToLower(t.Key)] = true
	}
	u.Tags = sortedTags(u.Tags)
	if u.LoginProfile != nil {
		lp := *u.LoginProfile
		if lp.CreateDate.IsZero() {
			lp.CreateDate = u.CreateDate
		}
		lp.CreateDate = e.date(lp.CreateDate)
		u.LoginProfile = &lp
	}
	mfa := slices.Clone(u.MFADevices)
	for i := range mfa {
		if mfa[i].SerialNumber == "" {
			mfa[i].SerialNumber = "arn:aws:iam::" + e.accountID + ":mfa/" + u.UserName
		}
		if mfa[i].EnableDate.IsZero() {
			mfa[i].EnableDate = u.CreateDate
		}
		mfa[i].EnableDate = e.date(mfa[i].EnableDate)
	}
	slices.SortFunc(mfa, func(a, b MFADevice) int { return strings.Compare(a.SerialNumber, b.SerialNumber) })
	u.MFADevices = mfa
	u.Groups = sortedUnique(u.Groups, strings.ToLower)
	u.AttachedPolicies = sortedUnique(u.AttachedPolicies, func(s string) string { return s })
	u.InlinePolicies = sortedUnique(u.InlinePolicies, func(s string) string { return s })
	for _, p := range u.AttachedPolicies {
		if !strings.HasPrefix(p, "arn:") {
			return fmt.Errorf("user %s: attached policy %q is not an ARN", u.UserName, p)
		}
	}
	return nil
}

func checkTag(t Tag) string {
	switch n := len([]rune(t.Key)); {
	case n < 1 || n > maxTagKeyLen:
		return fmt.Sprintf("tag key %q must have 1-%d characters", t.Key, maxTagKeyLen)
	case !tagKeyRe().MatchString(t.Key):
		return fmt.Sprintf("tag key %q must match %s", t.Key, tagPattern)
	case len([]rune(t.Value)) > maxTagValueLen:
		return fmt.Sprintf("tag value of %q must have at most %d characters", t.Key, maxTagValueLen)
	case !tagValueRe().MatchString(t.Value):
		return fmt.Sprintf("tag value of %q must match %s", t.Key, tagPattern)
	}
	return ""
}

func sortedTags(tags []Tag) []Tag {
	out := slices.Clone(tags)
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func sortedUnique(in []string, key func(string) string) []string {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	return slices.CompactFunc(out, func(a, b string) bool { return key(a) == key(b) })
}

// groupID and the group's ARN are derived from its name, so that they are
// the same on every machine.
func groupID(name string) string {
	sum := sha256.Sum256([]byte("iamsql-group:" + strings.ToLower(name)))
	return "AGPA" + base32.StdEncoding.EncodeToString(sum[:10])
}

// policyName is the name in a managed policy's ARN.
func policyName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// SetUserContext replaces a user's context (tags, console password, MFA
// devices, groups, policies) without going through HTTP (not counted).
func (e *Emulator) SetUserContext(name string, ctx User) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("emulator: SetUserContext: user %q does not exist", name)
	}
	c := u.clone()
	c.Tags, c.LoginProfile, c.MFADevices = ctx.Tags, ctx.LoginProfile, ctx.MFADevices
	c.Groups, c.AttachedPolicies, c.InlinePolicies = ctx.Groups, ctx.AttachedPolicies, ctx.InlinePolicies
	if err := e.normalizeContextLocked(&c); err != nil {
		return fmt.Errorf("emulator: SetUserContext: %w", err)
	}
	*u = c
	return e.saveLocked()
}

// ---- operations ----

// listParams reads the list members of a Query parameter: Name.member.1,
// Name.member.2, ... (in order, stopping at the first gap), each with the
// given fields (Key, Value) or, with none, the member itself.
func listParams(params map[string][]string, name string, fields ...string) []map[string]string {
	var out []map[string]string
	for i := 1; i <= 1000; i++ {
		prefix := fmt.Sprintf("%s.member.%d", name, i)
		m := map[string]string{}
		if len(fields) == 0 {
			v, ok := params[prefix]
			if !ok || len(v) == 0 {
				break
			}
			m[""] = v[0]
		} else {
			found := false
			for _, f := range fields {
				if v, ok := params[prefix+"."+f]; ok && len(v) > 0 {
					m[f] = v[0]
					found = true
				}
			}
			if !found {
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// userTarget validates UserName (required) and finds the user.
func (c *reqCtx) userTarget(required bool) (*User, *APIError) {
	v := validator{params: c.params}
	r := ruleUserName
	if !required {
		r = ruleOptionalUserName
	}
	name, given := v.str(r)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !given && c.isRoot {
		return nil, nil
	}
	_, u, err := c.target(name, given)
	return u, err
}

func opTagUser(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	members := listParams(c.params, "Tags", "Key", "Value")
	if len(members) == 0 {
		return nil, newError("ValidationError", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if len(members) > tagsPerUser {
		return nil, newError("ValidationError", fmt.Sprintf("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", tagsPerUser))
	}
	tags := slices.Clone(u.Tags)
	for i, m := range members {
		t := Tag{Key: m["Key"], Value: m["Value"]}
		if _, ok := m["Key"]; !ok {
			return nil, newError("ValidationError", fmt.Sprintf("1 validation error detected: Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", i+1))
		}
		if _, ok := m["Value"]; !ok {
			return nil, newError("ValidationError", fmt.Sprintf("1 validation error detected: Value null at 'tags.%d.member.value' failed to satisfy constraint: Member must not be null", i+1))
		}
		if msg := checkTag(t); msg != "" {
			return nil, newError("ValidationError", "1 validation error detected: "+msg)
		}
		j := slices.IndexFunc(tags, func(x Tag) bool { return strings.EqualFold(x.Key, t.Key) })
		if j >= 0 {
			tags[j] = t
		} else {
			tags = append(tags, t)
		}
	}
	if len(tags) > tagsPerUser {
		return nil, newError("LimitExceeded", fmt.Sprintf("Cannot exceed quota for TagsPerUser: %d", tagsPerUser))
	}
	u.Tags = sortedTags(tags)
	c.e.persist()
	return nil, nil
}

func opUntagUser(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	members := listParams(c.params, "TagKeys")
	if len(members) == 0 {
		return nil, newError("ValidationError", "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	drop := map[string]bool{}
	for _, m := range members {
		drop[strings.ToLower(m[""])] = true
	}
	u.Tags = slices.DeleteFunc(slices.Clone(u.Tags), func(t Tag) bool { return drop[strings.ToLower(t.Key)] })
	c.e.persist()
	return nil, nil
}

// page cuts one page of a user's sorted list: the items after the
// marker's position (a key of kind for the user), at most MaxItems.
func page[T any](c *reqCtx, kind, owner string, items []T, key func(T) string) (out []T, truncated bool, next string, aerr *APIError) {
	v := validator{params: c.params}
	marker, hasMarker := v.str(ruleMarker)
	maxItems := v.maxItems(defaultMaxItems)
	if err := v.err(); err != nil {
		return nil, false, "", err
	}
	after := ""
	if hasMarker {
		m, ok := decodeMarker(marker, kind)
		if !ok || len(m) != 2 || m[0] != strings.ToLower(owner) {
			return nil, false, "", errBadMarker(c.op)
		}
		after = m[1]
	}
	out = []T{}
	for _, it := range items {
		if hasMarker && key(it) <= after {
			continue
		}
		if len(out) == maxItems {
			return out, true, encodeMarker(kind, strings.ToLower(owner), key(out[len(out)-1])), nil
		}
		out = append(out, it)
	}
	return out, false, "", nil
}

// ListUserTagsResult is a page of ListUserTags.
type ListUserTagsResult struct {
	Tags        []Tag
	IsTruncated bool
	Marker      string
}

func (r *ListUserTagsResult) writeXML(w *xmlWriter) {
	w.open("Tags")
	for _, t := range r.Tags {
		w.open("member")
		w.elem("Key", t.Key)
		w.elem("Value", t.Value)
		w.close("member")
	}
	w.close("Tags")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func opListUserTags(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	tags, more, next, err := page(c, "t", u.UserName, u.Tags, func(t Tag) string { return t.Key })
	if err != nil {
		return nil, err
	}
	return &ListUserTagsResult{Tags: tags, IsTruncated: more, Marker: next}, nil
}

// ListMFADevicesResult is a page of ListMFADevices.
type ListMFADevicesResult struct {
	UserName    string
	MFADevices  []MFADevice
	IsTruncated bool
	Marker      string
}

func (r *ListMFADevicesResult) writeXML(w *xmlWriter) {
	w.open("MFADevices")
	for _, d := range r.MFADevices {
		w.open("member")
		w.elem("UserName", r.UserName)
		w.elem("SerialNumber", d.SerialNumber)
		w.time("EnableDate", d.EnableDate)
		w.close("member")
	}
	w.close("MFADevices")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func opListMFADevices(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(false)
	if err != nil {
		return nil, err
	}
	if u == nil { // the root user: its MFA is the account's, not modelled
		return &ListMFADevicesResult{MFADevices: []MFADevice{}}, nil
	}
	devs, more, next, err := page(c, "m", u.UserName, u.MFADevices, func(d MFADevice) string { return d.SerialNumber })
	if err != nil {
		return nil, err
	}
	return &ListMFADevicesResult{UserName: u.UserName, MFADevices: devs, IsTruncated: more, Marker: next}, nil
}

// GetLoginProfileResult is a user's console password profile.
type GetLoginProfileResult struct {
	UserName string
	Profile  LoginProfile
}

func (r *GetLoginProfileResult) writeXML(w *xmlWriter) {
	w.open("LoginProfile")
	w.elem("UserName", r.UserName)
	w.time("CreateDate", r.Profile.CreateDate)
	w.bool("PasswordResetRequired", r.Profile.PasswordResetRequired)
	w.close("LoginProfile")
}

func opGetLoginProfile(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(false)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, newError("NoSuchEntity", "Login Profile for User root cannot be found.")
	}
	if u.LoginProfile == nil {
		return nil, newError("NoSuchEntity", "Login Profile for User "+u.UserName+" cannot be found.")
	}
	return &GetLoginProfileResult{UserName: u.UserName, Profile: *u.LoginProfile}, nil
}

// Group is a group as ListGroupsForUser describes it.
type Group struct {
	Path, GroupName, GroupID, Arn string
	CreateDate                    time.Time
}

// ListGroupsForUserResult is a page of ListGroupsForUser.
type ListGroupsForUserResult struct {
	Groups      []Group
	IsTruncated bool
	Marker      string
}

func (r *ListGroupsForUserResult) writeXML(w *xmlWriter) {
	w.open("Groups")
	for _, g := range r.Groups {
		w.open("member")
		w.elem("Path", g.Path)
		w.elem("GroupName", g.GroupName)
		w.elem("GroupId", g.GroupID)
		w.elem("Arn", g.Arn)
		w.time("CreateDate", g.CreateDate)
		w.close("member")
	}
	w.close("Groups")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func opListGroupsForUser(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	names, more, next, err := page(c, "g", u.UserName, u.Groups, strings.ToLower)
	if err != nil {
		return nil, err
	}
	res := &ListGroupsForUserResult{Groups: []Group{}, IsTruncated: more, Marker: next}
	for _, n := range names {
		res.Groups = append(res.Groups, Group{Path: "/", GroupName: n, GroupID: groupID(n),
			Arn: "arn:aws:iam::" + c.e.accountID + ":group/" + n, CreateDate: c.e.rootCreated})
	}
	return res, nil
}

// AttachedPolicy is a managed policy attached to a user.
type AttachedPolicy struct{ PolicyName, PolicyArn string }

// ListAttachedUserPoliciesResult is a page of ListAttachedUserPolicies.
type ListAttachedUserPoliciesResult struct {
	AttachedPolicies []AttachedPolicy
	IsTruncated      bool
	Marker           string
}

func (r *ListAttachedUserPoliciesResult) writeXML(w *xmlWriter) {
	w.open("AttachedPolicies")
	for _, p := range r.AttachedPolicies {
		w.open("member")
		w.elem("PolicyName", p.PolicyName)
		w.elem("PolicyArn", p.PolicyArn)
		w.close("member")
	}
	w.close("AttachedPolicies")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func opListAttachedUserPolicies(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	v := validator{params: c.params}
	prefix, _ := v.str(rulePathPrefix)
	if err := v.err(); err != nil {
		return nil, err
	}
	var arns []string
	for _, a := range u.AttachedPolicies {
		// arn:aws:iam::aws:policy/PATH/NAME: the path is what follows "policy".
		if _, rest, ok := strings.Cut(a, ":policy"); ok && strings.HasPrefix(rest, prefix) {
			arns = append(arns, a)
		}
	}
	got, more, next, err := page(c, "p", u.UserName, arns, func(s string) string { return s })
	if err != nil {
		return nil, err
	}
	res := &ListAttachedUserPoliciesResult{AttachedPolicies: []AttachedPolicy{}, IsTruncated: more, Marker: next}
	for _, a := range got {
		res.AttachedPolicies = append(res.AttachedPolicies, AttachedPolicy{PolicyName: policyName(a), PolicyArn: a})
	}
	return res, nil
}

// ListUserPoliciesResult is a page of ListUserPolicies: inline policy names.
type ListUserPoliciesResult struct {
	PolicyNames []string
	IsTruncated bool
	Marker      string
}

func (r *ListUserPoliciesResult) writeXML(w *xmlWriter) {
	w.open("PolicyNames")
	for _, n := range r.PolicyNames {
		w.elem("member", n)
	}
	w.close("PolicyNames")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func opListUserPolicies(c *reqCtx) (result, *APIError) {
	u, err := c.userTarget(true)
	if err != nil {
		return nil, err
	}
	names, more, next, err := page(c, "i", u.UserName, u.InlinePolicies, func(s string) string { return s })
	if err != nil {
		return nil, err
	}
	return &ListUserPoliciesResult{PolicyNames: names, IsTruncated: more, Marker: next}, nil
}
