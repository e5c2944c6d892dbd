package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// estateKind lists, in each account and region, matching resources that
// the rule acts on (old) and the rest, which no rule matches (new), each
// built afresh per listing as an EC2 kind builds them from an answer.
type estateKind struct {
	matching, other int
	region          string
}

// estatePage is EC2's page size for DescribeSnapshots.
const estatePage = 1000

func (k estateKind) resource(i int) plan.Resource {
	age := time.Hour
	if i < k.matching {
		age = 400 * day
	}
	created := now.Add(-age)
	return plan.Resource{ID: fmt.Sprintf("snap-%s-%017x", k.region, i), Created: created, Tags: map[string]string{},
		Details: map[string]string{"size": "8 GiB", "created": created.Format("2006-01-02")}, MonthlyCostUSD: 0.4}
}

func (k estateKind) List(context.Context) ([]plan.Resource, error) {
	var out []plan.Resource
	for i := range k.matching + k.other {
		out = append(out, k.resource(i))
	}
	return out, nil
}

// pagedEstate is estateKind listed a page at a time (resource.Pager).
type pagedEstate struct{ estateKind }

func (k pagedEstate) ListPages(_ context.Context, each func([]plan.Resource) error) error {
	for first := 0; first < k.matching+k.other; first += estatePage {
		var page []plan.Resource
		for i := first; i < min(first+estatePage, k.matching+k.other); i++ {
			page = append(page, k.resource(i))
		}
		if err := each(page); err != nil {
			return err
		}
	}
	return nil
}

func (estateKind) Get(context.Context, string) (plan.Resource, bool, error) {
	return plan.Resource{}, false, nil
}

func (estateKind) Do(context.Context, plan.Action) error { return nil }

// heapPeak samples the heap every millisecond until stop: the most bytes
// in heap objects (live or not yet collected, what the process's RSS
// follows) and the largest live heap a collection found.
type heapPeak struct {
	stop       chan struct{}
	done       sync.WaitGroup
	heap, live uint64
}

func watchHeap() *heapPeak {
	p := &heapPeak{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			p.heap, p.live = max(p.heap, s[0].Value.Uint64()), max(p.live, s[1].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *heapPeak) end() {
	close(p.stop)
	p.done.Wait()
}

// BenchmarkPlanInventory plans accounts × regions of one kind whose
// listings hold 20 resources the rule deletes and many it does not match,
// and reports the heap's peak: it should follow the actions and the
// listings in flight (8), not the whole inventory. A kind's listing is
// either one slice (List) or pages of 1,000 (resource.Pager).
//
//	go test ./internal/engine -run '^$' -bench PlanInventory -benchtime 3x -count 3
func BenchmarkPlanInventory(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(50)) // as broom runs
	for _, tc := range []struct {
		listing                  string
		accounts, regions, other int
	}{
		{"slice", 1, 1, 1000}, {"slice", 1, 1, 10000}, {"slice", 20, 4, 1000}, {"slice", 20, 4, 10000},
		{"pages", 1, 1, 1000}, {"pages", 1, 1, 10000}, {"pages", 20, 4, 1000}, {"pages", 20, 4, 10000},
	} {
		name := fmt.Sprintf("%s/%dx%d/other=%d", tc.listing, tc.accounts, tc.regions, tc.other)
		b.Run(name, func(b *testing.B) {
			var accounts []string
			for i := range tc.accounts {
				accounts = append(accounts, fmt.Sprintf("%012d", 100000000000+i))
			}
			regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}[:tc.regions]
			spec := resource.Spec{Name: kind, Actions: map[string][]string{"delete": {"older-than"}},
				New: func(env resource.Env) resource.Kind {
					k := estateKind{matching: 20, other: tc.other, region: env.AWS.Region}
					if tc.listing == "pages" {
						return pagedEstate{k}
					}
					return k
				}}
			load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
			e := New(slog.New(slog.DiscardHandler), load, WithKinds(func(string) (resource.Spec, error) { return spec, nil }),
				WithClock(func() time.Time { return now }))
			cfg := cfgWith(regions, config.Protect{}, rule("old", 30*day))
			var heap, live uint64
			for b.Loop() {
				debug.FreeOSMemory()
				p := watchHeap()
				res, err := e.Plan(b.Context(), cfg, accounts...)
				p.end()
				if err != nil {
					b.Fatal(err)
				}
				if n, want := len(res.Plan.Actions), 20*tc.accounts*tc.regions; n != want {
					b.Fatalf("%d actions, want %d", n, want)
				}
				heap, live = max(heap, p.heap), max(live, p.live)
			}
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(tc.accounts*tc.regions*(20+tc.other)), "resources")
		})
	}
}

// pageCounter is a kind that lists pages and counts, with
// runtime.AddCleanup, how many of the pages it made are still reachable
// when it makes the next one: a page is, while its last resource (which no
// rule matches) is, by its id.
type pageCounter struct {
	estateKind
	made, freed atomic.Int64
	mostAlive   int64 // pages reachable, at most, when a new one was made
}

func (k *pageCounter) ListPages(ctx context.Context, each func([]plan.Resource) error) error {
	return pagedEstate{k.estateKind}.ListPages(ctx, func(page []plan.Resource) error {
		// The pages the engine has let go are collected by now.
		deadline := time.Now().Add(500 * time.Millisecond)
		for k.made.Load()-k.freed.Load() > 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(time.Millisecond) // cleanups run on a goroutine of their own
		}
		k.mostAlive = max(k.mostAlive, k.made.Load()-k.freed.Load())
		k.made.Add(1)
		runtime.AddCleanup(unsafe.StringData(page[len(page)-1].ID), func(*atomic.Int64) { k.freed.Add(1) }, &k.freed)
		return each(page)
	})
}

// List is the pages gathered, as ebs-snapshot's is.
func (k *pageCounter) List(ctx context.Context) ([]plan.Resource, error) {
	var out []plan.Resource
	err := k.ListPages(ctx, func(page []plan.Resource) error {
		out = append(out, page...)
		return nil
	})
	return out, err
}

// A kind that lists page by page is decided a page at a time: the engine
// keeps a page's actions, not the page, so a listing of many pages holds
// one at a time. Its plan is the one its List gives.
func TestPlanDecidesEachPageAsItComes(t *testing.T) {
	t.Parallel()
	k := &pageCounter{estateKind: estateKind{matching: 20, other: 4480, region: "us-east-1"}}
	spec := resource.Spec{Name: kind, Actions: map[string][]string{"delete": {"older-than"}},
		New: func(resource.Env) resource.Kind { return k }}
	load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
	e := New(slog.New(slog.DiscardHandler), load, WithKinds(func(string) (resource.Spec, error) { return spec, nil }),
		WithClock(func() time.Time { return now }))
	cfg := cfgWith([]string{"us-east-1"}, config.Protect{}, rule("old", 30*day))
	res, err := e.Plan(t.Context(), cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if n := k.made.Load(); n != 5 {
		t.Fatalf("made %d pages, want 5 of up to 1,000 for 4,500 resources", n)
	}
	if k.mostAlive != 0 {
		t.Errorf("%d earlier pages still reachable when the next was listed, want none: the engine kept them", k.mostAlive)
	}
	// The same plan as one List of everything (estateKind) gives.
	whole := New(slog.New(slog.DiscardHandler), load, WithClock(func() time.Time { return now }),
		WithKinds(func(string) (resource.Spec, error) {
			return resource.Spec{Name: kind, Actions: spec.Actions, New: func(resource.Env) resource.Kind { return k.estateKind }}, nil
		}))
	want, err := whole.Plan(t.Context(), cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Actions) != 20 || res.Plan.Fingerprint != want.Plan.Fingerprint {
		t.Errorf("%d actions, fingerprint %s; want the 20 old ones, as one listing plans them (%s)",
			len(res.Plan.Actions), res.Plan.Fingerprint, want.Plan.Fingerprint)
	}
}
