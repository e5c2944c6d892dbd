package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// writeTable writes a text table as tablewriter's default renderer does,
// left-aligned, a cell's lines on lines of their own. tablewriter draws the
// borders and the header, at widths measured here; the rows are written
// straight out, as the markdown rows are: through tablewriter, 20,000 rows
// took over a second and 300 MB of allocations. TestWriteTableIsTablewriters
// holds the two alike.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = cols(h)
	}
	cells := make([][][]string, len(rows)) // row, column, line
	for r, row := range rows {
		cells[r] = make([][]string, len(row))
		for i, c := range row {
			lines := strings.Split(strings.TrimSpace(c), "\n") // trimmed as tablewriter does
			for _, line := range lines {
				widths[i] = max(widths[i], cols(line))
			}
			cells[r][i] = lines
		}
	}
	top, head, bottom, err := frame(header, widths)
	if err != nil {
		return err
	}
	bar, _ := utf8.DecodeRuneInString(head)
	sep := strings.NewReplacer("└", "├", "┴", "┼", "┘", "┤").Replace(bottom)

	b := bufio.NewWriter(w)
	b.WriteString(top + "\n" + head + "\n" + sep + "\n")
	for _, row := range cells {
		height := 1
		for _, lines := range row {
			height = max(height, len(lines))
		}
		for k := range height {
			b.WriteRune(bar)
			for i := range header {
				cell := ""
				if i < len(row) && k < len(row[i]) {
					cell = row[i][k]
				}
				b.WriteByte(' ')
				b.WriteString(cell)
				b.WriteString(strings.Repeat(" ", widths[i]-cols(cell)+1))
				b.WriteRune(bar)
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString(bottom + "\n")
	return b.Flush()
}

// cols is s's width in terminal columns, as tablewriter measures it.
// Printable ASCII, nearly every cell, is one column a byte; asking twwidth
// for it went through a shared LRU cache and cost more than the rest of
// the table.
func cols(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// frame has tablewriter draw the table's top border, header line and
// bottom border for columns of the given content widths.
func frame(header []string, widths []int) (top, head, bottom string, err error) {
	cols := tw.NewMapper[int, int]()
	for i, n := range widths {
		cols.Set(i, n+2) // a space either side
	}
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithColumnWidths(cols),
	)
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = c
	}
	t.Header(h...)
	if err := t.Render(); err != nil {
		return "", "", "", err
	}
	parts := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("report: tablewriter drew a header of %d lines, want 3", len(parts))
	}
	return parts[0], parts[1], parts[2], nil
}
