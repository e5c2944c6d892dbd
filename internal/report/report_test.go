package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"pipe cannot end a cell":         {"a|b", `a\|b`},
		"newline cannot end a row":       {"a\nb\r\nc\rd", "a b c d"},
		"backtick cannot open code":      {"a`b", "a&#96;b"},
		"html is shown, not rendered":    {`<img src=x onerror=alert(1)>`, "&lt;img src=x onerror=alert(1)&gt;"},
		"entities are not decoded":       {"&lt;", "&amp;lt;"},
		"links are not made":             {"[x](y)", `\[x\](y)`},
		"a link to a url is code":        {"[x](https://evil)", "`[x](https://evil)`"},
		"emphasis is not made":           {"*a* _b_ ~c~", `\*a\* \_b\_ \~c\~`},
		"mentions do not ping":           {"@org/team", "`@org/team`"},
		"an email is not linked":         {"owner: a@b.example", "owner: `a@b.example`"},
		"issues are not referenced":      {"see #1, acme/infra#2 and GH-3", "see `#1,` `acme/infra#2` and `GH-3`"},
		"commits are not referenced":     {"acme/infra@abc1234", "`acme/infra@abc1234`"},
		"urls are not linked":            {"https://evil.example/x or WWW.x.y", "`https://evil.example/x` or `WWW.x.y`"},
		"only the word is code":          {"a <b> @c <d>", "a &lt;b&gt; `@c` &lt;d&gt;"},
		"code cannot be closed early":    {"@a`b|c", "`@a'b\\|c`"},
		"a backslash cannot undo escape": {`\|`, `\\\|`},
		"controls are shown":             {"a\x1b[31m\u202eb\u0085\x00", `a\\x1b\[31m\\u202eb\\u0085\\x00`},
		"a tab is a space":               {"a\tb", "a b"},
		"plain text is unchanged":        {"Environment=ci 8 GiB", "Environment=ci 8 GiB"},
		"a hash alone is code":           {"C# build", "`C#` build"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// A hostile tag value must not add a column, a row or markup to the table.
func TestTableRowsStayIntact(t *testing.T) {
	t.Parallel()
	a := action("snap-1")
	a.Name = "x | y\n| injected | row |"
	a.Details = map[string]string{"note": "<b>`bold`</b> | @team"}
	out := Markdown(Report{Plan: plan.New("t", fixed, []plan.Action{a})})
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 3 { // header, separator, one row
		t.Fatalf("table has %d lines, want 3:\n%s", len(rows), out)
	}
	if n := strings.Count(strings.ReplaceAll(rows[2], `\|`, ""), "|"); n != 7 {
		t.Errorf("row has %d unescaped pipes, want 7 (6 cells):\n%s", n, rows[2])
	}
	for _, bad := range []string{"<b>", "bold`", "@team"} {
		if strings.Contains(prose(t, out), bad) {
			t.Errorf("output contains %q outside code:\n%s", bad, out)
		}
	}
}

var fixed = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func action(id string) plan.Action {
	return plan.Action{Op: plan.Delete, Kind: "ebs-snapshot", Account: "123456789012", Region: "us-east-1", ID: id,
		Rule: "old-ci-snapshots", Reason: "400 days old > 30d; tags Environment=ci",
		Details: map[string]string{"size": "8 GiB", "created": "2025-10-21"}, MonthlyCostUSD: 0.4}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	applied := plan.New("prod", fixed, []plan.Action{action("snap-a"), action("snap-b"), action("snap-c")})
	applied.Actions[0].Status = plan.Done
	applied.Actions[1].Status, applied.Actions[1].Error = plan.Failed, "UnauthorizedOperation: not allowed"
	applied.Actions[2].Status = plan.AlreadyDone
	protected := action("snap-keep")
	protected.Reason = "protected: tag broom:keep=true"
	marker := "<!-- broom:plan id=prod fingerprint=" + applied.Fingerprint + " head=abc123 -->"

	tests := map[string]Report{
		"plan": {Plan: plan.New("prod", fixed, []plan.Action{action("snap-b"), action("snap-a")}),
			Marker: marker, Protected: []plan.Action{protected}, ApproveLabel: "broom:approved"},
		"empty":   {Plan: plan.New("prod", fixed, nil), Marker: marker, ApproveLabel: "broom:approved"},
		"applied": {Plan: applied, Marker: marker, ApproveLabel: "broom:approved", Notes: []string{"Approved by alice."}, RunURL: "https://github.com/acme/infra/actions/runs/42"},
		"account": {Plan: plan.New("nightly", fixed, []plan.Action{action("snap-a")}), Marker: marker, ApproveLabel: "broom:approved",
			Accounts: []Account{{ID: "123456789012", Alias: "acme-prod"}}, Regions: 1},
		"accounts": {Plan: applied, Marker: marker, ApproveLabel: "broom:approved", Notes: []string{"Approved by alice."},
			Accounts: []Account{{ID: "111111111111", Alias: "a"}, {ID: "222222222222"}}, Regions: 17},
	}
	for name, rep := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden(t, name+".golden.md", Markdown(rep))
			var buf bytes.Buffer
			if err := Text(&buf, rep); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.txt", buf.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// The heading names the accounts a plan acts on, in every report.
func TestHeadingNamesAccounts(t *testing.T) {
	t.Parallel()
	var twelve []Account
	for i := range 12 {
		twelve = append(twelve, Account{ID: fmt.Sprintf("%012d", i+1)})
	}
	twelve[0].Alias = "first"
	tests := map[string]struct {
		accounts []Account
		md, text string // "" text: no heading line, as before accounts
	}{
		"none known": {nil, "### broom plan · `nightly`", ""},
		"one":        {[]Account{{ID: "123456789012"}}, "### broom plan · `nightly` · account 123456789012", "broom plan · nightly · account 123456789012"},
		"one with an alias": {[]Account{{ID: "123456789012", Alias: "acme-prod"}},
			"### broom plan · `nightly` · account 123456789012 (acme-prod)", "broom plan · nightly · account 123456789012 (acme-prod)"},
		"two, one with an alias": {[]Account{{ID: "111111111111", Alias: "a"}, {ID: "222222222222"}},
			"### broom plan · `nightly` · 2 accounts: 111111111111 (a), 222222222222", "broom plan · nightly · 2 accounts: 111111111111 (a), 222222222222"},
		"two with aliases": {[]Account{{ID: "111111111111", Alias: "a"}, {ID: "222222222222", Alias: "b"}},
			"### broom plan · `nightly` · 2 accounts: 111111111111 (a), 222222222222 (b)", "broom plan · nightly · 2 accounts: 111111111111 (a), 222222222222 (b)"},
		"two without aliases": {[]Account{{ID: "111111111111"}, {ID: "222222222222"}},
			"### broom plan · `nightly` · 2 accounts: 111111111111, 222222222222", "broom plan · nightly · 2 accounts: 111111111111, 222222222222"},
		"many: the first ten and a count": {twelve,
			"### broom plan · `nightly` · 12 accounts: 000000000001 (first), 000000000002, 000000000003, 000000000004, 000000000005, 000000000006, 000000000007, 000000000008, 000000000009, 000000000010 and 2 more",
			"broom plan · nightly · 12 accounts: 000000000001 (first), 000000000002, 000000000003, 000000000004, 000000000005, 000000000006, 000000000007, 000000000008, 000000000009, 000000000010 and 2 more"},
		"an alias is data": {[]Account{{ID: "123456789012", Alias: "x\n::error ::y @octocat <b>"}},
			"### broom plan · `nightly` · account 123456789012 (x ::error ::y `@octocat` &lt;b&gt;)",
			`broom plan · nightly · account 123456789012 (x\n::error ::y @octocat <b>)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := Report{Plan: plan.New("nightly", fixed, []plan.Action{action("snap-a")}), Accounts: tc.accounts}
			if got, _, _ := strings.Cut(Markdown(r), "\n"); got != tc.md {
				t.Errorf("markdown heading:\n got %s\nwant %s", got, tc.md)
			}
			var buf bytes.Buffer
			if err := Text(&buf, r); err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(buf.String(), "\n")
			if tc.text == "" && !strings.HasPrefix(first, "┌") {
				t.Errorf("text report starts with %q, want the table", first)
			}
			if tc.text != "" && first != tc.text {
				t.Errorf("text heading:\n got %s\nwant %s", first, tc.text)
			}
		})
	}
}

func TestReplaceNotes(t *testing.T) {
	t.Parallel()
	body := Markdown(Report{Plan: plan.New("p", fixed, []plan.Action{action("snap-a")}), Marker: "<!-- m -->", Notes: []string{"old note"}})
	got := ReplaceNotes(body, []string{"Approval refused"})
	if strings.Contains(got, "old note") || !strings.Contains(got, "> Approval refused") {
		t.Fatalf("notes not replaced:\n%s", got)
	}
	if again := ReplaceNotes(got, []string{"Approval refused"}); again != got {
		t.Errorf("replacing with the same notes changed the body:\n%s", cmp.Diff(got, again))
	}
	if !strings.Contains(got, "snap-a") {
		t.Errorf("the plan was lost:\n%s", got)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	p := plan.New("p", fixed, []plan.Action{action("a"), action("b")})
	if got, want := Summary(p), "Plan: 2 to delete · saves ≈ $0.80/month · fingerprint "+p.Fingerprint[:12]; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestAccountShownWhenPlanSpansAccounts(t *testing.T) {
	t.Parallel()
	a, b := action("snap-a"), action("snap-b")
	b.Account = "111111111111"
	one := Markdown(Report{Plan: plan.New("p", fixed, []plan.Action{a})})
	two := Markdown(Report{Plan: plan.New("p", fixed, []plan.Action{a, b})})
	if strings.Contains(one, "123456789012") {
		t.Errorf("a single-account plan names its account in every row:\n%s", one)
	}
	if !strings.Contains(two, "| 111111111111 us-east-1 |") || !strings.Contains(two, "| 123456789012 us-east-1 |") {
		t.Errorf("a plan over two accounts does not name them:\n%s", two)
	}
}

// The heading counts the regions the plan looked in, where known, so that
// a reader knows where broom looked; a report without accounts gets a text
// heading for the count alone.
func TestHeadingCountsRegions(t *testing.T) {
	t.Parallel()
	one := []Account{{ID: "123456789012"}}
	tests := map[string]struct {
		accounts []Account
		regions  int
		md, text string // "" text: no heading line
	}{
		"not known":          {one, 0, "### broom plan · `nightly` · account 123456789012", "broom plan · nightly · account 123456789012"},
		"one":                {one, 1, "### broom plan · `nightly` · account 123456789012 · 1 region", "broom plan · nightly · account 123456789012 · 1 region"},
		"every enabled":      {one, 17, "### broom plan · `nightly` · account 123456789012 · 17 regions", "broom plan · nightly · account 123456789012 · 17 regions"},
		"no account known":   {nil, 2, "### broom plan · `nightly` · 2 regions", "broom plan · nightly · 2 regions"},
		"neither known":      {nil, 0, "### broom plan · `nightly`", ""},
		"a count below zero": {nil, -1, "### broom plan · `nightly`", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := Report{Plan: plan.New("nightly", fixed, []plan.Action{action("snap-a")}), Accounts: tc.accounts, Regions: tc.regions}
			if got, _, _ := strings.Cut(Markdown(r), "\n"); got != tc.md {
				t.Errorf("markdown heading:\n got %s\nwant %s", got, tc.md)
			}
			var buf bytes.Buffer
			if err := Text(&buf, r); err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(buf.String(), "\n")
			if tc.text == "" && !strings.HasPrefix(first, "┌") {
				t.Errorf("text report starts with %q, want the table", first)
			}
			if tc.text != "" && first != tc.text {
				t.Errorf("text heading:\n got %s\nwant %s", first, tc.text)
			}
		})
	}
}

// A headline replaces the plan's summary line in markdown and text: the
// gate job has no rows to count and must not say "nothing to do".
func TestHeadlineReplacesTheSummaryLine(t *testing.T) {
	t.Parallel()
	r := Report{Plan: plan.New("prod", time.Now(), nil), Headline: "Approved: 3 actions in 2 shards · fingerprint abc"}
	var text strings.Builder
	if err := Text(&text, r); err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"markdown": Markdown(r), "text": text.String()} {
		if !strings.Contains(out, "Approved: 3 actions in 2 shards") || strings.Contains(out, "nothing to do") {
			t.Errorf("%s: want the headline instead of the plan's summary:\n%s", what, out)
		}
	}
}
