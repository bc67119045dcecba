package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamsql/iamsql/internal/config"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// orgFlags are the global flags of org mode.
type orgFlags struct {
	org                bool
	orgRole            string
	orgExternalID      string
	profiles           string
	accountConcurrency int
	accountMaxAttempts int
	orgAccounts        string
	orgExclude         string
}

func (o *orgFlags) declare(fs *pflag.FlagSet) {
	fs.BoolVar(&o.org, "org", false, "org mode: the tables span every ACTIVE account of the AWS Organization (signed as its\n"+
		"management account; members through --org-role); with --sandbox, a demo organization")
	fs.StringVar(&o.orgRole, "org-role", provider.DefaultOrgRole, "the role `NAME` assumed in member accounts")
	fs.StringVar(&o.orgExternalID, "org-external-id", "", "the external `ID` AssumeRole passes, when the role requires one")
	fs.StringVar(&o.profiles, "profiles", "", "org mode over the accounts of these AWS profiles `A,B,C` instead of an organization")
	fs.IntVar(&o.accountConcurrency, "account-concurrency", provider.DefaultAccountConcurrency,
		"parallel IAM calls per account in org mode (--concurrency bounds all of them: default 16, 64 in org mode)")
	fs.IntVar(&o.accountMaxAttempts, "account-max-attempts", 0, "tries of a throttled call in one account before the account is left out (0: 15)")
	fs.StringVar(&o.orgAccounts, "org-accounts", "", "org mode reads only these accounts `ID,NAME-PATTERN,…` (ids, or account names such as prod-*)")
	fs.StringVar(&o.orgExclude, "org-exclude-accounts", "", "org mode never reads these accounts `ID,NAME-PATTERN,…`")
}

// accountList splits a --org-accounts / --org-exclude-accounts value.
func accountList(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	out := strings.Split(v, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// check refuses org flags that cannot work, before any AWS call.
func (o *orgFlags) check() error {
	switch {
	case o.accountConcurrency < 1 || o.accountConcurrency > 1000:
		return fmt.Errorf("--account-concurrency must be between 1 and 1000, got %d", o.accountConcurrency)
	case o.accountMaxAttempts < 0 || o.accountMaxAttempts > 100:
		return fmt.Errorf("--account-max-attempts must be between 1 and 100 (0: the default), got %d", o.accountMaxAttempts)
	case o.org && o.profiles != "":
		return fmt.Errorf("--org and --profiles are two ways to name the accounts: use one")
	case strings.TrimSpace(o.orgRole) == "":
		return fmt.Errorf("--org-role must name a role")
	}
	for flag, v := range map[string]string{"--org-accounts": o.orgAccounts, "--org-exclude-accounts": o.orgExclude} {
		if v == "" {
			continue
		}
		if err := provider.CheckAccountPatterns(accountList(v)); err != nil {
			return fmt.Errorf("%s %q: %v", flag, v, err)
		}
	}
	if o.profiles != "" {
		for _, p := range strings.Split(o.profiles, ",") {
			if strings.TrimSpace(p) == "" {
				return fmt.Errorf("--profiles %q: a profile name is empty (want A,B,C)", o.profiles)
			}
		}
	}
	return nil
}

func (o *orgFlags) orgMode() bool { return o.org || o.profiles != "" }

// orgConfig is the engine's org mode, or nil for one account.
func (e *environment) orgConfig() (*provider.OrgConfig, error) {
	if !e.orgMode() {
		return nil, nil
	}
	if e.sandbox && e.profiles != "" {
		return nil, errUsage{"--sandbox cannot be combined with --profiles (use --sandbox --org for the demo organization)"}
	}
	cfg := &provider.OrgConfig{Role: e.orgRole, ExternalID: e.orgExternalID,
		AccountConcurrency: e.accountConcurrency, MaxAttempts: e.accountMaxAttempts,
		Accounts: accountList(e.orgAccounts), ExcludeAccounts: accountList(e.orgExclude)}
	if e.profiles != "" {
		if e.profile != "" {
			return nil, errUsage{"--profile and --profiles cannot be combined"}
		}
		for _, name := range strings.Split(e.profiles, ",") {
			name = strings.TrimSpace(name)
			cfg.Profiles = append(cfg.Profiles, provider.ProfileAccount{Name: name,
				Clients: awsiam.NewClients(awsiam.Options{Profile: name, EndpointURL: e.endpointURL, MaxAttempts: e.accountMaxAttempts})})
		}
	}
	return cfg, nil
}

// engineConcurrency is the bound of all IAM calls in flight: --concurrency,
// whose default grows in org mode, where many accounts are read at once.
func (e *environment) engineConcurrency() int {
	if e.orgMode() && e.concurrency == 16 {
		return 64
	}
	return e.concurrency
}

// sandboxOrg is --sandbox --org: the demo organization in process, as
// its management account's root user (sandbox.OrgClients).
func (e *environment) sandboxOrg() (*awsiam.Clients, error) {
	org, err := emulator.NewOrg(emulator.OrgOptions{Seed: "org:demo", Logger: e.logger()})
	if err != nil {
		return nil, err
	}
	d, err := e.sandboxLatencyValue()
	if err != nil {
		return nil, err
	}
	for _, a := range org.Accounts() {
		org.Account(a.ID).SetLatency(d)
	}
	e.sandboxOrgEmu = org
	return sandbox.OrgClients(org, awsiam.Options{}), nil
}

// sandboxLatencyValue is --sandbox-latency (0 when not given).
func (e *environment) sandboxLatencyValue() (time.Duration, error) {
	if e.sandboxLatency == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(e.sandboxLatency)
	if err != nil || d < 0 {
		return 0, errUsage{fmt.Sprintf("--sandbox-latency: %q is not a duration like 200ms", e.sandboxLatency)}
	}
	return d, nil
}

// loadConfig reads the configuration file (--config, IAMSQL_CONFIG or the
// default path) and applies its org settings to the flags not given on
// the command line. The emulator, recover and help read none.
func (e *environment) loadConfig(cmd *cobra.Command) error {
	switch cmd.Name() {
	case "emulator", "recover", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		e.config = &config.File{}
		return nil
	}
	if cmd.Parent() != nil && cmd.Parent().Name() == "completion" {
		e.config = &config.File{}
		return nil
	}
	f, err := config.Find(e.configPath)
	if err != nil {
		return errUsage{err.Error()}
	}
	e.config = f
	o, set := f.Org, cmd.Flags().Changed
	if !set("org") && !set("profiles") {
		e.org = e.org || o.Enabled
		if len(o.Profiles) > 0 && !e.org {
			e.profiles = strings.Join(o.Profiles, ",")
		}
	}
	if o.Role != "" && !set("org-role") {
		e.orgRole = o.Role
	}
	if o.ExternalID != "" && !set("org-external-id") {
		e.orgExternalID = o.ExternalID
	}
	if o.AccountConcurrency != 0 && !set("account-concurrency") {
		e.accountConcurrency = o.AccountConcurrency
	}
	if o.AccountMaxAttempts != 0 && !set("account-max-attempts") {
		e.accountMaxAttempts = o.AccountMaxAttempts
	}
	if len(o.Accounts) > 0 && !set("org-accounts") {
		e.orgAccounts = strings.Join(o.Accounts, ",")
	}
	if len(o.ExcludeAccounts) > 0 && !set("org-exclude-accounts") {
		e.orgExclude = strings.Join(o.ExcludeAccounts, ",")
	}
	return nil
}
