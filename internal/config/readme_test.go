package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"

	"github.com/broom-dev/broom/internal/config"
)

// readmeConfigExample is the first yaml block of the README's section
// "## The config file".
func readmeConfigExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## The config file\n")
	if !ok {
		t.Fatal("README.md: no section \"## The config file\"")
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	_, block, ok := strings.Cut(section, "\n```yaml\n")
	if !ok {
		t.Fatal("README.md, The config file: no ```yaml block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("README.md, The config file: the ```yaml block does not end")
	}
	return block + "\n"
}

// TestREADMEShowsTheSpecExample keeps the README's config example and the
// tests' copy of SPEC §3's (config.SpecExampleFile) from drifting apart.
// They are not the same text: the README's example also shows settings
// that SPEC §3's leaves out, each listed below, and words some comments
// for its readers. So the README's block must be the SPEC example with
// exactly those settings changed, value for value; comments are free.
// Any other change to either copy fails here: make it in both, or list it.
func TestREADMEShowsTheSpecExample(t *testing.T) {
	t.Parallel()
	var spec, readme map[string]any
	if err := yaml.Unmarshal([]byte(config.SpecExample(t)), &spec); err != nil {
		t.Fatalf("%s: %v", config.SpecExampleFile, err)
	}
	block := readmeConfigExample(t)
	if err := yaml.Unmarshal([]byte(block), &readme); err != nil {
		t.Fatalf("README.md config example: %v\n%s", err, block)
	}

	// What the README shows beyond SPEC §3's example.
	want := spec
	want["allowed-accounts"] = []any{"123456789012", "111111111111"} // the second is the account below
	want["timeout"] = "15m"
	want["aws"] = map[string]any{"max-attempts": 5}
	want["accounts"] = []any{map[string]any{"id": "111111111111", "role": "arn:aws:iam::111111111111:role/broom"}}
	tags, _ := want["tags"].(map[string]any)
	delete(tags, "Environment") // two tags are enough to show stamping
	delete(tags, "Project")
	rule(t, want, "orphan-volumes")["snapshot-first"] = true

	if diff := cmp.Diff(want, readme); diff != "" {
		t.Errorf("README.md's config example is not %s with the README's additions (-want +README):\n%s\n"+
			"Change both copies, or list the README's new difference in this test.", config.SpecExampleFile, diff)
	}
}

// rule is the rule called name in the decoded document doc.
func rule(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	rules, _ := doc["rules"].([]any)
	for _, r := range rules {
		if m, ok := r.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	t.Fatalf("no rule %q in %v", name, rules)
	return nil
}
