package engine

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
)

// kmTestECRBatches applies a plan of 153 images in three repositories:
// each repository's images go in ⌈n/100⌉ BatchDeleteImage calls after each
// is re-read and judged again. Between plan and apply one image goes (already
// done), protect.ids takes another and protect.tags a whole repository
// (skipped, in no call).
func kmTestECRBatches(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, acct = "us-east-1", awstest.AccountID
	direct := m.Config(t, region)
	images := map[string][]string{}
	for repo, n := range map[string]int{"app-a": 75, "app-b": 75, "app-c": 3} {
		awstest.CreateRepository(t, direct, repo, nil)
		for i := range n {
			images[repo] = append(images[repo], awstest.PushImage(t, direct, repo, "", fmt.Sprintf("%s-%d", repo, i), 1024))
		}
	}
	rc, rec := m.Recorded(t, region)
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{acct + "/" + region: rc}), WithChangeRef(kmChangeRef))
	cfg := kmParse(t, `version: 1
regions: [us-east-1]
max-actions: 500
protect: {tags: {broom:keep: "*"}}
rules:
  - name: untagged
    resource: ecr-image
    action: delete
    where: {untagged: true}
`)
	planned, err := e.Plan(t.Context(), cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(planned.Plan.Actions); n != 153 {
		t.Fatalf("plan: %d actions, want 153", n)
	}
	gone, kept := images["app-a"][0], images["app-a"][1]
	repo, digest, _ := strings.Cut(gone, "@")
	kmTry(ecr.NewFromConfig(direct).BatchDeleteImage(t.Context(), &ecr.BatchDeleteImageInput{
		RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digest)}},
	})).must(t, "delete "+gone)
	cfg.File.Protect.IDs = []string{kept}
	awstest.TagRepository(t, direct, "app-c", map[string]string{"broom:keep": "yes"})

	rec.Reset()
	applied := e.Apply(t.Context(), cfg, planned.Plan)
	status := map[string]string{}
	for _, a := range applied.Actions {
		status[a.ID] = fmt.Sprint(a.Status, " ", a.Error)
	}
	want := map[string]string{}
	for _, id := range append(images["app-a"], images["app-b"]...) {
		want[id] = "done "
	}
	want[gone] = "already-done "
	want[kept] = "skipped no longer planned: protected: id listed in protect.ids"
	for _, id := range images["app-c"] {
		want[id] = "skipped no longer planned: protected: tag broom:keep=yes"
	}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("apply (-want +got):\n%s", diff)
	}
	// app-a's 73 and app-b's 75 in one call each; app-c in none.
	if n := rec.Count("BatchDeleteImage"); n != 2 {
		t.Errorf("BatchDeleteImage calls = %d, want 2: one per repository of up to 100 images", n)
	}
	left := map[string][]string{}
	for repo := range images {
		left[repo] = awstest.ECRImages(t, direct, repo)
	}
	if diff := cmp.Diff(map[string][]string{"app-a": {kept}, "app-b": {}, "app-c": awstest.ECRImages(t, direct, "app-c")}, left); diff != "" {
		t.Errorf("images left (-want +got):\n%s", diff)
	}
	if n := len(left["app-c"]); n != 3 {
		t.Errorf("app-c has %d images left, want its 3", n)
	}
}
