package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/broom-dev/broom/internal/resource"
)

// everyKind is a config with a rule for every kind and action a rule
// can take; the README shows it under "Every kind in one file".
const everyKind = "../config/testdata/every-kind.yml"

// The every-kind config is valid, names every registered kind and every
// action of each, and is what the README shows.
func TestEveryKindConfig(t *testing.T) {
	t.Parallel()
	if r := runCLI(t, nil, "validate", "--config", everyKind); r.code != 0 {
		t.Fatalf("broom validate %s: exit %d\n%s", everyKind, r.code, r.stderr)
	}
	data, err := os.ReadFile(everyKind)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rules []struct{ Resource, Action string }
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range doc.Rules {
		have[r.Resource+" "+r.Action] = true
	}
	for kind, actions := range resource.Catalog() {
		for action := range actions {
			if action != "tag" && !have[kind+" "+action] { // tag is alike for every kind
				t.Errorf("%s has no rule for %s %s", everyKind, kind, action)
			}
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(data)+"```\n") {
		t.Errorf("README.md does not show %s in a yaml block", everyKind)
	}
}
