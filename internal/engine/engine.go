// Package engine turns rules into a plan and a plan into changes. Plan lists
// every (region, kind) the rules need, in parallel, and asks policy about each
// resource; Apply carries out a plan's actions with bounded concurrency,
// re-reading each resource just before acting on it.
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
	"github.com/broom-dev/broom/internal/resource"
)

// Engine plans and applies. The zero value is not usable: use New.
type Engine struct {
	logger *slog.Logger
	now    func() time.Time
	load   func(ctx context.Context, region string) (aws.Config, error)
	lookup func(kind string) (resource.Spec, error)
	// listers bounds concurrent (region, kind) listings; workers bounds
	// concurrent actions during apply.
	listers, workers int
	// listTimeout bounds one (region, kind) listing, all pages; actionTimeout
	// bounds one action, re-read included.
	listTimeout, actionTimeout time.Duration
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock that ages are measured against.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithKinds replaces the resource registry, for tests.
func WithKinds(lookup func(string) (resource.Spec, error)) Option {
	return func(e *Engine) { e.lookup = lookup }
}

// WithWorkers sets how many actions run at once during apply.
func WithWorkers(n int) Option { return func(e *Engine) { e.workers = n } }

// New returns an engine that builds AWS configurations with load.
func New(logger *slog.Logger, load func(ctx context.Context, region string) (aws.Config, error), opts ...Option) *Engine {
	e := &Engine{logger: logger, now: time.Now, load: load, lookup: resource.Lookup,
		listers: 8, workers: 8, listTimeout: 5 * time.Minute, actionTimeout: 5 * time.Minute}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Result is a computed plan and the matches broom must leave alone.
type Result struct {
	Plan      plan.Plan
	Protected []plan.Action // Reason says why each is left
}

// target is one listing: a kind in a region, and the rules that use it.
type target struct {
	region string
	spec   resource.Spec
	rules  []config.Rule
}

// Plan lists what the selected rules need and returns the plan for account
// (the account id the credentials belong to).
func (e *Engine) Plan(ctx context.Context, cfg config.Config, account string) (Result, error) {
	targets, err := e.targets(cfg)
	if err != nil {
		return Result{}, err
	}
	now := e.now()
	var mu sync.Mutex
	var actions, protected []plan.Action
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.listers)
	for _, t := range targets {
		g.Go(func() error {
			log := e.logger.With("kind", t.spec.Name, "region", t.region)
			awsCfg, err := e.load(gctx, t.region)
			if err != nil {
				return err
			}
			start := time.Now()
			lctx, cancel := context.WithTimeout(gctx, e.listTimeout)
			defer cancel()
			found, err := t.spec.New(awsCfg).List(lctx)
			if err != nil {
				return fmt.Errorf("list %s in %s: %w", t.spec.Name, t.region, err)
			}
			act, prot := decide(t, account, cfg.Protect, now, found)
			log.Debug("listed", "found", len(found), "planned", len(act), "protected", len(prot), "took", time.Since(start))
			mu.Lock()
			actions, protected = append(actions, act...), append(protected, prot...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	plan.Sort(protected)
	return Result{Plan: plan.New(cfg.ID, now, actions), Protected: protected}, nil
}

// targets groups the selected rules by (region, kind), in config order.
func (e *Engine) targets(cfg config.Config) ([]target, error) {
	var out []target
	index := map[string]int{}
	for _, region := range cfg.Regions {
		for _, r := range cfg.Selected() {
			spec, err := e.lookup(r.Resource)
			if err != nil {
				return nil, err
			}
			key := region + "/" + r.Resource
			if i, ok := index[key]; ok {
				out[i].rules = append(out[i].rules, r)
				continue
			}
			index[key] = len(out)
			out = append(out, target{region: region, spec: spec, rules: []config.Rule{r}})
		}
	}
	return out, nil
}

// decide asks policy about every listed resource. The first rule (in config
// order) that acts on a resource owns the action; a resource matched only by
// rules it is protected from is reported once.
func decide(t target, account string, protect config.Protect, now time.Time, found []plan.Resource) (act, prot []plan.Action) {
	for _, r := range found {
		var shielded *plan.Action
		for _, rule := range t.rules {
			v := policy.Evaluate(rule, protect, now, r)
			a := newAction(t, account, rule, r, v.Reason)
			if v.Outcome == policy.Act {
				act = append(act, a)
				shielded = nil
				break
			}
			if v.Outcome == policy.Protect && shielded == nil {
				shielded = &a
			}
		}
		if shielded != nil {
			prot = append(prot, *shielded)
		}
	}
	return act, prot
}

func newAction(t target, account string, rule config.Rule, r plan.Resource, reason string) plan.Action {
	op, _ := plan.ParseOp(rule.Action) // the loader only accepts the kind's actions
	return plan.Action{Op: op, Kind: t.spec.Name, Account: account, Region: t.region, ID: r.ID, Name: r.Name,
		Rule: rule.Name, Reason: reason, Details: r.Details, MonthlyCostUSD: r.MonthlyCostUSD}
}
