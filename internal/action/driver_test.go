package action

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/resource"
)

// driverRun is one broom action run in-process, without AWS: its kinds
// are fakes, GitHub is prtest.
type driverRun struct {
	env     map[string]string
	connect func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error)
	logs    bytes.Buffer
	stdout  bytes.Buffer
}

func newDriverRun(t *testing.T, event string, payload map[string]any, config string) *driverRun {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "broom.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &driverRun{env: map[string]string{
		"GITHUB_EVENT_NAME": event, "GITHUB_OUTPUT": filepath.Join(dir, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "RUNNER_TEMP": dir, "INPUT_CONFIG": cfgPath,
		"GITHUB_WORKSPACE": dir,
	}}
	for _, f := range []string{d.env["GITHUB_OUTPUT"], d.env["GITHUB_STEP_SUMMARY"]} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if payload != nil {
		d.env["GITHUB_EVENT_PATH"] = prtest.WritePayload(t, payload)
	}
	d.connect = fakeCloud(manySnapshots{n: 2})
	return d
}

// fakeCloud connects to one account whose every kind is k.
func fakeCloud(k resource.Kind) func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error) {
	return func(_ context.Context, logger *slog.Logger, _ config.Config, _ Access, opts ...engine.Option) (Cloud, error) {
		kinds := func(name string) (resource.Spec, error) {
			return resource.Spec{Name: name, New: func(resource.Env) resource.Kind { return k }}, nil
		}
		load := func(context.Context, string, string) (aws.Config, error) { return aws.Config{}, nil }
		return Cloud{Engine: engine.New(logger, load, append(opts, engine.WithKinds(kinds))...), Accounts: []string{"123456789012"}}, nil
	}
}

func (d *driverRun) run(t *testing.T) (int, map[string]string) {
	t.Helper()
	code := Run(t.Context(), Env{Getenv: func(k string) string { return d.env[k] }, Stdout: &d.stdout,
		Logger: slog.New(slog.NewTextHandler(&d.logs, nil)), Connect: d.connect})
	return code, readOutputFile(t, d.env["GITHUB_OUTPUT"])
}

// readOutputFile parses GITHUB_OUTPUT's name<<DELIMITER blocks.
func readOutputFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

const driverConfig = "version: 1\nid: nightly\nregions: [us-east-1]\nrules:\n  - {name: old, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n"

// A panic anywhere in a run is a bug, reported as exit 1 with every output
// and the summary written: never exit 2 ("misuse") and never a bare stack.
func TestPanicIsAnUnexpectedFailureWithEveryOutput(t *testing.T) {
	t.Parallel()
	d := newDriverRun(t, "schedule", nil, driverConfig)
	d.connect = func(context.Context, *slog.Logger, config.Config, Access, ...engine.Option) (Cloud, error) {
		panic("kind table corrupted")
	}
	code, out := d.run(t)
	if code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	for _, k := range []string{"mode", "result", "fingerprint", "planned", "applied", "failed", "skipped", "plan-file", "report-file", "comment-url", "exit-code"} {
		if _, ok := out[k]; !ok {
			t.Errorf("output %s not written", k)
		}
	}
	if out["result"] != "error" || out["exit-code"] != "1" {
		t.Errorf("outputs result=%q exit-code=%q, want error and 1", out["result"], out["exit-code"])
	}
	if !strings.Contains(d.stdout.String(), "::error::internal error (a bug in broom") {
		t.Errorf("no error annotation for the panic in:\n%s", d.stdout.String())
	}
	if summary, _ := os.ReadFile(d.env["GITHUB_STEP_SUMMARY"]); !strings.Contains(string(summary), "internal error") {
		t.Errorf("job summary does not report the failure:\n%s", summary)
	}
	if !strings.Contains(d.logs.String(), "kind table corrupted") || !strings.Contains(d.logs.String(), "stack=") {
		t.Errorf("the log lacks the panic and its stack:\n%s", d.logs.String())
	}
}

// With comment: false broom has no GitHub client on a pull request: a
// synchronize with the approve label still on plans, writes its outputs,
// and says the stale label could not be removed (it used to panic).
func TestSynchronizeWithoutCommentsPlansAndNamesTheStaleLabel(t *testing.T) {
	t.Parallel()
	p := prtest.Payload(t, "pull_request", "synchronize")
	prtest.Set(p, "pull_request.labels", []any{map[string]any{"name": "broom:approved"}})
	d := newDriverRun(t, "pull_request", p, driverConfig)
	d.env["INPUT_COMMENT"] = "false"
	code, out := d.run(t)
	if code != ExitOK || out["result"] != "planned" || out["planned"] != "2" {
		t.Errorf("exit %d, outputs %v: want 0, planned, 2 actions", code, out)
	}
	if !strings.Contains(d.logs.String(), "stale approve label could not be removed") {
		t.Errorf("the log does not say the stale label stayed:\n%s", d.logs.String())
	}
	if summary, _ := os.ReadFile(d.env["GITHUB_STEP_SUMMARY"]); !strings.Contains(string(summary), "could not be removed (comment is false)") {
		t.Errorf("the job summary does not say the stale label stayed:\n%s", summary)
	}
}
