package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// tablewriters renders a table wholly through tablewriter, as writeTable
// claims to.
func tablewriters(t *testing.T, header []string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	tb := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = c
	}
	tb.Header(h...)
	for _, row := range rows {
		if err := tb.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteTableIsTablewriters(t *testing.T) {
	t.Parallel()
	header := []string{"ACTION", "ID", "DETAILS"}
	tests := map[string][][]string{
		"one row":          {{"delete", "snap-1", "created: 2025-01-02"}},
		"header wider":     {{"a", "b", "c"}},
		"empty cells":      {{"delete", "", ""}, {"", "snap-2", "x"}},
		"spaces around":    {{" delete", "snap-1 ", "  two\n lines  "}},
		"multi-line cells": {{"delete", "snap-1", "first line\nsecond\nthird, longest line"}, {"tag", "vol-1\nwrapped", "one"}},
		"wide characters":  {{"delete", "東京-バケット", "café, naïve"}, {"tag", "snap-😀", "emoji 😀 here"}},
		"many rows":        manyRows(50),
	}
	for name, rows := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got bytes.Buffer
			if err := writeTable(&got, header, rows); err != nil {
				t.Fatal(err)
			}
			if want := tablewriters(t, header, rows); got.String() != want {
				t.Errorf("writeTable differs from tablewriter\ngot:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

func manyRows(n int) [][]string {
	var rows [][]string
	for i := range n {
		rows = append(rows, []string{"delete", "snap-" + strings.Repeat("0", i%7) + "1", strings.Repeat("x ", i%13)})
	}
	return rows
}
