// Package config reads iamsql's one configuration file: a YAML document
// with the accounts org mode spans (org) and the report policy (report).
// Flags given on the command line override it for one run.
//
// The file is read strictly: an unknown setting, a value of the wrong type,
// a duplicated key or a second document is an error naming the file and
// line, never silently ignored — a misspelt exemption must not turn into a
// finding nobody expected, nor a misspelt threshold into the default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// EnvVar names the file when --config does not.
const EnvVar = "IAMSQL_CONFIG"

// MaxSize bounds the file: a configuration is a few KiB; a larger file is
// refused rather than read into memory.
const MaxSize = 1 << 20

// File is the configuration file's content.
type File struct {
	// Path is where the file was read from ("" when there is none).
	Path string `yaml:"-"`
	// Org is org mode's settings: the flags --org, --org-role,
	// --org-external-id, --profiles, --account-concurrency,
	// --account-max-attempts, --org-accounts and --org-exclude-accounts,
	// which override it.
	Org Org `yaml:"org"`
	// Report is the report policy.
	Report Report `yaml:"report"`
}

// Org is the org section.
type Org struct {
	// Enabled turns org mode on, as --org does.
	Enabled bool `yaml:"enabled"`
	// Role is the role assumed in member accounts (--org-role).
	Role string `yaml:"role"`
	// ExternalID is the external id AssumeRole passes (--org-external-id).
	ExternalID string `yaml:"external_id"`
	// Profiles names the accounts as AWS profiles instead of an
	// organization (--profiles).
	Profiles []string `yaml:"profiles"`
	// AccountConcurrency bounds parallel IAM calls per account.
	AccountConcurrency int `yaml:"account_concurrency"`
	// AccountMaxAttempts bounds tries of a throttled call in one account.
	AccountMaxAttempts int `yaml:"account_max_attempts"`
	// Accounts, when set, are the only accounts org mode reads, and
	// ExcludeAccounts are never read (--org-accounts,
	// --org-exclude-accounts): account ids or patterns of account names
	// ("prod-*"; with profiles, profile names).
	Accounts        []string `yaml:"accounts"`
	ExcludeAccounts []string `yaml:"exclude_accounts"`
}

// Report is the report section: the report policy.
type Report struct {
	// Thresholds are days, as --max-key-age, --max-unused and
	// --max-inactive-age give them; 0 keeps the default.
	Thresholds Thresholds `yaml:"thresholds"`
	// GraceDays: keys created in the last N days are in grace (--grace-days).
	GraceDays int `yaml:"grace_days"`
	// Severities overrides findings' severities, by finding name.
	Severities map[string]string `yaml:"severities"`
	// FailOn is the severity at or above which findings fail the run
	// (--fail-on); "" fails on none.
	FailOn string `yaml:"fail_on"`
	// Controls limits the compliance controls shown (--controls).
	Controls []string `yaml:"controls"`
	// Exemptions accept findings for a reason until a date.
	Exemptions []Exemption `yaml:"exemptions"`
	// severityLines are the lines of the severities' keys, for messages.
	severityLines map[string]int
}

// Exemption is one entry of report.exemptions: exactly one of
// access_key_id, user or user_tag, a reason and an expiry date.
type Exemption struct {
	AccessKeyID string   `yaml:"access_key_id"`
	User        string   `yaml:"user"`
	UserTag     *UserTag `yaml:"user_tag"`
	Account     string   `yaml:"account"`
	Findings    []string `yaml:"findings"`
	Reason      string   `yaml:"reason"`
	// Expires is the last day the exemption holds, YYYY-MM-DD (UTC).
	Expires string `yaml:"expires"`
	// Line is where the entry starts in the file.
	Line int `yaml:"-"`
}

// UserTag is a user tag an exemption matches.
type UserTag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// UnmarshalYAML reads an exemption strictly and remembers its line.
func (e *Exemption) UnmarshalYAML(n *yaml.Node) error {
	if err := strictKeys(n, "report.exemptions", "access_key_id", "user", "user_tag", "account", "findings", "reason", "expires"); err != nil {
		return err
	}
	if tag := mappingValue(n, "user_tag"); tag != nil {
		if err := strictKeys(tag, "report.exemptions[].user_tag", "key", "value"); err != nil {
			return err
		}
	}
	type plain Exemption
	if err := n.Decode((*plain)(e)); err != nil {
		return err
	}
	e.Line = n.Line
	return nil
}

// UnmarshalYAML reads the report section strictly, remembering the lines
// of the severities (their names are checked against the findings later,
// by the report, with the line).
func (r *Report) UnmarshalYAML(n *yaml.Node) error {
	if err := strictKeys(n, "report", "thresholds", "grace_days", "severities", "fail_on", "controls", "exemptions"); err != nil {
		return err
	}
	if th := mappingValue(n, "thresholds"); th != nil {
		if err := strictKeys(th, "report.thresholds", "max_key_age", "max_unused", "max_inactive_age"); err != nil {
			return err
		}
	}
	type plain Report
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	if sev := mappingValue(n, "severities"); sev != nil && sev.Kind == yaml.MappingNode {
		r.severityLines = map[string]int{}
		for i := 0; i+1 < len(sev.Content); i += 2 {
			r.severityLines[sev.Content[i].Value] = sev.Content[i].Line
		}
	}
	return nil
}

// SeverityLine is the line a severity override is on (0 if unknown).
func (r Report) SeverityLine(finding string) int { return r.severityLines[finding] }

// strictKeys refuses a mapping key not in allowed, and a repeated one,
// naming the line: what KnownFields does for the other sections.
func strictKeys(n *yaml.Node, where string, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("line %d: %s must be a mapping of settings", n.Line, where)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slicesContains(allowed, k.Value) {
			return fmt.Errorf("line %d: unknown setting %q in %s", k.Line, k.Value, where)
		}
		if seen[k.Value] {
			return fmt.Errorf("line %d: mapping key %q already defined", k.Line, k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Thresholds are the report's thresholds in days.
type Thresholds struct {
	MaxKeyAge      int `yaml:"max_key_age"`
	MaxUnused      int `yaml:"max_unused"`
	MaxInactiveAge int `yaml:"max_inactive_age"`
}

// DefaultPath is the file read when neither --config nor IAMSQL_CONFIG
// names one: $XDG_CONFIG_HOME/iamsql/config.yaml, or
// ~/.config/iamsql/config.yaml. It is read only when it exists.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "iamsql", "config.yaml")
}

// Find reads the configuration: the file named by flag (--config), else by
// IAMSQL_CONFIG, else DefaultPath when it exists, else none (an empty File).
// A file named explicitly must exist.
func Find(flag string) (*File, error) {
	path, explicit := flag, true
	if path == "" {
		path = os.Getenv(EnvVar)
	}
	if path == "" {
		path, explicit = DefaultPath(), false
		if path == "" {
			return &File{}, nil
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return &File{}, nil
		}
	}
	f, err := Load(path)
	if err != nil && !explicit {
		err = fmt.Errorf("%w (the default configuration file; IAMSQL_CONFIG or --config names another)", err)
	}
	return f, err
}

// Load reads the configuration file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("configuration file %s: is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(fh, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("configuration file %s: larger than %d KiB", path, MaxSize>>10)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse reads a configuration from its YAML text.
func Parse(data []byte) (*File, error) {
	f := &File{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file is no settings
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document (remove the second ---)")
	}
	return f, f.check()
}

var (
	unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type config\.(\w+)$`)
	badValue     = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)$")
)

// sections names a type of this package as the reader knows it.
var sections = map[string]string{"File": "the top level (org, report)", "Org": "org", "Report": "report",
	"Thresholds": "report.thresholds", "Exemption": "report.exemptions", "UserTag": "report.exemptions[].user_tag"}

// yamlError says a decoding error in the file's terms: line, setting.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			where := sections[m[3]]
			if where == "" {
				where = m[3]
			}
			msgs = append(msgs, fmt.Sprintf("line %s: unknown setting %q in %s", m[1], m[2], where))
			continue
		}
		if m := badValue.FindStringSubmatch(e); m != nil {
			msgs = append(msgs, fmt.Sprintf("line %s: %q is not a valid %s", m[1], m[3], goType(m[4])))
			continue
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

func goType(t string) string {
	switch {
	case t == "int" || strings.HasPrefix(t, "int"):
		return "whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "string"
	case strings.HasPrefix(t, "[]"):
		return "list"
	}
	return "value here"
}

// checkAccountEntry refuses an account list entry that can name no
// account: empty, or a pattern path.Match cannot read.
func checkAccountEntry(e string) error {
	if strings.TrimSpace(e) == "" {
		return errors.New("an empty entry (want an account id or a name pattern such as prod-*)")
	}
	if strings.Contains(e, ",") {
		return fmt.Errorf("%q contains a comma (one account id or name pattern per entry)", e)
	}
	if _, err := path.Match(e, ""); err != nil {
		return fmt.Errorf("%q is not a valid name pattern (%v)", e, err)
	}
	return nil
}

// check refuses values no run could use.
func (f *File) check() error {
	o := f.Org
	if o.AccountConcurrency < 0 || o.AccountConcurrency > 1000 {
		return fmt.Errorf("org.account_concurrency must be between 1 and 1000, got %d", o.AccountConcurrency)
	}
	if o.AccountMaxAttempts < 0 || o.AccountMaxAttempts > 100 {
		return fmt.Errorf("org.account_max_attempts must be between 1 and 100, got %d", o.AccountMaxAttempts)
	}
	for i, p := range o.Profiles {
		if strings.TrimSpace(p) == "" || strings.Contains(p, ",") {
			return fmt.Errorf("org.profiles[%d]: %q is not a profile name", i, p)
		}
	}
	for name, list := range map[string][]string{"accounts": o.Accounts, "exclude_accounts": o.ExcludeAccounts} {
		for i, e := range list {
			if err := checkAccountEntry(e); err != nil {
				return fmt.Errorf("org.%s[%d]: %w", name, i, err)
			}
		}
	}
	if o.Enabled && len(o.Profiles) > 0 {
		return errors.New("org.enabled and org.profiles are two ways to name the accounts: use one")
	}
	t := f.Report.Thresholds
	for name, v := range map[string]int{"max_key_age": t.MaxKeyAge, "max_unused": t.MaxUnused, "max_inactive_age": t.MaxInactiveAge} {
		if v < 0 || v > 100000 {
			return fmt.Errorf("report.thresholds.%s must be a number of days from 1 to 100000, got %d", name, v)
		}
	}
	r := f.Report
	if r.GraceDays < 0 || r.GraceDays > 100000 {
		return fmt.Errorf("report.grace_days must be a number of days from 0 to 100000, got %d", r.GraceDays)
	}
	for name, sev := range r.Severities {
		if !slicesContains(severities, strings.ToLower(sev)) {
			return fmt.Errorf("line %d: report.severities.%s: %q is not a severity (critical, high, medium or low)", r.SeverityLine(name), name, sev)
		}
	}
	if r.FailOn != "" && !slicesContains(severities, strings.ToLower(r.FailOn)) {
		return fmt.Errorf("report.fail_on: %q is not a severity (critical, high, medium or low)", r.FailOn)
	}
	for i, e := range r.Exemptions {
		if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
			return fmt.Errorf("line %d: report.exemptions[%d].expires: %q is not a date YYYY-MM-DD (every exemption expires)", e.Line, i, e.Expires)
		}
		if e.UserTag != nil && e.UserTag.Key == "" {
			return fmt.Errorf("line %d: report.exemptions[%d].user_tag needs a key", e.Line, i)
		}
	}
	return nil
}

var severities = []string{"critical", "high", "medium", "low"}
