// Package e2e runs the built broom binary as `broom action`, the way the
// Docker runner does, and as `broom plan` / `broom apply`, against moto (aged with libfaketime) behind a
// recording proxy and the OpenAPI-checked GitHub fake, with real webhook
// payloads from @octokit/webhooks-examples.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/testenv"
)

// binary is the broom built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "broom-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "broom")
	build := exec.Command("go", "build", "-o", binary, "../cmd/broom")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build broom:", err)
		os.Exit(1)
	}
	code := testenv.Main(m) // m.Run, then a line naming what was skipped
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	repo       = "acme/infra"
	headSHA    = "1111111111111111111111111111111111111111"
	newHeadSHA = "2222222222222222222222222222222222222222"
	prNumber   = 7
	author     = "dana"
)

// world is one scenario's AWS, GitHub and workspace.
type world struct {
	t      *testing.T
	moto   *awstest.Moto
	rec    *awstest.Recorder
	gh     *prtest.Fake
	aws    aws.Config // for seeding and checking, straight to moto
	volume string
	dir    string // workspace: holds .github/broom.yml
}

const defaultConfig = `version: 1
id: nightly
regions: [us-east-1]
max-actions: 50
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where:
      older-than: 30d
      tags: {Environment: ci}
`

func newWorld(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	w := &world{t: t, moto: awstest.StartMoto(t), gh: prtest.New(t), dir: t.TempDir()}
	w.rec = awstest.NewRecorder(t, w.moto.URL())
	w.aws = w.moto.Config(t, "us-east-1")
	w.volume = awstest.CreateVolume(t, w.aws, 8, "us-east-1a")
	w.setupGitHub()
	return w
}

// newWorldWithoutAWS is a world for runs that must not reach AWS at all:
// its recorder forwards to a closed port, and tests assert it saw nothing.
// It starts no moto, which keeps the suite fast.
func newWorldWithoutAWS(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	w := &world{t: t, gh: prtest.New(t), dir: t.TempDir()}
	w.rec = awstest.NewRecorder(t, "http://127.0.0.1:1")
	w.setupGitHub()
	return w
}

// env is the AWS part of a broom process's environment: every call goes
// to the recorder (which forwards to moto, or to a closed port in a world
// without AWS).
func (w *world) env() []string { return awstest.Env(w.rec.URL()) }

// cliEnv is the environment of broom run on an operator's command line:
// AWS's, PATH, a HOME of its own, a wide terminal, and extra ("K=V").
func (w *world) cliEnv(extra ...string) []string {
	env := append(w.env(), "PATH="+os.Getenv("PATH"), "HOME="+w.t.TempDir(), "COLUMNS=200")
	return append(env, extra...)
}

// runner is what the GitHub runner gives one `broom action` step: a
// directory of its own (RUNNER_TEMP, and HOME) and the files behind
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
type runner struct {
	tmp, output, summary string
	workspace            string // GITHUB_WORKSPACE
}

// actionEnv is the environment of `broom action` run by the GitHub runner
// for event with payload (no GITHUB_EVENT_PATH if nil) and inputs (as
// INPUT_<NAME>), with AWS's and the GitHub fake's variables; and the
// runner's files, created empty.
func (w *world) actionEnv(event string, payload map[string]any, inputs map[string]string) ([]string, runner) {
	w.t.Helper()
	tmp := w.t.TempDir()
	rn := runner{tmp: tmp, output: filepath.Join(tmp, "output"), summary: filepath.Join(tmp, "summary"), workspace: w.dir}
	for _, f := range []string{rn.output, rn.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	env := append(w.env(),
		"PATH="+os.Getenv("PATH"),
		"HOME="+tmp,
		"GITHUB_ACTIONS=true",
		"GITHUB_EVENT_NAME="+event,
		"GITHUB_OUTPUT="+rn.output,
		"GITHUB_STEP_SUMMARY="+rn.summary,
		"GITHUB_RUN_ID=4242",
		"GITHUB_SHA="+headSHA,
		"RUNNER_TEMP="+tmp,
		"GITHUB_WORKSPACE="+w.dir,
		"INPUT_GITHUB-TOKEN="+prtest.DefaultToken,
	)
	if payload != nil {
		env = append(env, "GITHUB_EVENT_PATH="+prtest.WritePayload(w.t, payload))
	}
	for k, v := range w.gh.Env() {
		env = append(env, k+"="+v)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	return env, rn
}

// read fills r's outputs and summary from what the step wrote to the
// runner's files.
func (rn runner) read(t *testing.T, r *result) {
	t.Helper()
	r.outputs = readOutputs(t, rn.output)
	s, _ := os.ReadFile(rn.summary)
	r.summary = string(s)
	r.workspace = rn.workspace
}

func (w *world) setupGitHub() {
	w.writeConfig(defaultConfig)
	w.gh.AddPR(prtest.PR{Number: prNumber, Author: author, HeadSHA: headSHA, HeadRepo: repo, Title: "Clean up"})
	w.gh.SetPermission("alice", "write")
	w.gh.SetPermission("tom", "triage")
	w.gh.SetPermission(author, "write")
}

func (w *world) writeConfig(body string) {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Join(w.dir, ".github"), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, ".github", "broom.yml"), []byte(body), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// snapshot creates a snapshot with tags, aged by age (e.g. "-400d" or "+0").
func (w *world) snapshot(age string, tags map[string]string) string {
	w.t.Helper()
	w.moto.SetClock(age)
	defer w.moto.SetClock("+0")
	return awstest.CreateSnapshot(w.t, w.aws, w.volume, tags)
}

func (w *world) exists(id string) bool {
	_, ok := awstest.Snapshots(w.t, w.aws)[id]
	return ok
}

// prPayload is a real pull_request example adjusted to this world's PR.
func (w *world) prPayload(action string) map[string]any {
	p := prtest.Payload(w.t, "pull_request", action)
	prtest.Set(p, "number", prNumber)
	prtest.Set(p, "pull_request.number", prNumber)
	prtest.Set(p, "pull_request.user.login", author)
	prtest.Set(p, "pull_request.head.sha", headSHA)
	prtest.Set(p, "pull_request.head.repo.full_name", repo)
	prtest.Set(p, "pull_request.base.repo.full_name", repo)
	prtest.Set(p, "pull_request.labels", []any{})
	prtest.Set(p, "repository.full_name", repo)
	return p
}

// labeled is sender adding label to the PR now, and the event's payload.
func (w *world) labeled(sender, label string) map[string]any {
	p := w.prPayload("labeled")
	prtest.Set(p, "label.name", label)
	prtest.Set(p, "sender.login", sender)
	prtest.Set(p, "sender.type", "User")
	prtest.Set(p, "pull_request.labels", []any{map[string]any{"name": label}})
	w.gh.AddLabel(prNumber, sender, label) // as a person does: a labeled event by sender
	return p
}

// result is what one broom run left behind.
type result struct {
	code           int
	outputs        map[string]string
	stdout, stderr string
	summary        string
	workspace      string // GITHUB_WORKSPACE: file outputs are relative to it
}

// file reads the file an output names, relative to the workspace as a
// later step of the job would (SPEC §4).
func (r result) file(t *testing.T, output string) []byte {
	t.Helper()
	rel := r.outputs[output]
	if !filepath.IsLocal(rel) {
		t.Fatalf("output %s = %q: want a path inside the workspace, relative to it", output, rel)
	}
	data, err := os.ReadFile(filepath.Join(r.workspace, rel))
	if err != nil {
		t.Fatalf("output %s: %v", output, err)
	}
	return data
}

// run runs `broom action` for event with payload and extra inputs.
func (w *world) run(event string, payload map[string]any, inputs map[string]string) result {
	w.t.Helper()
	return w.runEnv(event, payload, inputs)
}

// runEnv is run with extra environment variables, which win over the
// runner's (the last of duplicate variables counts).
func (w *world) runEnv(event string, payload map[string]any, inputs map[string]string, extra ...string) result {
	w.t.Helper()
	env, rn := w.actionEnv(event, payload, inputs)
	r := w.exec(append(env, extra...), "action")
	rn.read(w.t, &r)
	return r
}

// cli runs broom on the command line (plan, apply, …) in the workspace,
// as an operator would, with only AWS's environment.
func (w *world) cli(args ...string) result {
	w.t.Helper()
	return w.exec(w.cliEnv(), args...)
}

// exec runs the broom binary in the workspace with env.
func (w *world) exec(env []string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir, cmd.Env = w.dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		w.t.Fatalf("run broom: %v", err)
	}
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), workspace: w.dir}
	w.t.Logf("broom %s exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// readOutputs parses GITHUB_OUTPUT's name<<DELIMITER … DELIMITER blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not name<<delimiter", sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[name] = strings.Join(lines, "\n")
	}
	return out
}

// want checks outputs by name.
func (r result) want(t *testing.T, code int, outputs map[string]string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d", r.code, code)
	}
	for k, v := range outputs {
		if got, ok := r.outputs[k]; !ok || got != v {
			t.Errorf("output %s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if r.outputs["exit-code"] != fmt.Sprint(r.code) {
		t.Errorf("output exit-code = %q, process exited %d", r.outputs["exit-code"], r.code)
	}
}

// stickyComments returns the comments on the PR that carry broom's marker.
func (w *world) stickyComments() []prtest.Comment {
	var out []prtest.Comment
	for _, c := range w.gh.Comments(prNumber) {
		if strings.HasPrefix(c.Body, "<!-- broom:plan ") && c.Author == prtest.DefaultLogin {
			out = append(out, c)
		}
	}
	return out
}

func (w *world) noMutatingCalls() {
	w.t.Helper()
	if m := w.rec.Mutating(); len(m) > 0 {
		w.t.Errorf("a run that must not change anything made mutating AWS calls: %v", m)
	}
}
