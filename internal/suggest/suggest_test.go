package suggest

import "testing"

func TestClosest(t *testing.T) {
	tables := []string{"access_keys", "users", "account_summary", "methods", "created_access_keys"}
	for _, tc := range []struct {
		name, want string
	}{
		{"acess_keys", "access_keys"},
		{"ACCESS_KEY", "access_keys"},
		{"usres", "users"},    // a transposition is one edit
		{"user", "users"},     // short names allow one edit
		{"methds", "methods"}, // two edits in a longer name
		{"groups", ""},        // nothing near
		{"access_keys", ""},   // the name itself is no suggestion
		{"keys", ""},
	} {
		got, ok := Closest(tc.name, tables)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}} {
		if got := distance(tc.a, tc.b); got != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
