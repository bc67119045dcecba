package report

import (
	"fmt"
	"html"
	"strings"
)

// AgeBucket is one bar of the key-age histogram.
type AgeBucket struct {
	Label            string // e.g. "91–180 days"
	MinDays, MaxDays int    // inclusive; MaxDays < 0 means no upper bound
	Active, Inactive int
}

// ageBounds are the histogram's buckets: a month, the 90-day rotation
// limit, half a year, a year, and beyond.
var ageBounds = []struct{ min, max int }{{0, 30}, {31, 90}, {91, 180}, {181, 365}, {366, -1}}

// AgeHistogram counts the inventory's keys by age, split by status.
func (r *Report) AgeHistogram() []AgeBucket {
	out := make([]AgeBucket, len(ageBounds))
	for i, b := range ageBounds {
		out[i] = AgeBucket{MinDays: b.min, MaxDays: b.max}
		if b.max < 0 {
			out[i].Label = fmt.Sprintf("> %d days", b.min-1)
		} else {
			out[i].Label = fmt.Sprintf("%d–%d days", b.min, b.max)
		}
	}
	for _, k := range r.Keys {
		age := k.AgeDays(r.GeneratedAt)
		for i, b := range ageBounds {
			if age >= b.min && (b.max < 0 || age <= b.max) {
				if k.Active() {
					out[i].Active++
				} else {
					out[i].Inactive++
				}
				break
			}
		}
	}
	return out
}

// Chart colours, shared with the page's legend.
const (
	colourActive   = "#1d4ed8"
	colourInactive = "#94a3b8"
)

// ageChartSVG draws the histogram as stacked bars (active below, inactive
// on top) with the count of each part, a y axis and a legend. It is
// inline SVG: the page needs no script and fetches nothing.
func ageChartSVG(buckets []AgeBucket) string {
	const (
		width, height         = 760, 320
		left, right           = 56, 16
		top, bottom           = 40, 52
		plotW, plotH          = width - left - right, height - top - bottom
		barGap                = 0.35 // fraction of a slot left empty
		labelMinPx    float64 = 14   // parts thinner than this get no inner label
	)
	maxTotal := 0
	for _, b := range buckets {
		maxTotal = max(maxTotal, b.Active+b.Inactive)
	}
	step := niceStep(maxTotal)
	yMax := step * max(1, (maxTotal+step-1)/step)
	y := func(v int) float64 { return top + plotH - float64(v)/float64(yMax)*plotH }

	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="age-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="age-chart-title age-chart-desc">`, width, height, width, height)
	s.WriteString(`<title id="age-chart-title">Access keys by age</title>`)
	var desc []string
	for _, b := range buckets {
		desc = append(desc, fmt.Sprintf("%s: %d active, %d inactive", b.Label, b.Active, b.Inactive))
	}
	fmt.Fprintf(&s, `<desc id="age-chart-desc">%s</desc>`, html.EscapeString(strings.Join(desc, "; ")))
	s.WriteString(`<g font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif" font-size="12" fill="#334155">`)
	// Legend.
	fmt.Fprintf(&s, `<rect x="%d" y="10" width="12" height="12" rx="2" fill="%s"/><text x="%d" y="20">Active</text>`, left, colourActive, left+18)
	fmt.Fprintf(&s, `<rect x="%d" y="10" width="12" height="12" rx="2" fill="%s"/><text x="%d" y="20">Inactive</text>`, left+80, colourInactive, left+98)
	// Grid and y axis.
	for v := 0; v <= yMax; v += step {
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, left, width-right, y(v), y(v), map[bool]string{true: "#94a3b8", false: "#e2e8f0"}[v == 0])
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%d</text>`, left-8, y(v), v)
	}
	fmt.Fprintf(&s, `<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">keys</text>`, top+plotH/2)
	// Bars.
	slot := float64(plotW) / float64(len(buckets))
	barW := slot * (1 - barGap)
	for i, b := range buckets {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		cx := x + barW/2
		part := func(class, colour string, from, n int) {
			if n == 0 {
				return
			}
			y0, y1 := y(from+n), y(from)
			fmt.Fprintf(&s, `<rect class="bar %s" data-bucket="%s" data-count="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d %s</title></rect>`,
				class, html.EscapeString(b.Label), n, x, y0, barW, y1-y0, colour, html.EscapeString(b.Label), n, class)
			if y1-y0 >= labelMinPx {
				fill := "#ffffff"
				if class == "inactive" {
					fill = "#0f172a"
				}
				fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="middle" fill="%s" font-weight="600">%d</text>`, cx, (y0+y1)/2, fill, n)
			}
		}
		part("active", colourActive, 0, b.Active)
		part("inactive", colourInactive, b.Active, b.Inactive)
		total := b.Active + b.Inactive
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="700" fill="#0f172a">%d</text>`, cx, y(total)-6, total)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, cx, top+plotH+20, html.EscapeString(b.Label))
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">age (days since the key was created)</text>`, left+plotW/2, height-8)
	s.WriteString(`</g></svg>`)
	return s.String()
}

// niceStep picks a grid step of 1, 2 or 5 times a power of ten giving at
// most five grid lines up to n.
func niceStep(n int) int {
	if n <= 5 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if n <= 5*m*p {
				return m * p
			}
		}
	}
}
