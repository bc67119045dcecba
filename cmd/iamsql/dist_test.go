package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// make dist builds static binaries stamped with VERSION and checksums
// over them. Here it builds this machine's linux target and one cross
// target (a Windows one), checks both and runs the linux one; the full
// set (linux, darwin, windows × amd64, arm64) is the same loop.
func TestMakeDistBuildsStampedStaticBinaries(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the dist test runs the linux binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dist := t.TempDir()
	const version = "v9.9.9-disttest"
	native := "linux/" + runtime.GOARCH
	cmd := exec.Command("make", "-C", "../..", "dist", "DIST="+dist, "VERSION="+version, "DIST_TARGETS="+native+" windows/arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	linux := filepath.Join(dist, "iamsql_"+version+"_linux_"+runtime.GOARCH)
	windows := filepath.Join(dist, "iamsql_"+version+"_windows_arm64.exe")

	// The checksums cover exactly the binaries.
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.Join(dist, f[1]))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s: checksum differs", f[1])
		}
		listed++
	}
	if listed != 2 {
		t.Errorf("SHA256SUMS lists %d files, want 2:\n%s", listed, sums)
	}

	// Static: no program interpreter (dynamic loader), no shared libraries.
	ef, err := elf.Open(linux)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the linux binary needs a dynamic loader: not static")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the linux binary links %v", libs)
	}
	ef.Close()
	pf, err := pe.Open(windows)
	if err != nil {
		t.Fatalf("the windows build is no PE file: %v", err)
	}
	if pf.Machine != pe.IMAGE_FILE_MACHINE_ARM64 {
		t.Errorf("windows/arm64 build is for machine %#x", pf.Machine)
	}
	pf.Close()
	if b, _ := os.ReadFile(windows); !bytes.Contains(b, []byte(version)) {
		t.Error("the windows build does not carry the version")
	}

	// The linux one runs, and says its version.
	out, err := exec.Command(linux, "-V").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "iamsql "+version+" (go") {
		t.Errorf("iamsql -V: %v, %q", err, out)
	}
	out, err = exec.Command(linux, "--sandbox", "-o", "csv", "exec", "SELECT COUNT(*) AS n FROM users WHERE region = 'us-east-1'").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "n\n") {
		t.Errorf("the dist binary cannot run a statement: %v, %q", err, out)
	}
}
