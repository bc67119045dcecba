// Package suggest finds what a user probably meant by a name that does not
// exist: "acess_keys" → "access_keys". The tables, columns, procedures and
// functions of SQL errors and the words of the command line use it.
package suggest

import "strings"

// Closest returns the candidate nearest to name by edit distance
// (case-insensitive, an adjacent transposition counting as one edit), if
// it is near enough to be a typo: at most one edit for names of up to
// four letters, two up to eight, a quarter of the length beyond.
func Closest(name string, candidates []string) (string, bool) {
	n := strings.ToLower(name)
	limit := 2
	switch l := len([]rune(n)); {
	case l <= 4:
		limit = 1
	case l > 8:
		limit = l / 4
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == n {
			continue
		}
		if d := distance(n, lc); d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
