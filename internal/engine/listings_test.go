package engine

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// crowdKind counts the listings in flight over every account and region.
// Each waits until want are in flight (or a while), so that a bound above
// want shows as more, and one below it as fewer.
type crowdKind struct {
	want int
	full chan struct{}

	mu      sync.Mutex
	in, max int
	listed  []string // account/region of each listing
}

func (c *crowdKind) list(account, region string) {
	c.mu.Lock()
	c.in++
	c.max = max(c.max, c.in)
	c.listed = append(c.listed, account+"/"+region)
	if c.in == c.want {
		select {
		case <-c.full:
		default:
			close(c.full)
		}
	}
	c.mu.Unlock()
	select {
	case <-c.full:
	case <-time.After(3 * time.Second):
	}
	time.Sleep(20 * time.Millisecond) // let more try to start
	c.mu.Lock()
	c.in--
	c.mu.Unlock()
}

type crowdTarget struct {
	c               *crowdKind
	account, region string
}

func (k crowdTarget) List(context.Context) ([]plan.Resource, error) {
	k.c.list(k.account, k.region)
	return nil, nil
}

func (crowdTarget) Get(context.Context, string) (plan.Resource, bool, error) {
	return plan.Resource{}, false, nil
}

func (crowdTarget) Do(context.Context, plan.Action) error { return nil }

// aws.max-listings bounds the listings in flight over all accounts and
// regions; without it the engine's 8 do.
func TestPlanListsAtMostMaxListingsAtOnce(t *testing.T) {
	t.Parallel()
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	for _, tc := range []struct {
		name        string
		maxListings int
		want        int
	}{
		{"default", 0, 8},
		{"three", 3, 3},
		{"one", 1, 1},
		{"more than the targets", 50, len(accounts) * len(regions)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &crowdKind{want: tc.want, full: make(chan struct{})}
			spec := resource.Spec{Name: kind, Actions: map[string][]string{"delete": {"older-than"}},
				New: func(env resource.Env) resource.Kind {
					return crowdTarget{c: c, account: env.Account, region: env.AWS.Region}
				}}
			load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
			e := New(slog.New(slog.DiscardHandler), load, WithKinds(func(string) (resource.Spec, error) { return spec, nil }))
			cfg := cfgWith(regions, config.Protect{}, rule("old", 30*day))
			cfg.AWS.MaxListings = tc.maxListings
			if _, err := e.Plan(t.Context(), cfg, accounts...); err != nil {
				t.Fatal(err)
			}
			if c.max != tc.want {
				t.Errorf("at most %d listings at once, want %d", c.max, tc.want)
			}
			var want []string
			for _, a := range accounts {
				for _, r := range regions {
					want = append(want, a+"/"+r)
				}
			}
			slices.Sort(c.listed)
			slices.Sort(want)
			if !slices.Equal(c.listed, want) {
				t.Errorf("listed %v, want each account and region once: %v", c.listed, want)
			}
		})
	}
}
