package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// ciWorld holds n snapshots, snap-000 on, that rule old-ci deletes.
func ciWorld(n int) (*world, []string) {
	w := &world{Current: map[string]plan.Resource{}}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("snap-%03d", i)
		ids = append(ids, id)
		w.Current[id] = res(id, 400*day, "Environment", "ci")
	}
	return w, ids
}

// A kind that re-reads in batches is asked once per RereadBatch actions,
// each id once, and never one by one.
func TestApplyRereadsInBatches(t *testing.T) {
	t.Parallel()
	n := 2*resource.RereadBatch + 50
	w, ids := ciWorld(n)
	got := newBatchEngine(w).Apply(t.Context(), faultCfg, planFor(ids...))
	for _, r := range results(got) {
		if r.Status != plan.Done {
			t.Errorf("%s: %s %q, want done", r.ID, r.Status, r.Error)
		}
	}
	var sizes []int
	var asked []string
	for _, b := range w.batches {
		sizes = append(sizes, len(b))
		asked = append(asked, b...)
	}
	if diff := cmp.Diff([]int{resource.RereadBatch, resource.RereadBatch, 50}, sizes); diff != "" {
		t.Errorf("GetMany batch sizes (-want +got):\n%s", diff)
	}
	slices.Sort(asked)
	if diff := cmp.Diff(ids, asked); diff != "" {
		t.Errorf("ids re-read (-want +got):\n%s", diff)
	}
	if w.gets != 0 {
		t.Errorf("Get called %d times, want 0: every re-read batched", w.gets)
	}
}

// stepClock is a clock a test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A batched re-read more than 10s old when an action starts is read again,
// so a resource protected meanwhile is left alone; one 10s old or less is
// used as it is.
func TestApplyRereadsAgainWhenTheBatchIsStale(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		took        time.Duration // by the first deletion
		want        []result
		wantBatches func(ids []string) [][]string
	}{
		"more than 10s: read again": {
			took: 10*time.Second + time.Nanosecond,
			want: []result{
				{"snap-000", plan.Done, ""},
				{"snap-001", plan.Skipped, "no longer planned: protected: tag broom:keep=yes"},
				{"snap-002", plan.Done, ""},
			},
			// snap-001 is skipped at once, so snap-002's second read is still fresh.
			wantBatches: func(ids []string) [][]string { return [][]string{ids, ids[1:]} },
		},
		"10s: fresh enough": {
			took: 10 * time.Second,
			want: []result{
				{"snap-000", plan.Done, ""},
				{"snap-001", plan.Done, ""}, // the tag came after the read: the rule's trade-off
				{"snap-002", plan.Done, ""},
			},
			wantBatches: func(ids []string) [][]string { return [][]string{ids} },
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, ids := ciWorld(3)
			c := &stepClock{t: now}
			w.afterDo = func(w *world, id string) {
				if id == "snap-000" {
					r := w.Current["snap-001"]
					r.Tags = map[string]string{"Environment": "ci", "broom:keep": "yes"}
					w.Current["snap-001"] = r
					c.advance(tc.took)
				}
			}
			cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, rule("old-ci", 30*day, "Environment", "ci"))
			got := newBatchEngine(w, WithWorkers(1), WithClock(c.now)).Apply(t.Context(), cfg, planFor(ids...))
			if diff := cmp.Diff(tc.want, results(got)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBatches(ids), w.batches); diff != "" {
				t.Errorf("GetMany batches (-want +got):\n%s", diff)
			}
		})
	}
}

// readAheadKind holds its first Do until the next batch has been read: it
// proves the next batch is read while this one's actions run.
type readAheadKind struct {
	batchKind
	secondRead chan struct{} // closed by the second GetMany
	overlapped chan bool
}

func (k *readAheadKind) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	out, err := k.batchKind.GetMany(ctx, ids)
	k.w.mu.Lock()
	if len(k.w.batches) == 2 {
		close(k.secondRead)
	}
	k.w.mu.Unlock()
	return out, err
}

func (k *readAheadKind) Do(ctx context.Context, a plan.Action) error {
	if a.ID == "snap-000" {
		select {
		case <-k.secondRead:
			k.overlapped <- true
		case <-time.After(time.Minute): // no read-ahead: the read waits for this Do
			k.overlapped <- false
		}
	}
	return k.batchKind.Do(ctx, a)
}

func TestApplyReadsTheNextBatchWhileActing(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(resource.RereadBatch + 1)
	k := &readAheadKind{batchKind: batchKind{fakeKind{w: w}}, secondRead: make(chan struct{}), overlapped: make(chan bool, 1)}
	e := newEngineOf(func(env resource.Env) resource.Kind { k.region = env.AWS.Region; return k }, WithWorkers(1))
	got := e.Apply(t.Context(), faultCfg, planFor(ids...))
	if !<-k.overlapped {
		t.Errorf("the second batch was not read while the first batch's first action ran")
	}
	for _, r := range results(got) {
		if r.Status != plan.Done {
			t.Errorf("%s: %s %q, want done", r.ID, r.Status, r.Error)
		}
	}
}

// Actions of rules over a listing (delete, tag, and an update such as
// stop) are read in batches per (account, region, kind); an ensure rule's
// are not, also when their kind re-reads in batches.
func TestBatches(t *testing.T) {
	t.Parallel()
	batcher := &batchKind{}
	kinds := map[string]resource.Kind{
		account + "/eu-west-1/ebs-snapshot": batcher,
		account + "/us-east-1/ebs-snapshot": batcher,
		account + "/eu-west-1/s3-bucket":    &fakeKind{}, // no GetMany
	}
	rules := map[string]config.Rule{
		"old":    {Name: "old", Action: "delete"},
		"owner":  {Name: "owner", Action: "tag"},
		"stop":   {Name: "stop", Action: "stop"},
		"bucket": {Name: "bucket", Action: "ensure"},
		"snap":   {Name: "snap", Action: "ensure"}, // an ensure of a kind that re-reads in batches
	}
	act := func(region, kind, id, rule string, op plan.Op) plan.Action {
		return plan.Action{Account: account, Region: region, Kind: kind, ID: id, Rule: rule, Op: op}
	}
	var actions []plan.Action
	actions = append(actions,
		act("eu-west-1", "ebs-snapshot", "snap-a", "old", plan.Delete),
		act("eu-west-1", "ebs-snapshot", "snap-a", "owner", plan.Tag), // same id: one read
		act("eu-west-1", "ebs-snapshot", "snap-b", "stop", plan.Update),
		act("eu-west-1", "s3-bucket", "bucket-1", "bucket", plan.Create),
		act("eu-west-1", "s3-bucket", "bucket-1", "bucket", plan.Update),
		act("eu-west-1", "ebs-snapshot", "snap-c", "snap", plan.Update),
		act("eu-west-1", "ebs-snapshot", "snap-d", "old", plan.Delete),
	)
	for i := range resource.RereadBatch + 1 {
		actions = append(actions, act("us-east-1", "ebs-snapshot", fmt.Sprintf("snap-%03d", i), "old", plan.Delete))
	}
	type span struct {
		Start, End int
		Batched    bool
	}
	var got []span
	for _, b := range batches(actions, kinds, rules) {
		got = append(got, span{b.start, b.end, b.k != nil})
	}
	n := len(actions)
	want := []span{
		{0, 3, true},                        // one region's snapshots, snap-a counted once
		{3, 4, false},                       // ensure actions compare inside Do
		{4, 5, false},                       //
		{5, 6, false},                       // also of a kind that re-reads in batches
		{6, 7, true},                        // after a run of its own: a new batch
		{7, 7 + resource.RereadBatch, true}, // another region: a new batch, full
		{n - 1, n, true},                    // the one over
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}

// An update of a listed resource (stop, a setting) is re-read and judged
// again like a delete: what is in use, protected or no longer matching
// since the plan is skipped with the reason, never acted on. An ensure
// would not see the in-use veto: it is not a rule over a listing.
func TestApplyJudgesAListedUpdateAgain(t *testing.T) {
	t.Parallel()
	for how, build := range map[string]func(*world, ...Option) *Engine{"one by one": newEngine, "batched": newBatchEngine} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			w, ids := ciWorld(4)
			used := w.Current[ids[1]]
			used.InUse = "member of Auto Scaling group web"
			w.Current[ids[1]] = used
			kept := w.Current[ids[2]]
			kept.Tags = map[string]string{"Environment": "ci", "broom:keep": "yes"}
			w.Current[ids[2]] = kept
			moved := w.Current[ids[3]]
			moved.Tags = map[string]string{"Environment": "prod"}
			w.Current[ids[3]] = moved
			stop := rule("stop-ci", 30*day, "Environment", "ci")
			stop.Action = "stop"
			cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, stop)
			p := planFor(ids...)
			for i := range p.Actions {
				p.Actions[i].Op, p.Actions[i].Rule, p.Actions[i].Change = plan.Update, "stop-ci", map[string]string{"state": "stopped"}
			}
			got := build(w).Apply(t.Context(), cfg, p)
			want := []result{
				{ids[0], plan.Done, ""},
				{ids[1], plan.Skipped, "no longer planned: in use: member of Auto Scaling group web"},
				{ids[2], plan.Skipped, "no longer planned: protected: tag broom:keep=yes"},
				{ids[3], plan.Skipped, "no longer planned: the rule no longer matches"},
			}
			if diff := cmp.Diff(want, results(got)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{ids[0]}, w.calls()); diff != "" {
				t.Errorf("acted on (-want +got):\n%s", diff)
			}
		})
	}
}

// A batch whose read was not made (no batching, or the run was cancelled
// first) has nothing to say: each action re-reads on its own.
func TestBatchLookupWithoutARead(t *testing.T) {
	t.Parallel()
	found := map[string]plan.Resource{"snap-a": {ID: "snap-a"}}
	for name, b := range map[string]batch{
		"not batched":  {found: found, at: now},
		"not read yet": {k: &batchKind{}, found: found},
		"read failed":  {k: &batchKind{}, found: found, at: now, err: errors.New("throttled")},
	} {
		if got := b.lookup("snap-a"); got != nil {
			t.Errorf("%s: lookup = %+v, want nil (re-read on its own)", name, *got)
		}
	}
	b := batch{k: &batchKind{}, found: found, at: now}
	if got := b.lookup("snap-a"); got == nil || !got.found {
		t.Errorf("read batch: lookup = %v, want snap-a found", got)
	}
	if got := b.lookup("snap-z"); got == nil || got.found {
		t.Errorf("read batch: lookup of an id not in the answer = %v, want not found (gone)", got)
	}
}

// read makes no call for a batch that does not re-read in batches, nor
// once the run is cancelled; a read that fails says so in the log, once.
func TestBatchRead(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(2)
	w.GetErr = map[string]error{ids[1]: errors.New("throttled")}
	var log bytes.Buffer
	e := newBatchEngine(w)
	e.logger = slog.New(slog.NewTextHandler(&log, nil))
	actions := planFor(ids...).Actions
	k := &batchKind{fakeKind{w: w, region: "eu-west-1"}}

	unbatched := batch{start: 0, end: 2}
	e.read(t.Context(), actions, &unbatched, 0)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	late := batch{start: 0, end: 2, k: k}
	e.read(cancelled, actions, &late, 0)
	if len(w.batches) != 0 || !unbatched.at.IsZero() || !late.at.IsZero() || log.Len() != 0 {
		t.Fatalf("reads %v, logged %q: want no read and no log for an unbatched batch or a cancelled run", w.batches, log.String())
	}

	failing := batch{start: 0, end: 2, k: k}
	e.read(t.Context(), actions, &failing, 0)
	if failing.err == nil || failing.at.IsZero() {
		t.Errorf("failed read: err %v at %v, want the error and the time it was sent", failing.err, failing.at)
	}
	if n := strings.Count(log.String(), "batched re-read failed"); n != 1 {
		t.Errorf("logged %q: want one warning for the failed read", log.String())
	}
}
