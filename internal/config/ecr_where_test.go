package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseECRImageFilters reads repository, untagged and keep-last
// (ecr-image's catalog here), and rejects a bad glob, a count below one
// and keep-last on another kind, at the value's line.
func TestParseECRImageFilters(t *testing.T) {
	t.Parallel()
	cat := Catalog{"ecr-image": {"delete": {"repository", "untagged", "older-than", "keep-last", "tags"}}, "ebs-snapshot": {"delete": {"older-than"}}}
	doc := func(resource, where string) string {
		return "version: 1\nrules:\n  - name: r\n    resource: " + resource + "\n    action: delete\n    where:\n      " + where + "\n"
	}
	f, err := Parse("broom.yml", []byte(doc("ecr-image", "repository: ci-*\n      untagged: true\n      keep-last: 10")), cat)
	if err != nil {
		t.Fatal(err)
	}
	want := Where{Repository: "ci-*", Flags: map[string]bool{"untagged": true}, KeepLast: 10}
	if diff := cmp.Diff(want, f.Rules[0].Where); diff != "" {
		t.Errorf("where (-want +got):\n%s", diff)
	}
	rejects := map[string]struct {
		yaml string
		want []string
	}{
		"an unclosed bracket":            {yaml: doc("ecr-image", "repository: 'ci-['"), want: []string{`broom.yml:7: rule "r": where.repository: "ci-[" is not a valid glob: syntax error in pattern`}},
		"a trailing backslash":           {yaml: doc("ecr-image", `repository: 'ci\'`), want: []string{`broom.yml:7: rule "r": where.repository: "ci\\" is not a valid glob: syntax error in pattern`}},
		"keep-last 0":                    {yaml: doc("ecr-image", "keep-last: 0"), want: []string{`broom.yml:7: rule "r": where.keep-last: want a whole number of images, 1 or more, got "0"`}},
		"keep-last negative":             {yaml: doc("ecr-image", "keep-last: -3"), want: []string{`broom.yml:7: rule "r": where.keep-last: want a whole number of images, 1 or more, got "-3"`}},
		"keep-last quoted":               {yaml: doc("ecr-image", `keep-last: "5"`), want: []string{`broom.yml:7: rule "r": where.keep-last: want a whole number of images, 1 or more, got "5"`}},
		"keep-last a word":               {yaml: doc("ecr-image", "keep-last: some"), want: []string{`broom.yml:7: rule "r": where.keep-last: want a whole number of images, 1 or more, got "some"`}},
		"untagged a string":              {yaml: doc("ecr-image", "untagged: yes-please"), want: []string{`broom.yml:7: rule "r": where.untagged: want true or false, got "yes-please"`}},
		"keep-last on a kind without it": {yaml: doc("ebs-snapshot", "keep-last: 3"), want: []string{`broom.yml:7: rule "r": where: unknown key "keep-last" (valid: older-than)`}},
	}
	for name, tt := range rejects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), cat)
			checkProblems(t, err, tt.want)
		})
	}
}
