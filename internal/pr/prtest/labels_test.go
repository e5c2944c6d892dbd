package prtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

// TestRepoLabels: GET and POST /repos/{owner}/{repo}/labels… keep the
// repository's labels as GitHub does: names ignore case, a second label of
// a name is 422 already_exists, and every answer passes the contract.
func TestRepoLabels(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	const jsonType = "application/json"
	if status, _ := doRead(t, f, "GET", "/api/v3/repos/acme/infra/labels/broom:approved", "", ""); status != http.StatusNotFound {
		t.Errorf("GET a missing label: %d, want 404", status)
	}
	status, body := doRead(t, f, "POST", "/api/v3/repos/acme/infra/labels", jsonType,
		`{"name":"broom:approved","color":"0e8a16","description":"apply the plan"}`)
	if status != http.StatusCreated || !strings.Contains(body, `"description":"apply the plan"`) {
		t.Errorf("POST a new label: %d %s, want 201 with its description", status, body)
	}
	if status, body := doRead(t, f, "GET", "/api/v3/repos/acme/infra/labels/BROOM:APPROVED", "", ""); status != http.StatusOK || !strings.Contains(body, `"color":"0e8a16"`) {
		t.Errorf("GET the label in other case: %d %s, want 200 with its color", status, body)
	}
	status, body = doRead(t, f, "POST", "/api/v3/repos/acme/infra/labels", jsonType, `{"name":"Broom:Approved"}`)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "already_exists") {
		t.Errorf("POST an existing name: %d %s, want 422 already_exists", status, body)
	}
	if status, _ := doRead(t, f, "POST", "/api/v3/repos/acme/infra/labels", jsonType, `{"name":"x","color":"green"}`); status != http.StatusUnprocessableEntity {
		t.Errorf("POST a color that is not hex: %d, want 422", status)
	}
	want := []prtest.Label{{Name: "broom:approved", Color: "0e8a16", Description: "apply the plan"}}
	if diff := cmp.Diff(want, f.RepoLabels()); diff != "" {
		t.Errorf("RepoLabels (-want +got):\n%s", diff)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestRepoLabelsFromIssueLabels: a label added to an issue through the
// REST API, or by AddLabel, exists in the repository afterwards (GitHub
// creates it); seeded labels create none.
func TestRepoLabelsFromIssueLabels(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{Labels: []string{"seeded"}})
	if status := do(t, f, "POST", "/api/v3/repos/acme/infra/issues/1/labels", "application/json", `{"labels":["via-rest"]}`).StatusCode; status != http.StatusOK {
		t.Fatalf("add a label: %d", status)
	}
	f.AddLabel(n, "alice", "via-ui")
	var names []string
	for _, l := range f.RepoLabels() {
		names = append(names, l.Name)
	}
	if diff := cmp.Diff([]string{"via-rest", "via-ui"}, names); diff != "" {
		t.Errorf("repository labels (-want +got):\n%s", diff)
	}
}
