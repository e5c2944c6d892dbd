package report

import (
	"fmt"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/broom-dev/broom/internal/plan"
)

// Markdown renders the report as GitHub-flavoured markdown: the sticky
// comment's body and the job summary.
func Markdown(r Report) string {
	var b strings.Builder
	if r.Marker != "" {
		b.WriteString(r.Marker + "\n")
	}
	title := "broom plan"
	if r.Plan.Applied() {
		title = "broom apply"
	}
	fmt.Fprintf(&b, "### %s · `%s`\n\n", title, Escape(r.Plan.ID))
	if r.Marker != "" {
		b.WriteString(notesBlock(r.Notes)) // a comment's notes can be replaced later
	} else {
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "> %s\n\n", Escape(n))
		}
	}
	fmt.Fprintf(&b, "**%s**\n\n", Escape(Summary(r.Plan)))
	if len(r.Plan.Actions) > 0 {
		b.WriteString(actionTable(r.Plan))
		b.WriteString("\n")
	}
	writeProtected(&b, r.Protected)
	writeFooter(&b, r)
	return b.String()
}

const notesStart, notesEnd = "<!-- broom:notes -->\n", "<!-- /broom:notes -->\n"

// notesBlock renders notes between hidden delimiters, so that ReplaceNotes
// can change them without re-rendering the plan.
func notesBlock(notes []string) string {
	var b strings.Builder
	b.WriteString(notesStart)
	for _, n := range notes {
		fmt.Fprintf(&b, "> %s\n\n", Escape(n))
	}
	b.WriteString(notesEnd + "\n")
	return b.String()
}

// ReplaceNotes swaps the notes of a rendered report, e.g. to say why an
// approval was refused under the plan that is still current.
func ReplaceNotes(body string, notes []string) string {
	start := strings.Index(body, notesStart)
	end := strings.Index(body, notesEnd)
	if start < 0 || end < start {
		return body
	}
	block := notesBlock(notes)
	return body[:start] + block + strings.TrimPrefix(body[end+len(notesEnd):], "\n")
}

func actionTable(p plan.Plan) string {
	var b strings.Builder
	t := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off), // v1 upper-cases headers by default
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	header := []any{"Action", "Resource", "ID", "Region", "Details", "Rule"}
	applied := p.Applied()
	if applied {
		header = append(header, "Result")
	}
	t.Header(header...)
	for _, a := range p.Actions {
		row := []string{a.Op.String(), Escape(a.Kind), "`" + code(a.ID) + "`", Escape(a.Region), Escape(details(a)), Escape(a.Rule)}
		if a.Name != "" {
			row[2] += " " + Escape(a.Name)
		}
		if applied {
			row = append(row, Escape(result(a)))
		}
		_ = t.Append(row) // writes to a strings.Builder: cannot fail
	}
	_ = t.Render()
	return b.String()
}

func writeProtected(b *strings.Builder, protected []plan.Action) {
	if len(protected) == 0 {
		return
	}
	fmt.Fprintf(b, "<details><summary>%d matched but left alone (protected or in use)</summary>\n\n", len(protected))
	for _, a := range protected {
		fmt.Fprintf(b, "- `%s` %s in %s (rule %s): %s\n", code(a.ID), Escape(a.Kind), Escape(a.Region), Escape(a.Rule), Escape(a.Reason))
	}
	b.WriteString("\n</details>\n\n")
}

func writeFooter(b *strings.Builder, r Report) {
	remaining := len(r.Plan.Remaining())
	if r.ApproveLabel != "" && remaining > 0 {
		fmt.Fprintf(b, "To apply %s, someone with permission to approve adds the label `%s`. "+
			"broom then plans again and applies only if the plan is unchanged.\n",
			map[bool]string{true: "what remains", false: "this plan"}[r.Plan.Applied()], code(r.ApproveLabel))
	}
	if r.RunURL != "" {
		fmt.Fprintf(b, "\n[Workflow run](%s)\n", r.RunURL)
	}
}

// cellEscaper neutralises what could break a table row or inject markup:
// pipes, newlines, HTML, backticks, links, emphasis and @-mentions.
var cellEscaper = strings.NewReplacer(
	"\\", "\\\\",
	"|", "\\|",
	"\r\n", " ",
	"\n", " ",
	"\r", " ",
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	"`", "&#96;",
	"[", "\\[",
	"]", "\\]",
	"*", "\\*",
	"_", "\\_",
	"~", "\\~",
	"@", "&#64;",
)

// Escape makes untrusted text (tag values, names, error messages) safe
// inside a markdown table cell or paragraph.
func Escape(s string) string { return cellEscaper.Replace(s) }

// code makes text safe inside a backtick code span in a table cell: code
// spans show entities literally, so only the span's own breakers go.
func code(s string) string {
	return strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s)
}
