package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"strconv"
	"time"
)

// The credential report (GenerateCredentialReport, GetCredentialReport):
// a CSV of every user's credentials with AWS's documented columns, in
// AWS's order, the account root user first as <root_account>. AWS makes
// it asynchronously: the first GenerateCredentialReport answers STARTED,
// later ones COMPLETE once it is ready; a report is kept for 4 hours,
// after which GenerateCredentialReport makes a new one.

// CredentialReportColumns are the report's columns, in AWS's order.
var CredentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// CredentialReportMaxAge is how long a report is reused before
// GenerateCredentialReport makes a new one.
const CredentialReportMaxAge = 4 * time.Hour

// RootAccountUser is the report's name for the account root user.
const RootAccountUser = "<root_account>"

type credentialReport struct {
	started time.Time // GeneratedTime
	ready   time.Time // when it is COMPLETE
	content []byte
}

// SetCredentialReportDelay sets how long a credential report takes to be
// ready after GenerateCredentialReport started it (0, the default: ready
// for the next call). A GetCredentialReport before then is ReportInProgress.
func (e *Emulator) SetCredentialReportDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.credReportDelay = max(d, 0)
}

// GenerateCredentialReportResult is the report's generation state.
type GenerateCredentialReportResult struct{ State, Description string }

func (r *GenerateCredentialReportResult) writeXML(w *xmlWriter) {
	w.elem("State", r.State)
	w.elem("Description", r.Description)
}

// GetCredentialReportResult is the report: Content is the CSV (base64 in
// the XML answer, as AWS sends it).
type GetCredentialReportResult struct {
	Content       []byte
	GeneratedTime time.Time
}

func (r *GetCredentialReportResult) writeXML(w *xmlWriter) {
	w.elem("Content", base64.StdEncoding.EncodeToString(r.Content))
	w.elem("ReportFormat", "text/csv")
	w.time("GeneratedTime", r.GeneratedTime)
}

func opGenerateCredentialReport(c *reqCtx) (result, *APIError) {
	if err := c.denied("", true, "*"); err != nil {
		return nil, err
	}
	e := c.e
	r := e.credReport
	if r == nil || c.now.Sub(r.started) >= CredentialReportMaxAge {
		e.credReport = &credentialReport{started: c.now, ready: c.now.Add(e.credReportDelay), content: e.credentialReportCSV()}
		desc := "No report exists. Starting a new report generation task"
		if r != nil {
			desc = "The report is older than 4 hours. Starting a new report generation task"
		}
		return &GenerateCredentialReportResult{State: "STARTED", Description: desc}, nil
	}
	if c.now.Before(r.ready) {
		return &GenerateCredentialReportResult{State: "INPROGRESS", Description: "Report generation in progress"}, nil
	}
	return &GenerateCredentialReportResult{State: "COMPLETE"}, nil
}

func opGetCredentialReport(c *reqCtx) (result, *APIError) {
	if err := c.denied("", true, "*"); err != nil {
		return nil, err
	}
	r := c.e.credReport
	switch {
	case r == nil:
		return nil, newError("ReportNotPresent", "Credential report not present. To generate a credential report, use GenerateCredentialReport.")
	case c.now.Before(r.ready):
		return nil, newError("ReportInProgress", "Credential report generation in progress.")
	}
	return &GetCredentialReportResult{Content: bytes.Clone(r.content), GeneratedTime: r.started}, nil
}

// credentialReportCSV writes the report of the account as it is now.
func (e *Emulator) credentialReportCSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(CredentialReportColumns)
	date := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }
	keys := func(owner string) []string {
		var out []string
		ks := e.keysOf(owner)
		for i := range 2 {
			if i >= len(ks) {
				out = append(out, "false", NotUsed, NotUsed, NotUsed, NotUsed)
				continue
			}
			k := ks[i]
			lastDate, region, service := NotUsed, NotUsed, NotUsed
			if lu := k.LastUsed; lu != nil {
				lastDate, region, service = date(lu.Date), lu.Region, lu.ServiceName
			}
			out = append(out, strconv.FormatBool(k.Status == statusActive), date(k.CreateDate), lastDate, region, service)
		}
		return out
	}
	certs := []string{"false", NotUsed, "false", NotUsed}
	root := []string{RootAccountUser, e.rootArn(), date(e.rootCreated), "not_supported", "no_information", "not_supported", "not_supported", "false"}
	_ = w.Write(append(append(root, keys(RootUserName)...), certs...))
	for _, u := range e.sortedUsers() {
		row := []string{u.UserName, u.Arn, date(u.CreateDate)}
		if lp := u.LoginProfile; lp != nil {
			used := "no_information"
			if u.PasswordLastUsed != nil {
				used = date(*u.PasswordLastUsed)
			}
			row = append(row, "true", used, date(lp.CreateDate), NotUsed)
		} else {
			row = append(row, "false", NotUsed, NotUsed, NotUsed)
		}
		row = append(row, strconv.FormatBool(len(u.MFADevices) > 0))
		row = append(row, keys(u.UserName)...)
		_ = w.Write(append(row, certs...))
	}
	w.Flush()
	return b.Bytes()
}
