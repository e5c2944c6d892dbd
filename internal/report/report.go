// Package report renders a plan for people and machines: the markdown of the
// sticky comment and job summary, a text table for terminals, and JSON. It is
// the only package that knows tablewriter.
package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/broom-dev/broom/internal/plan"
)

// Report is a plan and what to say around it.
type Report struct {
	Plan   plan.Plan
	Marker string // hidden first line of a sticky comment; empty elsewhere
	// Protected lists resources a rule matched but that broom must leave,
	// with the reason in Action.Reason; shown so users see why.
	Protected    []plan.Action
	Notes        []string // shown above the table, e.g. why an approval was refused
	ApproveLabel string   // how to approve; empty: no approval hint
	RunURL       string   // link to the workflow run, if any
	// Accounts are the AWS accounts the plan acts on, named in the heading
	// of every report so that an operator sees where a change would land.
	Accounts []Account
	// Regions is how many regions the plan looked in, said in the heading
	// so that a reader knows where broom looked (and where it did not);
	// 0: not known, not said.
	Regions int
	// Headline, when set, replaces the plan's summary line: a run that
	// has no plan rows to count (the gate job of a sharded approval).
	Headline string
	// Limit is the most bytes Markdown may return; 0 or less means no limit.
	// Bytes, not characters: a UTF-8 string has at least as many bytes as
	// characters (code points or UTF-16 units), so a body within Limit bytes
	// is within Limit characters however GitHub counts them. With a Marker,
	// Markdown leaves Limit/64 of it free for ReplaceNotes to add notes.
	Limit int
}

// Account is an AWS account a plan acts on: its id and, where the account
// has one and broom may read it (iam:ListAccountAliases), its alias.
type Account struct {
	ID    string
	Alias string
}

// title is what a report's heading calls it.
func title(p plan.Plan) string {
	if p.Applied() {
		return "broom apply"
	}
	return "broom plan"
}

// maxHeadingAccounts caps the accounts a heading names: a plan over a whole
// organisation names the first few and counts the others (each row names
// its account), so that the heading stays one short line.
const maxHeadingAccounts = 10

// accountsPhrase is what a heading says after the report id: " · account
// 123456789012 (acme-prod)", " · 2 accounts: 111111111111 (a), 222222222222",
// or "" when no account is known. esc makes the ids and aliases (AWS data)
// safe for the report's format.
func accountsPhrase(accounts []Account, esc func(string) string) string {
	if len(accounts) == 0 {
		return ""
	}
	var b strings.Builder
	if len(accounts) == 1 {
		b.WriteString(" · account")
	} else {
		// The count first: a heading cut at maxHeadingAccounts, or one
		// over an organization, says at once how many.
		fmt.Fprintf(&b, " · %d accounts:", len(accounts))
	}
	for i, a := range accounts {
		if i == maxHeadingAccounts {
			fmt.Fprintf(&b, " and %d more", len(accounts)-i)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + esc(a.ID))
		if a.Alias != "" {
			b.WriteString(" (" + esc(a.Alias) + ")")
		}
	}
	return b.String()
}

// regionsPhrase is what a heading says after the accounts: " · 17
// regions", " · 1 region", or "" when the count is not known.
func regionsPhrase(n int) string {
	switch {
	case n <= 0:
		return ""
	case n == 1:
		return " · 1 region"
	}
	return fmt.Sprintf(" · %d regions", n)
}

// Length limits for Report.Limit.
const (
	// CommentLimit is GitHub's limit on an issue or pull request comment
	// body (and an issue body): 65,536 characters.
	CommentLimit = 65536
	// SummaryLimit is GitHub's limit on the job summary a step writes:
	// 1 MiB.
	SummaryLimit = 1 << 20
)

// Summary is the one-line description of a plan, as in
// "Plan: 12 to delete, 3 to tag · saves ≈ $4.20/month · fingerprint abc123def456".
func Summary(p plan.Plan) string {
	return summary(Report{Plan: p})
}

// summary is the report's summary line: its Headline, or the plan's.
func summary(r Report) string {
	if r.Headline != "" {
		return r.Headline
	}
	p := r.Plan
	c := p.Count()
	parts := []string{}
	for _, op := range []plan.Op{plan.Delete, plan.Tag, plan.Create, plan.Update} {
		if n := c.ByOp[op]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, op))
		}
	}
	head := "Plan: nothing to do"
	if len(parts) > 0 {
		head = "Plan: " + strings.Join(parts, ", ")
	}
	if p.Applied() {
		head = fmt.Sprintf("Applied: %d done, %d already done, %d failed, %d skipped", c.Done, c.AlreadyDone, c.Failed, c.Skipped)
	}
	if c.MonthlyCostUSD > 0 {
		head += fmt.Sprintf(" · saves ≈ $%.2f/month", c.MonthlyCostUSD)
	}
	return head + " · fingerprint " + shortFP(p.Fingerprint)
}

func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// details writes an action's kind-specific facts as "key: value, …" in key
// order, then the reason. It runs for every row of a report, so it builds
// the string in one allocation.
func details(a plan.Action) string {
	type fact struct{ key, value string }
	var buf [8]fact // kinds report a few facts: no allocation for them
	facts := buf[:0]
	n := len(a.Reason)
	for k, v := range a.Details {
		facts = append(facts, fact{k, v})
		n += len(k) + len(v) + len(": , ")
	}
	slices.SortFunc(facts, func(x, y fact) int { return strings.Compare(x.key, y.key) })
	var b strings.Builder
	b.Grow(n)
	for i, f := range facts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.key)
		b.WriteString(": ")
		b.WriteString(f.value)
	}
	if a.Reason != "" {
		if len(facts) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Reason)
	}
	return b.String()
}

// result is an action's Result cell: its status and, when it failed, why.
func result(a plan.Action) string {
	if a.Status == plan.Pending {
		return "not run"
	}
	if a.Error != "" {
		return string(a.Status) + ": " + a.Error
	}
	return string(a.Status)
}
