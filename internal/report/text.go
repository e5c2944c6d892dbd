package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/broom-dev/broom/internal/plan"
)

// Text writes the report as a plain table for a terminal, as wide as its
// longest row.
func Text(w io.Writer, r Report) error { return TextWidth(w, r, 0) }

// minWrapWidth is the narrowest a wrapped column of the table gets: a
// terminal too narrow for that gets a list instead (textList).
const minWrapWidth = 20

// TextWidth writes the report for a terminal of width columns: a plain
// table whose Details column (and Result, after apply) wraps so that it
// fits, or, on a terminal too narrow for that, a list of the actions
// wrapped to the width. Width 0 or less means no limit: Text.
//
// The report goes to the workflow log as it is, so resource data in it
// passes through Clean, and every line starts with text of broom's own (the
// heading, a table border, "note:", an action's op) or is indented data
// that cannot start with "::". The heading, naming the accounts and
// counting the regions, is there when either is known.
func TextWidth(w io.Writer, r Report, width int) error {
	if len(r.Accounts) > 0 || r.Regions > 0 {
		if _, err := fmt.Fprintf(w, "%s · %s%s%s\n", title(r.Plan), Clean(r.Plan.ID), accountsPhrase(r.Accounts, Clean), regionsPhrase(r.Regions)); err != nil {
			return err
		}
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", Clean(n)); err != nil {
			return err
		}
	}
	if len(r.Plan.Actions) > 0 {
		if err := textTable(w, r.Plan, width); err != nil {
			return err
		}
	}
	for _, a := range r.Protected {
		if _, err := fmt.Fprintf(w, "left alone: %s %s in %s (rule %s): %s\n",
			Clean(a.Kind), Clean(a.ID), Clean(a.Region), Clean(a.Rule), Clean(oneLine(a.Reason))); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, summary(r))
	return err
}

// textTable renders the actions, one row each. The Region column names the
// account too when the plan spans accounts. With a width, the Details and
// Result columns wrap to fit it; a terminal too narrow for that gets
// textList instead.
func textTable(w io.Writer, p plan.Plan, width int) error {
	header := []string{"ACTION", "RESOURCE", "ID", "REGION", "DETAILS", "RULE"}
	flexible := []int{4} // the columns that wrap
	applied := p.Applied()
	if applied {
		header = append(header, "RESULT")
		flexible = append(flexible, 6)
	}
	multi := manyAccounts(p.Actions)
	rows := make([][]string, 0, len(p.Actions))
	for _, a := range p.Actions {
		row := []string{a.Op.String(), Clean(a.Kind), Clean(a.ID), Clean(where(a, multi)), Clean(oneLine(details(a))), Clean(a.Rule)}
		if applied {
			row = append(row, Clean(oneLine(result(a))))
		}
		rows = append(rows, row)
	}
	if width > 0 && !fitWidth(header, rows, flexible, width) {
		return textList(w, p, width)
	}
	return writeTable(w, header, rows)
}

// where is an action's region, after its account when the plan spans
// accounts (multi; as in the markdown table).
func where(a plan.Action, multi bool) string {
	if multi {
		return a.Account + " " + a.Region
	}
	return a.Region
}

// textList renders the actions for a terminal too narrow for the table:
// a line naming each action, then its details and result, indented.
//
//	delete ebs-snapshot snap-0abc (us-east-1, rule old-ci-snapshots)
//	    created: 2025-10-21, size: 8 GiB, 400 days old > 30d
func textList(w io.Writer, p plan.Plan, width int) error {
	const indent = "    "
	inner := max(width-len(indent), minWrapWidth)
	var b strings.Builder
	// block writes s wrapped, the first line after first, the others
	// indented. The runner ignores the indent: a line wrapped to start
	// with "::" is defused.
	block := func(s, first string) {
		prefix := first
		for _, line := range strings.Split(wrapCell(s, inner), "\n") {
			b.WriteString(prefix + defuseLineStart(line) + "\n")
			prefix = indent
		}
	}
	multi, applied := manyAccounts(p.Actions), p.Applied()
	for _, a := range p.Actions {
		block(fmt.Sprintf("%s %s %s (%s, rule %s)", a.Op, Clean(a.Kind), Clean(a.ID), Clean(where(a, multi)), Clean(a.Rule)), "")
		if d := Clean(oneLine(details(a))); d != "" {
			block(d, indent)
		}
		if applied {
			block("result: "+Clean(oneLine(result(a))), indent)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fitWidth wraps the cells of the flexible columns so that the table, with
// its borders and padding, is at most width wide: the other columns keep
// their width, and the flexible ones share what is left, each down to
// minWrapWidth. It reports false, changing nothing, if the table cannot fit.
func fitWidth(header []string, rows [][]string, flexible []int, width int) bool {
	natural := make([]int, len(header))
	for i, h := range header {
		natural[i] = cols(h)
	}
	for _, row := range rows {
		for i, c := range row {
			natural[i] = max(natural[i], cols(c))
		}
	}
	// Each column has a space either side and a border on its left; the
	// table has one more border on the right.
	avail := width - 3*len(header) - 1
	var want []int
	floor := 0
	for i, n := range natural {
		if slices.Contains(flexible, i) {
			want = append(want, n)
			floor += min(n, minWrapWidth)
		} else {
			avail -= n
		}
	}
	if avail < floor {
		return false
	}
	widths := shareWidth(want, avail)
	for j, col := range flexible {
		if widths[j] >= natural[col] {
			continue
		}
		for _, row := range rows {
			row[col] = wrapCell(row[col], widths[j])
		}
	}
	return true
}

// shareWidth divides avail among columns that want some width each: a column
// that wants less than an equal share gets what it wants, the others split
// the rest; none gets less than minWrapWidth (or what it wants, if less).
func shareWidth(want []int, avail int) []int {
	got := make([]int, len(want))
	order := make([]int, len(want))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return want[a] - want[b] })
	for k, i := range order {
		fair := avail / (len(order) - k)
		got[i] = max(min(want[i], fair), min(want[i], minWrapWidth))
		avail -= got[i]
	}
	return got
}

// wrapCell breaks s into lines of at most width display columns, at spaces
// where it can and inside a word longer than a line.
func wrapCell(s string, width int) string {
	width = max(width, 1)
	var lines []string
	line, lineWidth := "", 0
	flush := func() {
		lines = append(lines, line)
		line, lineWidth = "", 0
	}
	for _, word := range strings.Fields(s) {
		ww := cols(word)
		if lineWidth > 0 && lineWidth+1+ww <= width {
			line += " " + word
			lineWidth += 1 + ww
			continue
		}
		if lineWidth > 0 {
			flush()
		}
		for ww > width { // a word longer than a line: break it
			var head strings.Builder
			hw := 0
			for _, r := range word {
				rw := cols(string(r))
				if hw+rw > width && hw > 0 {
					break
				}
				head.WriteRune(r)
				hw += rw
			}
			lines = append(lines, head.String())
			word = word[head.Len():]
			ww = cols(word)
		}
		line, lineWidth = word, ww
	}
	if lineWidth > 0 || len(lines) == 0 {
		flush()
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// JSON writes the plan file of SPEC §5.
func JSON(w io.Writer, p plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
