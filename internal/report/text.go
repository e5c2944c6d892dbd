package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/broom-dev/broom/internal/plan"
)

// Text writes the report as a plain table for a terminal.
func Text(w io.Writer, r Report) error {
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	if len(r.Plan.Actions) > 0 {
		t := tablewriter.NewTable(w,
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
		)
		header := []any{"ACTION", "RESOURCE", "ID", "REGION", "DETAILS", "RULE"}
		applied := r.Plan.Applied()
		if applied {
			header = append(header, "RESULT")
		}
		t.Header(header...)
		for _, a := range r.Plan.Actions {
			row := []string{a.Op.String(), a.Kind, a.ID, a.Region, oneLine(details(a)), a.Rule}
			if applied {
				row = append(row, oneLine(result(a)))
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	for _, a := range r.Protected {
		if _, err := fmt.Fprintf(w, "left alone: %s %s in %s (rule %s): %s\n", a.Kind, a.ID, a.Region, a.Rule, a.Reason); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, Summary(r.Plan))
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// JSON writes the plan file of SPEC §5.
func JSON(w io.Writer, p plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
