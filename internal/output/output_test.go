package output

import (
	"bytes"
	"testing"
	"time"
)

func render(t *testing.T, f Format) string {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b, f, []string{"AccessKeyId", "CreateDate", "LastUsedDate", "n"})
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, row := range [][]any{{"AKIAALICE00000000001", ts, nil, int64(2)}, {"a|b,\"c\"", ts, ts, int64(0)}} {
		if err := w.WriteRow(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFormats(t *testing.T) {
	tests := map[Format]string{
		Table: `+----------------------+---------------------+---------------------+---+
| AccessKeyId          | CreateDate          | LastUsedDate        | n |
+----------------------+---------------------+---------------------+---+
| AKIAALICE00000000001 | 2026-01-02 03:04:05 | NULL                | 2 |
| a|b,"c"              | 2026-01-02 03:04:05 | 2026-01-02 03:04:05 | 0 |
+----------------------+---------------------+---------------------+---+
`,
		JSON: `[
  {"AccessKeyId":"AKIAALICE00000000001","CreateDate":"2026-01-02T03:04:05Z","LastUsedDate":null,"n":2},
  {"AccessKeyId":"a|b,\"c\"","CreateDate":"2026-01-02T03:04:05Z","LastUsedDate":"2026-01-02T03:04:05Z","n":0}
]
`,
		JSONL: `{"AccessKeyId":"AKIAALICE00000000001","CreateDate":"2026-01-02T03:04:05Z","LastUsedDate":null,"n":2}
{"AccessKeyId":"a|b,\"c\"","CreateDate":"2026-01-02T03:04:05Z","LastUsedDate":"2026-01-02T03:04:05Z","n":0}
`,
		CSV: `AccessKeyId,CreateDate,LastUsedDate,n
AKIAALICE00000000001,2026-01-02 03:04:05,,2
"a|b,""c""",2026-01-02 03:04:05,2026-01-02 03:04:05,0
`,
		Markdown: `| AccessKeyId | CreateDate | LastUsedDate | n |
| --- | --- | --- | --- |
| AKIAALICE00000000001 | 2026-01-02 03:04:05 | NULL | 2 |
| a\|b,"c" | 2026-01-02 03:04:05 | 2026-01-02 03:04:05 | 0 |
`,
		Vertical: `*************************** 1. row ***************************
 AccessKeyId: AKIAALICE00000000001
  CreateDate: 2026-01-02 03:04:05
LastUsedDate: NULL
           n: 2
*************************** 2. row ***************************
 AccessKeyId: a|b,"c"
  CreateDate: 2026-01-02 03:04:05
LastUsedDate: 2026-01-02 03:04:05
           n: 0
`,
	}
	for f, want := range tests {
		if got := render(t, f); got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", f, got, want)
		}
	}
}

func TestEmptyResults(t *testing.T) {
	for f, want := range map[Format]string{JSON: "[]\n", JSONL: "", CSV: "a\n"} {
		var b bytes.Buffer
		w := NewWriter(&b, f, []string{"a"})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", f, b.String(), want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("JSON"); err != nil || f != JSON {
		t.Errorf("ParseFormat(JSON) = %v, %v", f, err)
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("yaml accepted")
	}
}
