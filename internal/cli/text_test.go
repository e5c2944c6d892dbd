package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/report"
)

// twoProblems has a bad duration on line 7 and an unknown action in the
// rule that starts on line 8 (where the loader reports it).
const twoProblems = `version: 1
regions: [eu-west-1]
rules:
  - name: old
    resource: ebs-snapshot
    action: delete
    where: {older-than: soon}
  - name: ips
    resource: elastic-ip
    action: explode
`

// SPEC §3: validate exits 2 and, in Actions, annotates every problem at
// its own file and line, not only the first.
func TestValidateAnnotatesEveryProblem(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "broom.yml", twoProblems)
	r := runCLI(t, map[string]string{"GITHUB_ACTIONS": "true"}, "validate", "--config", path)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
	}
	var lineNos []string
	for _, l := range lines(r.stdout) {
		rest, ok := strings.CutPrefix(l, "::error file="+path+",line=")
		if !ok {
			t.Errorf("stdout line %q is not an annotation on %s", l, path)
			continue
		}
		n, _, _ := strings.Cut(rest, "::")
		lineNos = append(lineNos, n)
	}
	if diff := cmp.Diff([]string{"7", "10"}, lineNos); diff != "" { // where: and action: values
		t.Errorf("annotated lines (-want +got):\n%s\nstdout:\n%s", diff, r.stdout)
	}
	for _, l := range lines(r.stderr) {
		if !strings.HasPrefix(l, path+":") {
			t.Errorf("stderr line %q is not file:line: message", l)
		}
	}
	if got := len(lines(r.stderr)); got != 2 {
		t.Errorf("stderr has %d lines, want one per problem:\n%s", got, r.stderr)
	}
}

// The text report is as wide as the terminal stdout is; without one (a
// pipe, CI), as COLUMNS says; else 120.
func TestTextWidth(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		terminal int // stdout's terminal width; 0: not a terminal; -1: no check injected
		columns  string
		want     int
	}{
		"unset: 120":                      {-1, "", 120},
		"COLUMNS without a terminal":      {0, "87", 87},
		"spaces are ignored":              {-1, " 200\n", 200},
		"zero: 120":                       {-1, "0", 120},
		"negative: 120":                   {-1, "-5", 120},
		"not a number: 120":               {-1, "wide", 120},
		"a huge terminal is fine":         {-1, "1000", 1000},
		"the terminal's width":            {93, "", 93},
		"the terminal wins over COLUMNS":  {93, "200", 93},
		"not a terminal, no COLUMNS: 120": {0, "", 120},
		"a narrow terminal stays narrow":  {40, "", 40},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := IO{Getenv: func(k string) string { return map[string]string{"COLUMNS": tc.columns}[k] }}
			if tc.terminal >= 0 {
				env.TerminalWidth = func() int { return tc.terminal }
			}
			if got := textWidth(env); got != tc.want {
				t.Errorf("textWidth(terminal %d, COLUMNS=%q) = %d, want %d", tc.terminal, tc.columns, got, tc.want)
			}
		})
	}
}

// show fits the text report to the width and leaves the other formats be.
func TestShowFitsTextToTheWidth(t *testing.T) {
	t.Parallel()
	a := plan.Action{Op: plan.Delete, Kind: "ebs-volume", Account: "123456789012", Region: "eu-west-1", ID: "vol-0123456789abcdef0",
		Rule: "orphan-volumes", Reason: "unattached, 400 days old > 14d",
		Details: map[string]string{"size": "500 GiB", "type": "gp3", "state": "available", "created": "2025-10-21", "tags": "Team=data, Project=billing-pipeline, Name=scratch-space-for-the-nightly-build"}}
	rep := report.Report{Plan: plan.New("prod", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), []plan.Action{a})}
	for _, width := range []int{160, 120, 80} {
		var buf bytes.Buffer
		if err := show(&buf, "text", rep, width); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines(buf.String()) {
			if strings.HasPrefix(l, "Plan:") {
				continue
			}
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d:\n%s", width, n, buf.String())
			}
		}
	}
	var narrow, wide bytes.Buffer
	if err := show(&narrow, "markdown", rep, 40); err != nil {
		t.Fatal(err)
	}
	if err := show(&wide, "markdown", rep, 0); err != nil {
		t.Fatal(err)
	}
	if narrow.String() != wide.String() {
		t.Error("the width changed the markdown report")
	}
}
