package prtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestIssueEventResponseIsChecked shows that the contract really checks the
// fake's issue events: drop a field that every one of GitHub's issue event
// schemas requires, or give one the wrong type, and the response no longer
// validates. (The description lists an event as anyOf 26 kinds of event, so
// an event without its label still passes as another kind: that looseness is
// GitHub's description's, and the test of Events checks the label instead.)
func TestIssueEventResponseIsChecked(t *testing.T) {
	t.Parallel()
	f := New(t)
	n := f.AddPR(PR{})
	f.AddLabel(n, "github-actions[bot]", "broom:approve")

	req := httptest.NewRequest("GET", "/repos/acme/infra/issues/1/events?per_page=100", nil)
	v, err := f.contract.validateRequest(req, nil)
	if err != nil {
		t.Fatalf("validateRequest: %v", err)
	}
	check := func(ev map[string]any) error {
		data, err := json.Marshal([]any{ev})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		return f.contract.validateResponse(v, http.StatusOK, h, data)
	}
	f.mu.Lock()
	good := f.eventJSON(f.events[n][0])
	f.mu.Unlock()
	if err := check(good); err != nil {
		t.Fatalf("the fake's event does not validate: %v", err)
	}
	for _, key := range []string{"id", "node_id", "url", "actor", "event", "commit_id", "commit_url", "created_at", "performed_via_github_app"} {
		bad := map[string]any{}
		for k, v := range good {
			if k != key {
				bad[k] = v
			}
		}
		if err := check(bad); err == nil {
			t.Errorf("an event without %q validates", key)
		}
	}
	for key, value := range map[string]any{"id": "1", "created_at": 1, "actor": map[string]any{"login": "x"}} {
		bad := map[string]any{}
		for k, v := range good {
			bad[k] = v
		}
		bad[key] = value
		if err := check(bad); err == nil {
			t.Errorf("an event with %s = %v validates", key, value)
		}
	}
}

// TestGraphQLSchemaLoads loads GitHub's published schema (which defines two
// fields twice) once per process, and logs how long that took.
func TestGraphQLSchemaLoads(t *testing.T) {
	t.Parallel()
	s, err := loadGraphQLSchema()
	if err != nil {
		t.Fatalf("loadGraphQLSchema: %v", err)
	}
	t.Logf("GitHub's GraphQL schema: %d types, loaded in %v", len(s.Types), schemaLoadTime)
	if again, _ := loadGraphQLSchema(); again != s {
		t.Errorf("the schema was loaded twice")
	}
	for _, typ := range []string{"IssueComment", "Issue"} {
		for _, field := range []string{"createdAt", "lastEditedAt", "editor", "userContentEdits", "viewerDidAuthor"} {
			if s.Types[typ] == nil || s.Types[typ].Fields.ForName(field) == nil {
				t.Errorf("%s.%s is not in the schema", typ, field)
			}
		}
	}
	n := 0
	for _, f := range s.Types["EnterpriseOwnerInfo"].Fields {
		if f.Name == "repositoryDeployKeySetting" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("EnterpriseOwnerInfo.repositoryDeployKeySetting defined %d times, want once (duplicates dropped)", n)
	}
}
