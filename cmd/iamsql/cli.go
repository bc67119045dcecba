package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
	"github.com/iamsql/iamsql/internal/suggest"
)

// version is stamped by the release build (make dist):
// -ldflags "-X main.version=v1.2.3".
var version = ""

// versionString is what --version prints after "iamsql ".
func versionString() string {
	v := version
	if v == "" {
		v = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("%s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

const rootLong = `iamsql: SQL for AWS IAM access keys.

Without a command, iamsql opens an interactive SQL shell on a terminal (help
inside it lists its commands); with stdin not a terminal it runs the SQL it
reads, like mysql < script.sql (--force goes on after errors).

Global flags work before or after the command. AWS is reached through the
standard configuration: credentials, --profile or AWS_PROFILE, --endpoint-url
or AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL; --sandbox needs none of it.`

const rootExample = `  iamsql --sandbox exec "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"
  iamsql exec -o csv "SELECT u.UserName, k.AccessKeyId, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"
  iamsql --sandbox < script.sql
  iamsql emulator --addr 127.0.0.1:0 --seed demo
  iamsql --sandbox report -o html > report.html
  source <(iamsql completion bash)`

// newCLI declares iamsql's command line: every flag once, with its
// default and help, so the help texts, flag errors, --version and the
// shell completion scripts all come from these declarations.
func newCLI(env *environment) *cobra.Command {
	var sh shellOptions
	root := &cobra.Command{
		Use:     "iamsql",
		Short:   "SQL for AWS IAM access keys",
		Long:    rootLong,
		Example: rootExample,
		Version: versionString(),
		Args:    rootArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdInteractive(cmd.Context(), env, sh)
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := env.loadConfig(cmd); err != nil {
				return err
			}
			if err := env.globals.check(); err != nil {
				return err
			}
			switch cmd.Name() {
			case "recover", "emulator", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			default:
				if cmd.Parent() == nil || cmd.Parent().Name() != "completion" {
					reportPending(env.stderr)
				}
			}
			return nil
		},
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetVersionTemplate("iamsql {{.Version}}\n")
	// -V as in mysql: -v is exec's --verbose.
	root.Flags().BoolP("version", "V", false, "print the version")
	root.SetFlagErrorFunc(flagError)
	root.Flags().BoolVar(&sh.force, "force", false, "with SQL on stdin: go on after a statement fails (like mysql --force)")
	root.Flags().BoolVarP(&sh.yes, "yes", "y", false, "in the shell, do not ask before a statement changes more than one access key")
	env.globals.declare(root.PersistentFlags())
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion(outputFormats()...))

	root.AddCommand(
		newExecCommand(env),
		newServeCommand(env),
		newReportCommand(env),
		newEmulatorCommand(env),
		newRecoverCommand(env),
		newRotateCommand(env),
	)
	for _, c := range root.Commands() {
		helpAsArgument(c)
	}
	root.SuggestionsMinimumDistance = 2
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		// An unknown shell is a usage error, not the help.
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return errUsage{fmt.Sprintf("completion: unknown shell %q (bash, zsh, fish or powershell)", args[0])}
		}
	}
	return root
}

// declare declares the global flags on fs.
func (g *globals) declare(fs *pflag.FlagSet) {
	fs.BoolVar(&g.sandbox, "sandbox", false, "use a built-in emulated IAM account with demo users and keys (no AWS account needed)")
	fs.StringVar(&g.sandboxLatency, "sandbox-latency", "", "add latency `D` (e.g. 200ms) to every sandbox IAM call")
	fs.StringVar(&g.profile, "profile", "", "AWS shared-config profile `NAME` (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&g.endpointURL, "endpoint-url", "", "IAM endpoint `URL` (also AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL)")
	fs.IntVar(&g.concurrency, "concurrency", 16, "parallel IAM calls per statement (1 to 1000)")
	fs.IntVar(&g.callBudget, "call-budget", 0, "IAM calls one statement may make; a statement that needs more is refused or stopped\n(0: three full scans of the account, at least 10,000; also SET iamsql_call_budget = N)")
	fs.StringVar(&g.auditLog, "audit-log", "", "append one JSON line per mutating IAM call to `FILE` (never a secret)")
	fs.StringVarP(&g.output, "output", "o", "table", "output `FORMAT`: "+strings.Join(outputFormats(), ", ")+" (html: report only)")
	fs.BoolVar(&g.allowPartial, "allow-partial", false, "exit 0, not 4, when a part of the account could not be read (the warning still says what)")
	fs.BoolVar(&g.allowRootKeys, "allow-root-keys", false, "let a root caller create root access keys (AWS advises against them; also SET iamsql_allow_root_keys = 1)")
	fs.BoolVar(&g.debug, "debug", false, "debug logs on stderr (never secrets)")
	fs.StringVar(&g.configPath, "config", "", "iamsql's YAML configuration `FILE`: org settings and the report policy (default:\n"+
		"IAMSQL_CONFIG, else ~/.config/iamsql/config.yaml when it exists); flags override it")
	g.orgFlags.declare(fs)
}

// check validates the global flags' values.
func (g *globals) check() error {
	if g.concurrency < 1 || g.concurrency > 1000 {
		return errUsage{fmt.Sprintf("--concurrency must be between 1 and 1000, got %d", g.concurrency)}
	}
	if g.callBudget < 0 {
		return errUsage{fmt.Sprintf("--call-budget must not be negative (0 is the default budget), got %d", g.callBudget)}
	}
	if err := g.orgFlags.check(); err != nil {
		return errUsage{err.Error()}
	}
	return nil
}

func outputFormats() []string {
	names := make([]string, 0, len(output.Formats)+1)
	for _, f := range output.Formats {
		names = append(names, string(f))
	}
	return append(names, "html")
}

// rootArgs refuses arguments to iamsql itself: the only one it could be
// is a misspelt command.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q (see iamsql --help)", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
	}
	return errUsage{msg}
}

// flagError makes a flag error a usage error naming the command, with
// the flag a misspelt one was probably meant as.
func flagError(cmd *cobra.Command, err error) error {
	path := cmd.CommandPath()
	prefix := ""
	if cmd.HasParent() {
		prefix = cmd.Name() + ": "
	}
	msg := fmt.Sprintf("%s%v (see %s --help)", prefix, err, path)
	if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		if s, ok := suggest.Closest(name, names); ok {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
	}
	return errUsage{msg}
}

// helpAsArgument makes `iamsql CMD help` print CMD's help, as
// `iamsql help CMD` and `iamsql CMD --help` do.
func helpAsArgument(c *cobra.Command) {
	if c.Name() == "completion" || c.Name() == "help" {
		return
	}
	args, run := c.Args, c.RunE
	c.Args = func(cmd *cobra.Command, a []string) error {
		if len(a) == 1 && a[0] == "help" {
			return nil
		}
		if args == nil {
			return nil
		}
		return args(cmd, a)
	}
	c.RunE = func(cmd *cobra.Command, a []string) error {
		if len(a) == 1 && a[0] == "help" {
			return cmd.Help()
		}
		return run(cmd, a)
	}
}

// noArgs refuses positional arguments to a command that takes none.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errUsage{fmt.Sprintf("%s: unexpected argument %q (see %s --help)", cmd.Name(), args[0], cmd.CommandPath())}
	}
	return nil
}

func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// normalizeArgs keeps the spellings Go's flag package accepted working
// under pflag: -sandbox, -profile=x and -force become --sandbox,
// --profile=x and --force, and --o json becomes -o json. Only names some
// command declares are rewritten, and nothing after "--".
func normalizeArgs(root *cobra.Command, args []string) []string {
	long, short := map[string]bool{"help": true, "version": true}, map[string]bool{"h": true}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				long[f.Name] = true
				if f.Shorthand != "" {
					short[f.Shorthand] = true
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, _, _ := strings.Cut(a, "=")
		switch {
		case strings.HasPrefix(name, "--") && len(name) == 3 && short[name[2:]]:
			a = a[1:]
		case strings.HasPrefix(name, "-") && !strings.HasPrefix(name, "--") && len(name) > 2 && long[name[1:]]:
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

func newExecCommand(env *environment) *cobra.Command {
	var opts execOptions
	c := &cobra.Command{
		Use:   `exec "SQL; ..." | exec -f FILE`,
		Short: "Run statements and print their results",
		Long: `Runs the statements given as one argument (quote it: the shell would split
and glob unquoted SQL) or in a file (-f FILE, or -f - for stdin), in one
session, and prints their results on stdout; errors go to stderr. It stops
at the first failing statement unless --force.

Exit status: 0 ok; 1 a statement failed; 2 usage; 4 a partial result
(--allow-partial makes it 0).`,
		Example: `  iamsql exec "SELECT * FROM access_keys WHERE region = 'us-east-1'"
  iamsql exec -o json -f rotate.sql`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return errUsage{fmt.Sprintf("exec takes the SQL as one argument, got %d: quote the statements (iamsql exec \"SELECT * FROM ...\"); the shell splits unquoted SQL and expands * into file names", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.sql, opts.hasSQL = args[0], true
			}
			return cmdExec(cmd.Context(), env, opts)
		},
	}
	c.Flags().StringVarP(&opts.file, "file", "f", "", "run the statements in `FILE` (- reads stdin)")
	c.Flags().BoolVar(&opts.force, "force", false, "go on after a statement fails")
	c.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, `no "Query OK" summaries`)
	c.Flags().BoolVarP(&opts.verbose, "verbose", "v", false, "first say on stderr whom the statements run as: AWS account, principal, profile, endpoint (one GetCallerIdentity)")
	return c
}

func newServeCommand(env *environment) *cobra.Command {
	var opts serveOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve SQL over the MySQL protocol for any MySQL client",
		Long: `Serves iamsql over the MySQL protocol: any MySQL client (mysql/mariadb CLI,
go-sql-driver/mysql, PyMySQL, BI tools) can connect to database iam.

Without any user, any client on this machine may connect without a password,
and the server listens on loopback addresses only. A users file has one user
per line, name:password:ro|rw (ro = read-only; # comments and blank lines are
ignored; keep the file mode 0600).

Keys created by INSERT are readable, with their secrets, from the table
created_access_keys by the connection that created them, until it closes;
a key whose secret was not read by then is deleted again (secret custody).
CALL create_access_key returns the secret as a result row instead.
StackQL names (aws.iam_api.access_keys) and EXEC work in plain queries; in
server-side prepared statements use the MySQL names (access_keys, CALL).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.userSet, opts.passwordSet = cmd.Flags().Changed("user"), cmd.Flags().Changed("password")
			return cmdServe(cmd.Context(), env, opts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:3306", "listen address `HOST:PORT` (port 0 picks a free port)")
	fs.StringVar(&opts.user, "user", "", "a read-write user `NAME` (also IAMSQL_USER)")
	fs.StringVar(&opts.password, "password", "", "its password `PW` (also IAMSQL_PASSWORD, which keeps it out of ps)")
	fs.StringVar(&opts.usersFile, "users-file", "", "users from `FILE`, one per line: name:password:ro|rw")
	fs.BoolVar(&opts.readOnly, "read-only", false, "no statement may change IAM, whoever the user")
	fs.StringVar(&opts.tlsCert, "tls-cert", "", "PEM certificate (chain) `FILE`: enables TLS and caching_sha2_password")
	fs.StringVar(&opts.tlsKey, "tls-key", "", "its PEM private key `FILE`")
	fs.BoolVar(&opts.requireTLS, "require-tls", false, "refuse clients that do not use TLS")
	fs.IntVar(&opts.maxConns, "max-connections", 151, "concurrent connections (0 = no limit)")
	fs.IntVar(&opts.maxUserConns, "max-user-connections", 0, "concurrent connections of each user (0 = no limit beyond --max-connections);\n"+
		"a users-file line may set its own: name:password:ro|rw max_user_connections=N")
	fs.DurationVar(&opts.stmtTimeout, "statement-timeout", 0, "cancel statements running longer than `D`, e.g. 30s (0: none)")
	fs.DurationVar(&opts.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGINT/SIGTERM, let running statements finish for up to `D`")
	fs.StringVar(&opts.logLevel, "log-level", "info", "`LEVEL` of the logs on stderr: debug, info, warn or error")
	fs.StringVar(&opts.undelivered, "undelivered-keys", "delete", "delete or keep a key whose secret the connection that created it never read from\ncreated_access_keys before it closed or was reset; either way the audit log and the server log name it")
	_ = c.RegisterFlagCompletionFunc("log-level", fixedCompletion("debug", "info", "warn", "error"))
	_ = c.RegisterFlagCompletionFunc("undelivered-keys", fixedCompletion("delete", "keep"))
	return c
}

func newReportCommand(env *environment) *cobra.Command {
	var rf reportFlags
	what := [][2]string{
		{"findings", "the summary and every finding"},
		{"inventory", "every access key with its age, last use and findings"},
	}
	for _, ru := range append(append([]report.Rule(nil), report.Rules...), report.ExpiredExemptions) {
		what = append(what, [2]string{ru.Name, fmt.Sprintf("%s (%s)", ru.Title, ru.Severity)})
	}
	var long strings.Builder
	long.WriteString("Security inventory of the account's IAM access keys. WHAT selects the part\n(several findings may be named at once):\n")
	fmt.Fprintf(&long, "  %-18s %s\n", "(nothing)", "everything: summary, findings, incomplete entries, inventory")
	validArgs := make([]string, len(what))
	for i, w := range what {
		fmt.Fprintf(&long, "  %-18s %s\n", w[0], w[1])
		validArgs[i] = w[0] + "\t" + w[1]
	}
	long.WriteString(`
The thresholds are days: --max-key-age for old-keys, --max-unused for
unused-keys, --max-inactive-age for inactive-keys; --grace-days spares new
keys. The report policy (severities, exemptions with a reason and an expiry
date, fail_on, controls, thresholds) is the report: section of the
configuration file (--config); flags override it. Every finding names the
compliance controls it evidences (CIS AWS Foundations 1.4 to 7.0, AWS FSBP,
PCI DSS), --controls limits them. -o html writes one self-contained page with
a key-age chart; -o sarif a SARIF 2.1.0 log; -o asff Security Hub findings.

Exit status: 0 ok; 1 the report failed; 2 usage; 3 a finding (not exempted)
at or above --fail-on; 4 the report is incomplete (also when 3 applies).

The account is read once: GetAccountSummary, the root user's keys (with root
credentials), then ListUsers, one ListAccessKeys per user and one
GetAccessKeyLastUsed per key. Each finding is one SQL condition on that
inventory; docs/reports.md shows it as a statement you can run.`)
	c := &cobra.Command{
		Use:   "report [WHAT]",
		Short: "Access key inventory and findings; -o html for a page",
		Long:  long.String(),
		Example: `  iamsql --sandbox report -o html > report.html
  iamsql report old-keys --max-key-age 180 -o csv
  iamsql report root-keys old-keys --controls cis-3.0 -o markdown
  iamsql report findings --fail-on high -o sarif > iamsql.sarif
  iamsql report --baseline yesterday.json -o html > report.html`,
		ValidArgs: validArgs,
		Args:      cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := report.ParseSelection(args...)
			if err != nil {
				return errUsage{"report: " + err.Error()}
			}
			rf.selection = sel
			rc, set := env.config.Report, cmd.Flags().Changed
			if rf.opts.Policy, err = reportPolicy(env.config); err != nil {
				return errUsage{err.Error()}
			}
			if rc.GraceDays != 0 && !set("grace-days") {
				rf.opts.Thresholds.GraceDays = rc.GraceDays
			}
			if rc.FailOn != "" && !set("fail-on") && !set("fail-on-findings") {
				rf.failOn = rc.FailOn
			}
			if len(rc.Controls) > 0 && !set("controls") {
				rf.controls, rf.controlsFromConfig = strings.Join(rc.Controls, ","), true
			}
			// The policy file's thresholds, where no flag overrides them.
			t := rc.Thresholds
			for _, th := range []struct {
				flag string
				from int
				to   *int
			}{{"max-key-age", t.MaxKeyAge, &rf.opts.Thresholds.MaxKeyAge},
				{"max-unused", t.MaxUnused, &rf.opts.Thresholds.MaxUnused},
				{"max-inactive-age", t.MaxInactiveAge, &rf.opts.Thresholds.MaxInactiveAge}} {
				if th.from != 0 && !set(th.flag) {
					*th.to = th.from
				}
			}
			return cmdReport(cmd.Context(), env, rf)
		},
	}
	fs := c.Flags()
	fs.StringVar(&rf.opts.Region, "region", report.DefaultRegion, "`REGION` the IAM calls are made for")
	fs.IntVar(&rf.opts.Thresholds.MaxKeyAge, "max-key-age", report.DefaultThresholds.MaxKeyAge, "old-keys: active keys older than `DAYS`")
	fs.IntVar(&rf.opts.Thresholds.MaxUnused, "max-unused", report.DefaultThresholds.MaxUnused, "unused-keys: active keys not used for `DAYS`")
	fs.IntVar(&rf.opts.Thresholds.MaxInactiveAge, "max-inactive-age", report.DefaultThresholds.MaxInactiveAge, "inactive-keys: inactive keys older than `DAYS`")
	fs.IntVar(&rf.opts.Thresholds.GraceDays, "grace-days", 0, "keys created in the last `DAYS` are in grace: no finding but root-keys flags them,\nnor a user's older key while the newer one is (a rotation under way)")
	fs.StringVar(&rf.failOn, "fail-on", "", "exit 3 when a finding that is not exempted is at or above `SEVERITY`\n(critical, high, medium, low); an incomplete report exits 4 (3 with --allow-partial)")
	fs.BoolVar(&rf.failOnFindings, "fail-on-findings", false, "exit 3 on any finding that is not exempted: --fail-on low")
	fs.StringVar(&rf.controls, "controls", "", "show the controls of these framework versions only, and only the findings that evidence one\n(`SETS`, comma-separated: "+strings.Join(report.ControlSetKeys(), ", ")+"; cis or pci for every version)")
	fs.StringVar(&rf.baseline, "baseline", "", "compare with an earlier run's -o json output `FILE`: findings new or still open, and those resolved")
	_ = c.RegisterFlagCompletionFunc("fail-on", fixedCompletion("critical", "high", "medium", "low"))
	_ = c.RegisterFlagCompletionFunc("controls", fixedCompletion(report.ControlSetKeys()...))
	fs.Var(sourceFlag{&rf.opts.Source}, "source", "where keys are read from: `live` (default: every key, from IAM now) or credential-report (IAM's credential report picks the users to confirm live: far fewer calls on large accounts)")
	fs.BoolVar(&rf.opts.NoContext, "no-context", false, "leave out the owners' context (tags, console access, MFA, groups, policies) of keys with findings")
	return c
}

func newEmulatorCommand(env *environment) *cobra.Command {
	var opts emulatorOptions
	c := &cobra.Command{
		Use:   "emulator",
		Short: "Serve the built-in IAM emulator over HTTP",
		Long: `Serves an emulated IAM account over HTTP (the IAM Query API, SigV4-signed)
for the aws CLI, an SDK or iamsql --endpoint-url.

Fault injection, for testing clients: --latency D waits D before carrying out
each call (a client that gives up during D has its call not carried out);
--throttle-rate answers a fraction of calls with Throttling, doing nothing;
--drop-rate carries out a fraction of calls, then closes the connection
without an answer. --answer-delay OPERATION=D carries out each OPERATION
call and commits its change, then holds the answer for D: a client that
gives up during D never gets it, but the change stands (a very large D such
as 24h is an answer that never comes). --drop-answer OPERATION=N carries out
the next N OPERATION calls, then closes each connection without an answer.`,
		Example: `  iamsql emulator --addr 127.0.0.1:0 --seed demo
  iamsql emulator --seed demo --answer-delay CreateAccessKey=3s --answer-delay DeleteAccessKey=1h
  iamsql emulator --seed org:demo`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.changed = append(opts.changed, f.Name) })
			return cmdEmulator(cmd.Context(), env, opts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:4566", "listen address `HOST:PORT` (port 0 picks a free one)")
	fs.StringVar(&opts.seed, "seed", "", "start from `SEED` instead of an empty account: demo is the demo account; an organization is served with\n"+
		"org:N or org:NxUSERS is N accounts (the first the management account) of USERS users with one key each\n"+
		"(default 10), with STS and Organizations, the members with OrganizationAccountAccessRole;\n"+
		"org:demo is the demo organization (--sandbox --org): the demo account and four members, one suspended")
	fs.StringVar(&opts.state, "state", "", "load the account from `FILE` and save it there after every change (0600)")
	fs.StringVar(&opts.account, "account-id", "", "the 12-digit account `ID` (default "+emulator.DefaultAccountID+")")
	fs.StringVar(&opts.rootID, "root-access-key-id", "", "the root user's signing key `ID` (default "+emulator.DefaultRootAccessKeyID+", AWS's documentation example)")
	fs.StringVar(&opts.rootSecret, "root-secret-access-key", "", "its `SECRET` (default: the documentation example's)")
	fs.DurationVar(&opts.latency, "latency", 0, "wait `D` before carrying out each call")
	fs.Float64Var(&opts.throttle, "throttle-rate", 0, "answer a fraction `F` (0..1) of calls with Throttling")
	fs.Float64Var(&opts.drop, "drop-rate", 0, "carry out a fraction `F` (0..1) of calls, then drop the connection")
	fs.DurationVar(&opts.propagation, "propagation-delay", 0, "a new access key signs nothing for `D` after CreateAccessKey (IAM's eventual consistency), so a client's retry is tested")
	opts.answerDelays = map[string]time.Duration{}
	fs.Func("answer-delay", "hold each answer to OPERATION for D after carrying the call out (`OPERATION=D`, repeatable)", opts.addAnswerDelay)
	opts.dropAnswers = map[string]int{}
	fs.Func("drop-answer", "carry out the next N OPERATION calls and drop their answers (`OPERATION=N`, repeatable)", opts.addDropAnswer)
	_ = c.RegisterFlagCompletionFunc("seed", fixedCompletion("demo", "org:demo", "org:3"))
	return c
}

func newRecoverCommand(env *environment) *cobra.Command {
	var del, dismiss bool
	c := &cobra.Command{
		Use:   "recover [--delete | --dismiss]",
		Short: "Keys a crashed iamsql left pending in its custody journal",
		Long: `Lists the access keys an iamsql process that ended (SIGKILL, a crash, power
loss) left pending in its custody journal ($XDG_STATE_HOME/iamsql/custody):
keys created whose secrets may not have reached anyone, or creates whose
answer never came. Never a secret: the journal holds key ids.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 || (del && dismiss) {
				return errUsage{"recover: give --delete or --dismiss, or nothing to list (iamsql recover --help)"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdRecover(cmd.Context(), env, del, dismiss)
		},
	}
	c.Flags().BoolVar(&del, "delete", false, "delete each pending key with a known id (through the current AWS configuration:\n--profile/--endpoint-url must match the entry's), and forget the entries whose keys are gone")
	c.Flags().BoolVar(&dismiss, "dismiss", false, "forget every pending entry without deleting anything (you checked them, or keep the keys)")
	return c
}
