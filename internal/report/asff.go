package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// AWS Security Hub's finding format (ASFF), as BatchImportFindings takes
// it: `aws securityhub batch-import-findings --cli-input-json file://f.json`
// with at most 100 findings per call. Field names and types are the
// SDK's (securityhub/types.AwsSecurityFinding); the tests decode this
// output into those types with unknown fields refused.

type asffDocument struct {
	Findings []asffFinding `json:"Findings"`
}

type asffFinding struct {
	SchemaVersion   string            `json:"SchemaVersion"`
	Id              string            `json:"Id"`
	ProductArn      string            `json:"ProductArn"`
	ProductName     string            `json:"ProductName"`
	GeneratorId     string            `json:"GeneratorId"`
	AwsAccountId    string            `json:"AwsAccountId"`
	Region          string            `json:"Region"`
	Types           []string          `json:"Types"`
	CreatedAt       string            `json:"CreatedAt"`
	UpdatedAt       string            `json:"UpdatedAt"`
	Severity        asffSeverity      `json:"Severity"`
	Title           string            `json:"Title"`
	Description     string            `json:"Description"`
	Remediation     asffRemediation   `json:"Remediation"`
	ProductFields   map[string]string `json:"ProductFields"`
	Resources       []asffResource    `json:"Resources"`
	Compliance      asffCompliance    `json:"Compliance"`
	Workflow        asffWorkflow      `json:"Workflow"`
	RecordState     string            `json:"RecordState"`
	Note            *asffNote         `json:"Note,omitempty"`
	FirstObservedAt string            `json:"FirstObservedAt,omitempty"`
}

type asffSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original"`
}

type asffRemediation struct {
	Recommendation asffRecommendation `json:"Recommendation"`
}

type asffRecommendation struct {
	Text string `json:"Text"`
	Url  string `json:"Url"`
}

type asffResource struct {
	Type      string               `json:"Type"`
	Id        string               `json:"Id"`
	Partition string               `json:"Partition"`
	Region    string               `json:"Region"`
	Details   *asffResourceDetails `json:"Details,omitempty"`
}

type asffResourceDetails struct {
	AwsIamAccessKey *asffAccessKey `json:"AwsIamAccessKey,omitempty"`
}

type asffAccessKey struct {
	AccessKeyId   string `json:"AccessKeyId"`
	AccountId     string `json:"AccountId"`
	PrincipalName string `json:"PrincipalName"`
	PrincipalType string `json:"PrincipalType"`
	Status        string `json:"Status"`
	CreatedAt     string `json:"CreatedAt"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
	SecurityControlId   string   `json:"SecurityControlId,omitempty"`
}

type asffWorkflow struct {
	Status string `json:"Status"`
}

type asffNote struct {
	Text      string `json:"Text"`
	UpdatedBy string `json:"UpdatedBy"`
	UpdatedAt string `json:"UpdatedAt"`
}

// Security Hub's limits on a finding's fields.
const (
	asffMaxTitle        = 256
	asffMaxDescription  = 1024
	asffMaxRecommend    = 512
	asffMaxRequirements = 32
	asffMaxNote         = 512
)

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// relatedRequirements names controls as Security Hub's standards do:
// "CIS AWS Foundations Benchmark v3.0/1.14".
func relatedRequirements(cs []Control) (reqs []string, fsbp string) {
	for _, c := range cs {
		for _, set := range ControlSets {
			if set.Key != c.Set {
				continue
			}
			name := set.Framework
			if set.Version != "" {
				name += " v" + set.Version
			}
			if len(reqs) < asffMaxRequirements {
				reqs = append(reqs, name+"/"+c.ID)
			}
			if set.Key == "fsbp" && fsbp == "" {
				fsbp = c.ID
			}
		}
	}
	return reqs, fsbp
}

// WriteASFF prints the selected findings as a BatchImportFindings input.
// Against a baseline, resolved findings are there too, archived, so an
// import closes them in Security Hub.
func WriteASFF(w io.Writer, r *Report, sel Selection) error {
	at := r.GeneratedAt.UTC().Format(time.RFC3339)
	partition := partitionOf(r.Region)
	doc := asffDocument{Findings: []asffFinding{}}
	finding := func(rule string, k Key, sev Severity, detail string, cs []Control) (asffFinding, error) {
		account := k.Account
		if account == "" {
			account = r.Account
		}
		if account == "" {
			return asffFinding{}, errors.New("ASFF needs the account id, and the report could not tell it")
		}
		ru, _ := LookupRule(rule)
		reqs, control := relatedRequirements(cs)
		types := []string{"Software and Configuration Checks/AWS Security Best Practices"}
		for _, req := range reqs {
			if strings.HasPrefix(req, "CIS ") {
				types = append(types, "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark")
				break
			}
		}
		subject := k.UserName
		res := asffResource{Type: "AwsIamUser", Id: r.userARN(Key{Account: account, UserName: k.UserName}), Partition: partition, Region: r.Region}
		if k.AccessKeyID != "" {
			subject += "'s access key " + k.AccessKeyID
			principal := "IAMUser"
			if k.Root() {
				principal = "Root"
			}
			res = asffResource{Type: "AwsIamAccessKey", Id: res.Id + "/accesskey/" + k.AccessKeyID, Partition: partition, Region: r.Region,
				Details: &asffResourceDetails{AwsIamAccessKey: &asffAccessKey{AccessKeyId: k.AccessKeyID, AccountId: account,
					PrincipalName: k.UserName, PrincipalType: principal, Status: k.Status, CreatedAt: k.CreateDate.UTC().Format(time.RFC3339)}}}
		} else if k.Root() {
			res = asffResource{Type: "AwsAccount", Id: "AWS::::Account:" + account, Partition: partition, Region: r.Region}
		}
		id := strings.ReplaceAll(BaselineFinding{Rule: rule, Account: account, UserName: k.UserName, AccessKeyID: k.AccessKeyID}.id(), "\x00", "/")
		return asffFinding{
			SchemaVersion: "2018-10-08",
			Id:            "iamsql/" + id,
			ProductArn:    fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, r.Region, account, account),
			ProductName:   "iamsql",
			GeneratorId:   "iamsql/report/" + rule,
			AwsAccountId:  account,
			Region:        r.Region,
			Types:         types,
			CreatedAt:     at,
			UpdatedAt:     at,
			Severity:      asffSeverity{Label: strings.ToUpper(string(sev)), Original: string(sev)},
			Title:         clip(ru.Title, asffMaxTitle),
			Description:   clip(subject+": "+detail+". "+ru.Describe(r.Thresholds), asffMaxDescription),
			Remediation: asffRemediation{Recommendation: asffRecommendation{Text: clip(ru.Remedy, asffMaxRecommend),
				Url: "https://github.com/iamsql/iamsql/blob/main/docs/reports.md"}},
			ProductFields: map[string]string{"iamsql/finding": rule},
			Resources:     []asffResource{res},
			Compliance:    asffCompliance{Status: "FAILED", RelatedRequirements: reqs, SecurityControlId: control},
			Workflow:      asffWorkflow{Status: "NEW"},
			RecordState:   "ACTIVE",
		}, nil
	}
	for _, f := range r.Selected(sel) {
		af, err := finding(f.Rule, f.Key, f.Severity, f.Detail, f.Controls)
		if err != nil {
			return err
		}
		if f.Trend != "" {
			af.ProductFields["iamsql/trend"] = f.Trend
		}
		if e := f.Exemption; e != nil {
			af.Workflow.Status = "SUPPRESSED"
			af.Note = &asffNote{Text: clip(fmt.Sprintf("Exempted until %s: %s (%s)", e.Expires.Format(time.DateOnly), e.Reason, e.Origin), asffMaxNote),
				UpdatedBy: "iamsql report policy", UpdatedAt: at}
		}
		doc.Findings = append(doc.Findings, af)
	}
	if b := r.Baseline; b != nil {
		selected := map[string]bool{}
		for _, ru := range sel.Rules() {
			selected[ru.Name] = true
		}
		for _, f := range b.Resolved {
			if !selected[f.Rule] {
				continue
			}
			sev, err := ParseSeverity(f.Severity)
			if err != nil {
				sev = r.SeverityOf(f.Rule)
			}
			af, err := finding(f.Rule, Key{Account: f.Account, UserName: f.UserName, AccessKeyID: f.AccessKeyID}, sev,
				"resolved since the baseline of "+b.Since, ControlsOf(f.Rule, r.Policy.Controls))
			if err != nil {
				return err
			}
			if af.Resources[0].Details != nil { // the key is gone or fixed: its state then is unknown
				af.Resources[0].Details = nil
			}
			af.Compliance.Status, af.Workflow.Status, af.RecordState = "PASSED", "RESOLVED", "ARCHIVED"
			af.ProductFields["iamsql/trend"] = "resolved"
			doc.Findings = append(doc.Findings, af)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
