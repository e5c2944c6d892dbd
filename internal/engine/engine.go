// Package engine turns rules into a plan and a plan into changes. Plan lists
// every (region, kind) the rules need, in parallel, and asks policy about each
// resource; Apply carries out a plan's actions with bounded concurrency,
// re-reading each resource just before acting on it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
	"github.com/broom-dev/broom/internal/resource"
	"github.com/broom-dev/broom/internal/shard"
)

// Engine plans and applies. The zero value is not usable: use New.
type Engine struct {
	logger *slog.Logger
	now    func() time.Time
	load   Loader
	lookup func(kind string) (resource.Spec, error)
	// change is the broom:change tag's value for this run.
	change string
	// listers bounds concurrent (region, kind) listings; workers bounds
	// concurrent actions during apply.
	listers, workers int
	// listTimeout bounds one (region, kind) listing, all pages; actionTimeout
	// bounds one action, re-read included.
	listTimeout, actionTimeout time.Duration
	// fresh is the most a batched re-read may have aged when its action
	// starts; older, it is read again.
	fresh time.Duration
	// after is time.After; tests replace it to end the grace of in-flight
	// actions after a cancellation when they choose.
	after func(time.Duration) <-chan time.Time
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock that ages, and the freshness of batched
// re-reads, are measured against.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithKinds replaces the resource registry, for tests.
func WithKinds(lookup func(string) (resource.Spec, error)) Option {
	return func(e *Engine) { e.lookup = lookup }
}

// WithChangeRef sets the value of the broom:change tag stamped on what the
// run creates or modifies: the pull request or run URL, or "local".
func WithChangeRef(ref string) Option { return func(e *Engine) { e.change = ref } }

// WithWorkers sets how many actions run at once during apply.
func WithWorkers(n int) Option { return func(e *Engine) { e.workers = n } }

// Loader returns the AWS configuration for an account and region.
type Loader func(ctx context.Context, account, region string) (aws.Config, error)

// New returns an engine that builds AWS configurations with load.
func New(logger *slog.Logger, load Loader, opts ...Option) *Engine {
	e := &Engine{logger: logger, now: time.Now, load: load, lookup: resource.Lookup, change: "local",
		listers: 8, workers: 8, listTimeout: 5 * time.Minute, actionTimeout: 5 * time.Minute,
		fresh: 10 * time.Second, after: time.After}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Result is a computed plan and the matches broom must leave alone.
type Result struct {
	Plan      plan.Plan
	Protected []plan.Action // Reason says why each is left
	// Regions are where the plan looked (listed or ensured), sorted:
	// with regions: all, every region enabled for any of the accounts.
	Regions []string
}

// target is one listing: a kind in an account and region, and the rules
// that use it; or one ensure rule.
type target struct {
	account, region string
	spec            resource.Spec
	rules           []config.Rule
}

// env is what the target's kind is built with.
func (e *Engine) env(ctx context.Context, cfg config.Config, account, region string) (resource.Env, error) {
	awsCfg, err := e.load(ctx, account, region)
	protected := func(r plan.Resource) string { return policy.Protected(cfg.Protect, r) }
	return resource.Env{AWS: awsCfg, Account: account, Tags: cfg.Tags, Change: e.change, Protected: protected}, err
}

// Plan lists what the selected rules need in each account (ids the
// credentials were checked against) and returns the plan.
func (e *Engine) Plan(ctx context.Context, cfg config.Config, accounts ...string) (Result, error) {
	regions, err := e.regions(ctx, cfg, accounts)
	if err != nil {
		return Result{}, err
	}
	targets, err := e.targets(cfg, accounts, regions)
	if err != nil {
		return Result{}, err
	}
	return e.plan(ctx, cfg, accounts, targets)
}

// PlanShard plans one shard of the run's targets: it works out every
// target of every account, as Plan does, and plans those whose group falls
// in spec (shard.Of). The coverage says which it planned, out of which.
// The shards of one run, merged, are the plan Plan makes: every ensure of
// one resource name is in one shard, so oneCreator sees all its creates.
func (e *Engine) PlanShard(ctx context.Context, cfg config.Config, spec shard.Spec, accounts ...string) (Result, shard.Coverage, error) {
	cov := shard.Coverage{Index: spec.Index, Count: spec.Count, Config: config.Digest(cfg), Targets: []string{}}
	regions, err := e.regions(ctx, cfg, accounts)
	if err != nil {
		return Result{}, cov, err
	}
	targets, err := e.targets(cfg, accounts, regions)
	if err != nil {
		return Result{}, cov, err
	}
	var all []string
	var mine []target
	for _, t := range targets {
		key, group := t.key()
		all = append(all, key)
		if shard.Of(group, spec.Count) == spec.Index {
			mine = append(mine, t)
			cov.Targets = append(cov.Targets, key)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	slices.Sort(cov.Targets)
	cov.Targets = slices.Compact(cov.Targets)
	cov.All, cov.Total = shard.Digest(all), len(all)
	e.logger.Info("shard", "shard", spec.String(), "targets", len(cov.Targets), "of", cov.Total)
	res, err := e.plan(ctx, cfg, accounts, mine)
	return res, cov, err
}

// key is the target's shard key and the group it is assigned to a shard
// by: a listing's account and region (every kind of them in one shard); an
// ensure's account, region and resource name, grouped by the name alone.
func (t target) key() (key, group string) {
	key = t.account + "/" + t.region
	if r := t.rules[0]; r.Action == "ensure" {
		group = "ensure:" + t.spec.Name + "/" + r.Bucket
		return key + "/" + group, group
	}
	return key, key
}

// plan lists targets and returns their plan.
func (e *Engine) plan(ctx context.Context, cfg config.Config, accounts []string, targets []target) (Result, error) {
	now := e.now()
	began := time.Now()
	e.logger.Info("planning", "listings", len(targets), "rules", len(cfg.Selected()))
	var listed atomic.Int64 // for the log's [n/N]
	var mu sync.Mutex
	var actions, protected []plan.Action
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.listers)
	for _, t := range targets {
		g.Go(func() (err error) {
			defer recovered(&err)
			log := e.logger.With("kind", t.spec.Name, "region", t.region, "account", t.account)
			env, err := e.env(gctx, cfg, t.account, t.region)
			if err != nil {
				return err
			}
			start := time.Now()
			lctx, cancel := context.WithTimeout(gctx, e.listTimeout)
			defer cancel()
			var act, prot []plan.Action
			if ensure := t.rules[0]; ensure.Action == "ensure" {
				act, prot, err = e.ensure(lctx, t, env, cfg)
			} else {
				env.Narrow = narrow(t.rules)
				for _, r := range t.rules {
					env.Actions = append(env.Actions, r.Action)
				}
				var found []plan.Resource
				k := t.spec.New(env)
				if found, err = k.List(lctx); err == nil {
					act, prot = decide(t, k, cfg.Protect, now, found)
				}
			}
			if err != nil {
				return fmt.Errorf("list %s in %s: %w", t.spec.Name, t.region, err)
			}
			log.Info(fmt.Sprintf("[%d/%d] listed", listed.Add(1), len(targets)),
				"planned", len(act), "left_alone", len(prot), "took", time.Since(start).Round(time.Millisecond))
			mu.Lock()
			actions, protected = append(actions, act...), append(protected, prot...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	actions, others := oneCreator(actions, accounts)
	protected = append(protected, others...)
	plan.Sort(protected)
	e.logger.Info("planned", "actions", len(actions), "left_alone", len(protected), "took", time.Since(began).Round(time.Millisecond))
	return Result{Plan: plan.New(cfg.ID, now, actions), Protected: protected, Regions: lookedAt(targets)}, nil
}

// regions returns the regions each account's rules are listed in: the
// config's, or with regions: all those EC2 says are enabled for the
// account, asked once per account in its first region (where Connect
// checked the account) with the account's own credentials.
func (e *Engine) regions(ctx context.Context, cfg config.Config, accounts []string) (map[string][]string, error) {
	out := make(map[string][]string, len(accounts))
	if !cfg.AllRegions {
		for _, a := range accounts {
			out[a] = cfg.Regions
		}
		return out, nil
	}
	home := ""
	if len(cfg.Regions) > 0 {
		home = cfg.Regions[0]
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.listers)
	for _, account := range accounts {
		g.Go(func() (err error) {
			defer recovered(&err)
			awsCfg, err := e.load(gctx, account, home)
			if err == nil {
				lctx, cancel := context.WithTimeout(gctx, e.listTimeout)
				defer cancel()
				var names []string
				if names, err = cloud.EnabledRegions(lctx, awsCfg); err == nil {
					e.logger.Info("enabled regions", "account", account, "regions", len(names))
					mu.Lock()
					out[account] = names
					mu.Unlock()
				}
			}
			if err != nil {
				return fmt.Errorf("regions: all: list the regions enabled for account %s: %w", account, err)
			}
			return nil
		})
	}
	return out, g.Wait()
}

// lookedAt is the regions of targets, each once, sorted.
func lookedAt(targets []target) []string {
	var out []string
	for _, t := range targets {
		out = append(out, t.region)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// targets groups the selected rules by (account, region, kind), in config
// order. An ensure rule is a target of its own, in its region (or the first
// region) of each account; the others are listed in the account's regions.
func (e *Engine) targets(cfg config.Config, accounts []string, regions map[string][]string) ([]target, error) {
	var out []target
	index := map[string]int{}
	for _, account := range accounts {
		for _, r := range cfg.Selected() {
			spec, err := e.lookup(r.Resource)
			if err != nil {
				return nil, err
			}
			if r.Action == "ensure" {
				region := r.Region
				if region == "" {
					region = cfg.Regions[0]
				}
				out = append(out, target{account: account, region: region, spec: spec, rules: []config.Rule{r}})
				continue
			}
			for _, region := range regions[account] {
				key := account + "/" + region + "/" + r.Resource
				if i, ok := index[key]; ok {
					out[i].rules = append(out[i].rules, r)
					continue
				}
				index[key] = len(out)
				out = append(out, target{account: account, region: region, spec: spec, rules: []config.Rule{r}})
			}
		}
	}
	return out, nil
}

// narrow is what every rule of a listing requires, for the API to filter
// server-side: a tag (with the same value, or "*" if any rule allows any
// value) and a yes/no fact that all rules ask for alike.
func narrow(rules []config.Rule) resource.Narrow {
	n := resource.Narrow{Tags: map[string]string{}, Flags: map[string]bool{}}
	for k, v := range rules[0].Where.Tags {
		n.Tags[k] = v
	}
	for k, v := range rules[0].Where.Flags {
		n.Flags[k] = v
	}
	n.State = rules[0].Where.State
	for _, r := range rules[1:] {
		if r.Where.State != n.State {
			n.State = ""
		}
		for k, v := range n.Tags {
			switch w, ok := r.Where.Tags[k]; {
			case !ok:
				delete(n.Tags, k)
			case w != v:
				n.Tags[k] = "*"
			}
		}
		for k, v := range n.Flags {
			if w, ok := r.Where.Flags[k]; !ok || w != v {
				delete(n.Flags, k)
			}
		}
	}
	return n
}

// ensure plans one ensure rule: the kind compares the named resource with
// the rule's settings (and, for a create, the config's tags). A resource of
// that name that belongs to someone else is reported as left alone, never
// taken over; so is one that protect covers (its name in protect.ids, or
// its tags matching protect.tags), which an ensure never modifies. As with
// policy.Evaluate, protection is checked after comparing, so that the
// report lists a protected resource only when the rule would change it.
func (e *Engine) ensure(ctx context.Context, t target, env resource.Env, cfg config.Config) (act, prot []plan.Action, err error) {
	rule := t.rules[0]
	k := t.spec.New(env)
	en, ok := k.(resource.Ensurer)
	if !ok {
		return nil, nil, fmt.Errorf("%s cannot ensure", t.spec.Name)
	}
	act, err = en.Ensure(ctx, resource.Desired{Name: rule.Bucket, Settings: rule.Settings, Tags: cfg.Tags})
	var reason string
	if err == nil && len(act) > 0 {
		reason, err = protectedNow(ctx, k, cfg.Protect, rule.Bucket)
	}
	switch {
	case errors.Is(err, resource.ErrForeign):
		act, err = nil, nil
		prot = []plan.Action{{Op: plan.Create, ID: rule.Bucket, Name: rule.Bucket, Reason: resource.ErrForeign.Error()}}
	case reason != "":
		prot = []plan.Action{{Op: act[0].Op, ID: rule.Bucket, Name: rule.Bucket, Reason: reason}}
		act = nil
	}
	for _, list := range [][]plan.Action{act, prot} {
		for i := range list {
			list[i].Kind, list[i].Account, list[i].Region, list[i].Rule = t.spec.Name, t.account, t.region, rule.Name
		}
	}
	return act, prot, err
}

// protectedNow re-reads the resource id of k and says why the config's
// protect covers it now, or "". A resource that does not exist yet is
// judged by its id alone.
func protectedNow(ctx context.Context, k resource.Kind, protect config.Protect, id string) (string, error) {
	r, found, err := k.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if !found {
		r = plan.Resource{ID: id}
	}
	return policy.Protected(protect, r), nil
}

// oneCreator keeps one create action per resource name: an ensure rule runs
// in every account, and a bucket that exists nowhere yet would otherwise be
// created by each (bucket names are global; all but the first would fail).
// The first account in the run's order creates it; the others are left
// alone, saying which account does. Once it exists, that account owns it
// and the others leave it alone as another's.
func oneCreator(actions []plan.Action, accounts []string) (kept, others []plan.Action) {
	rank := map[string]int{}
	for i, a := range accounts {
		rank[a] = i
	}
	creator := map[string]string{} // kind/id → account
	for _, a := range actions {
		key := a.Kind + "/" + a.ID
		if cur, ok := creator[key]; a.Op == plan.Create && (!ok || rank[a.Account] < rank[cur]) {
			creator[key] = a.Account
		}
	}
	for _, a := range actions {
		if by := creator[a.Kind+"/"+a.ID]; a.Op == plan.Create && a.Account != by {
			a.Reason = fmt.Sprintf("names are global: account %s creates it", by)
			others = append(others, a)
			continue
		}
		kept = append(kept, a)
	}
	return kept, others
}

// decide asks policy about every listed resource. The first rule (in config
// order) that acts on a resource owns the action; a resource matched only by
// rules it is protected from is reported once.
func decide(t target, k resource.Kind, protect config.Protect, now time.Time, found []plan.Resource) (act, prot []plan.Action) {
	for _, r := range found {
		var shielded *plan.Action
		for _, rule := range t.rules {
			c, converges := converge(t.spec, k, rule, r)
			if converges && c.Change == nil {
				continue // already as the rule makes it
			}
			v := policy.Evaluate(rule, protect, now, r)
			if v.Outcome == policy.Act && c.Why != "" { // the kind's reason to leave r as it is
				v = policy.Verdict{Outcome: policy.Protect, Reason: c.Why}
			}
			a := newAction(t, rule, r, v)
			if converges {
				a.Op, a.Change = plan.Update, c.Change
				if c.MonthlyCostUSD != 0 {
					a.MonthlyCostUSD = c.MonthlyCostUSD
				}
			}
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

func newAction(t target, rule config.Rule, r plan.Resource, v policy.Verdict) plan.Action {
	op, _ := plan.ParseOp(rule.Action) // the loader only accepts the kind's actions
	a := plan.Action{Op: op, Kind: t.spec.Name, Account: t.account, Region: t.region, ID: r.ID, Name: r.Name,
		Rule: rule.Name, Reason: v.Reason, Details: r.Details, Change: v.Change}
	if _, ok := t.spec.Moves[rule.Action]; ok { // stop: what it saves
		a.MonthlyCostUSD = r.MonthlyCostUSD
		return a
	}
	if op != plan.Delete {
		return a
	}
	a.MonthlyCostUSD = r.MonthlyCostUSD
	// What the delete also changes (an AMI's snapshots) is part of the
	// action's change, and so of the fingerprint.
	if len(r.DeleteChange) > 0 || rule.SnapshotFirst {
		a.Change = maps.Clone(r.DeleteChange)
		if a.Change == nil {
			a.Change = map[string]string{}
		}
		if rule.SnapshotFirst {
			a.Change["snapshot-first"] = "true"
		}
	}
	return a
}

// moveKey is the key of a move's change (Spec.Moves): the state it moves
// the resource to.
const moveKey = "state"

// converge is what rule changes on r when its action converges settings:
// a move (Spec.Moves) the state, an update the settings of its set that
// differ (or what k works out, a Converger). Its Change is nil when r is
// already as the rule makes it. converges is false for the other actions.
func converge(spec resource.Spec, k resource.Kind, rule config.Rule, r plan.Resource) (c resource.Converged, converges bool) {
	if to, ok := spec.Moves[rule.Action]; ok {
		if r.State != to {
			c.Change = map[string]string{moveKey: to}
		}
		return c, true
	}
	if rule.Action != plan.Update.String() {
		return c, false
	}
	if cv, ok := k.(resource.Converger); ok {
		return cv.Converge(r, rule.Set), true
	}
	return resource.Converged{Change: policy.SettingsChange(rule.Set, r.Settings)}, true
}

// changedSince says how an update's change, worked out again from r,
// differs from the one planned, or "" when it does not.
func changedSince(planned, now map[string]string) string {
	for _, k := range slices.Sorted(maps.Keys(mergedKeys(planned, now))) {
		if planned[k] != now[k] {
			return fmt.Sprintf("%s changed since the plan: planned %q, now %q", k, planned[k], now[k])
		}
	}
	return ""
}

func mergedKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// changedWith says how what deleting r also changes differs from what the
// delete action a planned, or "" when it does not.
func changedWith(a plan.Action, r plan.Resource) string {
	keys := map[string]string{}
	maps.Copy(keys, r.DeleteChange)
	for k := range a.Change { // both ways: a key the re-read lost is a change too
		if k != "snapshot-first" { // the rule's, not the resource's
			keys[k] = ""
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if now, planned := r.DeleteChange[k], a.Change[k]; now != planned {
			return fmt.Sprintf("%s changed since the plan: planned %q, now %q", k, planned, now)
		}
	}
	return ""
}

// recovered turns a panic (a bug in broom or one of its kinds) in the
// goroutine it is deferred in into *err: a panic in a goroutine would end
// the process before any report or output is written (SPEC §9).
func recovered(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("internal error (a bug in broom, please report it): %v", p)
	}
}
