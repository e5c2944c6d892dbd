package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// fakeAWS is the snapshots of several accounts and regions, shared by
// every job of a test as AWS is; its kind lists, re-reads and deletes
// them. The real engine plans, shards and applies over it.
type fakeAWS struct {
	accounts []string
	mu       sync.Mutex
	snaps    map[string]bool   // account/region/id
	failList map[string]string // account/region → the error its listing gives
	connects int
	access   map[Access]int // connects by the access asked for
}

func newFakeAWS(accounts ...string) *fakeAWS {
	return &fakeAWS{accounts: accounts, snaps: map[string]bool{}, failList: map[string]string{}, access: map[Access]int{}}
}

// add creates old snapshots in account and region.
func (f *fakeAWS) add(account, region string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.snaps[account+"/"+region+"/"+id] = true
	}
}

func (f *fakeAWS) has(account, region, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snaps[account+"/"+region+"/"+id]
}

func (f *fakeAWS) connect(_ context.Context, logger *slog.Logger, _ config.Config, access Access, opts ...engine.Option) (Cloud, error) {
	f.mu.Lock()
	f.connects++
	f.access[access]++
	f.mu.Unlock()
	kinds := func(name string) (resource.Spec, error) {
		return resource.Spec{Name: name, New: func(env resource.Env) resource.Kind {
			return fakeSnaps{f: f, target: env.Account + "/" + env.AWS.Region}
		}}, nil
	}
	load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
	return Cloud{Engine: engine.New(logger, load, append(opts, engine.WithKinds(kinds))...), Accounts: f.accounts}, nil
}

type fakeSnaps struct {
	f      *fakeAWS
	target string // account/region
}

func (k fakeSnaps) List(context.Context) ([]plan.Resource, error) {
	k.f.mu.Lock()
	defer k.f.mu.Unlock()
	if msg := k.f.failList[k.target]; msg != "" {
		return nil, errors.New(msg)
	}
	var out []plan.Resource
	for key := range k.f.snaps {
		if id, ok := strings.CutPrefix(key, k.target+"/"); ok {
			out = append(out, plan.Resource{ID: id, Created: time.Now().Add(-400 * 24 * time.Hour)})
		}
	}
	return out, nil
}

func (k fakeSnaps) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	list, err := k.List(ctx)
	for _, r := range list {
		if r.ID == id {
			return r, true, nil
		}
	}
	return plan.Resource{}, false, err
}

func (k fakeSnaps) Do(_ context.Context, a plan.Action) error {
	k.f.mu.Lock()
	defer k.f.mu.Unlock()
	key := k.target + "/" + a.ID
	if !k.f.snaps[key] {
		return resource.ErrGone
	}
	delete(k.f.snaps, key)
	return nil
}

// shardConfig is the config of the sharded-flow tests: two regions, the
// accounts come from the fake's connection.
const shardConfig = "version: 1\nid: nightly\nregions: [us-east-1, eu-west-1]\nrules:\n  - {name: old, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n"

// collect moves the file a job wrote (output, e.g. plan-file) to dir/K/,
// as upload-artifact and download-artifact do between jobs.
func (w *shardWorld) collect(j job, output, dir string, k int) {
	w.t.Helper()
	rel := j.out[output]
	if rel == "" {
		w.t.Fatalf("job wrote no %s: outputs %v", output, j.out)
	}
	to := filepath.Join(w.dir, dir, fmt.Sprint(k))
	if err := os.MkdirAll(to, 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(w.dir, rel), filepath.Join(to, filepath.Base(rel))); err != nil {
		w.t.Fatal(err)
	}
}

// planShards runs the plan matrix of n shards on payload; their files go
// to shards/K/.
func (w *shardWorld) planShards(cloud *fakeAWS, payload map[string]any, n int) []job {
	w.t.Helper()
	var jobs []job
	for k := 1; k <= n; k++ {
		j := w.run(payload, map[string]string{"shard": fmt.Sprintf("%d/%d", k, n)}, cloud.connect)
		w.collect(j, "plan-file", "shards", k)
		jobs = append(jobs, j)
	}
	return jobs
}

// applyShards runs the apply matrix of n shards on the approval event;
// their files go to results/K/.
func (w *shardWorld) applyShards(cloud *fakeAWS, approval map[string]any, n int) []job {
	w.t.Helper()
	var jobs []job
	for k := 1; k <= n; k++ {
		j := w.run(approval, map[string]string{"shard": fmt.Sprintf("%d/%d", k, n), "approved": "approved/1/approved-nightly.json"}, cloud.connect)
		w.collect(j, "plan-file", "results", k)
		jobs = append(jobs, j)
	}
	return jobs
}

// planned is a PR planned in n shards and merged into its comment.
func (w *shardWorld) planned(cloud *fakeAWS, n int) job {
	w.t.Helper()
	w.planShards(cloud, w.payload("opened"), n)
	j := w.run(w.payload("opened"), map[string]string{"merge": "shards/*/*.json"}, nil)
	if j.code != ExitOK {
		w.t.Fatalf("merge job: exit %d, outputs %v", j.code, j.out)
	}
	return j
}

// approved is the plan approved by alice and passed by the gate job,
// whose file goes to approved/1/; it returns the approval's event.
func (w *shardWorld) approved() map[string]any {
	w.t.Helper()
	approval := w.labeled("alice")
	j := w.run(approval, map[string]string{"mode": "gate"}, nil)
	if j.code != ExitOK {
		w.t.Fatalf("gate job: exit %d, outputs %v", j.code, j.out)
	}
	w.collect(j, "approved-file", "approved", 1)
	return approval
}
