package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
)

// hostile is resource data written to hurt: each string goes into every
// field of a plan (ids, names, tags, reasons, errors, account aliases) and
// into the notes, and each renderer must keep it inert.
var hostile = map[string]string{
	"newline then a workflow command": "x\n::error ::pwned",
	"a workflow command":              "::add-mask::secret",
	"an indented workflow command":    " \u00a0::warning ::pwned",
	"the runner's older commands":     "x ##[error]pwned",
	"carriage return":                 "x\r::error ::pwned",
	"CRLF":                            "x\r\n::error ::pwned",
	"escape sequence":                 "\x1b[31mred\x1b[0m \x1b]0;title\x07",
	"C1 next line":                    "x\u0085::error ::pwned",
	"line separator":                  "x\u2028::error ::pwned\u2029",
	"bidi override":                   "snap-\u202e1fdp.exe\u202c \u2066x\u2069 \u200f",
	"DEL and NUL":                     "a\x7fb\x00c",
	"invalid UTF-8":                   "a\xff\xc2b",
	"pipe":                            "a | b \\| c",
	"backtick":                        "a `b` ``c",
	"html":                            "<img src=x onerror=alert(1)>",
	"issue reference":                 "#1",
	"cross-repo reference":            "acme/infra#2",
	"GH reference":                    "gh-3",
	"commit reference":                "acme/infra@abc1234",
	"mention":                         "@octocat",
	"team mention":                    "hi @acme/admins.",
	"email":                           "a@evil.example",
	"url":                             "https://evil.example/x",
	"www":                             "www.x.y",
	"link":                            "[x](https://evil.example)",
	"everything":                      "x\n::error ::pwned ##[add-mask]x | `@octocat` #1 <b> https://evil.example/x\u202e",
}

// hostileReport has s in every field a resource or AWS fills, over two
// accounts (so rows name theirs), with a protected resource and notes.
func hostileReport(s string, applied bool) Report {
	a := plan.Action{Op: plan.Delete, Kind: s, Account: s, Region: s, ID: s, Name: s, Rule: s, Reason: s,
		Details: map[string]string{s: s, "size": "8 GiB"}, MonthlyCostUSD: 1}
	b := action("snap-" + s)
	b.Name = s
	p := plan.New("prod", fixed, []plan.Action{a, b})
	if applied {
		for i := range p.Actions {
			p.Actions[i].Status, p.Actions[i].Error = plan.Failed, s
		}
	}
	return Report{Plan: p, Protected: []plan.Action{a}, Notes: []string{s, "note: " + s},
		Accounts: []Account{{ID: s, Alias: s}, {ID: "111111111111", Alias: s}}, ApproveLabel: "broom:approved"}
}

// textRenders are every text form of a report: table, wrapped table, list.
func textRenders(t *testing.T, r Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, width := range []int{0, 200, 120, 80, 60, 40, 30, 20} {
		var buf bytes.Buffer
		if err := TextWidth(&buf, r, width); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("width %d", width)] = buf.String()
	}
	return out
}

// checkLog fails if out could do anything in a workflow log but show
// text: a line the runner would read as a command, "##[" anywhere, or a
// control, separator or bidi character.
func checkLog(t *testing.T, what, out string) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") {
			t.Errorf("%s: line %d is a workflow command: %q\n%s", what, i+1, line, out)
		}
	}
	if strings.Contains(out, "##[") {
		t.Errorf("%s: output has \"##[\":\n%s", what, out)
	}
	checkRunes(t, what, out)
}

// checkRunes fails on an unsafe rune (but the line feeds that end lines)
// or invalid UTF-8.
func checkRunes(t *testing.T, what, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not valid UTF-8: %q", what, out)
	}
	for _, r := range out {
		if r != '\n' && forbidden(r) {
			t.Errorf("%s: output has %U: %q", what, r, out)
			return
		}
	}
}

// forbidden is what no report may show as is, written out again here so
// that a mistake in unsafeRune fails the tests.
func forbidden(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 ||
		r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

func TestHostileText(t *testing.T) {
	t.Parallel()
	for name, s := range hostile {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, applied := range []bool{false, true} {
				for width, out := range textRenders(t, hostileReport(s, applied)) {
					checkLog(t, fmt.Sprintf("applied %v, %s", applied, width), out)
				}
			}
		})
	}
}

// A wrapped line of the list form may start with any word of the data:
// the runner trims the indent, so a word "::error" there is a command.
func TestTextListNeverStartsACommand(t *testing.T) {
	t.Parallel()
	a := action("snap-1")
	a.Reason = strings.Repeat("::x ", 10) + "::error ::pwned " + strings.Repeat("::stop-commands::t ", 10)
	a.Details = map[string]string{"tag": strings.Repeat(":", 200)}
	r := Report{Plan: plan.New("p", fixed, []plan.Action{a})}
	r.Plan.Actions[0].Status, r.Plan.Actions[0].Error = plan.Failed, a.Reason
	for width := 1; width <= 140; width++ {
		var buf bytes.Buffer
		if err := TextWidth(&buf, r, width); err != nil {
			t.Fatal(err)
		}
		checkLog(t, fmt.Sprintf("width %d", width), buf.String())
	}
}

// The log shows the data as it is, escaped: an operator can still read it.
func TestTextShowsDataEscaped(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Text(&buf, hostileReport("x\n::error ::pwned\x1b[31m", false)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`broom plan · prod · 2 accounts: x\n::error ::pwned\x1b[31m (`,
		`note: x\n::error ::pwned\x1b[31m`,
		`left alone: x\n::error ::pwned\x1b[31m x\n::error`,
		`│ delete │ x\n::error ::pwned\x1b[31m`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"plain text is unchanged":      {"Environment=ci, 8 GiB", "Environment=ci, 8 GiB"},
		"unicode text is unchanged":    {"データ基盤 büild 🧹 a\u200db", "データ基盤 büild 🧹 a\u200db"},
		"a newline stays on the line":  {"x\n::error ::pwned", `x\n::error ::pwned`},
		"CR and tab":                   {"a\r\n\tb", `a\r\n\tb`},
		"C0 and DEL":                   {"\x00\x1b[31m\x7f", `\x00\x1b[31m\x7f`},
		"C1":                           {"a\u0085b\u009bc", `a\u0085b\u009bc`},
		"separators":                   {"a\u2028b\u2029", `a\u2028b\u2029`},
		"bidi":                         {"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c", `\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		"invalid UTF-8":                {"a\xffb\xe2\x80", `a\xffb\xe2\x80`},
		"a leading command":            {"::add-mask::secret", wordJoiner + "::add-mask::secret"},
		"an indented command":          {" \u00a0\u3000::error ::x", " \u00a0\u3000" + wordJoiner + "::error ::x"},
		"a command after a newline":    {"\n::error ::x", `\n::error ::x`},
		"colons inside are left alone": {"arn:aws:iam::123456789012:role/x ::/0", "arn:aws:iam::123456789012:role/x ::/0"},
		"older commands anywhere":      {"x ##[error]y ###[z", "x ##" + wordJoiner + "[error]y ###" + wordJoiner + "[z"},
		"a hash is not a command":      {"## [x] #[y]", "## [x] #[y]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Clean(tc.in)
			if got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkLog(t, "Clean", got)
		})
	}
}

// checkMarkdown fails if body, a markdown report, lets resource data out:
// a table row with more or fewer cells than its header, a code span left
// open, a control or bidi character, a workflow command, or, outside code
// spans, HTML, a link, a mention or a reference GitHub would act on.
func checkMarkdown(t *testing.T, what, body string) {
	t.Helper()
	for _, tb := range tables(body) {
		for _, row := range tb {
			if pipes(row) != pipes(tb[0]) {
				t.Errorf("%s: row has %d cell pipes, header %d:\n%s\n%s", what, pipes(row), pipes(tb[0]), row, body)
			}
		}
	}
	checkRunes(t, what, body)
	checkLog(t, what, body) // `broom plan --format markdown` prints it
	text := prose(t, body)
	for _, re := range live {
		if m := re.FindString(text); m != "" {
			t.Errorf("%s: %q outside code (%s):\n%s", what, m, re, body)
		}
	}
}

// live matches what GitHub would link, notify or render outside code.
var live = []*regexp.Regexp{
	regexp.MustCompile(`@`),                // mentions, emails, owner/repo@sha
	regexp.MustCompile(`(?:^|[^&])#\d`),    // #1, owner/repo#1 (&#96; is a backtick)
	regexp.MustCompile(`(?i)gh-\d`),        // GH-1
	regexp.MustCompile(`://|(?i)www\.`),    // autolinks
	regexp.MustCompile(`<(?:img|b)\b`),     // HTML
	regexp.MustCompile(`(?:^|[^\\])\]\(`),  // [text](link)
	regexp.MustCompile(`(?m)^\| injected`), // a row of the data's
}

// prose is body without its code spans, which GitHub shows as they are.
// Every backtick broom writes is one of a pair on its line (resource
// data's are entities or quotes); a line with an odd count fails.
func prose(t *testing.T, body string) string {
	t.Helper()
	var b strings.Builder
	for i, line := range strings.Split(body, "\n") {
		parts := strings.Split(line, "`")
		if len(parts)%2 == 0 {
			t.Errorf("line %d has an unclosed code span: %q", i+1, line)
		}
		for k := 0; k < len(parts); k += 2 {
			b.WriteString(parts[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestHostileMarkdown(t *testing.T) {
	t.Parallel()
	for name, s := range hostile {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, applied := range []bool{false, true} {
				r := hostileReport(s, applied)
				checkMarkdown(t, "summary", Markdown(r))
				r.Marker = "<!-- broom:plan id=prod fingerprint=" + r.Plan.Fingerprint + " head=abc -->"
				body := Markdown(r)
				checkMarkdown(t, "comment", body)
				changes := Changes(body+KeysBlock(r.Plan), s, r.Plan)
				checkMarkdown(t, "notes replaced", ReplaceNotes(body, []string{s, changes}))

				// Shortened: many rows, the count table of rules and kinds.
				many := r
				many.Plan.Actions = nil
				for i := range 300 {
					a := r.Plan.Actions[0]
					a.ID = fmt.Sprintf("%s-%d", s, i)
					many.Plan.Actions = append(many.Plan.Actions, a)
				}
				many.Limit = 8000
				short := Markdown(many)
				if !strings.Contains(short, "Actions by rule") {
					t.Fatalf("not shortened:\n%s", short)
				}
				checkMarkdown(t, "shortened", short)
			}
		})
	}
}

// The data is still there to read, in code spans where it would be live.
func TestMarkdownShowsDataInCode(t *testing.T) {
	t.Parallel()
	body := Markdown(hostileReport("see #1 @octocat https://evil.example/x", false))
	for _, want := range []string{
		"· 2 accounts: see `#1` `@octocat` `https://evil.example/x` (see `#1`",
		"| see `#1` `@octocat` `https://evil.example/x` |",
		"- `see #1 @octocat https://evil.example/x` see `#1` `@octocat`",
		"> see `#1` `@octocat` `https://evil.example/x`",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// A note cut short to fit a comment is never cut inside a code span: the
// rest of the word would be live.
func TestShortenClosesCodeSpans(t *testing.T) {
	t.Parallel()
	line := "> " + Escape("Approval refused: see @octocat/a-team and acme/infra#12 "+strings.Repeat("é", 20)) + "\n\n"
	for room := 0; room <= len(line)+1; room++ {
		got := shorten(line, room)
		if len(got) > room {
			t.Errorf("room %d: %d bytes", room, len(got))
		}
		checkMarkdown(t, fmt.Sprintf("room %d", room), got)
	}
}

func TestCodePipes(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"a|b":     `a\|b`,
		`a\|b`:    `a\\\|b`,   // the text's backslash pairs with one added
		`a\\|b`:   `a\\\|b`,   // an even run pairs with itself
		`a\\\|b`:  `a\\\\\|b`, // odd again
		"a`|`b":   `a'\|'b`,
		"|":       `\|`,
		`\`:       `\`,
		"a\n|\rb": `a \| b`,
	}
	for in, want := range tests {
		got := code(in)
		if got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
		if row := "| `" + got + "` |"; pipes(row) != 2 {
			t.Errorf("code(%q) = %q ends the cell early: %d pipes in %s", in, got, pipes(row), row)
		}
	}
}

// JSON is the machine format: it carries the data exactly.
func TestHostileJSON(t *testing.T) {
	t.Parallel()
	for name, s := range hostile {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := hostileReport(s, true).Plan
			var buf bytes.Buffer
			if err := JSON(&buf, p); err != nil {
				t.Fatal(err)
			}
			var back plan.Plan
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			for _, a := range back.Actions {
				if a.Kind == "ebs-snapshot" {
					continue // the other action
				}
				if diff := cmp.Diff(string([]rune(s)), a.ID); diff != "" {
					t.Errorf("id changed (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(p, back); diff != "" && utf8.ValidString(s) {
				t.Errorf("plan changed in JSON (-want +got):\n%s", diff)
			}
		})
	}
}
