package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
	"github.com/broom-dev/broom/internal/resource"
)

// cancelGrace is how long actions in flight when the run is cancelled (a
// signal, or the run's deadline) may still take. A cancelled workflow run
// is killed about 10 s after its first signal, and the report, comment and
// outputs must be written before that.
const cancelGrace = 5 * time.Second

// Apply carries out every action of p and returns p with each action's
// status and error. One failure does not stop the others. When ctx is
// cancelled, actions not yet started are marked skipped; those in flight
// finish, time out, or are cut off after cancelGrace (failed, outcome
// unknown until the next run re-reads the resource).
func (e *Engine) Apply(ctx context.Context, cfg config.Config, p plan.Plan) plan.Plan {
	out := p
	out.Actions = append([]plan.Action(nil), p.Actions...)
	kinds, err := e.kinds(ctx, cfg, out.Actions)
	if err != nil {
		e.logger.Error("apply failed before its first action", "error", err, "failed", len(out.Actions))
		for i := range out.Actions {
			out.Actions[i].Status, out.Actions[i].Error = plan.Failed, err.Error()
		}
		return out
	}
	rules := map[string]config.Rule{}
	for _, r := range cfg.File.Rules {
		rules[r.Name] = r
	}
	began := time.Now()
	e.logger.Info("applying", "actions", len(out.Actions))
	prog := &progress{total: len(out.Actions)}
	sem := make(chan struct{}, e.workers)
	var wg sync.WaitGroup
	// The loop takes every batch, also after a cancellation (to mark its
	// actions skipped), so the reader always finishes.
	ready := make(chan batch)
	go e.readAhead(ctx, out.Actions, batches(out.Actions, kinds, rules), ready)
	for b := range ready {
		if b.del != nil {
			e.dispatchDeletes(ctx, &wg, sem, kinds[kindKey(out.Actions[b.start])], rules, cfg.Protect, out.Actions, b, prog)
			continue
		}
		for i := b.start; i < b.end; i++ {
			a := &out.Actions[i]
			select {
			case <-ctx.Done():
				a.Status, a.Error = plan.Skipped, notStarted
				continue
			case sem <- struct{}{}:
			}
			if b.k != nil && e.now().Sub(b.at) > e.fresh {
				e.read(ctx, out.Actions, &b, i) // read again, from this action on
			}
			if ctx.Err() != nil { // cancelled while waiting or re-reading: prefer not starting
				<-sem
				a.Status, a.Error = plan.Skipped, notStarted
				continue
			}
			e.start(ctx, &wg, sem, kinds[kindKey(*a)], rules[a.Rule], cfg.Protect, a, b.lookup(a.ID), prog)
		}
	}
	wg.Wait()
	c := out.Count()
	e.logger.Info("applied", "done", c.Done, "already_done", c.AlreadyDone, "failed", c.Failed, "skipped", c.Skipped,
		"took", time.Since(began).Round(time.Millisecond))
	return out
}

// progress numbers the actions as they finish, for apply's log: [n/N].
type progress struct {
	n     atomic.Int64
	total int
}

// logged logs a's outcome, numbered: at Error for a failure, at Warn for
// an action skipped, else at Info.
func (p *progress) logged(log *slog.Logger, a *plan.Action) {
	msg := fmt.Sprintf("[%d/%d] %s", p.n.Add(1), p.total, a.Status)
	attrs := []any{"status", string(a.Status)}
	switch {
	case a.Status == plan.Failed:
		log.Error(msg, append(attrs, "error", a.Error)...)
	case a.Status == plan.Skipped:
		log.Warn(msg, append(attrs, "reason", a.Error)...)
	case a.Error != "": // never an empty attribute
		log.Info(msg, append(attrs, "reason", a.Error)...)
	default:
		log.Info(msg, attrs...)
	}
}

// start runs one action in a worker, which frees its slot in sem when done.
func (e *Engine) start(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}, k resource.Kind, rule config.Rule, protect config.Protect, a *plan.Action, pre *reread, prog *progress) {
	wg.Add(1)
	go func() {
		defer func() { <-sem; wg.Done() }()
		cut, bug := e.guarded(ctx, func(actx context.Context) {
			if e.approved(actx, k, rule, protect, a, pre) {
				finish(a, k.Do(actx, *a))
			}
		})
		settle(a, cut, bug)
		prog.logged(actionLogger(e.logger, a), a)
	}()
}

// guarded runs do with a context of its own, bounded by actionTimeout. An
// action in flight is not cut off by cancellation at once: an interrupted
// delete would leave its outcome unknown. It gets cancelGrace to finish;
// cut says it did not. A panic in do (a bug in the kind) is returned as
// bug, to fail what do was doing rather than the run.
func (e *Engine) guarded(ctx context.Context, do func(actx context.Context)) (cut bool, bug error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.actionTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		select {
		case <-e.after(cancelGrace):
			cancel()
		case <-actx.Done():
		}
	})
	defer stop()
	func() {
		defer recovered(&bug)
		do(actx)
	}()
	return ctx.Err() != nil && errors.Is(actx.Err(), context.Canceled), bug
}

// settle records what guarded said about a's work: a bug fails the
// action, and a failure after the cut-off leaves its outcome unknown.
func settle(a *plan.Action, cut bool, bug error) {
	if bug != nil {
		a.Status, a.Error = plan.Failed, bug.Error()
	}
	if a.Status == plan.Failed && cut {
		a.Error = fmt.Sprintf("outcome unknown: cut off %v after the run was cancelled; the next run re-checks it: %s", cancelGrace, a.Error)
	}
}

func actionLogger(log *slog.Logger, a *plan.Action) *slog.Logger {
	return log.With("kind", a.Kind, "region", a.Region, "account", a.Account, "id", a.ID, "op", a.Op.String())
}

func kindKey(a plan.Action) string { return a.Account + "/" + a.Region + "/" + a.Kind }

// kinds builds one Kind per (account, region, kind) the plan touches.
func (e *Engine) kinds(ctx context.Context, cfg config.Config, actions []plan.Action) (map[string]resource.Kind, error) {
	out := map[string]resource.Kind{}
	ruleAction := map[string]string{}
	for _, r := range cfg.File.Rules {
		ruleAction[r.Name] = r.Action
	}
	used := map[string][]string{} // kind key → the actions of its rules
	for _, a := range actions {
		if act, key := ruleAction[a.Rule], kindKey(a); act != "" && !slices.Contains(used[key], act) {
			used[key] = append(used[key], act)
		}
	}
	for _, a := range actions {
		key := kindKey(a)
		if out[key] != nil {
			continue
		}
		spec, err := e.lookup(a.Kind)
		if err != nil {
			return nil, err
		}
		env, err := e.env(ctx, cfg, a.Account, a.Region)
		if err != nil {
			return nil, err
		}
		env.Actions = used[key]
		out[key] = spec.New(env)
	}
	return out, nil
}

// approved re-reads the resource and checks that the rule still acts on it
// and nothing protects it now: true when a is to be carried out, else a's
// status says why not. pre, when set, is a batched re-read made moments
// before.
func (e *Engine) approved(ctx context.Context, k resource.Kind, rule config.Rule, protect config.Protect, a *plan.Action, pre *reread) bool {
	if rule.Name == "" {
		a.Status, a.Error = plan.Skipped, fmt.Sprintf("no longer planned: rule %q is not in the config", a.Rule)
		return false
	}
	if !checksFirst(rule) {
		// Ensure actions name their desired state; the kind re-reads and
		// compares before writing. An ensure never modifies what protect
		// covers now, also when it was not protected at plan time.
		switch reason, err := protectedNow(ctx, k, protect, a.ID); {
		case err != nil:
			a.Status, a.Error = plan.Failed, errorText(err)
		case reason != "":
			a.Status, a.Error = plan.Skipped, "no longer planned: "+reason
		default:
			return true
		}
		return false
	}
	var r plan.Resource
	var found bool
	var err error
	if pre != nil {
		r, found = pre.r, pre.found
	} else {
		r, found, err = k.Get(ctx, a.ID)
	}
	switch {
	case err != nil:
		a.Status, a.Error = plan.Failed, errorText(err)
	case !found && a.Op == plan.Delete:
		a.Status = plan.AlreadyDone
	case !found:
		a.Status, a.Error = plan.Failed, "resource no longer exists"
	case a.Op == plan.Tag && policy.TagChange(a.Change, r.Tags) == nil:
		a.Status = plan.AlreadyDone
	default:
		// An update (a move included) is judged again from the re-read:
		// done already, left alone now, or changing other than approved.
		c, converges := e.converge(a.Kind, k, rule, r)
		if converges && c.Change == nil {
			a.Status = plan.AlreadyDone
			break
		}
		if v := policy.Evaluate(rule, protect, e.now(), r); v.Outcome != policy.Act {
			a.Status, a.Error = plan.Skipped, "no longer planned: "+nonEmpty(v.Reason, "the rule no longer matches")
			break
		}
		if converges && c.Why != "" {
			a.Status, a.Error = plan.Skipped, "no longer planned: "+c.Why
			break
		}
		if why := changedSince(a.Change, c.Change); converges && why != "" {
			a.Status, a.Error = plan.Skipped, "no longer planned: "+why
			break
		}
		// A delete that would now take more or less with it (an AMI whose
		// snapshot became protected) is not the delete approved.
		if why := changedWith(*a, r); a.Op == plan.Delete && why != "" {
			a.Status, a.Error = plan.Skipped, "no longer planned: "+why
			break
		}
		return true
	}
	return false
}

// converge is converge for the kind named kind.
func (e *Engine) converge(kind string, k resource.Kind, rule config.Rule, r plan.Resource) (resource.Converged, bool) {
	spec, err := e.lookup(kind)
	if err != nil { // kinds looked it up already
		return resource.Converged{}, false
	}
	return converge(spec, k, rule, r)
}

// finish records the outcome of an action's Do.
func finish(a *plan.Action, err error) {
	switch {
	case errors.Is(err, resource.ErrGone), errors.Is(err, resource.ErrConverged):
		a.Status = plan.AlreadyDone
	case errors.Is(err, resource.ErrChanged):
		a.Status, a.Error = plan.Skipped, "no longer planned: "+errorText(err)
	case err != nil:
		a.Status, a.Error = plan.Failed, errorText(err)
	default:
		a.Status = plan.Done
	}
}

// errorText is the short form shown in reports: the AWS error code and
// message when there is one.
func errorText(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%s: %s", apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	return err.Error()
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
