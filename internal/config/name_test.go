package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nameCatalog is testCatalog with the name filter.
var nameCatalog = Catalog{"ebs-snapshot": {"delete": {"older-than", "tags", "name"}}}

func TestParseNameFilter(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		where string
		want  string
	}{
		"a glob with slashes":    {`name: "/aws/lambda/*"`, "/aws/lambda/*"},
		"a plain name":           {"name: build-cache", "build-cache"},
		"a class and a question": {`name: "ci-[0-9]?"`, "ci-[0-9]?"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("broom.yml", []byte(rule(tc.where)), nameCatalog)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Rules[0].Where.Name); diff != "" {
				t.Errorf("Where.Name (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsBadNameFilter(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		cat  Catalog
		want []string
	}{
		"an unclosed class at its line": {
			yaml: rule(`name: "web-[a"`), cat: nameCatalog,
			want: []string{`broom.yml:7: rule "r": where.name: bad glob "web-[a"`},
		},
		"a trailing backslash": {
			yaml: rule(`name: "web\\"`), cat: nameCatalog,
			want: []string{`broom.yml:7: rule "r": where.name: bad glob "web\\"`},
		},
		"an empty glob": {
			yaml: rule(`name: ""`), cat: nameCatalog,
			want: []string{`broom.yml:7: rule "r": where.name: empty glob`},
		},
		"a list": {
			yaml: rule(`name: [a, b]`), cat: nameCatalog,
			want: []string{`broom.yml:7: rule "r": where.name: want a string, got a list`},
		},
		"a kind that does not take it": {
			yaml: rule(`name: "web-*"`), cat: testCatalog,
			want: []string{`broom.yml:7: rule "r": where: unknown key "name" (valid: older-than, tags)`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tc.yaml), tc.cat)
			checkProblems(t, err, tc.want)
		})
	}
}

func TestParseEmptyFilter(t *testing.T) {
	t.Parallel()
	cat := Catalog{"log-group": {"delete": {"empty", "name"}}}
	doc := "version: 1\nrules:\n  - name: r\n    resource: log-group\n    action: delete\n    where: {empty: true, name: \"/ci/*\"}\n"
	f, err := Parse("broom.yml", []byte(doc), cat)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Where{Flags: map[string]bool{"empty": true}, Name: "/ci/*"}, f.Rules[0].Where); diff != "" {
		t.Errorf("Where (-want +got):\n%s", diff)
	}
	_, err = Parse("broom.yml", []byte(strings.Replace(doc, "empty: true", "empty: yes please", 1)), cat)
	checkProblems(t, err, []string{`broom.yml:6: rule "r": where.empty: want true or false`})
}
