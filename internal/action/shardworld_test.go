package action

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/shard"
)

// shardPR is the pull request of the sharded-flow tests: dana's, at
// shardHead, approved by alice.
const (
	shardPR   = 9
	shardHead = "1111111111111111111111111111111111111111"
)

// shardWorld is one repository (the GitHub fake) and one workspace that
// every job of a sharded workflow shares, as their artifacts do.
type shardWorld struct {
	t   *testing.T
	gh  *prtest.Fake
	dir string // GITHUB_WORKSPACE
	cfg string // the config file's path
}

func newShardWorld(t *testing.T, cfg string) *shardWorld {
	t.Helper()
	w := &shardWorld{t: t, gh: prtest.New(t), dir: t.TempDir()}
	w.cfg = filepath.Join(w.dir, "broom.yml")
	if err := os.WriteFile(w.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w.gh.AddPR(prtest.PR{Number: shardPR, Author: "dana", HeadSHA: shardHead, HeadRepo: "acme/infra"})
	w.gh.SetPermission("alice", "write")
	w.gh.SetPermission("dana", "write")
	return w
}

// payload is a pull_request event of action on the PR.
func (w *shardWorld) payload(action string) map[string]any {
	p := prtest.Payload(w.t, "pull_request", action)
	prtest.Set(p, "number", shardPR)
	prtest.Set(p, "pull_request.number", shardPR)
	prtest.Set(p, "pull_request.user.login", "dana")
	prtest.Set(p, "pull_request.head.sha", shardHead)
	prtest.Set(p, "pull_request.head.repo.full_name", "acme/infra")
	prtest.Set(p, "pull_request.base.repo.full_name", "acme/infra")
	prtest.Set(p, "pull_request.labels", []any{})
	return p
}

// labeled is sender adding the approve label now, and its event.
func (w *shardWorld) labeled(sender string) map[string]any {
	w.gh.Advance(time.Minute)
	p := w.payload("labeled")
	prtest.Set(p, "label.name", approveLabel)
	prtest.Set(p, "sender.login", sender)
	prtest.Set(p, "sender.type", "User")
	prtest.Set(p, "pull_request.labels", []any{map[string]any{"name": approveLabel}})
	w.gh.AddLabel(shardPR, sender, approveLabel)
	return p
}

// job is one run of broom action in the workspace.
type job struct {
	code    int
	out     map[string]string
	logs    string
	stdout  string
	summary string
}

// run runs broom action for a pull_request event with inputs (INPUT_ is
// added); connect is the AWS side, nil for a job that must not touch AWS.
func (w *shardWorld) run(payload map[string]any, inputs map[string]string, connect func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error)) job {
	w.t.Helper()
	return w.runEvent("pull_request", payload, inputs, connect)
}

// runEvent is run for any event.
func (w *shardWorld) runEvent(event string, payload map[string]any, inputs map[string]string, connect func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error)) job {
	w.t.Helper()
	jobDir := w.t.TempDir() // each job its own output and summary files
	env := map[string]string{
		"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": prtest.WritePayload(w.t, payload), "GITHUB_SHA": shardHead,
		"GITHUB_OUTPUT": filepath.Join(jobDir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(jobDir, "summary"),
		"RUNNER_TEMP": jobDir, "GITHUB_WORKSPACE": w.dir, "INPUT_CONFIG": w.cfg, "INPUT_GITHUB-TOKEN": prtest.DefaultToken,
	}
	for k, v := range w.gh.Env() {
		env[k] = v
	}
	for k, v := range inputs {
		if name, ok := strings.CutPrefix(k, "env:"); ok { // a variable of the job, not an input
			env[name] = v
			continue
		}
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	for _, f := range []string{env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"]} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	if connect == nil {
		connect = noAWS(w.t)
	}
	var logs, stdout strings.Builder
	code := Run(w.t.Context(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Connect: connect})
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	j := job{code: code, out: readOutputFile(w.t, env["GITHUB_OUTPUT"]), logs: logs.String(), stdout: stdout.String(), summary: string(summary)}
	w.t.Logf("exit %d outputs %v\nlog:\n%s", j.code, j.out, j.logs)
	return j
}

// noAWS is a connection that fails the test: a job that must make no AWS
// call must not even connect.
func noAWS(t *testing.T) func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error) {
	return func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error) {
		t.Errorf("this job connected to AWS; it must make no AWS call")
		return Cloud{}, context.Canceled
	}
}

// sticky is broom's comment on the PR, or fails the test.
func (w *shardWorld) sticky() prtest.Comment {
	w.t.Helper()
	for _, c := range w.gh.Comments(shardPR) {
		if c.Author == prtest.DefaultLogin && strings.HasPrefix(c.Body, "<!-- broom:plan ") {
			return c
		}
	}
	w.t.Fatalf("no broom comment on #%d: %+v", shardPR, w.gh.Comments(shardPR))
	return prtest.Comment{}
}

// file reads the workspace file an output names.
func (w *shardWorld) file(j job, output string) []byte {
	w.t.Helper()
	rel := j.out[output]
	if rel == "" || !filepath.IsLocal(rel) {
		w.t.Fatalf("output %s = %q: want a path in the workspace", output, rel)
	}
	data, err := os.ReadFile(filepath.Join(w.dir, rel))
	if err != nil {
		w.t.Fatal(err)
	}
	return data
}

// decode decodes JSON data into v, or fails the test.
func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

func hasLabel(gh *prtest.Fake) bool {
	for _, l := range gh.Labels(shardPR) {
		if strings.EqualFold(l, approveLabel) {
			return true
		}
	}
	return false
}

// cmpIgnoreTime ignores approved_at, which is the time of the run.
func cmpIgnoreTime() cmp.Option {
	return cmpopts.IgnoreFields(shard.ApprovedFile{}, "ApprovedAt")
}

// says reports whether the job's log (annotations and the text report,
// not markdown-escaped) holds s.
func (j job) says(s string) bool { return strings.Contains(j.stdout, s) }
