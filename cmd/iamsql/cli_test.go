package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestVersionFlag(t *testing.T) {
	out, errOut, code := cli(t, "", "--version")
	if code != 0 || errOut != "" || !regexp.MustCompile(`^iamsql \S+ \(go[0-9.]+, [a-z0-9]+/[a-z0-9]+\)\n$`).MatchString(out) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Every flag of every command appears in that command's help with the
// help text and default it was declared with: the help is generated from
// the declarations, not written beside them.
func TestHelpComesFromTheFlagDeclarations(t *testing.T) {
	root := newCLI(&environment{})
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		path := strings.Fields(c.CommandPath())[1:]
		out, errOut, code := cli(t, "", append(path, "--help")...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v --help: exit %d, stderr %q", path, code, errOut)
		}
		if !strings.Contains(out, c.Short) && !strings.Contains(out, strings.TrimSpace(c.Long)) {
			t.Errorf("%v --help lacks its description:\n%s", path, out)
		}
		c.InheritedFlags().VisitAll(func(f *pflag.Flag) { checkFlag(t, path, out, f) })
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { checkFlag(t, path, out, f) })
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && !sub.Hidden {
				check(sub)
			}
		}
	}
	check(root)
}

func checkFlag(t *testing.T, path []string, help string, f *pflag.Flag) {
	t.Helper()
	_, usage := pflag.UnquoteUsage(f)
	first := strings.Split(usage, "\n")[0]
	if !strings.Contains(help, "--"+f.Name) || !strings.Contains(help, first) {
		t.Errorf("%v --help lacks --%s %q:\n%s", path, f.Name, first, help)
	}
	if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && d != "[]" && !strings.Contains(help, d) {
		t.Errorf("%v --help lacks the default %q of --%s", path, d, f.Name)
	}
}

func TestFlagErrorsAreUsageErrorsNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--outptu", "json"}, "iamsql: unknown flag: --outptu (see iamsql --help); did you mean --output?\n"},
		{[]string{"exec", "--outptu", "json", "SELECT 1"}, "iamsql: exec: unknown flag: --outptu (see iamsql exec --help); did you mean --output?\n"},
		{[]string{"serve", "--read-onyl"}, "did you mean --read-only?"},
		{[]string{"--concurrency", "many", "exec", "SELECT 1"}, `invalid argument "many" for "--concurrency"`},
		{[]string{"--profile"}, "flag needs an argument: --profile"},
		{[]string{"exce", "SELECT 1"}, `unknown command "exce" (see iamsql --help); did you mean exec?`},
	} {
		out, errOut, code := cli(t, "", tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// Extra arguments to exec are refused, not joined into the SQL: an
// unquoted statement is split by the shell and its * globbed.
func TestExecRefusesMoreThanOneArgument(t *testing.T) {
	for _, args := range [][]string{
		{"--sandbox", "exec", "SELECT 1", "extra"},
		{"--sandbox", "exec", "SELECT", "go.mod", "FROM", "access_keys"},
	} {
		out, errOut, code := cli(t, "", args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "exec takes the SQL as one argument") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// `iamsql CMD help`, `iamsql CMD --help` and `iamsql help CMD` print the
// same help, the command's own.
func TestSubcommandHelpThreeWays(t *testing.T) {
	for _, sub := range []string{"emulator", "serve", "report", "recover", "exec"} {
		var outs []string
		for _, args := range [][]string{{sub, "help"}, {sub, "--help"}, {"help", sub}, {sub, "-h"}} {
			out, errOut, code := cli(t, "", args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			outs = append(outs, out)
		}
		for _, o := range outs[1:] {
			if o != outs[0] {
				t.Errorf("%s: the help forms differ:\n%s\n---\n%s", sub, outs[0], o)
			}
		}
		if !strings.Contains(outs[0], "iamsql "+sub) || strings.Contains(outs[0], "Available Commands") {
			t.Errorf("%s help is not the command's own:\n%s", sub, outs[0])
		}
	}
}

// The spellings Go's flag package accepted keep working: -sandbox,
// -force, -output=csv, --o csv.
func TestOldSingleDashFlagsStillWork(t *testing.T) {
	q := "SELECT UserName FROM users WHERE region = 'us-east-1' AND Path = '/ops/' ORDER BY UserName"
	for _, args := range [][]string{
		{"-sandbox", "exec", "-output=csv", q},
		{"exec", "-sandbox", "--o", "csv", q},
		{"-sandbox", "-o=csv", "exec", "-quiet", q},
	} {
		out, errOut, code := cli(t, "", args...)
		if code != 0 || out != "UserName\ndave\nerin\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	out, errOut, code := cli(t, "SELECT 1 FROM nowhere;\nSELECT 'after' AS x;\n", "-sandbox", "-force", "-o", "csv")
	if code != 1 || out != "x\nafter\n" {
		t.Errorf("-force: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Only declared names are rewritten: SQL after -- is left alone.
	out, _, code = cli(t, "", "--sandbox", "-o", "csv", "exec", "--", "-- -sandbox\nSELECT 2 AS two")
	if code != 0 || out != "two\n2\n" {
		t.Errorf("after --: exit %d, stdout %q", code, out)
	}
}

// The completion scripts are generated from the same declarations and
// work in the shells: bash (with bash-completion) and fish complete
// commands, flags, the output formats and report's selections; zsh
// parses its script.
func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(binary(t), filepath.Join(dir, "iamsql")); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, errOut, code := cli(t, "", "completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, "iamsql") || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, stderr %q", shell, code, errOut)
		}
	}
	_, _, code := cli(t, "", "completion", "tcsh")
	if code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want a usage error", code)
	}

	run := func(shell string, script string) string {
		t.Helper()
		if _, err := exec.LookPath(shell); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (.ci/run installs it)", shell)
			}
			t.Skipf("%s is not installed", shell)
		}
		cmd := exec.Command(shell, "-c", script)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", shell, err, out)
		}
		return string(out)
	}
	bash := func(line string) string {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		return run("bash", `source /usr/share/bash-completion/bash_completion
source <(iamsql completion bash)
COMP_WORDS=(`+quoteWords(words)+`); COMP_CWORD=`+strconv.Itoa(len(words)-1)+`; COMP_LINE='`+line+`'; COMP_POINT=${#COMP_LINE}
__start_iamsql 2>/dev/null; printf '%s\n' "${COMPREPLY[@]}"`)
	}
	for line, want := range map[string]string{
		"iamsql ex":         "exec\n",
		"iamsql report t":   "two-active-keys\n",
		"iamsql exec --ou":  "--output\n",
		"iamsql serve --re": "--read-only\n--require-tls\n",
	} {
		if got := bash(line); got != want {
			t.Errorf("bash %q: %q, want %q", line, got, want)
		}
	}
	if got := bash("iamsql -o "); !strings.Contains(got, "markdown\n") || !strings.Contains(got, "csv\n") {
		t.Errorf("bash: -o completes to %q", got)
	}
	if got := run("fish", `iamsql completion fish | source; complete -C "iamsql report t"`); !strings.HasPrefix(got, "two-active-keys\tUsers with two active keys") {
		t.Errorf("fish: %q", got)
	}
	run("zsh", `iamsql completion zsh > '`+dir+`/_iamsql' && zsh -n '`+dir+`/_iamsql'`)
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}
