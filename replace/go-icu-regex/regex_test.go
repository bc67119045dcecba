package regex

import (
	"context"
	"testing"
)

func TestRegexLikeMySQL(t *testing.T) {
	ctx := context.Background()
	re := CreateRegex(0)
	if err := re.SetRegexString(ctx, "a(b+)", RegexFlags_Case_Insensitive); err != nil {
		t.Fatal(err)
	}
	if err := re.SetMatchString(ctx, "xAbb-ab-ABBB"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := re.Matches(ctx, 0, 0); !ok {
		t.Error("no match")
	}
	if i, _ := re.IndexOf(ctx, 1, 2, false); i != 6 {
		t.Errorf("IndexOf 2nd = %d, want 6", i)
	}
	if i, _ := re.IndexOf(ctx, 1, 1, true); i != 5 {
		t.Errorf("IndexOf end = %d, want 5", i)
	}
	if s, ok, _ := re.Substring(ctx, 3, 1); !ok || s != "ab" {
		t.Errorf("Substring from 3 = %q %v", s, ok)
	}
	if s, _ := re.Replace(ctx, "<$1>", 1, 0); s != "x<bb>-<b>-<BBB>" {
		t.Errorf("Replace all = %q", s)
	}
	if s, _ := re.Replace(ctx, "_", 1, 2); s != "xAbb-_-ABBB" {
		t.Errorf("Replace 2nd = %q", s)
	}
	if s, _ := re.Replace(ctx, "_", 6, 0); s != "xAbb-_-_" {
		t.Errorf("Replace from 6 = %q", s)
	}
	if err := re.SetRegexString(ctx, "(?<=a)b", 0); !ErrInvalidRegex.Is(err) {
		t.Errorf("look-behind: %v", err)
	}
	fresh := CreateRegex(0)
	if _, err := fresh.Matches(ctx, 0, 0); !ErrRegexNotYetSet.Is(err) {
		t.Errorf("unset: %v", err)
	}
}
