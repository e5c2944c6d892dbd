package engine

import (
	"context"
	"fmt"
	"slices"
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

func TestBatches(t *testing.T) {
	t.Parallel()
	batcher := &batchKind{}
	kinds := map[string]resource.Kind{
		account + "/eu-west-1/ebs-snapshot": batcher,
		account + "/us-east-1/ebs-snapshot": batcher,
		account + "/eu-west-1/s3-bucket":    &fakeKind{}, // no GetMany
	}
	act := func(region, kind, id string, op plan.Op) plan.Action {
		return plan.Action{Account: account, Region: region, Kind: kind, ID: id, Op: op}
	}
	var actions []plan.Action
	actions = append(actions,
		act("eu-west-1", "ebs-snapshot", "snap-a", plan.Delete),
		act("eu-west-1", "ebs-snapshot", "snap-a", plan.Tag), // same id: one read
		act("eu-west-1", "ebs-snapshot", "snap-b", plan.Delete),
		act("eu-west-1", "s3-bucket", "bucket-1", plan.Create),
		act("eu-west-1", "s3-bucket", "bucket-1", plan.Update),
	)
	for i := range resource.RereadBatch + 1 {
		actions = append(actions, act("us-east-1", "ebs-snapshot", fmt.Sprintf("snap-%03d", i), plan.Delete))
	}
	type span struct {
		Start, End int
		Batched    bool
	}
	var got []span
	for _, b := range batches(actions, kinds) {
		got = append(got, span{b.start, b.end, b.k != nil})
	}
	n := len(actions)
	want := []span{
		{0, 3, true},                        // one region's snapshots, snap-a counted once
		{3, 4, false},                       // ensure actions compare inside Do
		{4, 5, false},                       //
		{5, 5 + resource.RereadBatch, true}, // another region: a new batch, full
		{n - 1, n, true},                    // the one over
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}
