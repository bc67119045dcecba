// Package bench measures iamsql against the targets of its quality bar:
// IAM calls per statement, whole-process latency beside the aws CLI,
// inventory wall time at injected latency, MySQL-protocol throughput,
// peak memory of a streamed inventory, and engine overhead.
//
// The measurements are Go benchmarks (testing.B, custom metrics through
// b.ReportMetric) in this package and in provider/bench_test.go; the
// driver in bench/driver builds the iamsql binary once, runs them, takes
// medians over runs and prints the summary table against the targets
// (see README.md). This file holds the helpers they share.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Environment variables the driver sets for the benchmarks.
const (
	// EnvBinary is the path of a built iamsql binary; without it the
	// benchmarks build one (once per test binary).
	EnvBinary = "IAMSQL_BENCH_BIN"
	// EnvLauncher is the path of a built bench/rusage launcher.
	EnvLauncher = "IAMSQL_BENCH_RUSAGE"
	// EnvQuick asks for fewer repetitions and shorter runs (make bench-quick).
	EnvQuick = "IAMSQL_BENCH_QUICK"
	// EnvAWSCLI overrides the aws CLI used for comparison (default /usr/bin/aws).
	EnvAWSCLI = "IAMSQL_BENCH_AWS"
)

// Quick reports whether a quick run was asked for.
func Quick() bool { return os.Getenv(EnvQuick) != "" }

// The emulator's default root credentials, as the aws CLI and iamsql get
// them from the environment.
const (
	RootAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	RootSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// ModuleRoot finds the directory of iamsql's go.mod, from the working
// directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/iamsql/iamsql\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bench: iamsql's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Build compiles cmd/iamsql into dir and returns the binary's path.
func Build(dir string) (string, error) { return build(dir, "iamsql", "./cmd/iamsql") }

// BuildLauncher compiles bench/rusage, the launcher that reads a child's
// peak RSS, into dir.
func BuildLauncher(dir string) (string, error) { return build(dir, "rusage", "./bench/rusage") }

func build(dir, name, pkg string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

var (
	buildOnce sync.Once
	binPath   string
	launcher  string
	buildDir  string
	buildErr  error
)

// Binary returns the iamsql binary to measure: $IAMSQL_BENCH_BIN, or one
// built once for this process (removed by Cleanup).
func Binary() (string, error) {
	buildAll()
	return binPath, buildErr
}

// Launcher returns the rusage launcher: $IAMSQL_BENCH_RUSAGE, or one built
// once for this process.
func Launcher() (string, error) {
	buildAll()
	return launcher, buildErr
}

func buildAll() {
	buildOnce.Do(func() {
		binPath, launcher = os.Getenv(EnvBinary), os.Getenv(EnvLauncher)
		for _, p := range []string{binPath, launcher} {
			if p == "" {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				buildErr = err
				return
			}
		}
		if binPath != "" && launcher != "" {
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "iamsql-bench-bin-"); buildErr != nil {
			return
		}
		if binPath == "" {
			if binPath, buildErr = Build(buildDir); buildErr != nil {
				return
			}
		}
		if launcher == "" {
			launcher, buildErr = BuildLauncher(buildDir)
		}
	})
}

// Cleanup removes what Binary and Launcher built.
func Cleanup() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// AWSCLI returns the aws CLI to compare with.
func AWSCLI() string {
	if p := os.Getenv(EnvAWSCLI); p != "" {
		return p
	}
	return "/usr/bin/aws"
}

// ClientEnv is the environment of the iamsql and aws CLI child processes:
// this process's environment without AWS settings (AWS_CA_BUNDLE is kept:
// it belongs to the machine's real configuration chain), plus the
// emulator's root credentials, region us-east-1, a fresh HOME and no
// shared config or credentials files. AWS_DEFAULT_REGION is set beside
// AWS_REGION because aws CLI v1 reads only the former.
func ClientEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") && k != "AWS_CA_BUNDLE" || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	nowhere := filepath.Join(home, "does-not-exist")
	return append(env,
		"HOME="+home,
		"AWS_ACCESS_KEY_ID="+RootAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+RootSecretAccessKey,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+nowhere,
		"AWS_SHARED_CREDENTIALS_FILE="+nowhere,
		"AWS_PAGER=",
	)
}

// Proc is a long-running child (iamsql emulator, iamsql serve).
type Proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *tailBuffer
	// Addr is the last field of the line that announced the child ready
	// (a URL or host:port).
	Addr string
}

// StartProc starts bin with args and waits until a line of its stdout
// contains ready; the line's last field becomes Addr.
func StartProc(bin string, env []string, ready string, args ...string) (*Proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan struct{}), stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			if !announced && strings.Contains(sc.Text(), ready) {
				announced = true
				lines <- sc.Text()
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		p.Addr = f[len(f)-1]
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s %s exited before it was ready: %s", filepath.Base(bin), strings.Join(args, " "), p.stderr.String())
	case <-time.After(60 * time.Second):
		_ = p.Stop()
		return nil, fmt.Errorf("%s %s not ready after 60s: %s", filepath.Base(bin), strings.Join(args, " "), p.stderr.String())
	}
}

// Stop ends the child with SIGTERM (SIGKILL after 10s).
func (p *Proc) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// CPUTime is the CPU time (user + system) the child has used so far,
// from /proc (Linux).
func (p *Proc) CPUTime() (time.Duration, error) {
	return procCPUTime(p.cmd.Process.Pid)
}

// Memory is the child's resident memory now and its peak so far, in
// bytes (VmRSS and VmHWM from /proc, Linux).
func (p *Proc) Memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("no VmRSS/VmHWM in /proc/%d/status", p.cmd.Process.Pid)
	}
	return rss, peak, nil
}

// SelfCPUTime is this process's CPU time so far.
func SelfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func procCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	// f[0] is field 3 (state): utime and stime are fields 14 and 15.
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// MachineBusy reads /proc/stat: the CPU time all processes spent busy
// and the total elapsed CPU time, summed over cores, so that a benchmark
// can tell how much of the machine other processes took.
func MachineBusy() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, errors.New("unexpected /proc/stat")
	}
	var sum, idle int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		sum += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	tick := time.Second / clockTicks
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick, nil
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// Run is one finished child process.
type Run struct {
	Wall   time.Duration
	CPU    time.Duration // user + system, from wait4
	MaxRSS int64         // peak resident set in bytes (RunProcRSS only)
	Stdout []byte        // up to the first 1 MiB
	Lines  int           // newline count of all of stdout
	Stderr string        // the last 8 KiB
}

// RunProc runs bin to completion, timing it from start to exit, and reads
// its CPU time (the child's own, from wait4). A non-zero exit is an error
// that carries the child's stderr.
//
// Its ru_maxrss is not used: a child started by a Go program inherits the
// parent's high-water RSS at exec (see bench/rusage); RunProcRSS measures
// peak memory.
func RunProc(ctx context.Context, bin string, env []string, args ...string) (Run, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out := &countingWriter{keep: 1 << 20}
	errBuf := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, errBuf
	start := time.Now()
	err := cmd.Run()
	r := Run{Wall: time.Since(start), Stdout: out.kept, Lines: out.lines, Stderr: errBuf.String()}
	if st := cmd.ProcessState; st != nil {
		r.CPU = st.UserTime() + st.SystemTime()
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, r.Stderr)
	}
	return r, nil
}

// RunProcRSS is RunProc through the rusage launcher, which reports the
// child's peak RSS (ru_maxrss) in MaxRSS. Wall and CPU then include the
// launcher's small share.
func RunProcRSS(ctx context.Context, bin string, env []string, args ...string) (Run, error) {
	l, err := Launcher()
	if err != nil {
		return Run{}, err
	}
	f, err := os.CreateTemp("", "iamsql-bench-rusage-*.json")
	if err != nil {
		return Run{}, err
	}
	f.Close()
	defer os.Remove(f.Name())
	r, err := RunProc(ctx, l, env, append([]string{"-o", f.Name(), bin}, args...)...)
	if err != nil {
		return r, err
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return r, err
	}
	var res struct {
		MaxRSSKB int64 `json:"max_rss_kb"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return r, fmt.Errorf("rusage launcher: %v", err)
	}
	r.MaxRSS = res.MaxRSSKB * 1024
	return r, nil
}

type countingWriter struct {
	keep  int
	kept  []byte
	lines int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.lines += bytes.Count(p, []byte{'\n'})
	if room := w.keep - len(w.kept); room > 0 {
		w.kept = append(w.kept, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Median of xs (NaN when empty).
func Median(xs []float64) float64 { return Percentile(xs, 50) }

// Percentile p (0-100) of xs by linear interpolation between closest
// ranks (NaN when empty).
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Millis converts durations to float milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// FullScan is the account-wide key inventory as users write it: every key
// of access_keys (one ListUsers pass, one ListAccessKeys per user, and
// the root user's own keys).
const FullScan = "SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1'"

// Inventory is the account-wide key listing as a join with users (a
// lookup join whose lookups the users scan fetches ahead).
const Inventory = "SELECT u.UserName, k.AccessKeyId, k.Status, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
	"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"

// InventoryLastUsed is Inventory with the last-used columns (one
// GetAccessKeyLastUsed per key).
const InventoryLastUsed = "SELECT u.UserName, k.AccessKeyId, k.Status, k.CreateDate, k.LastUsedDate, k.LastUsedServiceName FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
	"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"

// LookupByUser is the single-user lookup measured end to end.
const LookupByUser = "SELECT AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"
