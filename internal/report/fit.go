package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/broom-dev/broom/internal/plan"
)

// fit renders a report that is too long in full within limit bytes. It
// keeps the head and footer, adds a count per rule, kind and op, shows the
// most expensive actions that fit, says how many rows were left out and
// where to find them, and keeps the protected list only if it still fits
// (a count otherwise).
func (s sections) fit(limit int) string {
	n := len(s.rows)
	counts := countTable(s.r.Plan)
	// Reserve room for every part but the rows, counting n where the
	// number is not yet known: a smaller number is never longer.
	fixed := len(s.head) + len(counts) + len(shownLine(n, n)) + len(s.header) + 1 +
		len(s.omittedLine(n)) + len(s.protectedCount()) + len(s.footer)
	order := byCost(s.r.Plan.Actions)
	k := 0
	for used := fixed; k < n && used+len(s.rows[order[k]]) <= limit; k++ {
		used += len(s.rows[order[k]])
	}

	var b strings.Builder
	b.Grow(limit)
	b.WriteString(s.head)
	b.WriteString(counts)
	if k > 0 {
		b.WriteString(shownLine(k, n))
		b.WriteString(s.header)
		for _, i := range order[:k] {
			b.WriteString(s.rows[i])
		}
		b.WriteString("\n")
	}
	b.WriteString(s.omittedLine(n - k))
	if b.Len()+len(s.protected)+len(s.footer) <= limit {
		b.WriteString(s.protected)
	} else {
		b.WriteString(s.protectedCount())
	}
	b.WriteString(s.footer)
	return cutLines(b.String(), limit)
}

// byCost returns the indexes of actions, most expensive first; actions of
// equal cost keep their order, the plan's canonical order. It sorts copies
// of the costs, not the actions, which is several times faster.
func byCost(actions []plan.Action) []int {
	type cost struct {
		usd float64
		i   int
	}
	costs := make([]cost, len(actions))
	for i, a := range actions {
		costs[i] = cost{a.MonthlyCostUSD, i}
	}
	slices.SortFunc(costs, func(x, y cost) int {
		if x.usd != y.usd {
			return cmp.Compare(y.usd, x.usd)
		}
		return x.i - y.i
	})
	order := make([]int, len(costs))
	for k, c := range costs {
		order[k] = c.i
	}
	return order
}

func shownLine(k, n int) string {
	return fmt.Sprintf("The %d most expensive of %d actions:\n\n", k, n)
}

// omittedLine says how many rows were left out and where they are: a
// comment points to the job summary, which the action writes in full (up
// to its own limit), and both point to the plan file.
func (s sections) omittedLine(omitted int) string {
	if omitted == 0 {
		return ""
	}
	where := "the plan-file output"
	if s.r.Marker != "" {
		where = "the job summary and the plan-file output"
	}
	return fmt.Sprintf("%d more rows not shown: the full plan is in %s.\n\n", omitted, where)
}

// protectedCount stands in for a protected list that does not fit.
func (s sections) protectedCount() string {
	if len(s.r.Protected) == 0 {
		return ""
	}
	where := "the workflow log"
	if s.r.Marker != "" {
		where = "the job summary"
	}
	return fmt.Sprintf("%d matched but left alone (protected or in use): the list is in %s.\n\n", len(s.r.Protected), where)
}

// ruleCount is one line of the count table.
type ruleCount struct {
	rule, kind string
	op         plan.Op
	n          int
	usd        float64
	unknown    bool // an action's saving is not known
}

// countTable counts the plan's actions per rule, kind and op, with what
// the deletes save, so a shortened report still accounts for every action.
func countTable(p plan.Plan) string {
	if len(p.Actions) == 0 {
		return ""
	}
	type key struct {
		rule, kind string
		op         plan.Op
	}
	byKey := map[key]*ruleCount{}
	var counts []*ruleCount
	for _, a := range p.Actions {
		k := key{a.Rule, a.Kind, a.Op}
		c := byKey[k]
		if c == nil {
			c = &ruleCount{rule: a.Rule, kind: a.Kind, op: a.Op}
			byKey[k] = c
			counts = append(counts, c)
		}
		c.n++
		if a.Op == plan.Delete || a.Op == plan.Update { // as in plan.Count
			c.usd += a.MonthlyCostUSD
		}
		c.unknown = c.unknown || a.SavingUnknown
	}
	slices.SortFunc(counts, func(x, y *ruleCount) int {
		return cmp.Or(strings.Compare(x.rule, y.rule), strings.Compare(x.kind, y.kind), cmp.Compare(x.op, y.op))
	})

	var b strings.Builder
	b.WriteString("Actions by rule:\n\n")
	b.WriteString(tableHeader(tw.Alignment{tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight},
		"Rule", "Kind", "Op", "Count", "Saves/month"))
	for _, c := range counts {
		saves := ""
		switch {
		case c.usd > 0:
			saves = fmt.Sprintf("$%.2f", c.usd)
		case c.op == plan.Delete, c.unknown: // a delete with no price saves nothing (hygiene), or what is unknown
			saves = "—"
		}
		b.WriteString(tableRow(Escape(c.rule), Escape(c.kind), c.op.String(), fmt.Sprint(c.n), saves))
	}
	b.WriteString("\n")
	return b.String()
}

// cutLines is the last resort when even the parts fit always keeps (head,
// counts, footer) pass limit, e.g. with very long notes: it keeps whole
// lines while they fit, so the marker stays first and markup stays whole.
func cutLines(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := strings.LastIndexByte(s[:limit], '\n')
	return s[:end+1]
}
