package action

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/resource"
)

// manySnapshots is a kind that lists n old snapshots and deletes nothing.
type manySnapshots struct{ n int }

func (k manySnapshots) List(context.Context) ([]plan.Resource, error) {
	out := make([]plan.Resource, k.n)
	for i := range out {
		out[i] = plan.Resource{ID: fmt.Sprintf("snap-%017d", i), Created: time.Now().Add(-400 * 24 * time.Hour),
			Tags: map[string]string{"Environment": "ci"}, MonthlyCostUSD: float64(i%50) / 10,
			Details: map[string]string{"size": fmt.Sprintf("%d GiB", i%50)}}
	}
	return out, nil
}
func (manySnapshots) Get(context.Context, string) (plan.Resource, bool, error) {
	return plan.Resource{}, false, nil
}
func (manySnapshots) Do(context.Context, plan.Action) error { return fmt.Errorf("not in this test") }

// A plan of 20,000 actions still gives one valid sticky comment under
// GitHub's limit, with the right counts and a pointer to the full plan.
// No AWS: the kind is a fake that lists 20,000.
func TestPlanOf20000FitsTheComment(t *testing.T) {
	t.Parallel()
	const n = 20000
	gh := prtest.New(t)
	gh.AddPR(prtest.PR{Number: 9, Author: "dana", HeadSHA: strings.Repeat("1", 40), HeadRepo: "acme/infra"})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "broom.yml")
	os.WriteFile(cfgPath, []byte("version: 1\nid: big\nregions: [us-east-1]\nmax-actions: 50000\nrules:\n  - {name: old, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n"), 0o644)
	payload := prtest.Payload(t, "pull_request", "opened")
	prtest.Set(payload, "pull_request.number", 9)
	prtest.Set(payload, "pull_request.head.sha", strings.Repeat("1", 40))
	outFile, summaryFile := filepath.Join(dir, "out"), filepath.Join(dir, "summary")
	env := map[string]string{
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": prtest.WritePayload(t, payload),
		"GITHUB_OUTPUT": outFile, "GITHUB_STEP_SUMMARY": summaryFile, "RUNNER_TEMP": dir, "GITHUB_WORKSPACE": dir,
		"INPUT_CONFIG": cfgPath, "INPUT_GITHUB-TOKEN": prtest.DefaultToken,
	}
	for k, v := range gh.Env() {
		env[k] = v
	}
	kinds := func(name string) (resource.Spec, error) {
		return resource.Spec{Name: name, New: func(resource.Env) resource.Kind { return manySnapshots{n: n} }}, nil
	}
	connect := func(_ context.Context, logger *slog.Logger, _ config.Config, _ Access, opts ...engine.Option) (Cloud, error) {
		load := func(context.Context, string, string) (aws.Config, error) { return aws.Config{}, nil }
		return Cloud{Engine: engine.New(logger, load, append(opts, engine.WithKinds(kinds))...), Accounts: []string{"123456789012"}}, nil
	}
	var stdout bytes.Buffer
	code := Run(t.Context(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout,
		Logger: slog.New(slog.DiscardHandler), Connect: connect})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	comments := gh.Comments(9)
	if len(comments) != 1 {
		t.Fatalf("%d comments, want 1", len(comments))
	}
	body := comments[0].Body
	if len(body) > report.CommentLimit {
		t.Errorf("comment is %d bytes, over GitHub's %d", len(body), report.CommentLimit)
	}
	if m, ok := pr.ParseMarker(body); !ok || m.ID != "big" {
		t.Errorf("no marker on the first line")
	}
	for _, want := range []string{"Plan: 20000 to delete", "more rows not shown", "plan-file", "| old | ebs-snapshot | delete | 20000 |"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	summary, _ := os.ReadFile(summaryFile)
	if len(summary) > report.SummaryLimit || !strings.Contains(string(summary), "Plan: 20000 to delete") {
		t.Errorf("job summary is %d bytes (limit %d) or lacks the summary line", len(summary), report.SummaryLimit)
	}
}
