package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := Median(xs); got != 3 {
		t.Errorf("Median = %v, want 3", got)
	}
	if got := Percentile([]float64{1, 2, 3, 4}, 50); got != 2.5 {
		t.Errorf("Percentile 50 of 1..4 = %v, want 2.5", got)
	}
	if got := Percentile(xs, 100); got != 5 {
		t.Errorf("Percentile 100 = %v, want 5", got)
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median of nothing should be NaN")
	}
	if xs[0] != 5 {
		t.Error("Percentile sorted its input in place")
	}
}

const sample = `goos: linux
BenchmarkIAMCalls/delete_by_id-2         	       1	   2161389 ns/op	         3.000 calls/stmt	         3.000 min-calls
BenchmarkIAMCalls/delete_by_id-2         	       1	   2161389 ns/op	         3.000 calls/stmt	         3.000 min-calls
BenchmarkIAMCalls/update_by_id-2         	       1	   4034134 ns/op	         4.000 calls/stmt	         3.000 min-calls
BenchmarkExecVsAWSCLI-2   	       1	10643513422 ns/op	       981.8 aws-cpu-ms	       973.3 aws-ms	       100.8 iamsql-cpu-ms	        98.85 iamsql-ms	         9.846 speedup-x
--- BENCH: BenchmarkExecVsAWSCLI-2
BenchmarkExecVsAWSCLI-2   	       1	10414246551 ns/op	       940.9 aws-cpu-ms	      1008 aws-ms	       100.2 iamsql-cpu-ms	       106.7 iamsql-ms	         12.5 speedup-x
BenchmarkExecVsAWSCLI-2   	       1	10414246551 ns/op	       940.9 aws-cpu-ms	      1008 aws-ms	       100.2 iamsql-cpu-ms	       106.7 iamsql-ms	         11 speedup-x
BenchmarkEngineSelectByUserName   	    5925	    176058 ns/op	   40269 B/op	    1065 allocs/op
PASS
`

func TestParseAndSummarize(t *testing.T) {
	r := Results{}
	if err := Parse(strings.NewReader(sample), r); err != nil {
		t.Fatal(err)
	}
	if got := r["BenchmarkIAMCalls/delete_by_id"]["calls/stmt"]; len(got) != 2 {
		t.Fatalf("delete_by_id runs = %v, want 2 (the -2 suffix stripped)", got)
	}
	if got := r.Median("BenchmarkExecVsAWSCLI", "speedup-x"); got != 11 {
		t.Errorf("median speedup = %v, want 11", got)
	}
	if got := r.Median("BenchmarkEngineSelectByUserName", "allocs/op"); got != 1065 {
		t.Errorf("allocs/op = %v (no GOMAXPROCS suffix), want 1065", got)
	}
	status := map[string]string{}
	for _, row := range Summarize(r) {
		status[row.Metric] = row.Status
	}
	for metric, want := range map[string]string{
		"calls: delete_by_id":                               "PASS",
		"calls: update_by_id":                               "FAIL",
		"exec lookup: speedup (aws median / iamsql median)": "PASS",
		"engine lookup (fake IAM): allocations":             "PASS",
		"mysql lookup, 8 conn: throughput":                  "MISSING",
	} {
		if status[metric] != want {
			t.Errorf("%s: %s, want %s", metric, status[metric], want)
		}
	}
	var out bytes.Buffer
	if WriteTable(&out, Summarize(r)) {
		t.Error("WriteTable reported success with a FAIL row")
	}
	if !strings.Contains(out.String(), "calls: update_by_id") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestInitMillis(t *testing.T) {
	trace := "init internal/bytealg @0.006 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/dolthub/go-mysql-server/sql/types @12 ms, 4.5 ms clock, 1000 bytes, 10 allocs\n" +
		"something else\ninit x @13 ms, 0.25 ms clock, 1 bytes, 1 allocs\n"
	if got := InitMillis(trace); got != 4.75 {
		t.Errorf("InitMillis = %v, want 4.75", got)
	}
}

// Above 2x a signed curl is a failure, unless start-up alone is above it:
// then the row reports that floor.
func TestCurlRatioRowReportsTheFloor(t *testing.T) {
	row := func(iamsql, curl, floor float64) Row {
		r := Results{"BenchmarkExecVsSignedCurl": {"iamsql-ms": {iamsql}, "curl-ms": {curl}, "floor-ms": {floor},
			"x-curl": {iamsql / curl}, "floor-x-curl": {floor / curl}, "init-ms": {10}}}
		for _, row := range Summarize(r) {
			if row.Metric == "exec lookup / signed curl" {
				return row
			}
		}
		t.Fatal("no row")
		return Row{}
	}
	if r := row(30, 20, 15); r.Status != "PASS" {
		t.Errorf("1.5x: %+v", r)
	}
	if r := row(60, 20, 15); r.Status != "FAIL" {
		t.Errorf("3x with a low floor: %+v", r)
	}
	if r := row(60, 20, 45); r.Status != "INFO" || !strings.Contains(r.Target, "floor: -V alone is 2.25x curl") {
		t.Errorf("3x above a floor of 2.25x: %+v", r)
	}
}

// TestReportRows: BenchmarkReport's lines become the report rows, judged
// against their targets.
func TestReportRows(t *testing.T) {
	const lines = `BenchmarkReport/live-2         	       1	109390685466 ns/op	     30805 iam-calls	       101.3 ideal-s	       109.4 wall-s	         1.080 x-ideal
BenchmarkReport/credential_report-2         	       1	4806333875 ns/op	        30.65 fewer-calls-x	      1005 iam-calls	         1.000 same-findings	         4.806 wall-s
`
	r := Results{}
	if err := Parse(strings.NewReader(lines), r); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, row := range Summarize(r) {
		status[row.Metric] = row.Status
	}
	for _, metric := range []string{"report 10,000 users (2,000 -quick), live: wall / ideal", "report 10,000 users (2,000 -quick), credential report first: live calls / its calls"} {
		if status[metric] != "PASS" {
			t.Errorf("%s: %q, want PASS", metric, status[metric])
		}
	}
	r["BenchmarkReport/credential_report"]["fewer-calls-x"] = []float64{8}
	for _, row := range Summarize(r) {
		if row.Metric == "report 10,000 users (2,000 -quick), credential report first: live calls / its calls" && row.Status != "FAIL" {
			t.Errorf("8x fewer calls: %s, want FAIL", row.Status)
		}
	}
}
