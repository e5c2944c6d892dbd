package pr_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

const (
	labelPath  = "/repos/acme/infra/labels/*"
	labelsPath = "/repos/acme/infra/labels"
)

func TestEnsureLabelCreatesAMissingLabel(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	c := newClient(t, f, prtest.DefaultToken)
	created, err := c.EnsureLabel(context.Background(), "broom:approved", pr.ApproveLabelColor, pr.ApproveLabelDescription)
	if err != nil || !created {
		t.Fatalf("EnsureLabel = %v, %v; want created", created, err)
	}
	l, ok := f.RepoLabel("broom:approved")
	if !ok || l.Name != "broom:approved" || l.Color != pr.ApproveLabelColor || l.Description != pr.ApproveLabelDescription {
		t.Errorf("repository label = %+v, %v; want broom:approved with broom's color and description", l, ok)
	}
	if len(pr.ApproveLabelDescription) > 100 {
		t.Errorf("the description has %d characters; GitHub allows 100", len(pr.ApproveLabelDescription))
	}
	if g, p := f.Count("GET", labelPath), f.Count("POST", labelsPath); g != 1 || p != 1 {
		t.Errorf("%d GET and %d POST; want one of each", g, p)
	}
}

func TestEnsureLabelLeavesAnExistingLabel(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	// GitHub matches label names ignoring case.
	f.AddRepoLabel(prtest.Label{Name: "Broom:Approved", Color: "d73a4a", Description: "ours"})
	c := newClient(t, f, prtest.DefaultToken)
	created, err := c.EnsureLabel(context.Background(), "broom:approved", pr.ApproveLabelColor, pr.ApproveLabelDescription)
	if err != nil || created {
		t.Fatalf("EnsureLabel = %v, %v; want not created, no error", created, err)
	}
	if n := f.Count("POST", labelsPath); n != 0 {
		t.Errorf("%d POST %s; want none", n, labelsPath)
	}
	if l, _ := f.RepoLabel("broom:approved"); l.Color != "d73a4a" || l.Description != "ours" {
		t.Errorf("the existing label changed: %+v", l)
	}
}

// A label made by another run between the check and the creation: GitHub
// answers 422 already_exists, which is what EnsureLabel wanted.
func TestEnsureLabelRaceWithAnotherRun(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.FailNext("GET", "/repos/acme/infra/labels/", 1, http.StatusNotFound, nil, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	f.AddRepoLabel(prtest.Label{Name: "broom:approved"})
	c := newClient(t, f, prtest.DefaultToken)
	created, err := c.EnsureLabel(context.Background(), "broom:approved", pr.ApproveLabelColor, pr.ApproveLabelDescription)
	if err != nil || created {
		t.Fatalf("EnsureLabel = %v, %v; want not created, no error", created, err)
	}
	if n := f.Count("POST", labelsPath); n != 1 {
		t.Errorf("%d POST; want the one that met already_exists", n)
	}
}

func TestEnsureLabelErrors(t *testing.T) {
	t.Parallel()
	forbidden := `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/labels#create-a-label","status":"403"}`
	tests := map[string]struct {
		method, path string
		status       int
		want         string
	}{
		"the token may not create labels": {"POST", labelsPath, http.StatusForbidden, `create label "broom:approved"`},
		"the token may not read labels":   {"GET", "/repos/acme/infra/labels/", http.StatusForbidden, `look for label "broom:approved"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			f.FailNext(tc.method, tc.path, 1, tc.status, nil, forbidden)
			c := newClient(t, f, prtest.DefaultToken)
			created, err := c.EnsureLabel(context.Background(), "broom:approved", pr.ApproveLabelColor, pr.ApproveLabelDescription)
			if err == nil || created || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "403") {
				t.Fatalf("EnsureLabel = %v, %v; want an error %q with the 403", created, err, tc.want)
			}
			if _, ok := f.RepoLabel("broom:approved"); ok {
				t.Errorf("the label exists after a refusal")
			}
		})
	}
}
