package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/resource"
	"github.com/broom-dev/broom/internal/shard"
)

// Env is what a run in GitHub Actions reads and writes; tests inject it.
type Env struct {
	Getenv     func(string) string
	Stdout     io.Writer // workflow commands and the text report
	Logger     *slog.Logger
	HTTPClient *http.Client // for GitHub; nil: pr's default client
	Engine     []engine.Option
	// Connect replaces the AWS connection, for tests; nil: Connect.
	Connect func(ctx context.Context, logger *slog.Logger, cfg config.Config, access Access, opts ...engine.Option) (Cloud, error)
}

// run is one `broom action` invocation.
type run struct {
	Env
	gha    *githubactions.Action
	cfg    config.Config
	event  string
	pay    payload
	gh     *pr.Client
	viewer string
	// summaryUsed is how much of the job summary's limit is already written.
	summaryUsed int
	// accounts are those the plan acts on, for every report's heading.
	accounts []report.Account
	// regions is how many regions the plan looked in, for the heading too.
	regions int
	// labelTried: ensureApproveLabel ran (at most once per run).
	labelTried bool
	// approved is an apply shard's approved plan, read and checked first.
	approved *shard.ApprovedFile
	// coverage is what a shard's plan covered of the run's targets.
	coverage shard.Coverage
}

// Run runs broom as a GitHub Action and returns the exit code. Every path,
// failures included, ends in finish: report, summary and all outputs.
func Run(ctx context.Context, env Env) int {
	r := &run{Env: env, gha: githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))}
	o := r.recovered(ctx)
	r.finish(o)
	return o.Code
}

// recovered runs r and turns a panic (a bug in broom) into an unexpected
// failure, exit 1, so that it is still reported with every output and never
// read as misuse (SPEC §9).
func (r *run) recovered(ctx context.Context) (o Outcome) {
	defer func() {
		if p := recover(); p != nil {
			r.Logger.Error("internal error", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			o = failed("plan", ExitFailure, fmt.Errorf("internal error (a bug in broom, please report it): %v", p))
		}
	}()
	return r.run(ctx)
}

func (r *run) run(ctx context.Context) Outcome {
	values := map[string]string{}
	for _, k := range config.Keys {
		if v := r.gha.GetInput(k); v != "" {
			values[k] = v
		}
	}
	if tok := values["github-token"]; tok != "" {
		r.gha.AddMask(tok)
	}
	cfg, err := config.Load(config.Layer{Name: "input ", Values: values}, r.Getenv, resource.Catalog())
	r.cfg = cfg
	if err != nil {
		return failed("plan", ExitMisuse, err)
	}
	r.event = r.Getenv("GITHUB_EVENT_NAME")
	if r.pay, err = readEvent(r.event, r.Getenv("GITHUB_EVENT_PATH")); err != nil {
		return failed("plan", ExitMisuse, err)
	}
	tracking := false
	if r.pay.Issue != nil {
		m, ok := pr.ParseMarker(r.pay.Issue.Body)
		tracking = ok && m.ID == cfg.ID // routing only: the issue is read again from the API
	}
	route := gate.Decide(gate.Event{Name: r.event, Action: r.pay.Action, Label: r.pay.label(), Tracking: tracking}, cfg.Mode, cfg.ApproveLabel)
	r.Logger.Info("event", "event", r.event, "action", r.pay.Action, "do", route.Do.String(), "reason", route.Reason)
	switch route.Do {
	case gate.Ignore:
		return Outcome{Mode: "plan", Result: Ignored, Notes: []string{route.Reason}}
	case gate.Misuse:
		return failed("plan", ExitMisuse, errors.New(route.Reason))
	}
	// The merge, gate and results jobs make no AWS call and may have no
	// AWS environment: their regions are the shards'.
	if r.cfg.Merge == "" && r.cfg.Mode != "gate" {
		if err := ResolveRegions(&r.cfg, r.Getenv); err != nil {
			return failed("plan", ExitMisuse, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()

	onPR := r.pay.PullRequest != nil && r.event == "pull_request"
	if err := r.checkSharding(route, onPR); err != nil {
		return failed("plan", ExitMisuse, err)
	}
	if route.Do == gate.Approve && r.sharded() {
		rec, err := r.readApproved()
		if err != nil {
			return failed("plan", ExitMisuse, err)
		}
		r.approved = &rec
	}
	// A plan shard talks to AWS only: its merge job comments.
	planShard := r.sharded() && route.Do != gate.Approve
	if !planShard && ((onPR && r.cfg.Comment) || route.Do == gate.Approve || r.cfg.TrackingIssue && !onPR) {
		if err := r.connectGitHub(ctx); err != nil {
			return failed("plan", codeOf(err), err)
		}
	}
	planner := r.freshPlan
	if r.cfg.Merge != "" {
		planner = r.mergedPlan
	}
	var o Outcome
	switch {
	case route.Do == gate.Approve && r.cfg.Mode == "gate":
		return r.gatePR(ctx)
	case route.Do == gate.Approve && r.sharded():
		return r.applyShard(ctx)
	case route.Do == gate.Approve && r.cfg.Merge != "":
		return r.results(ctx)
	case route.Do == gate.Approve && onPR:
		return r.approvePR(ctx)
	case route.Do == gate.Approve:
		return r.approveIssue(ctx)
	case r.sharded():
		return r.planShard(ctx)
	case onPR:
		return r.planPR(ctx, route, planner)
	case route.Do == gate.Apply:
		o = r.applyDirect(ctx)
	default:
		o = r.planOnly(ctx, planner)
	}
	ctx, cancel = finishing(ctx)
	defer cancel()
	if r.cfg.TrackingIssue && o.Err == nil {
		existing, err := r.gh.FindTrackingIssue(ctx, r.cfg.ID, r.viewer)
		if err != nil {
			o.Notes = append(o.Notes, err.Error())
			o.Code = max(o.Code, ExitFailure)
			return o
		}
		fp := o.Plan.Fingerprint
		if o.Plan.Applied() {
			fp = plan.Fingerprint(o.Plan.Remaining())
		}
		r.trackingIssue(ctx, &o, existing, fp, true)
	}
	return o
}

// codeOf maps an error to its exit code: misuse or unexpected failure.
func codeOf(err error) int {
	var m *MisuseError
	if errors.As(err, &m) {
		return ExitMisuse
	}
	return ExitFailure
}

func (r *run) connectGitHub(ctx context.Context) error {
	token := r.cfg.GitHubToken.Reveal()
	if token == "" {
		return &MisuseError{errors.New("input github-token is empty: broom needs it to comment on the pull request")}
	}
	apiURL := nonEmpty(r.Getenv("GITHUB_API_URL"), "https://api.github.com")
	gqlURL := r.Getenv("GITHUB_GRAPHQL_URL")
	if gqlURL == "" { // GHES serves REST at /api/v3 and GraphQL at /api/graphql
		gqlURL = strings.TrimSuffix(strings.TrimSuffix(apiURL, "/"), "/v3") + "/graphql"
	}
	gh, err := pr.New(token, apiURL, gqlURL, r.Getenv("GITHUB_REPOSITORY"), r.HTTPClient)
	if err != nil {
		return &MisuseError{err}
	}
	r.gh = gh
	if r.viewer, err = gh.Viewer(ctx); err != nil {
		return err
	}
	r.Logger.Info("github identity", "login", r.viewer)
	return nil
}

// plan builds the AWS side, with the roles access allows, and plans.
func (r *run) plan(ctx context.Context, access Access) (Cloud, engine.Result, error) {
	opts := append([]engine.Option{engine.WithChangeRef(r.changeRef())}, r.Engine...)
	connect := r.Connect
	if connect == nil {
		connect = Connect
	}
	c, err := connect(ctx, r.Logger, r.cfg, access, opts...)
	if err != nil {
		return c, engine.Result{}, err
	}
	r.accounts = c.Identities()
	var res engine.Result
	if r.sharded() {
		res, r.coverage, err = c.Engine.PlanShard(ctx, r.cfg, r.cfg.Shard, c.Accounts...)
	} else {
		res, err = c.Plan(ctx, r.cfg)
	}
	r.regions = len(res.Regions)
	return c, res, err
}

func (r *run) planOnly(ctx context.Context, planner func(context.Context) (Outcome, error)) Outcome {
	o, err := planner(ctx)
	if err != nil {
		return failed("plan", codeOf(err), err)
	}
	return o
}

// applyDirect is a scheduled or dispatched run in apply mode: the plan is
// printed in full first, then applied (SPEC §4).
func (r *run) applyDirect(ctx context.Context) Outcome {
	c, res, err := r.plan(ctx, MayChange)
	if err != nil {
		return failed("plan", codeOf(err), err)
	}
	r.gha.Group("broom plan (before apply)")
	_ = report.Text(r.Stdout, report.Report{Plan: res.Plan, Protected: res.Protected, Accounts: r.accounts, Regions: r.regions})
	r.gha.EndGroup()
	if r.Getenv("GITHUB_STEP_SUMMARY") != "" { // the plan, then (in finish) its results
		md := report.Markdown(report.Report{Plan: res.Plan, Protected: res.Protected, Accounts: r.accounts, Regions: r.regions,
			Notes: []string{"The plan as computed before applying it; the results follow."}, Limit: report.SummaryLimit / 2})
		r.gha.AddStepSummary(md)
		r.summaryUsed = len(md) + 1
	}
	return c.Apply(ctx, r.cfg, res, r.cfg.ExpectFingerprint)
}

// planPR plans for a pull request, by planner: here (freshPlan) or from
// the plan jobs' shards (mergedPlan).
func (r *run) planPR(ctx context.Context, route gate.Route, planner func(context.Context) (Outcome, error)) Outcome {
	number := r.pay.PullRequest.Number
	var notes []string
	switch {
	case !route.ClearApproval || !r.pay.prHasLabel(r.cfg.ApproveLabel):
	case r.gh == nil: // comment: false, so no GitHub client: plan and outputs only
		r.Logger.Warn("the stale approve label could not be removed: comment is false, so broom does not talk to GitHub on this event",
			"label", r.cfg.ApproveLabel, "pull_request", number)
		notes = append(notes, fmt.Sprintf("The %s label was added before the latest commits and could not be removed (comment is false). It was added for older commits, so it approves nothing now.", r.cfg.ApproveLabel))
	default:
		if err := r.gh.RemoveLabel(ctx, number, r.cfg.ApproveLabel); err != nil {
			return failed("plan", ExitFailure, err)
		}
		notes = append(notes, fmt.Sprintf("The %s label was removed: new commits were pushed after it was added. Review this plan and approve again.", r.cfg.ApproveLabel))
	}
	o, err := planner(ctx)
	if err != nil {
		return failed("plan", codeOf(err), err)
	}
	o.Notes = append(notes, o.Notes...)
	if r.cfg.Comment {
		if len(o.Plan.Actions) > 0 {
			r.ensureApproveLabel(ctx, &o)
		}
		r.comment(ctx, &o, number, r.pay.PullRequest.Head.SHA, o.Plan.Fingerprint, true)
	}
	return o
}

// finishBudget is how long a cancelled run (a cancelled workflow, or the
// deadline) still has to remove the label and write its comment.
const finishBudget = 4 * time.Second

// finishing returns ctx, or when it is done, a short-lived context that is
// not, so that the results of what did run are still reported.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), finishBudget)
}

// changeRef is the broom:change tag's value: the pull request, or the run.
func (r *run) changeRef() string {
	if r.pay.PullRequest != nil && r.Getenv("GITHUB_SERVER_URL") != "" {
		return fmt.Sprintf("%s/%s/pull/%d", r.Getenv("GITHUB_SERVER_URL"), r.Getenv("GITHUB_REPOSITORY"), r.pay.PullRequest.Number)
	}
	return nonEmpty(r.runURL(), "github-actions")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) { // GitHub label names ignore case
			return true
		}
	}
	return false
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
