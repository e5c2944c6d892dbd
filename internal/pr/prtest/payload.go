package prtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/broom-dev/broom/internal/testenv"
)

// examplesDir is where scripts/test-deps.sh installs the webhook examples,
// relative to the repository root.
const examplesDir = ".cache/npm/node_modules/@octokit/webhooks-examples"

// examples maps an event name to its example payloads, as raw JSON so that
// every Payload call decodes a fresh copy.
type examples map[string][]json.RawMessage

var (
	examplesMu    sync.Mutex
	examplesCache = map[string]examples{} // by index.json path
)

// Payload returns a fresh copy of the first example payload from
// @octokit/webhooks-examples for event and action, e.g. ("pull_request",
// "opened"), ("issues", "labeled") or ("workflow_dispatch", ""). An empty
// action picks the first example without one. The package has no schedule
// example; ("schedule", "") returns GitHub's schedule payload,
// {"schedule": "0 3 * * *"}.
//
// The package is installed by scripts/test-deps.sh into .cache/npm at the
// repository root (found by walking up to go.mod). If it is missing, the
// test is skipped, or fails when BROOM_STRICT_TESTS is set (internal/testenv).
func Payload(t testing.TB, event, action string) map[string]any {
	t.Helper()
	if event == "schedule" {
		return map[string]any{"schedule": "0 3 * * *"}
	}
	ex := loadExamples(t)
	list, ok := ex[event]
	if !ok {
		names := make([]string, 0, len(ex))
		for n := range ex {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Fatalf("prtest: no webhook example for event %q; events: %s", event, strings.Join(names, ", "))
	}
	var actions []string
	for _, raw := range list {
		var head struct {
			Action string `json:"action"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatalf("prtest: decode %s example: %v", event, err)
		}
		if head.Action != action {
			actions = append(actions, head.Action)
			continue
		}
		var payload map[string]any
		if err := json.Unmarshal(raw, &payload); err != nil {
			t.Fatalf("prtest: decode %s example: %v", event, err)
		}
		return payload
	}
	t.Fatalf("prtest: no webhook example for event %q with action %q; actions: %q", event, action, actions)
	return nil
}

// loadExamples reads the installed package's index once per process.
func loadExamples(t testing.TB) examples {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("prtest: %v", err)
	}
	index := filepath.Join(root, filepath.FromSlash(examplesDir), "api.github.com", "index.json")

	examplesMu.Lock()
	defer examplesMu.Unlock()
	if ex, ok := examplesCache[index]; ok {
		return ex
	}
	data, err := os.ReadFile(index)
	if errors.Is(err, os.ErrNotExist) {
		testenv.Missing(t, fmt.Sprintf("prtest: webhook examples not installed (%s): run scripts/test-deps.sh", index))
	}
	if err != nil {
		t.Fatalf("prtest: read webhook examples: %v", err)
	}
	var entries []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("prtest: decode %s: %v", index, err)
	}
	ex := examples{}
	for _, e := range entries {
		ex[e.Name] = append(ex[e.Name], e.Examples...)
	}
	examplesCache[index] = ex
	return ex
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// WritePayload writes payload as JSON to a file in a fresh temporary
// directory and returns its path, for GITHUB_EVENT_PATH.
func WritePayload(t testing.TB, payload map[string]any) string {
	t.Helper()
	data, err := json.MarshalIndent(payload, "", "  ")
	if err != nil {
		t.Fatalf("prtest: encode payload: %v", err)
	}
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatalf("prtest: write payload: %v", err)
	}
	return p
}

// Set sets the value at a dot-separated path in payload, such as
// "pull_request.head.sha", creating (or replacing non-object values with)
// nested objects as needed.
func Set(payload map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	m := payload
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

// Get returns the value at a dot-separated path in payload, such as
// "pull_request.number", and whether it exists.
func Get(payload map[string]any, path string) (any, bool) {
	var v any = payload
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
