package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the file
// code-scanning dashboards import. A rule is a SARIF reportingDescriptor;
// a finding a result, located at its IAM resource (the user's ARN, the
// key as a logical location). Exempted findings carry an accepted
// suppression; against a baseline, results carry baselineState.

const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	ShortDescription     sarifMessage        `json:"shortDescription"`
	FullDescription      sarifMessage        `json:"fullDescription"`
	Help                 sarifMessage        `json:"help"`
	DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProperties struct {
	Tags []string `json:"tags"`
	// security-severity is GitHub code scanning's 0–10 score.
	SecuritySeverity string `json:"security-severity"`
	Severity         string `json:"severity"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	EndTimeUTC          string `json:"endTimeUtc"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

// sarifLevel maps a severity to SARIF's result levels.
func sarifLevel(s Severity) string {
	switch s {
	case Critical, High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's score: critical > 9, high 7–8.9, medium
// 4–6.9, low below.
func securitySeverity(s Severity) string {
	return map[Severity]string{Critical: "9.5", High: "8.0", Medium: "5.5", Low: "3.0"}[s]
}

// userARN is the IAM ARN of a finding's user (the account's ARN for the
// root user), in the report's partition.
func (r *Report) userARN(k Key) string {
	account := k.Account
	if account == "" {
		account = r.Account
	}
	partition := partitionOf(r.Region)
	if k.Root() {
		return "arn:" + partition + ":iam::" + account + ":root"
	}
	return "arn:" + partition + ":iam::" + account + ":user/" + k.UserName
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// WriteSARIF prints the selected findings as one SARIF 2.1.0 log.
func WriteSARIF(w io.Writer, r *Report, sel Selection) error {
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "iamsql", InformationURI: "https://github.com/iamsql/iamsql/blob/main/docs/reports.md"}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: len(r.Incomplete) == 0, EndTimeUTC: r.GeneratedAt.Format("2006-01-02T15:04:05Z")}},
		Results:     []sarifResult{},
		Properties:  map[string]any{"account": r.Account, "region": r.Region, "incomplete": len(r.Incomplete)},
	}
	index := map[string]int{}
	for _, ru := range sel.Rules() {
		sev := r.SeverityOf(ru.Name)
		tags := []string{"security", "iam", "access-keys"}
		for _, c := range ControlsOf(ru.Name, r.Policy.Controls) {
			tags = append(tags, c.String())
		}
		index[ru.Name] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: ru.Name, Name: ru.Title,
			ShortDescription:     sarifMessage{ru.Title},
			FullDescription:      sarifMessage{ru.Describe(r.Thresholds)},
			Help:                 sarifMessage{ru.Remedy},
			DefaultConfiguration: sarifConfiguration{sarifLevel(sev)},
			Properties:           sarifRuleProperties{Tags: tags, SecuritySeverity: securitySeverity(sev), Severity: string(sev)},
		})
	}
	for _, f := range r.Selected(sel) {
		arn := r.userARN(f.Key)
		logical := []sarifLogicalLocation{{Name: f.Key.UserName, FullyQualifiedName: arn, Kind: "resource"}}
		subject := f.Key.UserName
		if id := f.Key.AccessKeyID; id != "" {
			logical = append(logical, sarifLogicalLocation{Name: id, FullyQualifiedName: arn + "/accesskey/" + id, Kind: "resource"})
			subject += "'s access key " + id
		}
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message:             sarifMessage{fmt.Sprintf("%s: %s", subject, f.Detail)},
			Locations:           []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{sarifArtifactLocation{arn}}, LogicalLocations: logical}},
			PartialFingerprints: map[string]string{"iamsqlFinding/v1": strings.ReplaceAll(findingID(f), "\x00", "/")},
			Properties:          map[string]any{"severity": string(f.Severity), "controls": controlStrings(f.Controls), "account": f.Key.Account},
		}
		switch f.Trend {
		case "new":
			res.BaselineState = "new"
		case "open":
			res.BaselineState = "unchanged"
		}
		if e := f.Exemption; e != nil {
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted",
				Justification: fmt.Sprintf("%s (until %s, %s)", e.Reason, e.Expires.Format("2006-01-02"), e.Origin)}}
		}
		run.Results = append(run.Results, res)
	}
	if b := r.Baseline; b != nil {
		for _, f := range b.Resolved {
			i, ok := index[f.Rule]
			if !ok {
				continue
			}
			k := Key{Account: f.Account, UserName: f.UserName, AccessKeyID: f.AccessKeyID}
			arn := r.userARN(k)
			run.Results = append(run.Results, sarifResult{
				RuleID: f.Rule, RuleIndex: i, Level: "none", BaselineState: "absent",
				Message:             sarifMessage{fmt.Sprintf("resolved since the baseline of %s: %s %s", b.Since, f.UserName, f.AccessKeyID)},
				Locations:           []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{sarifArtifactLocation{arn}}, LogicalLocations: []sarifLogicalLocation{{Name: f.UserName, FullyQualifiedName: arn, Kind: "resource"}}}},
				PartialFingerprints: map[string]string{"iamsqlFinding/v1": strings.ReplaceAll(f.id(), "\x00", "/")},
				Properties:          map[string]any{"severity": f.Severity, "account": f.Account},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

func controlStrings(cs []Control) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}
