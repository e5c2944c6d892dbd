package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

const (
	day     = 24 * time.Hour
	account = "111122223333"
	kind    = "ebs-snapshot"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// world is the fake account the fake kinds read and change. Listed is what
// List answers per region; Current is what Get answers (by id), so a test
// can change a resource between plan and apply.
type world struct {
	mu       sync.Mutex
	Listed   map[string][]plan.Resource
	ListErr  map[string]error // by region
	Current  map[string]plan.Resource
	GetErr   map[string]error // by id
	DoErr    map[string]error // by id
	DoDelay  time.Duration
	did      []string // ids Do was called with
	inFlight int
	maxIn    int
	gets     int        // Get calls
	batches  [][]string // ids of each GetMany call
	deleted  [][]string // ids of each DeleteMany call
	// afterDo, if set, runs after each successful Do with the lock held:
	// the world changing while an apply runs.
	afterDo func(w *world, id string)
}

// clone copies w's resources and faults, without its record of calls.
func (w *world) clone() *world {
	return &world{Listed: maps.Clone(w.Listed), ListErr: maps.Clone(w.ListErr), Current: maps.Clone(w.Current),
		GetErr: maps.Clone(w.GetErr), DoErr: maps.Clone(w.DoErr), DoDelay: w.DoDelay, afterDo: w.afterDo}
}

// fakeKind is one region's view of the world.
type fakeKind struct {
	w      *world
	region string
}

var _ resource.Kind = (*fakeKind)(nil)

func (k *fakeKind) List(context.Context) ([]plan.Resource, error) {
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	if err := k.w.ListErr[k.region]; err != nil {
		return nil, err
	}
	return slices.Clone(k.w.Listed[k.region]), nil
}

func (k *fakeKind) Get(_ context.Context, id string) (plan.Resource, bool, error) {
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	if err := k.w.GetErr[id]; err != nil {
		return plan.Resource{}, false, err
	}
	k.w.gets++
	r, ok := k.w.Current[id]
	return r, ok, nil
}

// batchKind is fakeKind re-reading in batches, as the EC2 kinds do. A batch
// with any id whose Get fails fails whole.
type batchKind struct{ fakeKind }

var _ resource.Rereader = (*batchKind)(nil)

func (k *batchKind) GetMany(_ context.Context, ids []string) (map[string]plan.Resource, error) {
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	k.w.batches = append(k.w.batches, slices.Clone(ids))
	out := map[string]plan.Resource{}
	for _, id := range ids {
		if err := k.w.GetErr[id]; err != nil {
			return nil, err
		}
		if r, ok := k.w.Current[id]; ok {
			out[id] = r
		}
	}
	return out, nil
}

func (k *fakeKind) Do(_ context.Context, a plan.Action) error {
	k.w.mu.Lock()
	k.w.did = append(k.w.did, a.ID)
	k.w.inFlight++
	k.w.maxIn = max(k.w.maxIn, k.w.inFlight)
	k.w.mu.Unlock()
	time.Sleep(k.w.DoDelay)
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	k.w.inFlight--
	if err := k.w.DoErr[a.ID]; err != nil {
		return err
	}
	delete(k.w.Current, a.ID)
	if k.w.afterDo != nil {
		k.w.afterDo(k.w, a.ID)
	}
	return nil
}

func (w *world) calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.did)
	slices.Sort(out)
	return out
}

// newEngine returns an engine whose only kind is the fake over w. Its load
// does no I/O: the config only carries the region to the fake.
func newEngine(w *world, opts ...Option) *Engine {
	return newEngineOf(func(env resource.Env) resource.Kind { return &fakeKind{w: w, region: env.AWS.Region} }, opts...)
}

// newBatchEngine is newEngine with a kind that re-reads in batches.
func newBatchEngine(w *world, opts ...Option) *Engine {
	return newEngineOf(func(env resource.Env) resource.Kind { return &batchKind{fakeKind{w: w, region: env.AWS.Region}} }, opts...)
}

func newEngineOf(build func(resource.Env) resource.Kind, opts ...Option) *Engine {
	spec := resource.Spec{
		Name:    kind,
		Actions: map[string][]string{"delete": {"older-than", "tags"}},
		New:     build,
	}
	lookup := func(name string) (resource.Spec, error) {
		if name == kind {
			return spec, nil
		}
		return resource.Spec{}, fmt.Errorf("unknown resource kind %q", name)
	}
	load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
	opts = append([]Option{WithKinds(lookup), WithClock(func() time.Time { return now })}, opts...)
	return New(slog.New(slog.DiscardHandler), load, opts...)
}

func res(id string, age time.Duration, tags ...string) plan.Resource {
	r := plan.Resource{ID: id, Created: now.Add(-age), Tags: awstest.TagMap(tags...),
		Details: map[string]string{"size": "1 GiB"}, MonthlyCostUSD: 0.05}
	r.Name = r.Tags["Name"]
	return r
}

func rule(name string, olderThan time.Duration, tags ...string) config.Rule {
	r := config.Rule{Name: name, Resource: kind, Action: "delete", Where: config.Where{OlderThan: olderThan}}
	if len(tags) > 0 {
		r.Where.Tags = awstest.TagMap(tags...)
	}
	return r
}

func cfgWith(regions []string, protect config.Protect, rules ...config.Rule) config.Config {
	return config.Config{File: config.File{ID: "test", Regions: regions, MaxActions: 100, Protect: protect, Rules: rules}}
}

// brief is the part of an action a plan test compares.
type brief struct {
	Region, ID, Name, Rule, Reason string
}

func briefs(as []plan.Action) []brief {
	out := []brief{}
	for _, a := range as {
		out = append(out, brief{a.Region, a.ID, a.Name, a.Rule, a.Reason})
	}
	return out
}

const ciReason = "400 days old > 30d; tags Environment=ci"

func TestPlan(t *testing.T) {
	t.Parallel()
	old := 400 * day
	ciRule := rule("old-ci", 30*day, "Environment", "ci")
	tests := map[string]struct {
		listed        map[string][]plan.Resource
		cfg           config.Config
		wantPlan      []brief
		wantProtected []brief
	}{
		"actions for every region, sorted, with rule and reason": {
			listed: map[string][]plan.Resource{
				"us-west-2": {res("snap-b", old, "Environment", "ci", "Name", "bee"), res("snap-a", old, "Environment", "ci")},
				"eu-west-1": {res("snap-d", old, "Environment", "ci"), res("snap-young", 2*day, "Environment", "ci"), res("snap-c", old, "Environment", "ci")},
			},
			cfg: cfgWith([]string{"us-west-2", "eu-west-1"}, config.Protect{}, ciRule),
			wantPlan: []brief{
				{"eu-west-1", "snap-c", "", "old-ci", ciReason},
				{"eu-west-1", "snap-d", "", "old-ci", ciReason},
				{"us-west-2", "snap-a", "", "old-ci", ciReason},
				{"us-west-2", "snap-b", "bee", "old-ci", ciReason},
			},
		},
		"first rule in config order wins": {
			listed: map[string][]plan.Resource{"eu-west-1": {res("snap-a", old, "Environment", "ci")}},
			cfg: cfgWith([]string{"eu-west-1"}, config.Protect{},
				rule("any-old", 7*day), ciRule),
			wantPlan: []brief{{"eu-west-1", "snap-a", "", "any-old", "400 days old > 1w"}},
		},
		"first rule in config order wins, other order": {
			listed: map[string][]plan.Resource{"eu-west-1": {res("snap-a", old, "Environment", "ci")}},
			cfg: cfgWith([]string{"eu-west-1"}, config.Protect{},
				ciRule, rule("any-old", 7*day)),
			wantPlan: []brief{{"eu-west-1", "snap-a", "", "old-ci", ciReason}},
		},
		"a later rule acts where the first does not match": {
			listed: map[string][]plan.Resource{"eu-west-1": {res("snap-dev", old, "Environment", "dev")}},
			cfg: cfgWith([]string{"eu-west-1"}, config.Protect{},
				ciRule, rule("dev", 0, "Environment", "dev")),
			wantPlan: []brief{{"eu-west-1", "snap-dev", "", "dev", "tags Environment=dev"}},
		},
		"protected and in-use resources are reported, not planned": {
			listed: map[string][]plan.Resource{"eu-west-1": {
				res("snap-keep", old, "Environment", "ci", "broom:keep", "yes"),
				res("snap-listed", old, "Environment", "ci"),
				func() plan.Resource {
					r := res("snap-ami", old, "Environment", "ci")
					r.InUse = "backs AMI ami-1"
					return r
				}(),
				res("snap-go", old, "Environment", "ci"),
				res("snap-keep-young", 1*day, "Environment", "ci", "broom:keep", "yes"),
			}},
			cfg: cfgWith([]string{"eu-west-1"},
				config.Protect{Tags: map[string]string{"broom:keep": "*"}, IDs: []string{"snap-listed"}},
				ciRule),
			wantPlan: []brief{{"eu-west-1", "snap-go", "", "old-ci", ciReason}},
			wantProtected: []brief{
				{"eu-west-1", "snap-ami", "", "old-ci", "in use: backs AMI ami-1"},
				{"eu-west-1", "snap-keep", "", "old-ci", "protected: tag broom:keep=yes"},
				{"eu-west-1", "snap-listed", "", "old-ci", "protected: id listed in protect.ids"},
			},
		},
		"a protect tag with a value protects only that value": {
			listed: map[string][]plan.Resource{"eu-west-1": {
				res("snap-true", old, "Environment", "ci", "DoNotDelete", "true"),
				res("snap-false", old, "Environment", "ci", "DoNotDelete", "false"),
			}},
			cfg:           cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"DoNotDelete": "true"}}, ciRule),
			wantPlan:      []brief{{"eu-west-1", "snap-false", "", "old-ci", ciReason}},
			wantProtected: []brief{{"eu-west-1", "snap-true", "", "old-ci", "protected: tag DoNotDelete=true"}},
		},
		"a protected resource matched by two rules is reported once": {
			listed: map[string][]plan.Resource{"eu-west-1": {res("snap-keep", old, "Environment", "ci", "broom:keep", "1")}},
			cfg: cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}},
				ciRule, rule("any-old", 7*day)),
			wantProtected: []brief{{"eu-west-1", "snap-keep", "", "old-ci", "protected: tag broom:keep=1"}},
		},
		"selected rules limit the rules evaluated": {
			listed: map[string][]plan.Resource{"eu-west-1": {
				res("snap-ci", old, "Environment", "ci"),
				res("snap-dev", old, "Environment", "dev"),
			}},
			cfg: func() config.Config {
				c := cfgWith([]string{"eu-west-1"}, config.Protect{}, ciRule, rule("dev", 30*day, "Environment", "dev"))
				c.RuleNames = []string{"dev"}
				return c
			}(),
			wantPlan: []brief{{"eu-west-1", "snap-dev", "", "dev", "400 days old > 30d; tags Environment=dev"}},
		},
		"nothing matches: an empty plan": {
			listed:   map[string][]plan.Resource{"eu-west-1": {res("snap-young", day, "Environment", "ci")}},
			cfg:      cfgWith([]string{"eu-west-1"}, config.Protect{}, ciRule),
			wantPlan: []brief{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := &world{Listed: tc.listed}
			got, err := newEngine(w).Plan(t.Context(), tc.cfg, account)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantPlan == nil {
				tc.wantPlan = []brief{}
			}
			if diff := cmp.Diff(tc.wantPlan, briefs(got.Plan.Actions)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if tc.wantProtected == nil {
				tc.wantProtected = []brief{}
			}
			if diff := cmp.Diff(tc.wantProtected, briefs(got.Protected)); diff != "" {
				t.Errorf("protected (-want +got):\n%s", diff)
			}
			for _, a := range append(slices.Clone(got.Plan.Actions), got.Protected...) {
				if a.Account != account || a.Kind != kind || a.Op != plan.Delete {
					t.Errorf("action %s: account %q kind %q op %s, want %s %s delete", a.ID, a.Account, a.Kind, a.Op, account, kind)
				}
			}
			if got.Plan.ID != "test" || got.Plan.Version != 1 || !got.Plan.Created.Equal(now) {
				t.Errorf("plan header: id %q version %d created %v", got.Plan.ID, got.Plan.Version, got.Plan.Created)
			}
			if want := plan.Fingerprint(got.Plan.Actions); got.Plan.Fingerprint != want {
				t.Errorf("fingerprint %s, want %s", got.Plan.Fingerprint, want)
			}
			if calls := w.calls(); len(calls) != 0 {
				t.Errorf("Plan called Do on %v", calls)
			}
		})
	}
}

func TestPlanCarriesFacts(t *testing.T) {
	t.Parallel()
	r := res("snap-a", 400*day, "Environment", "ci", "Name", "nightly")
	r.Details = map[string]string{"size": "8 GiB", "created": "2025-04-27"}
	r.MonthlyCostUSD = 0.4
	w := &world{Listed: map[string][]plan.Resource{"eu-west-1": {r}}}
	got, err := newEngine(w).Plan(t.Context(), cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci")), account)
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.Action{{
		Op: plan.Delete, Kind: kind, Account: account, Region: "eu-west-1", ID: "snap-a", Name: "nightly",
		Rule: "old-ci", Reason: ciReason, Details: map[string]string{"size": "8 GiB", "created": "2025-04-27"}, MonthlyCostUSD: 0.4,
	}}
	if diff := cmp.Diff(want, got.Plan.Actions); diff != "" {
		t.Errorf("plan actions (-want +got):\n%s", diff)
	}
}

func TestPlanListErrorFailsWithContext(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	w := &world{
		Listed:  map[string][]plan.Resource{"us-east-1": {res("snap-a", 400*day, "Environment", "ci")}},
		ListErr: map[string]error{"eu-west-1": cause},
	}
	cfg := cfgWith([]string{"us-east-1", "eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	got, err := newEngine(w).Plan(t.Context(), cfg, account)
	if err == nil {
		t.Fatalf("Plan = %+v, want an error", got)
	}
	if want := "list ebs-snapshot in eu-west-1: connection refused"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("error %q does not wrap the cause", err)
	}
	if len(got.Plan.Actions) != 0 {
		t.Errorf("a failed Plan returned actions %v", briefs(got.Plan.Actions))
	}
}

func TestPlanUnknownKindFails(t *testing.T) {
	t.Parallel()
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, config.Rule{Name: "vols", Resource: "ebs-volume", Action: "delete"})
	if _, err := newEngine(&world{}).Plan(t.Context(), cfg, account); err == nil || !strings.Contains(err.Error(), `"ebs-volume"`) {
		t.Errorf("Plan error = %v, want one naming ebs-volume", err)
	}
}

// planFor builds the plan Apply receives: one delete per id, by rule old-ci.
func planFor(ids ...string) plan.Plan {
	var as []plan.Action
	for _, id := range ids {
		as = append(as, plan.Action{Op: plan.Delete, Kind: kind, Account: account, Region: "eu-west-1", ID: id, Rule: "old-ci", Reason: ciReason})
	}
	return plan.New("test", now, as)
}

type result struct {
	ID     string
	Status plan.Status
	Error  string
}

func results(p plan.Plan) []result {
	out := []result{}
	for _, a := range p.Actions {
		out = append(out, result{a.ID, a.Status, a.Error})
	}
	return out
}

func TestApply(t *testing.T) {
	t.Parallel()
	old := 400 * day
	current := func(rs ...plan.Resource) map[string]plan.Resource {
		m := map[string]plan.Resource{}
		for _, r := range rs {
			m[r.ID] = r
		}
		return m
	}
	ci := func(id string, tags ...string) plan.Resource {
		return res(id, old, append([]string{"Environment", "ci"}, tags...)...)
	}
	tests := map[string]struct {
		w         *world
		ids       []string
		protect   config.Protect
		cancelled bool
		want      []result
		wantDid   []string
	}{
		"all done": {
			w:       &world{Current: current(ci("snap-a"), ci("snap-b"))},
			ids:     []string{"snap-a", "snap-b"},
			want:    []result{{"snap-a", plan.Done, ""}, {"snap-b", plan.Done, ""}},
			wantDid: []string{"snap-a", "snap-b"},
		},
		"one failure does not stop the others": {
			w: &world{
				Current: current(ci("snap-a"), ci("snap-b"), ci("snap-c")),
				DoErr:   map[string]error{"snap-b": errors.New("delete snapshot snap-b: connection reset")},
			},
			ids: []string{"snap-a", "snap-b", "snap-c"},
			want: []result{
				{"snap-a", plan.Done, ""},
				{"snap-b", plan.Failed, "delete snapshot snap-b: connection reset"},
				{"snap-c", plan.Done, ""},
			},
			wantDid: []string{"snap-a", "snap-b", "snap-c"},
		},
		"an AWS API error shows its code and message": {
			w: &world{
				Current: current(ci("snap-a")),
				DoErr: map[string]error{"snap-a": fmt.Errorf("delete snapshot snap-a: %w",
					&smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})},
			},
			ids:     []string{"snap-a"},
			want:    []result{{"snap-a", plan.Failed, "UnauthorizedOperation: You are not authorized to perform this operation."}},
			wantDid: []string{"snap-a"},
		},
		"gone at re-read is already done without a call": {
			w:    &world{Current: current(ci("snap-b"))},
			ids:  []string{"snap-a", "snap-b"},
			want: []result{{"snap-a", plan.AlreadyDone, ""}, {"snap-b", plan.Done, ""}},
			// snap-a is gone: only snap-b is acted on.
			wantDid: []string{"snap-b"},
		},
		"gone when deleting is already done": {
			w: &world{
				Current: current(ci("snap-a")),
				DoErr:   map[string]error{"snap-a": fmt.Errorf("delete snapshot snap-a: %w", resource.ErrGone)},
			},
			ids:     []string{"snap-a"},
			want:    []result{{"snap-a", plan.AlreadyDone, ""}},
			wantDid: []string{"snap-a"},
		},
		"protected by tag at re-read is skipped without a call": {
			w:       &world{Current: current(ci("snap-a", "broom:keep", "please"), ci("snap-b"))},
			ids:     []string{"snap-a", "snap-b"},
			protect: config.Protect{Tags: map[string]string{"broom:keep": "*"}},
			want: []result{
				{"snap-a", plan.Skipped, "no longer planned: protected: tag broom:keep=please"},
				{"snap-b", plan.Done, ""},
			},
			wantDid: []string{"snap-b"},
		},
		"in use at re-read is skipped without a call": {
			w: &world{Current: current(func() plan.Resource {
				r := ci("snap-a")
				r.InUse = "backs AMI ami-1"
				return r
			}())},
			ids:  []string{"snap-a"},
			want: []result{{"snap-a", plan.Skipped, "no longer planned: in use: backs AMI ami-1"}},
		},
		"no longer matching the rule at re-read is skipped without a call": {
			w:    &world{Current: current(res("snap-a", old, "Environment", "prod"))},
			ids:  []string{"snap-a"},
			want: []result{{"snap-a", plan.Skipped, "no longer planned: the rule no longer matches"}},
		},
		"a re-read error fails that action only": {
			w: &world{
				Current: current(ci("snap-a"), ci("snap-b")),
				GetErr:  map[string]error{"snap-a": &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}},
			},
			ids:     []string{"snap-a", "snap-b"},
			want:    []result{{"snap-a", plan.Failed, "RequestLimitExceeded: Request limit exceeded."}, {"snap-b", plan.Done, ""}},
			wantDid: []string{"snap-b"},
		},
		"a cancelled run skips every action": {
			w:         &world{Current: current(ci("snap-a"), ci("snap-b"), ci("snap-c"))},
			ids:       []string{"snap-a", "snap-b", "snap-c"},
			cancelled: true,
			want: []result{
				{"snap-a", plan.Skipped, "run cancelled before this action started"},
				{"snap-b", plan.Skipped, "run cancelled before this action started"},
				{"snap-c", plan.Skipped, "run cancelled before this action started"},
			},
		},
	}
	// Every case holds whether the kind re-reads one by one or in batches.
	engines := map[string]func(*world, ...Option) *Engine{"one by one": newEngine, "batched": newBatchEngine, "deleted in batches": newDeleterEngine}
	for name, tc := range tests {
		for how, build := range engines {
			t.Run(name+"/"+how, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				if tc.cancelled {
					c, cancel := context.WithCancel(ctx)
					cancel()
					ctx = c
				}
				w := tc.w.clone()
				cfg := cfgWith([]string{"eu-west-1"}, tc.protect, rule("old-ci", 30*day, "Environment", "ci"))
				p := planFor(tc.ids...)
				got := build(w).Apply(ctx, cfg, p)
				if diff := cmp.Diff(tc.want, results(got)); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.wantDid, w.calls()); diff != "" {
					t.Errorf("Do called on (-want +got):\n%s", diff)
				}
				for _, a := range p.Actions {
					if a.Status != plan.Pending {
						t.Errorf("Apply changed its input: %s has status %q", a.ID, a.Status)
					}
				}
				if got.Fingerprint != p.Fingerprint {
					t.Errorf("Apply changed the fingerprint")
				}
				for _, r := range got.Actions {
					if strings.Contains(r.Error, "cancelled") && r.Status != plan.Skipped {
						t.Errorf("%s: %q with status %s", r.ID, r.Error, r.Status)
					}
				}
			})
		}
	}
}

// pairKind holds its first Do until a second one has started, so two
// actions are seen in flight together however the scheduler runs them.
type pairKind struct {
	fakeKind
	mu        sync.Mutex
	calls, in int
	maxIn     int
	second    chan struct{}
}

func (k *pairKind) Do(ctx context.Context, a plan.Action) error {
	k.mu.Lock()
	k.calls++
	k.in++
	k.maxIn = max(k.maxIn, k.in)
	n := k.calls
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.in--
		k.mu.Unlock()
	}()
	switch n {
	case 1:
		select {
		case <-k.second:
		case <-time.After(time.Minute): // one worker only: maxIn stays 1
		}
	case 2:
		close(k.second)
	}
	return k.fakeKind.Do(ctx, a)
}

func TestApplyBoundsConcurrency(t *testing.T) {
	t.Parallel()
	ids := []string{"snap-1", "snap-2", "snap-3", "snap-4", "snap-5", "snap-6", "snap-7"}
	w := &world{Current: map[string]plan.Resource{}, DoDelay: 30 * time.Millisecond}
	for _, id := range ids {
		w.Current[id] = res(id, 400*day, "Environment", "ci")
	}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	k := &pairKind{second: make(chan struct{})}
	e := newEngineOf(func(env resource.Env) resource.Kind { k.fakeKind = fakeKind{w: w, region: env.AWS.Region}; return k }, WithWorkers(2))
	got := e.Apply(t.Context(), cfg, planFor(ids...))
	for _, r := range results(got) {
		if r.Status != plan.Done {
			t.Errorf("%s: %s %q, want done", r.ID, r.Status, r.Error)
		}
	}
	if diff := cmp.Diff(ids, w.calls()); diff != "" {
		t.Errorf("Do called on (-want +got):\n%s", diff)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.maxIn > 2 {
		t.Errorf("max concurrent Do calls = %d, want at most 2", w.maxIn)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.maxIn != 2 {
		t.Errorf("max concurrent Do calls = %d, want 2 with 2 workers", k.maxIn)
	}
}

func TestApplyUnknownKindFailsEveryAction(t *testing.T) {
	t.Parallel()
	p := planFor("snap-a")
	p.Actions[0].Kind = "ebs-volume"
	got := newEngine(&world{}).Apply(t.Context(), cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day)), p)
	if r := got.Actions[0]; r.Status != plan.Failed || !strings.Contains(r.Error, "ebs-volume") {
		t.Errorf("result %s %q, want failed naming ebs-volume", r.Status, r.Error)
	}
}

func TestNarrow(t *testing.T) {
	t.Parallel()
	ci := config.Rule{Where: config.Where{Tags: map[string]string{"Environment": "ci", "Team": "a"}, Flags: map[string]bool{"unattached": true}}}
	prod := config.Rule{Where: config.Where{Tags: map[string]string{"Environment": "prod"}, Flags: map[string]bool{"unattached": true}}}
	any := config.Rule{Where: config.Where{Tags: map[string]string{"Environment": "*"}}}
	none := config.Rule{}
	running := config.Rule{Where: config.Where{State: "running"}}
	tests := map[string]struct {
		rules []config.Rule
		want  resource.Narrow
	}{
		"one rule: all of its tags and flags": {[]config.Rule{ci},
			resource.Narrow{Tags: map[string]string{"Environment": "ci", "Team": "a"}, Flags: map[string]bool{"unattached": true}}},
		"different values: the key only": {[]config.Rule{ci, prod},
			resource.Narrow{Tags: map[string]string{"Environment": "*"}, Flags: map[string]bool{"unattached": true}}},
		"a flag one rule lacks is dropped": {[]config.Rule{ci, any},
			resource.Narrow{Tags: map[string]string{"Environment": "*"}, Flags: map[string]bool{}}},
		"a rule without filters: nothing to narrow": {[]config.Rule{ci, none},
			resource.Narrow{Tags: map[string]string{}, Flags: map[string]bool{}}},
		"a state every rule asks for": {[]config.Rule{running, running},
			resource.Narrow{Tags: map[string]string{}, Flags: map[string]bool{}, State: "running"}},
		"states that differ: any state": {[]config.Rule{running, {Where: config.Where{State: "stopped"}}},
			resource.Narrow{Tags: map[string]string{}, Flags: map[string]bool{}}},
		"a rule without a state: any state": {[]config.Rule{running, none},
			resource.Narrow{Tags: map[string]string{}, Flags: map[string]bool{}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, narrow(tc.rules)); diff != "" {
				t.Errorf("narrow (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOneCreator(t *testing.T) {
	t.Parallel()
	a := func(op plan.Op, acct, id string) plan.Action {
		return plan.Action{Op: op, Kind: "s3-bucket", Account: acct, Region: "eu-west-1", ID: id, Reason: "bucket does not exist"}
	}
	type brief struct{ Op, Account, ID, Reason string }
	briefs := func(as []plan.Action) []brief {
		out := []brief{}
		for _, x := range as {
			out = append(out, brief{x.Op.String(), x.Account, x.ID, x.Reason})
		}
		return out
	}
	actions := []plan.Action{
		a(plan.Create, "222", "logs"), // listed first, but 111 comes first in the run
		a(plan.Create, "111", "logs"),
		a(plan.Create, "333", "logs"),
		a(plan.Create, "222", "artifacts"), // only 222 plans it: stays
		a(plan.Update, "111", "shared"),    // updates are the owner's alone
		a(plan.Delete, "222", "logs"),      // another kind of action on the same name
	}
	kept, others := oneCreator(actions, []string{"111", "222", "333"})
	wantKept := []brief{
		{"create", "111", "logs", "bucket does not exist"},
		{"create", "222", "artifacts", "bucket does not exist"},
		{"update", "111", "shared", "bucket does not exist"},
		{"delete", "222", "logs", "bucket does not exist"},
	}
	wantOthers := []brief{
		{"create", "222", "logs", "names are global: account 111 creates it"},
		{"create", "333", "logs", "names are global: account 111 creates it"},
	}
	if diff := cmp.Diff(wantKept, briefs(kept)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOthers, briefs(others)); diff != "" {
		t.Errorf("left alone (-want +got):\n%s", diff)
	}
}
