package report

import (
	"fmt"
	"slices"
	"strings"
)

// Control is one requirement of a compliance framework that a finding
// evidences (a failed check of it).
type Control struct {
	Set string // the framework version's key, e.g. "cis-3.0"
	ID  string // the requirement's id in that version, e.g. "1.14"
}

// String names the control as a report shows it: "cis-3.0:1.14".
func (c Control) String() string { return c.Set + ":" + c.ID }

// ControlSet is one version of one framework, with the requirements each
// rule evidences, and where that mapping comes from.
type ControlSet struct {
	Key       string // what --controls names, e.g. "cis-3.0"
	Framework string // e.g. "CIS AWS Foundations Benchmark"
	Version   string
	// Source is the published mapping this set is read from: a file of a
	// repository at a commit.
	Source string
	// Rules maps a rule's name to the requirement ids it evidences.
	Rules map[string][]string
}

// The mappings come from Prowler's published compliance mappings
// (github.com/prowler-cloud/prowler, prowler/compliance/aws/*.json, read
// at snapshot commit 3e000faa3109230b748e4418a13c11c9e59f5cfb of
// 2026-08-21; each set names the commit that last changed its file).
// Prowler maps its checks to requirements; our rules are its checks:
//
//	root-keys        iam_no_root_access_key
//	old-keys         iam_rotate_access_key_90_days
//	unused-keys      iam_user_accesskey_unused
//	two-active-keys  iam_user_two_active_access_key
//
// inactive-keys (an inactive key left behind) and expired-exemptions (a
// policy finding) evidence no requirement of these frameworks: no Prowler
// check of theirs is mapped, so they carry no control rather than a
// guessed one. One deviation from the source: Prowler's FSBP file also
// lists iam_user_accesskey_unused under IAM.26, whose text is about
// expired SSL/TLS certificates stored in IAM; that entry is left out.
const prowlerRepo = "github.com/prowler-cloud/prowler"

func prowler(file, commit string) string {
	return prowlerRepo + "/prowler/compliance/aws/" + file + "@" + commit
}

// cisRules is CIS's numbering from 1.4 to 4.0.1: section 1 (IAM) kept its
// numbers; 5.0 renumbered, 6.0 moved IAM to section 2.
var cisRules = map[string][]string{"root-keys": {"1.4"}, "unused-keys": {"1.12"}, "two-active-keys": {"1.13"}, "old-keys": {"1.14"}}

// ControlSets are the framework versions findings are mapped to.
var ControlSets = []ControlSet{
	{Key: "cis-1.4", Framework: "CIS AWS Foundations Benchmark", Version: "1.4",
		Source: prowler("cis_1.4_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"), Rules: cisRules},
	{Key: "cis-1.5", Framework: "CIS AWS Foundations Benchmark", Version: "1.5",
		Source: prowler("cis_1.5_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"), Rules: cisRules},
	{Key: "cis-2.0", Framework: "CIS AWS Foundations Benchmark", Version: "2.0",
		Source: prowler("cis_2.0_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"), Rules: cisRules},
	{Key: "cis-3.0", Framework: "CIS AWS Foundations Benchmark", Version: "3.0",
		Source: prowler("cis_3.0_aws.json", "f19106281be6f3834d8b9818f128892f6290b93b"), Rules: cisRules},
	{Key: "cis-4.0", Framework: "CIS AWS Foundations Benchmark", Version: "4.0.1",
		Source: prowler("cis_4.0_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"), Rules: cisRules},
	{Key: "cis-5.0", Framework: "CIS AWS Foundations Benchmark", Version: "5.0",
		Source: prowler("cis_5.0_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"),
		Rules:  map[string][]string{"root-keys": {"1.3"}, "unused-keys": {"1.11"}, "two-active-keys": {"1.12"}, "old-keys": {"1.13"}}},
	{Key: "cis-6.0", Framework: "CIS AWS Foundations Benchmark", Version: "6.0",
		Source: prowler("cis_6.0_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"),
		Rules:  map[string][]string{"root-keys": {"2.3"}, "unused-keys": {"2.11"}, "two-active-keys": {"2.12"}, "old-keys": {"2.13"}}},
	// 7.0 has no "one active access key" requirement any more.
	{Key: "cis-7.0", Framework: "CIS AWS Foundations Benchmark", Version: "7.0",
		Source: prowler("cis_7.0_aws.json", "1ee4de18be50ce41ca9d441f7d3d2238fdc231e9"),
		Rules:  map[string][]string{"root-keys": {"2.4"}, "unused-keys": {"2.11"}, "old-keys": {"2.12"}}},
	{Key: "fsbp", Framework: "AWS Foundational Security Best Practices", Version: "",
		Source: prowler("aws_foundational_security_best_practices_aws.json", "fe7e6675e0fbd334855b86992c062bd0fe9a833c"),
		Rules:  map[string][]string{"root-keys": {"IAM.4"}, "old-keys": {"IAM.3"}, "unused-keys": {"IAM.8", "IAM.22"}}},
	{Key: "pci-3.2.1", Framework: "PCI DSS", Version: "3.2.1",
		Source: prowler("pci_3.2.1_aws.json", "f19106281be6f3834d8b9818f128892f6290b93b"),
		Rules:  map[string][]string{"unused-keys": {"8.1", "8.1.4"}}},
	{Key: "pci-4.0", Framework: "PCI DSS", Version: "4.0",
		Source: prowler("pci_4.0_aws.json", "f19106281be6f3834d8b9818f128892f6290b93b"),
		Rules: map[string][]string{
			"root-keys":   {"7.2.1.17", "7.2.2.17", "7.2.3.8", "8.2.1.4", "8.2.2.6", "8.2.4.4", "8.2.5.4", "8.3.11.4"},
			"unused-keys": {"7.2.4.2", "7.2.5.1.2", "8.2.6.2", "A3.4.1.10"},
			"old-keys":    {"8.3.10.1.1", "8.3.5.1", "8.3.7.1", "8.3.9.1", "8.6.3.1"},
		}},
}

// ControlSetKeys lists the keys --controls accepts.
func ControlSetKeys() []string {
	out := make([]string, len(ControlSets))
	for i, cs := range ControlSets {
		out[i] = cs.Key
	}
	return out
}

// ControlFilter selects framework versions: nil selects every one.
type ControlFilter []string

// ParseControlFilter reads --controls: set keys separated by commas; a
// framework without a version ("cis", "pci") selects all its versions.
func ParseControlFilter(s string) (ControlFilter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out ControlFilter
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		matched := false
		for _, cs := range ControlSets {
			if cs.Key == part || strings.HasPrefix(cs.Key, part+"-") {
				matched = true
				if !slices.Contains(out, cs.Key) {
					out = append(out, cs.Key)
				}
			}
		}
		if !matched {
			return nil, fmt.Errorf("unknown control set %q (choose from %s, or cis, pci)", part, strings.Join(ControlSetKeys(), ", "))
		}
	}
	return out, nil
}

func (f ControlFilter) selects(set string) bool { return f == nil || slices.Contains(f, set) }

// ControlsOf lists the controls a rule evidences within the filter, in
// ControlSets order.
func ControlsOf(rule string, f ControlFilter) []Control {
	var out []Control
	for _, cs := range ControlSets {
		if !f.selects(cs.Key) {
			continue
		}
		for _, id := range cs.Rules[rule] {
			out = append(out, Control{Set: cs.Key, ID: id})
		}
	}
	return out
}

// controlText joins controls for a table cell or CSV field.
func controlText(cs []Control) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, " ")
}
