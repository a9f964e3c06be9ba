package views

import (
	"strconv"
	"strings"
)

// A chart is drawn on the server as SVG: no script, nothing fetched, so
// the CSP stays strict and a printed report has its charts. Each has a
// title and a description for screen readers, its numbers printed on it,
// and the same numbers in a table beside it, so nothing rests on colour.

// Segment is one part of a stacked bar: its count, its legend name, and
// the CSS class that colours it.
type Segment struct {
	N     int
	Name  string
	Class string
}

// Bar is one bar of a chart: its label and its segments.
type Bar struct {
	Label    string
	Segments []Segment
}

// total is the bar's whole count.
func (b Bar) total() int {
	n := 0
	for _, s := range b.Segments {
		n += s.N
	}
	return n
}

// Chart is a stacked bar chart: horizontal bars, one a line.
type Chart struct {
	ID    string // for aria-labelledby
	Title string
	Desc  string
	Bars  []Bar
}

// Geometry of the horizontal bar chart, in SVG user units.
const (
	chartWidth  = 720
	labelWidth  = 190
	barHeight   = 22
	barGap      = 10
	chartTop    = 8
	legendSpace = 34
)

// height is the chart's SVG height.
func (c Chart) height() int {
	return chartTop + len(c.Bars)*(barHeight+barGap) + legendSpace
}

// viewBox is the chart's SVG viewBox.
func (c Chart) viewBox() string {
	return "0 0 " + strconv.Itoa(chartWidth) + " " + strconv.Itoa(c.height())
}

// scale is the widest bar's total, so the widest bar fills the width.
func (c Chart) scale() int {
	m := 1
	for _, b := range c.Bars {
		m = max(m, b.total())
	}
	return m
}

// rect is one drawn segment: where it is and what it shows.
type rect struct {
	X, Y, W, H int
	Class      string
	Label      string // its count, when it fits
	Title      string // "Branch: 12 failing", read on hover and by screen readers
}

// rects lays the bars out.
func (c Chart) rects() []rect {
	var out []rect
	span := chartWidth - labelWidth - 10
	scale := c.scale()
	for i, b := range c.Bars {
		y := chartTop + i*(barHeight+barGap)
		x := labelWidth
		for _, s := range b.Segments {
			if s.N == 0 {
				continue
			}
			w := max(1, s.N*span/scale)
			r := rect{X: x, Y: y, W: w, H: barHeight, Class: s.Class, Title: b.Label + ": " + strconv.Itoa(s.N) + " " + s.Name}
			if w >= 8*len(strconv.Itoa(s.N))+6 {
				r.Label = strconv.Itoa(s.N)
			}
			out = append(out, r)
			x += w
		}
	}
	return out
}

// labelY is where a bar's label sits.
func labelY(i int) int { return chartTop + i*(barHeight+barGap) + barHeight/2 + 5 }

// legend is the chart's legend: the segment names of its first bar.
func (c Chart) legend() []Segment {
	if len(c.Bars) == 0 {
		return nil
	}
	return c.Bars[0].Segments
}

// legendX places the legend's entries along the bottom.
func legendX(i int) int { return 10 + i*140 }

// legendY is the legend's baseline.
func (c Chart) legendY() int { return c.height() - 12 }

// clipLabel shortens a bar label to what fits left of the bars.
func clipLabel(s string) string {
	const maxLen = 26
	if len([]rune(s)) <= maxLen {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:maxLen-1])) + "…"
}
