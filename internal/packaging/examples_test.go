package packaging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"

	"github.com/broom-dev/broom/internal/cli"
)

// The names every example shares: the approve label's default, the
// protected environment the apply role trusts, and the two roles.
const (
	approveLabel = "broom:approved"
	applyEnv     = "broom-apply"
	planRole     = "arn:aws:iam::123456789012:role/broom-plan"
	applyRole    = "arn:aws:iam::123456789012:role/broom-apply"
	accountLock  = "broom-123456789012"
)

// exampleWorkflows names each example workflow by the README section that
// shows it.
var exampleWorkflows = map[string]string{
	"pull-request.yml": "### Pull requests: plan in a comment, apply on approval",
	"nightly.yml":      "### Nightly schedule with a tracking issue",
	"dispatch.yml":     "### Manual runs (workflow_dispatch)",
	"organization.yml": "#### An organization in shards",
}

func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseYAML(t, file, string(data))
}

func parseYAML(t *testing.T, name, doc string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{filepath.Join(root, "examples", "workflows"), filepath.Join(root, ".github", "workflows")} {
		for _, ext := range []string{"*.yml", "*.yaml"} {
			m, err := filepath.Glob(filepath.Join(dir, ext))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m...)
		}
	}
	if len(files) < len(exampleWorkflows) {
		t.Fatalf("found only %d workflow files", len(files))
	}
	return files
}

func jobsOf(wf map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	jobs, _ := wf["jobs"].(map[string]any)
	for name, j := range jobs {
		job, _ := j.(map[string]any)
		out[name] = job
	}
	return out
}

// TestWorkflowConcurrencyNotAtWorkflowLevel: no workflow, example or our
// own, has a workflow-level concurrency group together with a job-level
// `if:`. GitHub claims a workflow-level group before it evaluates the jobs'
// `if:`, and a newer pending run cancels an older pending one: a run every
// job of which is skipped (say, for an unrelated label) would still cancel a
// queued approval. Concurrency belongs on the jobs (SPEC §11).
func TestWorkflowConcurrencyNotAtWorkflowLevel(t *testing.T) {
	t.Parallel()
	for _, file := range workflowFiles(t) {
		wf := readYAML(t, file)
		if _, ok := wf["concurrency"]; !ok {
			continue
		}
		for name, job := range jobsOf(wf) {
			if _, ok := job["if"]; ok {
				t.Errorf("%s: workflow-level concurrency and job %s has an if: a run whose jobs are all skipped would still claim the group and cancel a pending run; put concurrency on the jobs", file, name)
			}
		}
	}
}

// step is one step of a job, as the checks below see it.
type step struct {
	uses string
	with map[string]any
	env  map[string]any
}

func stepsOf(job map[string]any) []step {
	var out []step
	list, _ := job["steps"].([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		uses, _ := m["uses"].(string)
		with, _ := m["with"].(map[string]any)
		env, _ := m["env"].(map[string]any)
		out = append(out, step{uses: uses, with: with, env: env})
	}
	return out
}

var broomAction = regexp.MustCompile(`^[\w.-]+/broom@`)

// broomStep returns the inputs of a job's broom step, nil when none.
func broomStep(job map[string]any) map[string]any {
	for _, s := range stepsOf(job) {
		if broomAction.MatchString(s.uses) {
			if s.with == nil {
				return map[string]any{}
			}
			return s.with
		}
	}
	return nil
}

// role returns the role a job assumes, "" when none.
func role(job map[string]any) string {
	for _, s := range stepsOf(job) {
		if strings.HasPrefix(s.uses, "aws-actions/configure-aws-credentials@") {
			r, _ := s.with["role-to-assume"].(string)
			return r
		}
	}
	return ""
}

// awsCredentials lists how a job could reach AWS: an OIDC token, a
// credentials action, AWS_* variables.
func awsCredentials(job map[string]any) []string {
	var out []string
	if perms, _ := job["permissions"].(map[string]any); perms["id-token"] != nil && perms["id-token"] != "none" {
		out = append(out, "permission id-token: "+fmt.Sprint(perms["id-token"]))
	}
	envs := []map[string]any{}
	if e, ok := job["env"].(map[string]any); ok {
		envs = append(envs, e)
	}
	for _, s := range stepsOf(job) {
		if strings.HasPrefix(s.uses, "aws-actions/") {
			out = append(out, "step "+s.uses)
		}
		envs = append(envs, s.env)
	}
	for _, e := range envs {
		for k := range e {
			if strings.HasPrefix(k, "AWS_") {
				out = append(out, "variable "+k)
			}
		}
	}
	return out
}

// matrixShards returns a job's matrix of shard numbers, nil when it has none.
func matrixShards(job map[string]any) []any {
	strategy, _ := job["strategy"].(map[string]any)
	matrix, _ := strategy["matrix"].(map[string]any)
	shards, _ := matrix["shard"].([]any)
	return shards
}

// TestExampleWorkflowsSafe: each example keeps its plan and apply apart as
// the README's security model asks: a read-only plan job with the plan
// role; an apply job only in the broom-apply environment with the apply
// role, started only by the approve label (or mode apply), holding the
// account's lock (or, applying a shard, its slice's lock) without
// cancelling; jobs that merge shard files or run the gate get no AWS
// credentials at all; least permissions per job; checkout without
// persisted credentials.
func TestExampleWorkflowsSafe(t *testing.T) {
	t.Parallel()
	for file := range exampleWorkflows {
		wf := readYAML(t, filepath.Join(root, "examples", "workflows", file))
		if p, ok := wf["permissions"].(map[string]any); !ok || len(p) != 0 {
			t.Errorf("%s: want `permissions: {}` at the workflow level (each job asks for its own), got %v", file, wf["permissions"])
		}
		if _, ok := wf["concurrency"]; ok {
			t.Errorf("%s: workflow-level concurrency; put it on the jobs", file)
		}
		var plans, applies int
		for name, job := range jobsOf(wf) {
			where := file + " job " + name
			perms, ok := job["permissions"].(map[string]any)
			if !ok {
				t.Errorf("%s: no permissions of its own", where)
			}
			for scope, level := range perms {
				if level == "write" && !slices.Contains([]string{"id-token", "pull-requests", "issues"}, scope) {
					t.Errorf("%s: %s: write is more than broom needs", where, scope)
				}
			}
			for _, s := range stepsOf(job) {
				if strings.HasPrefix(s.uses, "actions/checkout@") && fmt.Sprint(s.with["persist-credentials"]) != "false" {
					t.Errorf("%s: actions/checkout without persist-credentials: false leaves the token in .git/config", where)
				}
			}
			inputs := broomStep(job)
			mode, _ := inputs["mode"].(string)
			shard, sharded := inputs["shard"].(string)
			cond, _ := job["if"].(string)
			env, _ := job["environment"].(string)
			conc, _ := job["concurrency"].(map[string]any)
			if sharded && (len(matrixShards(job)) == 0 || !strings.Contains(shard, "${{ matrix.shard }}")) {
				t.Errorf("%s: shard %q is not taken from a matrix of shards", where, shard)
			}
			switch role(job) {
			case planRole:
				plans++
				if env != "" {
					t.Errorf("%s: the plan job runs in environment %q; the plan role trusts pull_request and main runs", where, env)
				}
				if mode != "plan" {
					t.Errorf("%s: the plan job runs broom with mode %q, want plan", where, mode)
				}
				if perms["id-token"] != "write" {
					t.Errorf("%s: the plan job needs id-token: write for OIDC", where)
				}
				if conc != nil && conc["group"] == accountLock {
					t.Errorf("%s: a plan job in the account's group could cancel a pending apply", where)
				}
			case applyRole:
				applies++
				if env != applyEnv {
					t.Errorf("%s: the apply role is assumed outside environment %s (environment: %q)", where, applyEnv, env)
				}
				if mode == "plan" {
					t.Errorf("%s: the apply job runs broom with mode plan", where)
				}
				group, _ := conc["group"].(string)
				// A sharded apply's jobs run side by side, so each holds its
				// slice's group: one group for all would let the third job
				// cancel the second, pending one.
				if sharded && !strings.Contains(group, "${{ matrix.shard }}") {
					t.Errorf("%s: concurrency group %q, want one per slice (with ${{ matrix.shard }})", where, group)
				}
				if conc == nil || (!sharded && group != accountLock) || conc["cancel-in-progress"] != false {
					t.Errorf("%s: concurrency %v, want group %s (or one per slice) with cancel-in-progress: false", where, conc, accountLock)
				}
				_, onLabel := wf["on"].(map[string]any)["workflow_dispatch"]
				if !onLabel && !strings.Contains(cond, "github.event.label.name == '"+approveLabel+"'") {
					t.Errorf("%s: if: %q does not restrict the apply job to the %s label", where, cond, approveLabel)
				}
				if onLabel && !strings.Contains(cond, "inputs.mode == 'apply'") {
					t.Errorf("%s: if: %q does not restrict the apply job to mode apply", where, cond)
				}
				if sharded && inputs["approved"] == nil {
					t.Errorf("%s: a sharded apply without approved: it would have no approved slice to compare", where)
				}
			case "":
				// Merging shard files and the gate need GitHub only: a job
				// that has no reason to reach AWS must not be able to.
				if inputs["merge"] == nil && mode != "gate" {
					t.Errorf("%s: assumes no role, and is neither a merge nor the gate", where)
				}
				if c := awsCredentials(job); len(c) > 0 {
					t.Errorf("%s: a merge or gate job makes no AWS call, but it could reach AWS: %v", where, c)
				}
				if env != "" {
					t.Errorf("%s: a job without AWS runs in environment %q", where, env)
				}
			default:
				t.Errorf("%s: assumes role %q, neither %s nor %s", where, role(job), planRole, applyRole)
			}
			if cond == "" {
				t.Errorf("%s: no if: every job runs for one kind of event only", where)
			}
		}
		if plans != 1 || applies != 1 {
			t.Errorf("%s: %d plan and %d apply jobs, want one each", file, plans, applies)
		}
	}
}

// artifactPin is an artifact action pinned to a commit, as release.yml
// pins them: a tag can be moved to other code, a commit cannot.
var artifactPin = regexp.MustCompile(`^actions/(upload|download)-artifact@[0-9a-f]{40}$`)

// stepUsing returns the with: of a job's first step using action (a
// prefix such as "actions/upload-artifact@"), and its if:.
func stepUsing(t *testing.T, where string, job map[string]any, action string) (with map[string]any, cond string) {
	t.Helper()
	list, _ := job["steps"].([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		if uses, _ := m["uses"].(string); strings.HasPrefix(uses, action) {
			if strings.Contains(action, "-artifact@") && !artifactPin.MatchString(uses) {
				t.Errorf("%s: %s is not pinned to a commit", where, uses)
			}
			with, _ = m["with"].(map[string]any)
			cond, _ = m["if"].(string)
			return with, cond
		}
	}
	t.Errorf("%s: no step uses %s", where, action)
	return map[string]any{}, ""
}

// artifactMatches reports whether an artifact uploaded as name (a matrix
// job's, "${{ matrix.shard }}" in it) is one a download of pattern gets.
func artifactMatches(pattern, name string) bool {
	ok, err := path.Match(pattern, strings.ReplaceAll(name, "${{ matrix.shard }}", "1"))
	return err == nil && ok
}

// TestOrganizationWorkflowFlow: organization.yml passes the files from job
// to job as the sharded flow needs (README: An organization in shards):
// each plan shard uploads its plan file and the merge job merges exactly
// what it downloaded; the gate publishes the approved plan and every apply
// shard gets it; the results job runs whatever the apply shards did, once
// the gate approved, and merges every result. Both matrices have the same
// shards, 1 to N, each shard K/N.
func TestOrganizationWorkflowFlow(t *testing.T) {
	t.Parallel()
	const file = "organization.yml"
	jobs := jobsOf(readYAML(t, filepath.Join(root, "examples", "workflows", file)))
	for _, name := range []string{"plan", "merge", "gate", "apply", "results"} {
		if jobs[name] == nil {
			t.Fatalf("%s: no job %s", file, name)
		}
	}
	needs := func(name string) []string {
		switch n := jobs[name]["needs"].(type) {
		case string:
			return []string{n}
		case []any:
			var out []string
			for _, v := range n {
				out = append(out, fmt.Sprint(v))
			}
			return out
		}
		return nil
	}
	cond := func(name string) string {
		s, _ := jobs[name]["if"].(string)
		return strings.Join(strings.Fields(s), " ")
	}

	// The two matrices: shards 1..N, each broom run given K/N.
	var count int
	for _, name := range []string{"plan", "apply"} {
		where := file + " job " + name
		shards := matrixShards(jobs[name])
		for i, k := range shards {
			if fmt.Sprint(k) != fmt.Sprint(i+1) {
				t.Errorf("%s: matrix shard %v, want 1 to %d in order", where, shards, len(shards))
				break
			}
		}
		if count == 0 {
			count = len(shards)
		}
		if len(shards) < 2 || len(shards) != count {
			t.Errorf("%s: %d shards, want at least 2 and the same number in both matrices (%d)", where, len(shards), count)
		}
		if got, want := broomStep(jobs[name])["shard"], fmt.Sprintf("${{ matrix.shard }}/%d", len(shards)); got != want {
			t.Errorf("%s: shard %v, want %s", where, got, want)
		}
		if s, _ := jobs[name]["strategy"].(map[string]any); s["fail-fast"] != false {
			t.Errorf("%s: fail-fast is not false: one failing shard would cancel the others", where)
		}
	}

	// plan → merge: what each shard uploads is what the merge downloads and merges.
	upload, uploadIf := stepUsing(t, file+" job plan", jobs["plan"], "actions/upload-artifact@")
	if upload["path"] != "${{ steps.broom.outputs.plan-file }}" || upload["include-hidden-files"] != true || uploadIf != "${{ !cancelled() }}" {
		t.Errorf("%s job plan: uploads %v if %q; want the plan-file output, hidden files included, also after a failure", file, upload, uploadIf)
	}
	download, _ := stepUsing(t, file+" job merge", jobs["merge"], "actions/download-artifact@")
	pattern, _ := download["pattern"].(string)
	if !artifactMatches(pattern, fmt.Sprint(upload["name"])) || download["name"] != nil {
		t.Errorf("%s job merge: downloads %v; want every artifact the plan shards upload (%v), each in its folder", file, download, upload["name"])
	}
	if got, want := broomStep(jobs["merge"])["merge"], fmt.Sprint(download["path"])+"/*/*.json"; got != want {
		t.Errorf("%s job merge: merge %v, want %s: the files it downloaded", file, got, want)
	}
	if !slices.Contains(needs("merge"), "plan") || !strings.Contains(cond("merge"), "!cancelled()") {
		t.Errorf("%s job merge: needs %v if %q; want it after the plan shards, also when one failed", file, needs("merge"), cond("merge"))
	}

	// gate → apply: the approved plan the gate publishes is what every shard applies.
	if broomStep(jobs["gate"])["mode"] != "gate" {
		t.Errorf("%s job gate: broom mode %v, want gate", file, broomStep(jobs["gate"])["mode"])
	}
	outputs, _ := jobs["gate"]["outputs"].(map[string]any)
	if outputs["result"] != "${{ steps.broom.outputs.result }}" || outputs["approved-file"] != "${{ steps.broom.outputs.approved-file }}" {
		t.Errorf("%s job gate: outputs %v; want broom's result and approved-file", file, outputs)
	}
	approved, _ := stepUsing(t, file+" job gate", jobs["gate"], "actions/upload-artifact@")
	if approved["path"] != "${{ steps.broom.outputs.approved-file }}" || approved["include-hidden-files"] != true {
		t.Errorf("%s job gate: uploads %v, want the approved-file output, hidden files included", file, approved)
	}
	got, _ := stepUsing(t, file+" job apply", jobs["apply"], "actions/download-artifact@")
	if got["name"] != approved["name"] || got["path"] != ".broom" {
		t.Errorf("%s job apply: downloads %v; want artifact %v into .broom, where the gate's approved-file output names it", file, got, approved["name"])
	}
	if broomStep(jobs["apply"])["approved"] != "${{ needs.gate.outputs.approved-file }}" {
		t.Errorf("%s job apply: approved %v, want the gate's approved-file", file, broomStep(jobs["apply"])["approved"])
	}
	if !slices.Contains(needs("apply"), "gate") || !strings.Contains(cond("apply"), "needs.gate.outputs.result == 'approved'") {
		t.Errorf("%s job apply: needs %v if %q; want it only after the gate approved", file, needs("apply"), cond("apply"))
	}

	// apply → results: every shard's result, whatever it was, merged once the gate approved.
	result, resultIf := stepUsing(t, file+" job apply", jobs["apply"], "actions/upload-artifact@")
	if result["path"] != "${{ steps.broom.outputs.plan-file }}" || result["include-hidden-files"] != true || resultIf != "${{ !cancelled() }}" {
		t.Errorf("%s job apply: uploads %v if %q; want the plan-file output, hidden files included, also after drift or a failure", file, result, resultIf)
	}
	results, _ := stepUsing(t, file+" job results", jobs["results"], "actions/download-artifact@")
	pattern, _ = results["pattern"].(string)
	if !artifactMatches(pattern, fmt.Sprint(result["name"])) || artifactMatches(pattern, fmt.Sprint(upload["name"])) || results["name"] != nil {
		t.Errorf("%s job results: downloads %v; want every apply shard's result (%v) and no plan shard's", file, results, result["name"])
	}
	if got, want := broomStep(jobs["results"])["merge"], fmt.Sprint(results["path"])+"/*/*.json"; got != want {
		t.Errorf("%s job results: merge %v, want %s: the files it downloaded", file, got, want)
	}
	for _, want := range []string{"always()", "needs.gate.outputs.result == 'approved'", "github.event.label.name == '" + approveLabel + "'"} {
		if !strings.Contains(cond("results"), want) {
			t.Errorf("%s job results: if %q does not say %s", file, cond("results"), want)
		}
	}
	if n := needs("results"); !slices.Contains(n, "gate") || !slices.Contains(n, "apply") {
		t.Errorf("%s job results: needs %v, want gate and apply", file, n)
	}
	for _, name := range []string{"merge", "results"} {
		if m := broomStep(jobs[name])["mode"]; m == "apply" || m == "gate" {
			t.Errorf("%s job %s: merge with mode %v", file, name, m)
		}
	}
}

// workflowShape is what the README's snippet of a workflow must agree with
// its example on: the triggers, and per job its condition, environment,
// permissions, concurrency, role, what it needs and passes on, and how it
// runs checkout, broom and the artifact actions.
func workflowShape(wf map[string]any) map[string]any {
	on := map[string]any{}
	if m, ok := wf["on"].(map[string]any); ok {
		for ev, v := range m {
			types := any(nil)
			if c, ok := v.(map[string]any); ok {
				types = c["types"]
			}
			on[ev] = types
		}
	}
	jobs := map[string]any{}
	for name, job := range jobsOf(wf) {
		j := map[string]any{
			"if":          strings.Join(strings.Fields(fmt.Sprint(job["if"])), " "),
			"environment": job["environment"],
			"permissions": job["permissions"],
			"concurrency": job["concurrency"],
			"role":        role(job),
			"needs":       job["needs"],
			"outputs":     job["outputs"],
			"shards":      matrixShards(job),
		}
		var artifacts []any
		for _, s := range stepsOf(job) {
			switch {
			case strings.HasPrefix(s.uses, "actions/checkout@"):
				j["checkout"] = s.with
			case broomAction.MatchString(s.uses):
				for _, input := range []string{"mode", "tracking-issue", "shard", "merge", "approved"} {
					j["broom "+input] = s.with[input]
				}
			case strings.HasPrefix(s.uses, "actions/upload-artifact@"), strings.HasPrefix(s.uses, "actions/download-artifact@"):
				artifacts = append(artifacts, map[string]any{"uses": s.uses, "name": s.with["name"], "pattern": s.with["pattern"], "path": s.with["path"]})
			}
		}
		j["artifacts"] = artifacts
		jobs[name] = j
	}
	return map[string]any{
		"on":                   on,
		"permissions":          wf["permissions"],
		"workflow concurrency": wf["concurrency"],
		"jobs":                 jobs,
	}
}

// readmeSection returns the README's text from heading to the next heading
// of the same or a higher level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md: no section %q", heading)
	}
	rest := text[i+1+len(heading):]
	level := strings.Index(heading, " ")
	next := regexp.MustCompile(`\n#{1,` + fmt.Sprint(level) + `} `).FindStringIndex(rest)
	if next != nil {
		rest = rest[:next[0]]
	}
	return rest
}

// TestREADMEWorkflowsMatchExamples: the workflow shown in each README
// section agrees with its example file in everything that makes it safe.
func TestREADMEWorkflowsMatchExamples(t *testing.T) {
	t.Parallel()
	for file, heading := range exampleWorkflows {
		blocks := regexp.MustCompile("(?s)```ya?ml\n(.*?)```").FindAllStringSubmatch(readmeSection(t, heading), -1)
		if len(blocks) != 1 {
			t.Errorf("README.md %s: want one yaml block, found %d", heading, len(blocks))
			continue
		}
		got := workflowShape(parseYAML(t, "README.md "+heading, blocks[0][1]))
		want := workflowShape(readYAML(t, filepath.Join(root, "examples", "workflows", file)))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("README.md %s disagrees with examples/workflows/%s (-example +README):\n%s", heading, file, diff)
		}
	}
}

// iamPolicy runs `broom iam-policy args…` in-process and returns stdout.
func iamPolicy(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"iam-policy"}, args...), cli.IO{
		Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
		IsTerminal: func() bool { return false },
	})
	if code != 0 {
		t.Fatalf("broom iam-policy %q: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestExampleIAMPolicies: the permission policies under examples/iam are
// exactly what `broom iam-policy` prints today for examples/broom.yml, so
// they cannot drift from the code.
func TestExampleIAMPolicies(t *testing.T) {
	t.Parallel()
	config := filepath.Join(root, "examples", "broom.yml")
	for file, args := range map[string][]string{
		"apply-role-policy.json": {"--config", config},
		"plan-role-policy.json":  {"--config", config, "--plan-only"},
	} {
		data, err := os.ReadFile(filepath.Join(root, "examples", "iam", file))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(iamPolicy(t, args...), string(data)); diff != "" {
			t.Errorf("examples/iam/%s is not what `broom iam-policy %s` prints (-printed +file); regenerate it:\n%s",
				file, strings.Join(args[2:], " "), diff)
		}
	}
}

// TestExampleTrustPolicies: the plan role trusts this repository's
// pull_request runs and runs on main; the apply role trusts only jobs in
// the broom-apply environment. Both are for GitHub's OIDC provider and the
// STS audience.
func TestExampleTrustPolicies(t *testing.T) {
	t.Parallel()
	type statement struct {
		Sid       string
		Effect    string
		Principal struct{ Federated string }
		Action    string
		Condition map[string]map[string]any
	}
	for file, want := range map[string][]string{
		"plan-role-trust.json":  {"repo:OWNER/REPO:pull_request", "repo:OWNER/REPO:ref:refs/heads/main"},
		"apply-role-trust.json": {"repo:OWNER/REPO:environment:" + applyEnv},
	} {
		data, err := os.ReadFile(filepath.Join(root, "examples", "iam", file))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Version   string
			Statement []statement
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("examples/iam/%s: %v", file, err)
		}
		if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
			t.Fatalf("examples/iam/%s: want Version 2012-10-17 and one statement", file)
		}
		s := doc.Statement[0]
		if s.Effect != "Allow" || s.Action != "sts:AssumeRoleWithWebIdentity" ||
			!regexp.MustCompile(`^arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$`).MatchString(s.Principal.Federated) {
			t.Errorf("examples/iam/%s: not an Allow of sts:AssumeRoleWithWebIdentity for GitHub's OIDC provider: %+v", file, s)
		}
		if len(s.Condition) != 1 || s.Condition["StringEquals"] == nil {
			t.Fatalf("examples/iam/%s: want exactly one StringEquals condition (no wildcards), got %v", file, s.Condition)
		}
		eq := s.Condition["StringEquals"]
		if eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
			t.Errorf("examples/iam/%s: aud %v, want sts.amazonaws.com", file, eq["token.actions.githubusercontent.com:aud"])
		}
		var subs []string
		switch v := eq["token.actions.githubusercontent.com:sub"].(type) {
		case string:
			subs = []string{v}
		case []any:
			for _, s := range v {
				subs = append(subs, fmt.Sprint(s))
			}
		}
		if diff := cmp.Diff(want, subs); diff != "" {
			t.Errorf("examples/iam/%s: sub (-want +got):\n%s", file, diff)
		}
		if len(eq) != 2 {
			t.Errorf("examples/iam/%s: StringEquals has %d keys, want aud and sub", file, len(eq))
		}
	}
}

// TestREADMESetupChecklist: the setup checklist names every file it asks
// the reader to use, and each exists.
func TestREADMESetupChecklist(t *testing.T) {
	t.Parallel()
	section := readmeSection(t, "## Setup checklist")
	for _, want := range []string{
		"examples/iam/plan-role-trust.json", "examples/iam/apply-role-trust.json",
		"broom iam-policy --plan-only", "broom iam-policy",
		applyEnv, approveLabel, "examples/broom.yml",
		"examples/workflows/pull-request.yml", "examples/workflows/nightly.yml", "examples/workflows/dispatch.yml",
		"examples/workflows/organization.yml",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("README.md Setup checklist does not mention %s", want)
		}
	}
	for _, m := range regexp.MustCompile("`(examples/[^`]+)`").FindAllStringSubmatch(section, -1) {
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf("README.md Setup checklist names %s: %v", m[1], err)
		}
	}
}
