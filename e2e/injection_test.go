package e2e

import (
	"strings"
	"testing"
)

// hostile is a tag value written by whoever may tag a snapshot: workflow
// commands on a line of their own and in the legacy ##[…] form, a mention,
// cross-references and a link.
const hostile = "x\n::error ::pwned\n::add-mask::secret\r\n  ::warning::indented ##[error]legacy @octocat acme/infra#1 #2 https://evil.example/x \u202eevil" // no ESC: XML (and so EC2) cannot carry it

// A tag value reaches the log (the text report, annotations, slog), the
// job summary and the comment as data: it never becomes a workflow
// command, a mention, a cross-reference or a link.
func TestInjectionThroughATagValue(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	keep := w.snapshot("-400d", map[string]string{"Environment": "ci", "broom:keep": hostile})
	r := w.run("pull_request", w.prPayload("opened"), nil)
	r.want(t, 0, map[string]string{"result": "planned", "planned": "2"})

	for _, out := range []struct{ name, text string }{{"stdout", r.stdout}, {"stderr", r.stderr}} {
		sawKeep := false
		for _, line := range strings.Split(out.text, "\n") {
			sawKeep = sawKeep || strings.Contains(line, keep)
			if strings.Contains(line, "##[") {
				t.Errorf("%s line holds a ##[ workflow command: %q", out.name, line)
			}
			trimmed := strings.TrimLeft(line, " \t") // the runner trims before it looks for ::
			if !strings.HasPrefix(trimmed, "::") {
				continue
			}
			if !broomsOwnCommand(trimmed) {
				t.Errorf("%s line is a workflow command broom did not mean: %q", out.name, line)
			}
		}
		if out.name == "stdout" && !sawKeep {
			t.Errorf("stdout never names the protected snapshot %s: the test saw nothing", keep)
		}
	}
	for _, forbidden := range []string{"\u202e", "\r"} {
		if strings.Contains(r.stdout, forbidden) {
			t.Errorf("stdout holds the raw control character %q", forbidden)
		}
	}

	body := w.stickyComments()[0].Body
	for _, doc := range []struct{ name, text string }{{"comment", body}, {"job summary", r.summary}} {
		if !strings.Contains(doc.text, keep) {
			t.Fatalf("the %s does not list the protected snapshot %s", doc.name, keep)
		}
		for _, word := range []string{"@octocat", "acme/infra#1", "#2", "https://evil.example/x"} {
			for _, line := range strings.Split(doc.text, "\n") {
				for i := strings.Index(line, word); i >= 0; {
					if strings.Count(line[:i], "`")%2 == 0 { // outside a code span: GitHub would act on it
						t.Errorf("the %s shows %q outside a code span: %q", doc.name, word, line)
					}
					next := strings.Index(line[i+1:], word)
					if next < 0 {
						break
					}
					i += 1 + next
				}
			}
		}
		if strings.Contains(doc.text, "<script") || strings.Contains(doc.text, "\x1b") {
			t.Errorf("the %s holds raw markup or control characters", doc.name)
		}
	}
	for _, id := range old {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted by a plan", id)
		}
	}
}

// broomsOwnCommand reports whether a log line is a workflow command broom
// writes: the token's mask, the result notice, the groups, and the warning
// for each resource left alone (whose text ends the line it starts).
func broomsOwnCommand(line string) bool {
	switch {
	case line == "::add-mask::test-token", line == "::endgroup::":
		return true
	case strings.HasPrefix(line, "::notice::refused:"), strings.HasPrefix(line, "::notice::planned:"),
		strings.HasPrefix(line, "::group::broom "):
		return true
	case strings.HasPrefix(line, "::warning::ebs-snapshot ") && strings.Contains(line, " but was left alone: "):
		return true
	}
	return false
}
