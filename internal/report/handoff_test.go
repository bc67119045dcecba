package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
)

// handoffReport is the policy account's report with an exemption and a
// baseline, so the hand-off formats carry suppressions, trends and
// resolved findings.
func handoffReport(t *testing.T) *report.Report {
	t.Helper()
	w := policyAccount(t)
	first := w.run(t, report.Options{})
	var js bytes.Buffer
	if err := report.Write(&js, first, output.JSON, report.SelectFindings); err != nil {
		t.Fatal(err)
	}
	base, err := report.ParseBaseline(js.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// A finding the baseline has and this run does not: resolved.
	base.Findings = append(base.Findings, report.BaselineFinding{Rule: "old-keys", Severity: "high", Account: "123456789012", UserName: "gone", AccessKeyID: "AKIAGONE000000000001"})
	return w.run(t, report.Options{Baseline: base, Policy: report.Policy{Exemptions: []report.Exemption{
		{AccessKeyID: "AKIABOBBY00000000001", Reason: "vendor key", Expires: testNow, Origin: "policy.yaml line 3"},
		{UserName: "zed", Reason: "left", Expires: testNow.AddDate(0, 0, -3), Origin: "policy.yaml line 9"},
	}}})
}

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-2.1.0-rtm.5.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// -o sarif is a SARIF 2.1.0 log valid against the published schema, with
// a rule per kind of finding and a result per finding: exempted findings
// suppressed, trends as baselineState, resolved findings absent.
func TestSARIFValidatesAgainstItsSchema(t *testing.T) {
	sch := compileSARIFSchema(t)
	r := handoffReport(t)
	var b bytes.Buffer
	if err := report.WriteSARIF(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output invalid: %v\n%s", err, b.String())
	}
	// The schema catches what it should: a result without a message.
	var bad map[string]any
	_ = json.Unmarshal(b.Bytes(), &bad)
	res := bad["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
	delete(res, "message")
	if err := sch.Validate(bad); err == nil {
		t.Fatal("the schema accepted a result without a message: the validation proves nothing")
	}

	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID        string
				Level         string
				BaselineState string
				Suppressions  []struct{ Kind, Status string }
				Locations     []struct {
					LogicalLocations []struct{ FullyQualifiedName string }
				}
				Properties struct{ Controls []string }
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || len(run.Tool.Driver.Rules) != 6 {
		t.Fatalf("version %s, %d rules", log.Version, len(run.Tool.Driver.Rules))
	}
	states := map[string]int{}
	suppressed, found := 0, 0
	for _, res := range run.Results {
		states[res.BaselineState]++
		if len(res.Suppressions) == 1 && res.Suppressions[0].Status == "accepted" {
			suppressed++
		}
		if res.BaselineState != "absent" {
			found++
			if res.RuleID == "old-keys" && !strings.Contains(strings.Join(res.Properties.Controls, " "), "cis-3.0:1.14") {
				t.Errorf("old-keys result without its controls: %v", res.Properties.Controls)
			}
		}
	}
	if found != len(r.Findings) || suppressed != 1 || states["absent"] != 1 || states["new"] != 1 || states["unchanged"] != len(r.Findings)-1 {
		t.Errorf("%d results for %d findings, %d suppressed, states %v", found, len(r.Findings), suppressed, states)
	}
}

// -o asff is a BatchImportFindings input: it decodes into the SDK's
// securityhub types with no unknown field, encodes back to the same
// document, and every finding has the fields Security Hub requires.
func TestASFFDecodesIntoSecurityHubTypes(t *testing.T) {
	r := handoffReport(t)
	var b bytes.Buffer
	if err := report.WriteASFF(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	var in struct{ Findings []types.AwsSecurityFinding }
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("not Security Hub's types: %v\n%s", err, b.String())
	}
	// Field names decode case-insensitively: encoding the SDK values back
	// must give the same document, so every name is spelled as the SDK's.
	again, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var orig, round any
	_ = json.Unmarshal(b.Bytes(), &orig)
	_ = json.Unmarshal(again, &round)
	if !reflect.DeepEqual(withoutNulls(orig), withoutNulls(round)) {
		t.Errorf("the document changes through the SDK's types:\n%s\n%s", b.String(), again)
	}
	if len(in.Findings) != len(r.Findings)+1 { // + the resolved one, archived
		t.Fatalf("%d ASFF findings for %d findings", len(in.Findings), len(r.Findings))
	}
	ids := map[string]bool{}
	var suppressed, archived int
	for _, f := range in.Findings {
		for name, v := range map[string]*string{"SchemaVersion": f.SchemaVersion, "Id": f.Id, "ProductArn": f.ProductArn, "GeneratorId": f.GeneratorId,
			"AwsAccountId": f.AwsAccountId, "CreatedAt": f.CreatedAt, "UpdatedAt": f.UpdatedAt, "Title": f.Title, "Description": f.Description} {
			if v == nil || *v == "" {
				t.Errorf("%v: required %s missing", f.Id, name)
			}
		}
		if len(f.Types) == 0 || len(f.Resources) == 0 || f.Severity == nil || f.Severity.Label == "" {
			t.Errorf("%v: Types, Resources or Severity missing", *f.Id)
		}
		for _, res := range f.Resources {
			if res.Type == nil || res.Id == nil || *res.Type == "" || *res.Id == "" {
				t.Errorf("%v: a resource without Type or Id", *f.Id)
			}
		}
		if len(*f.Title) > 256 || len(*f.Description) > 1024 || (f.Compliance != nil && len(f.Compliance.RelatedRequirements) > 32) {
			t.Errorf("%v: over Security Hub's limits", *f.Id)
		}
		if *f.AwsAccountId != "123456789012" || *f.ProductArn != "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default" {
			t.Errorf("%v: account %s, product %s", *f.Id, *f.AwsAccountId, *f.ProductArn)
		}
		if ids[*f.Id] {
			t.Errorf("duplicate Id %s", *f.Id)
		}
		ids[*f.Id] = true
		if f.Workflow != nil && f.Workflow.Status == types.WorkflowStatusSuppressed {
			suppressed++
		}
		if f.RecordState == types.RecordStateArchived {
			archived++
		}
		if f.GeneratorId != nil && *f.GeneratorId == "iamsql/report/old-keys" && f.Compliance != nil && f.Compliance.Status == types.ComplianceStatusFailed &&
			(f.Compliance.SecurityControlId == nil || *f.Compliance.SecurityControlId != "IAM.3") {
			t.Errorf("%v: old-keys without its control IAM.3", *f.Id)
		}
	}
	if suppressed != 1 || archived != 1 {
		t.Errorf("%d suppressed, %d archived; want 1 and 1", suppressed, archived)
	}
}

// withoutNulls drops null and empty values, which encoding the SDK's
// types adds for the fields it has and the output leaves out.
func withoutNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			x = withoutNulls(x)
			if x == nil {
				continue
			}
			if m, ok := x.(map[string]any); ok && len(m) == 0 {
				continue
			}
			if s, ok := x.([]any); ok && len(s) == 0 {
				continue
			}
			if s, ok := x.(string); ok && s == "" {
				continue
			}
			out[k] = x
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withoutNulls(x)
		}
		return out
	}
	return v
}
