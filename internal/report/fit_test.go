package report

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
)

// bigPlan is a plan of n actions over several rules, kinds, regions and ops,
// with costs that repeat (to exercise ties) and, in the first action, the
// most expensive, hostile text.
func bigPlan(n int) plan.Plan {
	kinds := []string{"ebs-snapshot", "ebs-volume", "ami", "elastic-ip"}
	rules := []string{"old-ci-snapshots", "unattached-volumes", "stale-amis"}
	acts := make([]plan.Action, n)
	for i := range acts {
		a := plan.Action{Op: plan.Delete, Kind: kinds[i%len(kinds)], Account: "123456789012",
			Region: []string{"us-east-1", "eu-west-1"}[i%2], ID: fmt.Sprintf("res-%08x", i*2654435761%(1<<32)),
			Rule: rules[i%len(rules)], Reason: fmt.Sprintf("%d days old > 30d", 31+i%400),
			Details:        map[string]string{"size": fmt.Sprintf("%d GiB", 8+i%500), "created": "2025-10-21"},
			MonthlyCostUSD: float64(i*7919%2000) / 100}
		if i%7 == 3 {
			a.Op, a.MonthlyCostUSD = plan.Tag, 0
			a.Change = map[string]string{"broom:expires": "2026-12-25"}
		}
		if i%11 == 0 {
			a.Name = "büild-cache 🧹"
		}
		acts[i] = a
	}
	if n > 0 {
		acts[0].Name = "x | y\n| injected | row |"
		acts[0].Details["note"] = "<b>`bold`</b> | @team [link](https://evil) \\|"
		acts[0].MonthlyCostUSD = 1000
	}
	return plan.New("prod", fixed, acts)
}

func bigReport(n, limit int) Report {
	p := bigPlan(n)
	var protected []plan.Action
	for i := range 40 {
		a := action(fmt.Sprintf("snap-keep-%02d", i))
		a.Reason = "protected: tag broom:keep=true"
		protected = append(protected, a)
	}
	return Report{Plan: p, Marker: "<!-- broom:plan id=prod fingerprint=" + p.Fingerprint + " head=abc123 -->",
		Protected: protected, Notes: []string{"Plan changed since the last run."}, ApproveLabel: "broom:approved", Limit: limit}
}

// tables splits a markdown body into its tables, each a list of lines.
func tables(body string) [][]string {
	var out [][]string
	in := false
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "|") && in:
			out[len(out)-1] = append(out[len(out)-1], l)
		case strings.HasPrefix(l, "|"):
			out, in = append(out, []string{l}), true
		default:
			in = false
		}
	}
	return out
}

// pipes counts the pipes that end cells, as GitHub's table parser does
// (cmark-gfm's table_cell): a backslash and the punctuation after it are
// text, so `\|` is a pipe in the cell, and in `\\|` the pipe ends it.
func pipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`!"#$%&'()*+,./:;<=>?@[\]^_`+"`"+`{|}~-`, line[i+1]) >= 0:
			i++
		case line[i] == '|':
			n++
		}
	}
	return n
}

var (
	omittedRE = regexp.MustCompile(`(?m)^(\d+) more rows not shown: the full plan is in the job summary and the plan-file output\.$`)
	idRE      = regexp.MustCompile("^\\| [a-z]+ \\| [^|]+ \\| `([^`]*)`")
)

// shownIDs returns the IDs in the action table, which is the last table.
func shownIDs(t *testing.T, body string) []string {
	t.Helper()
	ts := tables(body)
	if len(ts) == 0 || !strings.HasPrefix(ts[len(ts)-1][0], "| Action |") {
		return nil
	}
	var ids []string
	for _, row := range ts[len(ts)-1][2:] {
		m := idRE.FindStringSubmatch(row)
		if m == nil {
			t.Fatalf("row without an ID: %s", row)
		}
		ids = append(ids, m[1])
	}
	return ids
}

func omitted(t *testing.T, body string) int {
	t.Helper()
	m := omittedRE.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The property every report must have, whatever its size and limit.
func TestMarkdownFitsLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 100, 20000} {
		for _, limit := range []int{2000, 5000, 20000, CommentLimit, SummaryLimit} {
			for _, applied := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d actions in %d bytes, applied %v", n, limit, applied), func(t *testing.T) {
					t.Parallel()
					r := bigReport(n, limit)
					for i := range 12 { // the heading names ten and counts two
						r.Accounts = append(r.Accounts, Account{ID: fmt.Sprintf("%012d", i), Alias: "acme-production-" + strconv.Itoa(i)})
					}
					if applied {
						for i := range r.Plan.Actions {
							r.Plan.Actions[i].Status, r.Plan.Actions[i].Error = plan.Failed, "UnauthorizedOperation: | <b>no</b>"
						}
					}
					body := Markdown(r)
					if len(body) > limit {
						t.Fatalf("body is %d bytes, limit %d", len(body), limit)
					}
					if !strings.HasPrefix(body, r.Marker+"\n") {
						t.Errorf("body does not start with the marker:\n%.300s", body)
					}
					for _, tb := range tables(body) {
						if len(tb) < 2 || !strings.HasPrefix(tb[1], "|:--") {
							t.Errorf("table without header and alignment row:\n%s", strings.Join(tb, "\n"))
						}
						for _, row := range tb {
							if pipes(row) != pipes(tb[0]) {
								t.Errorf("row has %d cell pipes, header %d:\n%s", pipes(row), pipes(tb[0]), row)
							}
						}
					}
					if n < 20000 && limit >= 5000 { // head and counts fit: nothing lost unaccounted
						if got := len(shownIDs(t, body)) + omitted(t, body); got != n {
							t.Errorf("%d rows shown + %d omitted = %d, want %d", len(shownIDs(t, body)), omitted(t, body), got, n)
						}
					}
					for _, bad := range []string{"<b>", "bold`", "@team", "[link]", "\n| injected"} {
						if strings.Contains(prose(t, body), bad) {
							t.Errorf("body contains %q outside code", bad)
						}
					}
				})
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	t.Parallel()
	r := bigReport(3000, 20000)
	body := Markdown(r)
	golden(t, "truncated.golden.md", body)
	if len(body) > r.Limit {
		t.Fatalf("body is %d bytes, limit %d", len(body), r.Limit)
	}

	ids := shownIDs(t, body)
	if len(ids) == 0 {
		t.Fatalf("no rows shown:\n%s", body)
	}
	if got, want := omitted(t, body), len(r.Plan.Actions)-len(ids); got != want {
		t.Errorf("says %d rows not shown, want %d", got, want)
	}
	cost := map[string]float64{}
	for _, a := range r.Plan.Actions {
		cost[a.ID] = a.MonthlyCostUSD
	}
	shown := map[string]bool{}
	for i, id := range ids {
		shown[id] = true
		if i > 0 && cost[id] > cost[ids[i-1]] {
			t.Errorf("row %d (%s, $%.2f) costs more than the row before it ($%.2f)", i, id, cost[id], cost[ids[i-1]])
		}
	}
	least := cost[ids[len(ids)-1]]
	for _, a := range r.Plan.Actions {
		if !shown[a.ID] && a.MonthlyCostUSD > least {
			t.Errorf("%s ($%.2f) left out but %s ($%.2f) shown", a.ID, a.MonthlyCostUSD, ids[len(ids)-1], least)
			break
		}
	}

	if diff := cmp.Diff(wantCounts(r.Plan), countsIn(t, body)); diff != "" {
		t.Errorf("count table (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "40 matched but left alone (protected or in use): the list is in the job summary.") {
		t.Errorf("protected count missing:\n%s", body)
	}
}

func wantCounts(p plan.Plan) map[string]int {
	m := map[string]int{}
	for _, a := range p.Actions {
		m[a.Rule+"/"+a.Kind+"/"+a.Op.String()]++
	}
	return m
}

// countsIn reads the count table, the first table of a shortened report.
func countsIn(t *testing.T, body string) map[string]int {
	t.Helper()
	ts := tables(body)
	if len(ts) == 0 || !strings.HasPrefix(ts[0][0], "| Rule |") {
		t.Fatalf("no count table:\n%s", body)
	}
	m := map[string]int{}
	for _, row := range ts[0][2:] {
		c := strings.Split(strings.Trim(row, "| "), " | ")
		n, err := strconv.Atoi(c[3])
		if err != nil {
			t.Fatalf("count %q: %v", c[3], err)
		}
		m[c[0]+"/"+c[1]+"/"+c[2]] += n
	}
	return m
}

// A report that fits is the same with and without a limit: no count table,
// rows in plan order.
func TestFittingReportUnchanged(t *testing.T) {
	t.Parallel()
	r := bigReport(100, 0)
	full := Markdown(r)
	r.Limit = CommentLimit
	if got := Markdown(r); got != full {
		t.Errorf("a report that fits changed under a limit:\n%s", cmp.Diff(full, got))
	}
	if strings.Contains(full, "Actions by rule") || strings.Contains(full, "not shown") {
		t.Errorf("a report that fits is shortened:\n%s", full)
	}
}

// The job summary points only to the plan file: it is the job summary.
func TestTruncatedSummary(t *testing.T) {
	t.Parallel()
	r := bigReport(20000, SummaryLimit)
	r.Marker = ""
	body := Markdown(r)
	if len(body) > SummaryLimit {
		t.Fatalf("body is %d bytes, limit %d", len(body), SummaryLimit)
	}
	if len(body) < SummaryLimit*99/100 {
		t.Errorf("body is %d bytes: it wastes more than 1%% of the limit %d", len(body), SummaryLimit)
	}
	want := fmt.Sprintf("%d more rows not shown: the full plan is in the plan-file output.", 20000-len(shownIDs(t, body)))
	if !strings.Contains(body, want) || !strings.Contains(body, "the list is in the workflow log") {
		t.Errorf("body lacks %q or the protected count:\n%s", want, body[len(body)-2000:])
	}
}

// A comment rendered near the limit keeps room for a note added later.
func TestReplaceNotesKeepsLimit(t *testing.T) {
	t.Parallel()
	body := Markdown(bigReport(20000, CommentLimit))
	short := ReplaceNotes(body, []string{"Approval refused: alice cannot approve."})
	if len(short) > CommentLimit || !strings.Contains(short, "> Approval refused: alice cannot approve.\n") {
		t.Errorf("short note: %d bytes, note kept whole: %v", len(short), strings.Contains(short, "alice cannot approve."))
	}
	long := ReplaceNotes(body, []string{"Approval refused: " + strings.Repeat("é", 5000), "dropped"})
	if len(long) > CommentLimit {
		t.Errorf("long note: %d bytes, limit %d", len(long), CommentLimit)
	}
	if !strings.Contains(long, "> Approval refused: éé") || !strings.Contains(long, "…\n\n"+notesEnd) || strings.Contains(long, "dropped") {
		t.Errorf("long note not cut short at the limit:\n%.2000s", long)
	}
	if !strings.HasSuffix(long, body[strings.Index(body, notesEnd)+len(notesEnd)+1:]) {
		t.Error("the plan changed with the notes")
	}
}

func BenchmarkMarkdown20000(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit int
	}{{"comment", CommentLimit}, {"summary", SummaryLimit}, {"unlimited", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			r := bigReport(20000, bc.limit)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(Markdown(r))
			}
			b.ReportMetric(float64(n), "body-bytes")
		})
	}
}

// BenchmarkText20000 renders the same 20,000 actions as a terminal table:
// fitted to 120 columns (details wrapped), and unlimited.
func BenchmarkText20000(b *testing.B) {
	for _, bc := range []struct {
		name  string
		width int
	}{{"width-120", 120}, {"unlimited", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			r := bigReport(20000, 0)
			b.ReportAllocs()
			for b.Loop() {
				if err := TextWidth(io.Discard, r, bc.width); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
