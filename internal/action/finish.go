package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
)

// report assembles the report of an outcome; marker is set for the sticky
// comment and left empty for the job summary.
func (r *run) report(o Outcome, marker pr.Marker) report.Report {
	rep := report.Report{Plan: o.Plan, Protected: o.Protected, Notes: o.Notes, RunURL: r.runURL(), Accounts: r.accounts, Regions: r.regions, Headline: o.Headline}
	if rep.Plan.ID == "" {
		rep.Plan = plan.New(nonEmpty(r.cfg.ID, "default"), rep.Plan.Created, nil)
	}
	if marker.ID != "" {
		rep.Marker = marker.String()
		rep.ApproveLabel = r.cfg.ApproveLabel
	}
	return rep
}

func (r *run) runURL() string {
	server, repo, id := r.Getenv("GITHUB_SERVER_URL"), r.Getenv("GITHUB_REPOSITORY"), r.Getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", server, repo, id)
}

// maxWarnings caps the left-alone annotations of one run.
const maxWarnings = 10

// finish reports the outcome everywhere it belongs: annotations, the text
// report in the log, the plan and report files, the job summary and every
// output. It runs on every path, failures included.
func (r *run) finish(o Outcome) {
	if o.Err != nil {
		Annotate(r.gha, o.Err)
		o.Notes = append(o.Notes, "Error: "+o.Err.Error())
	}
	for i, a := range o.Protected {
		if i == maxWarnings { // GitHub shows only a few annotations per step
			r.gha.Warningf("%d more resources matched a rule but were left alone: see the report", len(o.Protected)-i)
			break
		}
		// Ids and reasons are resource data: cleaned, they cannot end the
		// annotation or start another workflow command.
		r.gha.Warningf("%s", report.Clean(fmt.Sprintf("%s %s in %s matched rule %s but was left alone: %s", a.Kind, a.ID, a.Region, a.Rule, a.Reason)))
	}
	if o.File == nil && o.Err != nil && r.sharded() {
		// A shard job always leaves a shard file: the merge job then names
		// the shard and why, instead of finding it missing.
		phase := "plan"
		if r.cfg.Approved != "" {
			phase = "apply"
		}
		f := r.shardFile(r.cfg.Shard, engine.Result{}, phase)
		f.Error = o.Err.Error()
		o.File = f
	}
	rep := r.report(o, pr.Marker{})
	if o.Err == nil {
		r.gha.Noticef("%s: %s", o.Result, nonEmpty(o.Headline, report.Summary(rep.Plan)))
	}
	r.gha.Group("broom " + o.Mode)
	_ = report.Text(r.Stdout, rep)
	r.gha.EndGroup()

	full := report.Markdown(rep)                        // the report file holds every row
	rep.Limit = report.SummaryLimit - 1 - r.summaryUsed // AddStepSummary adds a newline
	summary := report.Markdown(rep)
	var buf bytes.Buffer
	planFile := ""
	var file any = rep.Plan
	if o.File != nil {
		file = o.File
	}
	if err := writeJSON(&buf, file); err == nil {
		planFile = r.writeFile("broom-plan-"+rep.Plan.ID+".json", buf.Bytes())
	}
	reportFile := r.writeFile("broom-report-"+rep.Plan.ID+".md", []byte(full))
	if r.Getenv("GITHUB_STEP_SUMMARY") != "" { // go-githubactions panics without it
		r.gha.AddStepSummary(summary)
	}
	if r.Getenv("GITHUB_OUTPUT") == "" {
		return
	}
	c := rep.Plan.Count()
	for k, v := range map[string]string{
		"mode":          o.Mode,
		"result":        string(o.Result),
		"fingerprint":   rep.Plan.Fingerprint,
		"planned":       strconv.Itoa(len(rep.Plan.Actions)),
		"applied":       strconv.Itoa(c.Done + c.AlreadyDone),
		"failed":        strconv.Itoa(c.Failed),
		"skipped":       strconv.Itoa(c.Skipped),
		"plan-file":     planFile,
		"report-file":   reportFile,
		"comment-url":   o.CommentURL,
		"exit-code":     strconv.Itoa(o.Code),
		"approved-file": o.ApprovedFile,
	} {
		r.gha.SetOutput(k, v)
	}
}

// writeJSON writes v as the plan files are written: indented, one line
// per field.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// filesDir is where the plan and report files go, relative to the
// workspace. Not RUNNER_TEMP: in a Docker action that variable names a
// folder of the host that is not mounted in the container
// (actions/runner#1984), so a later step, upload-artifact say, would never
// find the files. The workspace is the one folder both sides share.
const filesDir = ".broom"

// writeFile writes data to name in filesDir of the workspace and returns
// its path relative to the workspace, the form the outputs give (SPEC §4),
// or "" when it could not be written.
func (r *run) writeFile(name string, data []byte) string {
	// Without GITHUB_WORKSPACE (`broom action` run by hand, outside a
	// runner) the workspace is the current directory, as it is in the
	// container: the runner starts the action in the workspace.
	dir := filepath.Join(nonEmpty(r.Getenv("GITHUB_WORKSPACE"), "."), filesDir)
	if err := writeIn(dir, name, data); err != nil {
		r.Logger.Error("file not written", "dir", dir, "error", err)
		return ""
	}
	return filesDir + "/" + name
}

// writeIn creates dir if need be and writes data to the file name in it.
func writeIn(dir, name string, data []byte) error {
	// The name holds the plan's id, which config checks; a run whose
	// config was refused may still carry a bad one.
	if name != filepath.Base(name) || !filepath.IsLocal(name) {
		return fmt.Errorf("write %q: not a file name", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// Annotate turns an error into ::error workflow commands: one per config
// problem, at its file and line, so that GitHub shows it on the file.
func Annotate(gha *githubactions.Action, err error) {
	for _, p := range config.AsProblems(err) {
		msg := report.Clean(p.Msg) // may quote AWS errors or the file's values
		if p.File == "" {
			gha.Errorf("%s", msg)
			continue
		}
		fields := map[string]string{"file": p.File}
		if p.Line > 0 {
			fields["line"] = strconv.Itoa(p.Line)
		}
		gha.WithFieldsMap(fields).Errorf("%s", msg)
	}
}
