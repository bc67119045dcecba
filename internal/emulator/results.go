package emulator

import (
	"strconv"
	"time"
)

// result is what an operation returns. An HTTP caller gets it as the
// {Action}Result element (writeXML writes its content); Invoke hands it
// over as it is. Both describe the same answer, field for field.
type result interface{ writeXML(w *xmlWriter) }

// UserResult is the result of CreateUser and GetUser. Root marks the
// account's root user, which IAM describes without Path and UserName.
type UserResult struct {
	Root bool
	User User
}

// ListUsersResult is a page of ListUsers.
type ListUsersResult struct {
	Users       []User
	IsTruncated bool
	Marker      string // when IsTruncated
}

// CreateAccessKeyResult holds the new key, with its secret.
type CreateAccessKeyResult struct{ AccessKey AccessKey }

// AccessKeyMetadata is a key as ListAccessKeys describes it.
type AccessKeyMetadata struct {
	UserName, AccessKeyID, Status string
	CreateDate                    time.Time
}

// ListAccessKeysResult is a page of ListAccessKeys.
type ListAccessKeysResult struct {
	AccessKeyMetadata []AccessKeyMetadata
	IsTruncated       bool
	Marker            string // when IsTruncated
}

// GetAccessKeyLastUsedResult is the key's owner and last use; LastUsed is
// nil for a key never used, which IAM reports with ServiceName and Region
// "N/A" and no date.
type GetAccessKeyLastUsedResult struct {
	UserName string
	LastUsed *LastUsed
}

// SummaryEntry is one entry of GetAccountSummary's SummaryMap.
type SummaryEntry struct {
	Key   string
	Value int
}

// GetAccountSummaryResult is the account's usage and quotas.
type GetAccountSummaryResult struct{ SummaryMap []SummaryEntry }

func (r *UserResult) writeXML(w *xmlWriter) {
	w.open("User")
	writeUserFields(w, &r.User, r.Root)
	w.close("User")
}

func writeUserFields(w *xmlWriter, u *User, root bool) {
	if !root {
		w.elem("Path", u.Path)
		w.elem("UserName", u.UserName)
	}
	w.elem("UserId", u.UserID)
	w.elem("Arn", u.Arn)
	w.time("CreateDate", u.CreateDate)
	if u.PasswordLastUsed != nil {
		w.time("PasswordLastUsed", *u.PasswordLastUsed)
	}
}

func (r *ListUsersResult) writeXML(w *xmlWriter) {
	w.open("Users")
	for i := range r.Users {
		w.open("member")
		writeUserFields(w, &r.Users[i], false)
		w.close("member")
	}
	w.close("Users")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

func writePageEnd(w *xmlWriter, truncated bool, marker string) {
	w.bool("IsTruncated", truncated)
	if truncated {
		w.elem("Marker", marker)
	}
}

func (r *CreateAccessKeyResult) writeXML(w *xmlWriter) {
	k := &r.AccessKey
	w.open("AccessKey")
	w.elem("UserName", k.UserName)
	w.elem("AccessKeyId", k.AccessKeyID)
	w.elem("Status", k.Status)
	w.elem("SecretAccessKey", k.SecretAccessKey)
	w.time("CreateDate", k.CreateDate)
	w.close("AccessKey")
}

func (r *ListAccessKeysResult) writeXML(w *xmlWriter) {
	w.open("AccessKeyMetadata")
	for _, k := range r.AccessKeyMetadata {
		w.open("member")
		w.elem("UserName", k.UserName)
		w.elem("AccessKeyId", k.AccessKeyID)
		w.elem("Status", k.Status)
		w.time("CreateDate", k.CreateDate)
		w.close("member")
	}
	w.close("AccessKeyMetadata")
	writePageEnd(w, r.IsTruncated, r.Marker)
}

// NotUsed is what GetAccessKeyLastUsed reports as ServiceName and Region
// for a key never used.
const NotUsed = "N/A"

func (r *GetAccessKeyLastUsedResult) writeXML(w *xmlWriter) {
	w.elem("UserName", r.UserName)
	w.open("AccessKeyLastUsed")
	if lu := r.LastUsed; lu != nil {
		w.time("LastUsedDate", lu.Date)
		w.elem("ServiceName", lu.ServiceName)
		w.elem("Region", lu.Region)
	} else {
		w.elem("ServiceName", NotUsed)
		w.elem("Region", NotUsed)
	}
	w.close("AccessKeyLastUsed")
}

func (r *GetAccountSummaryResult) writeXML(w *xmlWriter) {
	w.open("SummaryMap")
	for _, en := range r.SummaryMap {
		w.open("entry")
		w.elem("key", en.Key)
		w.elem("value", strconv.Itoa(en.Value))
		w.close("entry")
	}
	w.close("SummaryMap")
}
