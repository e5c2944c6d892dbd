// Package report renders a plan for people and machines: the markdown of the
// sticky comment and job summary, a text table for terminals, and JSON. It is
// the only package that knows tablewriter.
package report

import (
	"fmt"
	"sort"
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
}

// Summary is the one-line description of a plan, as in
// "Plan: 12 to delete, 3 to tag · saves ≈ $4.20/month · fingerprint abc123def456".
func Summary(p plan.Plan) string {
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

// details writes an action's kind-specific facts as "key: value, …" in key order.
func details(a plan.Action) string {
	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+": "+a.Details[k])
	}
	if a.Reason != "" {
		parts = append(parts, a.Reason)
	}
	return strings.Join(parts, ", ")
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
