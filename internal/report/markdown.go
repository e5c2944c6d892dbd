package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/broom-dev/broom/internal/plan"
)

// Markdown renders the report as GitHub-flavoured markdown: the sticky
// comment's body and the job summary. With a Limit it never returns more
// than Limit bytes; a report that would is shortened by fit.
func Markdown(r Report) string {
	s := newSections(r)
	limit := r.Limit - notesRoom(r)
	if r.Limit <= 0 || s.size() <= limit {
		return s.full()
	}
	return s.fit(limit)
}

// notesRoom is how much of a sticky comment's limit Markdown leaves free, so
// that ReplaceNotes can add a note (e.g. why an approval was refused) to a
// comment rendered close to the limit: 1 KiB of a comment.
func notesRoom(r Report) int {
	if r.Marker == "" || r.Limit <= 0 {
		return 0
	}
	return r.Limit / 64
}

// sections are the parts of a markdown report, each rendered once.
type sections struct {
	r         Report
	head      string   // marker, heading, notes and summary line
	header    string   // the action table's header and alignment row
	rows      []string // one table line per action, in plan order
	protected string   // what a rule matched but broom leaves alone
	footer    string   // how to approve, the run link
}

func newSections(r Report) sections {
	return sections{
		r:         r,
		head:      head(r),
		header:    actionHeader(r.Plan.Applied()),
		rows:      actionRows(r.Plan),
		protected: protectedList(r.Protected),
		footer:    footer(r),
	}
}

// size is the length of full() without building it.
func (s sections) size() int {
	n := len(s.head) + len(s.protected) + len(s.footer)
	if len(s.rows) > 0 {
		n += len(s.header) + 1
		for _, row := range s.rows {
			n += len(row)
		}
	}
	return n
}

// full is the whole report: every action in plan order.
func (s sections) full() string {
	var b strings.Builder
	b.Grow(s.size())
	b.WriteString(s.head)
	if len(s.rows) > 0 {
		b.WriteString(s.header)
		for _, row := range s.rows {
			b.WriteString(row)
		}
		b.WriteString("\n")
	}
	b.WriteString(s.protected)
	b.WriteString(s.footer)
	return b.String()
}

func head(r Report) string {
	var b strings.Builder
	if r.Marker != "" {
		b.WriteString(r.Marker + "\n")
	}
	fmt.Fprintf(&b, "### %s · `%s`%s%s\n\n", title(r.Plan), code(r.Plan.ID), accountsPhrase(r.Accounts, Escape), regionsPhrase(r.Regions))
	if r.Marker != "" {
		b.WriteString(notesBlock(r.Notes, math.MaxInt)) // a comment's notes can be replaced later
	} else {
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "> %s\n\n", Escape(n))
		}
	}
	fmt.Fprintf(&b, "**%s**\n\n", Escape(summary(r)))
	return b.String()
}

const notesStart, notesEnd = "<!-- broom:notes -->\n", "<!-- /broom:notes -->\n"

// notesBlock renders notes between hidden delimiters, so that ReplaceNotes
// can change them without re-rendering the plan. The block takes at most
// room bytes: a note that does not fit is cut short and later ones dropped.
func notesBlock(notes []string, room int) string {
	var b strings.Builder
	b.WriteString(notesStart)
	room -= len(notesStart) + len(notesEnd) + 1
	for _, n := range notes {
		line := "> " + Escape(n) + "\n\n"
		if len(line) > room {
			b.WriteString(shorten(line, room))
			break
		}
		b.WriteString(line)
		room -= len(line)
	}
	b.WriteString(notesEnd + "\n")
	return b.String()
}

// shorten cuts a note's "> text\n\n" line to at most room bytes, at a rune
// boundary and with an ellipsis; it returns "" if not even that fits.
func shorten(line string, room int) string {
	const more = "…\n\n"
	n := room - len(more)
	if n < len("> x") {
		return ""
	}
	for n > 0 && !utf8.RuneStart(line[n]) {
		n--
	}
	cut := line[:n]
	// Every backtick in an escaped note opens or closes a code span (the
	// text's own are entities): cut inside one, and the rest of the word,
	// a mention or a reference, would be live.
	if strings.Count(cut, "`")%2 == 1 {
		cut = cut[:strings.LastIndexByte(cut, '`')]
	}
	if len(cut) < len("> x") {
		return ""
	}
	return cut + more
}

// ReplaceNotes swaps the notes of a rendered report, e.g. to say why an
// approval was refused under the plan that is still current. Notes are cut
// short where needed to keep the body within CommentLimit.
func ReplaceNotes(body string, notes []string) string {
	start := strings.Index(body, notesStart)
	end := strings.Index(body, notesEnd)
	if start < 0 || end < start {
		return body
	}
	before, after := body[:start], strings.TrimPrefix(body[end+len(notesEnd):], "\n")
	return before + notesBlock(notes, CommentLimit-len(before)-len(after)) + after
}

var actionColumns = []any{"Action", "Resource", "ID", "Region", "Details", "Rule"}

// actionHeader is the action table's header, with a Result column after
// apply.
func actionHeader(applied bool) string {
	cols := actionColumns
	if applied {
		cols = append(cols[:len(cols):len(cols)], "Result")
	}
	return tableHeader(nil, cols...)
}

// actionRows renders one table line per action, in plan order.
func actionRows(p plan.Plan) []string {
	applied, multi := p.Applied(), manyAccounts(p.Actions)
	rows := make([]string, len(p.Actions))
	cells := make([]string, 0, len(actionColumns)+1)
	for i, a := range p.Actions {
		id := "`" + code(a.ID) + "`"
		if a.Name != "" {
			id += " " + Escape(a.Name)
		}
		region := Escape(a.Region)
		if multi {
			region = Escape(a.Account) + " " + region
		}
		cells = append(cells[:0], a.Op.String(), Escape(a.Kind), id, region, Escape(details(a)), Escape(a.Rule))
		if applied {
			cells = append(cells, Escape(result(a)))
		}
		rows[i] = tableRow(cells...)
	}
	return rows
}

// manyAccounts reports whether the actions span accounts; then the Region
// column names the account too.
func manyAccounts(actions []plan.Action) bool {
	for _, a := range actions {
		if a.Account != actions[0].Account {
			return true
		}
	}
	return false
}

// tableHeader renders a markdown table's header and alignment row with
// tablewriter; columns without an alignment are left-aligned.
func tableHeader(align tw.Alignment, cols ...any) string {
	for len(align) < len(cols) {
		align = append(align, tw.AlignLeft)
	}
	var b strings.Builder
	t := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off), // v1 upper-cases headers by default
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithAlignment(align),
	)
	t.Header(cols...)
	_ = t.Render() // writes to a strings.Builder: cannot fail
	return b.String()
}

// tableRow renders one table line of escaped cells. Rows are not padded to
// the widest cell as tablewriter would: padding spends a comment's length
// budget on spaces, and tablewriter takes about 75 µs a row, too slow for
// 20,000 actions. GitHub renders both alike.
func tableRow(cells ...string) string {
	n := 2
	for _, c := range cells {
		n += len(c) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(c)
		b.WriteString(" |")
	}
	b.WriteString("\n")
	return b.String()
}

// protectedList lists what a rule matched but broom leaves alone, folded.
func protectedList(protected []plan.Action) string {
	if len(protected) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%d matched but left alone (protected or in use)</summary>\n\n", len(protected))
	for _, a := range protected {
		fmt.Fprintf(&b, "- `%s` %s in %s (rule %s): %s\n", code(a.ID), Escape(a.Kind), Escape(a.Region), Escape(a.Rule), Escape(a.Reason))
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}

func footer(r Report) string {
	var b strings.Builder
	c := r.Plan.Count() // cheaper than len(Remaining()), which copies the actions
	remaining := len(r.Plan.Actions) - c.Done - c.AlreadyDone
	if r.ApproveLabel != "" && remaining > 0 {
		fmt.Fprintf(&b, "To apply %s, someone with permission to approve adds the label `%s`. "+
			"broom then plans again and applies only if the plan is unchanged.\n",
			map[bool]string{true: "what remains", false: "this plan"}[r.Plan.Applied()], code(r.ApproveLabel))
	}
	if r.RunURL != "" {
		fmt.Fprintf(&b, "\n[Workflow run](%s)\n", r.RunURL)
	}
	return b.String()
}
