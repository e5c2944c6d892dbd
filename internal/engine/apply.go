package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/smithy-go"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
	"github.com/broom-dev/broom/internal/resource"
)

// Apply carries out every action of p and returns p with each action's
// status and error. One failure does not stop the others. When ctx is
// cancelled, actions not yet started are marked skipped; those in flight
// finish or time out on their own.
func (e *Engine) Apply(ctx context.Context, cfg config.Config, p plan.Plan) plan.Plan {
	out := p
	out.Actions = append([]plan.Action(nil), p.Actions...)
	kinds, err := e.kinds(ctx, out.Actions)
	if err != nil {
		for i := range out.Actions {
			out.Actions[i].Status, out.Actions[i].Error = plan.Failed, err.Error()
		}
		return out
	}
	rules := map[string]config.Rule{}
	for _, r := range cfg.File.Rules {
		rules[r.Name] = r
	}
	sem := make(chan struct{}, e.workers)
	var wg sync.WaitGroup
	for i := range out.Actions {
		a := &out.Actions[i]
		select {
		case <-ctx.Done():
			a.Status, a.Error = plan.Skipped, "run cancelled before this action started"
			continue
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil { // both cases were ready: prefer not starting
			<-sem
			a.Status, a.Error = plan.Skipped, "run cancelled before this action started"
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// In-flight actions are not cut off by cancellation: an
			// interrupted delete would leave its outcome unknown.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.actionTimeout)
			defer cancel()
			e.applyOne(actx, kinds[a.Region+"/"+a.Kind], rules[a.Rule], cfg.Protect, a)
		}()
	}
	wg.Wait()
	return out
}

// kinds builds one Kind per (region, kind) the plan touches.
func (e *Engine) kinds(ctx context.Context, actions []plan.Action) (map[string]resource.Kind, error) {
	out := map[string]resource.Kind{}
	for _, a := range actions {
		key := a.Region + "/" + a.Kind
		if out[key] != nil {
			continue
		}
		spec, err := e.lookup(a.Kind)
		if err != nil {
			return nil, err
		}
		cfg, err := e.load(ctx, a.Region)
		if err != nil {
			return nil, err
		}
		out[key] = spec.New(cfg)
	}
	return out, nil
}

// applyOne re-reads the resource, checks that the rule still acts on it and
// nothing protects it now, then acts.
func (e *Engine) applyOne(ctx context.Context, k resource.Kind, rule config.Rule, protect config.Protect, a *plan.Action) {
	log := e.logger.With("kind", a.Kind, "region", a.Region, "id", a.ID, "op", a.Op.String())
	if rule.Name == "" {
		a.Status, a.Error = plan.Skipped, fmt.Sprintf("no longer planned: rule %q is not in the config", a.Rule)
		log.Warn("action skipped", "reason", a.Error)
		return
	}
	r, found, err := k.Get(ctx, a.ID)
	switch {
	case err != nil:
		a.Status, a.Error = plan.Failed, errorText(err)
	case !found && a.Op == plan.Delete:
		a.Status = plan.AlreadyDone
	case !found:
		a.Status, a.Error = plan.Failed, "resource no longer exists"
	default:
		if v := policy.Evaluate(rule, protect, e.now(), r); v.Outcome != policy.Act {
			a.Status, a.Error = plan.Skipped, "no longer planned: "+nonEmpty(v.Reason, "the rule no longer matches")
			break
		}
		err := k.Do(ctx, *a)
		switch {
		case errors.Is(err, resource.ErrGone):
			a.Status = plan.AlreadyDone
		case err != nil:
			a.Status, a.Error = plan.Failed, errorText(err)
		default:
			a.Status = plan.Done
		}
	}
	if a.Status == plan.Failed {
		log.Error("action failed", "error", a.Error)
	} else {
		log.Info("action", "status", string(a.Status), "reason", a.Error)
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
