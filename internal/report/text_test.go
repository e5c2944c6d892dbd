package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/broom-dev/broom/internal/plan"
)

// textPlan is a plan with long details, a long failure and wide runes.
func textPlan(applied bool) plan.Plan {
	long := action("snap-0123456789abcdef0")
	long.Details["tags"] = "Environment=ci, Owner=platform-team, Project=billing-pipeline, Team=データ基盤"
	long.Name = "nightly-build"
	p := plan.New("prod", fixed, []plan.Action{action("snap-a"), long})
	if applied {
		p.Actions[0].Status = plan.Done
		p.Actions[1].Status = plan.Failed
		p.Actions[1].Error = "delete snapshot snap-0123456789abcdef0: operation error EC2: DeleteSnapshot, https response error StatusCode: 403, UnauthorizedOperation: You are not authorized to perform this operation."
	}
	return p
}

// textReport renders textPlan with TextWidth.
func textReport(t *testing.T, applied bool, width int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := TextWidth(&buf, Report{Plan: textPlan(applied), Notes: []string{"a note"}}, width); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// columnText returns the text of one column of a rendered table, every
// cell's lines in order, without spaces: wrapping must not change it.
func columnText(out string, col int) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "│")
		if len(cells) < col+2 || strings.Contains(line, "ACTION") {
			continue
		}
		b.WriteString(noSpace(cells[col+1]))
	}
	return b.String()
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }

func TestTextWidthFitsTheTerminal(t *testing.T) {
	t.Parallel()
	for _, applied := range []bool{false, true} {
		unlimited := textReport(t, applied, 0)
		for _, width := range []int{200, 140, 120, 100, 80, 60, 40} {
			out := textReport(t, applied, width)
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "note:") || strings.HasPrefix(line, "Plan:") || strings.HasPrefix(line, "Applied:") {
					continue // not the table's to wrap
				}
				if w := twwidth.Width(line); w > width {
					t.Errorf("applied %v, width %d: line is %d wide:\n%s\n\n%s", applied, width, w, line, out)
				}
			}
			if strings.ContainsAny(out, "|`*#") {
				t.Errorf("text output has markdown:\n%s", out)
			}
			if !strings.Contains(out, "┌") { // a list: each action's text in one piece
				for _, id := range []string{"snap-a", "snap-0123456789abcdef0"} {
					if !strings.Contains(noSpace(out), noSpace("delete ebs-snapshot "+id+" (us-east-1, rule old-ci-snapshots)")) {
						t.Errorf("applied %v, width %d: no line for %s:\n%s", applied, width, id, out)
					}
				}
				for _, a := range textPlan(applied).Actions {
					for _, text := range []string{details(a), result(a)} {
						if !strings.Contains(noSpace(out), noSpace(text)) && (applied || text != result(a)) {
							t.Errorf("applied %v, width %d: %q is not in the list:\n%s", applied, width, text, out)
						}
					}
				}
				// The fixed columns take 65 and the borders 19 (22 with
				// Result); the wrapped ones need minWrapWidth each.
				if tableFrom := map[bool]int{false: 65 + 19 + minWrapWidth, true: 65 + 22 + 2*minWrapWidth}[applied]; width >= tableFrom {
					t.Errorf("applied %v, width %d: a list where a table fits:\n%s", applied, width, out)
				}
				continue
			}
			// Wrapping moves words between lines, never drops one.
			for _, col := range []int{4, 6} {
				if diff := cmp.Diff(columnText(unlimited, col), columnText(out, col)); diff != "" {
					t.Errorf("applied %v, width %d: column %d's text (-unlimited +wrapped):\n%s", applied, width, col, diff)
				}
			}
		}
	}
}

func TestTextWidthZeroIsText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := Report{Plan: plan.New("prod", fixed, []plan.Action{action("snap-a")})}
	if err := Text(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{0, -1, 1000} {
		var got bytes.Buffer
		if err := TextWidth(&got, rep, width); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(buf.String(), got.String()); diff != "" {
			t.Errorf("TextWidth(%d) differs from Text (-Text +TextWidth):\n%s", width, diff)
		}
	}
}

func TestTextWidthGolden(t *testing.T) {
	t.Parallel()
	golden(t, "plan-120.golden.txt", textReport(t, false, 120))
	golden(t, "plan-80.golden.txt", textReport(t, false, 80))
	golden(t, "applied-130.golden.txt", textReport(t, true, 130))
	golden(t, "applied-80.golden.txt", textReport(t, true, 80))
}

func TestShareWidth(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		want  []int
		avail int
		got   []int
	}{
		"room for all":                      {want: []int{30, 40}, avail: 100, got: []int{30, 40}},
		"a small column keeps its width":    {want: []int{90, 10}, avail: 60, got: []int{50, 10}},
		"two wide columns split evenly":     {want: []int{90, 80}, avail: 61, got: []int{31, 30}},
		"never below the narrowest wrap":    {want: []int{90, 80}, avail: 10, got: []int{minWrapWidth, minWrapWidth}},
		"a column narrower than the floor":  {want: []int{90, 5}, avail: 10, got: []int{minWrapWidth, 5}},
		"one column takes all that is left": {want: []int{200}, avail: 57, got: []int{57}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.got, shareWidth(tc.want, tc.avail)); diff != "" {
				t.Errorf("shareWidth(%v, %d) (-want +got):\n%s", tc.want, tc.avail, diff)
			}
		})
	}
}

func TestWrapCell(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in    string
		width int
		want  string
	}{
		"fits":                       {in: "a b c", width: 10, want: "a b c"},
		"breaks at spaces":           {in: "size: 8 GiB, created: 2025-10-21", width: 12, want: "size: 8 GiB,\ncreated:\n2025-10-21"},
		"breaks a word too long":     {in: "snap-0123456789abcdef0 x", width: 8, want: "snap-012\n3456789a\nbcdef0 x"},
		"counts wide runes as two":   {in: "データ基盤", width: 4, want: "デー\nタ基\n盤"},
		"empty stays one empty line": {in: "", width: 5, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := wrapCell(tc.in, tc.width)
			if got != tc.want {
				t.Errorf("wrapCell(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
			}
			for _, line := range strings.Split(got, "\n") {
				if twwidth.Width(line) > tc.width {
					t.Errorf("line %q is wider than %d", line, tc.width)
				}
			}
		})
	}
}
