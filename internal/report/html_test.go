package report_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/report"
)

// chromium finds headless Chromium (Debian's chromium package). In CI
// (CI=true) a missing browser fails the test rather than skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); CI must render the HTML report")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

// runChromium runs headless Chromium on a page with extra arguments and
// returns its standard output.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errOut.String())
	}
	return out.Bytes()
}

// thousandUserPage writes the HTML report of the generated account.
func thousandUserPage(t *testing.T) (*report.Report, string) {
	t.Helper()
	w := newWorld(t, worldOptions{})
	seedAccount(t, w.emu, accountUsers)
	w.emu.Deny("ListAccessKeys", "user0042")
	r := w.run(t, report.Options{})
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("IAMSQL_REPORT_ARTIFACTS"); dir != "" { // keep the page to look at
		_ = os.WriteFile(filepath.Join(dir, "report.html"), b.Bytes(), 0o644)
	}
	return r, page
}

// The page is self-contained: no script, no external stylesheet, image,
// font or link, and a Content-Security-Policy that forbids fetching.
func TestHTMLReportFetchesNothing(t *testing.T) {
	_, path := thousandUserPage(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`) {
		t.Error("no Content-Security-Policy forbidding fetches")
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`),
		regexp.MustCompile(`(?i)<link`),
		regexp.MustCompile(`(?i)<img`),
		regexp.MustCompile(`(?i)<iframe`),
		regexp.MustCompile(`(?i)\ssrc=`),
		regexp.MustCompile(`(?i)href="(https?:)?//`),
		regexp.MustCompile(`(?i)url\(`),
		regexp.MustCompile(`(?i)@import`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page would fetch something: %q", m)
		}
	}
}

// Rendered by a real browser, the page shows every finding table with one
// row per finding, the incomplete entries, and the chart's bars with the
// histogram's counts; the screenshot is a full, colourful page with the
// chart's bar colour in it.
func TestHTMLReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	r, page := thousandUserPage(t)
	dom := string(runChromium(t, bin, page, "--dump-dom"))

	for _, ru := range report.Rules {
		want := len(r.FindingsOf(ru.Name))
		table := element(dom, `<table class="findings" id="finding-`+ru.Name+`">`, "</table>")
		if got := strings.Count(table, "<tr data-key="); got != want {
			t.Errorf("%s: the rendered table has %d rows, the report %d findings", ru.Name, got, want)
		}
	}
	incomplete := element(dom, `<table id="incomplete-table">`, "</table>")
	if !strings.Contains(incomplete, `data-user="user0042"`) || !strings.Contains(incomplete, "AccessDenied") {
		t.Errorf("the incomplete table does not show user0042: %.500s", incomplete)
	}
	if got := strings.Count(element(dom, `<table id="inventory-table">`, "</table>"), "<tr data-key="); got != len(r.Keys) {
		t.Errorf("inventory: %d rows, want %d", got, len(r.Keys))
	}
	bars := regexp.MustCompile(`<rect class="bar (active|inactive)" data-bucket="([^"]+)" data-count="(\d+)"`).FindAllStringSubmatch(dom, -1)
	got := map[string]int{}
	for _, m := range bars {
		n, _ := strconv.Atoi(m[3])
		got[html.UnescapeString(m[2])+" "+m[1]] = n
	}
	want := map[string]int{}
	for _, b := range r.AgeHistogram() {
		if b.Active > 0 {
			want[b.Label+" active"] = b.Active
		}
		if b.Inactive > 0 {
			want[b.Label+" inactive"] = b.Inactive
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 8 {
		t.Errorf("chart bars %v, want %v", got, want)
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	runChromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
	if dir := os.Getenv("IAMSQL_REPORT_ARTIFACTS"); dir != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "report.png"), b, 0o644)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %v", b)
	}
	colours, barPixels, badgePixels := census(img)
	if colours < 200 {
		t.Errorf("the screenshot has %d colours: an empty or unstyled page?", colours)
	}
	if barPixels < 5000 {
		t.Errorf("%d pixels of the active-bar colour: the chart did not render", barPixels)
	}
	if badgePixels < 200 {
		t.Errorf("%d pixels of the critical badge colour: the findings did not render", badgePixels)
	}
}

// element returns the text from open to the next close, or "".
func element(s, open, close string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], close)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// census counts an image's distinct colours and its pixels of the chart's
// active bar (#1d4ed8) and of the critical badge (#b91c1c).
func census(img image.Image) (colours, bar, badge int) {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
			seen[c] = true
			switch c {
			case color.RGBA{0x1d, 0x4e, 0xd8, 255}:
				bar++
			case color.RGBA{0xb9, 0x1c, 0x1c, 255}:
				badge++
			}
		}
	}
	return len(seen), bar, badge
}

// measureOverflow renders a page in headless Chromium in a frame of a
// given width (a headless window is at least 500 px wide, so the page is
// framed: srcdoc, which the measuring script may read) and returns how
// wide the page's document is against its viewport, and which elements
// reach past it outside a scroll box.
func measureOverflow(t *testing.T, bin, pageHTML string, width int) (scrollWidth, clientWidth int, wide string) {
	t.Helper()
	const probe = `<script>window.addEventListener("load",function(){var f=document.getElementById("f").contentDocument,d=f.documentElement,w=d.clientWidth,wide=[];` +
		`f.querySelectorAll("main *").forEach(function(e){var r=e.getBoundingClientRect();` +
		`if(r.right>w+1&&!e.closest(".scroll"))wide.push(e.tagName+(e.id?"#"+e.id:""));});` +
		`document.body.setAttribute("data-probe",d.scrollWidth+" "+w+" "+wide.slice(0,5).join(","));});</script>`
	frame := fmt.Sprintf(`<!DOCTYPE html><html><body style="margin:0"><iframe id="f" style="border:0;width:%dpx;height:2000px" srcdoc="%s"></iframe>%s</body></html>`,
		width, html.EscapeString(pageHTML), probe)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("frame-%d.html", width))
	if err := os.WriteFile(path, []byte(frame), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(runChromium(t, bin, path, "--dump-dom", "--window-size=1600,2200", "--hide-scrollbars", "--virtual-time-budget=10000"))
	m := regexp.MustCompile(`data-probe="(\d+) (\d+) ([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("width %d: the probe did not run", width)
	}
	scrollWidth, _ = strconv.Atoi(m[1])
	clientWidth, _ = strconv.Atoi(m[2])
	return scrollWidth, clientWidth, html.UnescapeString(m[3])
}

// The page never overflows its window: at a phone's 375 px, a tablet's
// 768 px and a desktop's 1400 px the document is no wider than the
// viewport (wide tables scroll inside their own box). Without that box the
// same page overflows at 375 px, so the measurement can fail.
func TestHTMLReportFitsNarrowWindows(t *testing.T) {
	bin := chromium(t)
	r := handoffReport(t)
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{375, 768, 1400} {
		sw, cw, wide := measureOverflow(t, bin, b.String(), width)
		if cw != width {
			t.Errorf("width %d: the viewport is %d px: the window size did not apply", width, cw)
		}
		if sw > cw {
			t.Errorf("width %d: the page is %d px wide in a %d px viewport (too wide: %s)", width, sw, cw, wide)
		}
	}
	unboxed := strings.Replace(b.String(), ".scroll { overflow-x: auto; max-width: 100%; }", "", 1)
	if unboxed == b.String() {
		t.Fatal("the page has no .scroll rule to take away")
	}
	if sw, cw, _ := measureOverflow(t, bin, unboxed, 375); sw <= cw {
		t.Errorf("without its scroll boxes the page still fits 375 px (%d ≤ %d): the test proves nothing", sw, cw)
	}
}

// The "two active keys" card counts users (what to fix), the findings
// count keys; one account's page has no account column repeating its id.
func TestHTMLCardsCountUsersAndOneAccountHasNoAccountColumn(t *testing.T) {
	w := policyAccount(t)
	r := w.run(t, report.Options{})
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	card := element(page, `<a class="card sev-medium" href="#two-active-keys">`, "</a>")
	if !strings.Contains(card, `<div class="value">1</div>`) || !strings.Contains(card, "Users with two active keys") || !strings.Contains(card, "2 keys") {
		t.Errorf("two-active-keys card: %s", card)
	}
	inv := element(page, `<table id="inventory-table">`, "</table>")
	if strings.Contains(inv, "<th>Account</th>") || strings.Contains(inv, "<td>"+r.Account+"</td>") {
		t.Errorf("one account's inventory repeats the account: %.400s", inv)
	}
	if !strings.Contains(page, "cis-3.0:1.14") {
		t.Error("the page does not show the findings' controls")
	}
}
