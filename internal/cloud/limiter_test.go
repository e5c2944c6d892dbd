package cloud

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
)

// clock is a fake clock for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeLimiter(overrides map[string]config.RateLimit) (*Limiter, *clock) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	return NewLimiter(overrides, WithLimiterClock(c.now)), c
}

var (
	throttled = &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	inUse     = &smithy.GenericAPIError{Code: "InvalidSnapshot.InUse", Message: "in use"}
)

var deleteSnapshot = bucketKey{region: "us-east-1", service: "EC2", op: "DeleteSnapshot"}

func TestRateLimitForPrefersTheActionThenItsClass(t *testing.T) {
	t.Parallel()
	overrides := map[string]config.RateLimit{
		"DeleteVolume":         {Burst: 7, PerSecond: 7},
		config.RateMutating:    {Burst: 3, PerSecond: 1},
		config.RateNonMutating: {Burst: 9, PerSecond: 9},
	}
	tests := map[string]struct {
		op        string
		overrides map[string]config.RateLimit
		want      config.RateLimit
	}{
		"DeleteSnapshot has its own EC2 bucket":         {op: "DeleteSnapshot", want: config.RateLimit{Burst: 100, PerSecond: 5}},
		"DeregisterImage has its own EC2 bucket":        {op: "DeregisterImage", want: config.RateLimit{Burst: 100, PerSecond: 5}},
		"CreateTags has its own EC2 bucket":             {op: "CreateTags", want: config.RateLimit{Burst: 100, PerSecond: 10}},
		"other mutating actions share a class":          {op: "ReleaseAddress", want: config.RateLimit{Burst: 50, PerSecond: 5}},
		"Describe calls are non-mutating":               {op: "DescribeSnapshots", want: config.RateLimit{Burst: 100, PerSecond: 20}},
		"Get and List calls are non-mutating":           {op: "GetCallerIdentity", want: config.RateLimit{Burst: 100, PerSecond: 20}},
		"an override of the action wins":                {op: "DeleteVolume", overrides: overrides, want: config.RateLimit{Burst: 7, PerSecond: 7}},
		"a class override does not beat a built-in one": {op: "DeleteSnapshot", overrides: overrides, want: config.RateLimit{Burst: 100, PerSecond: 5}},
		"a class override applies to the rest":          {op: "ReleaseAddress", overrides: overrides, want: config.RateLimit{Burst: 3, PerSecond: 1}},
		"a non-mutating class override":                 {op: "DescribeImages", overrides: overrides, want: config.RateLimit{Burst: 9, PerSecond: 9}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, RateLimitFor(tc.op, tc.overrides)); diff != "" {
				t.Errorf("RateLimitFor(%s) (-want +got):\n%s", tc.op, diff)
			}
		})
	}
}

func TestLimiterLetsTheBurstGoThenPacesAtTheRefillRate(t *testing.T) {
	t.Parallel()
	l, _ := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 3, PerSecond: 4}})
	var waits []time.Duration
	for range 6 {
		_, w := l.reserve(deleteSnapshot)
		waits = append(waits, w)
	}
	want := []time.Duration{0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestLimiterRefillsWithTimeUpToTheBurst(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 2, PerSecond: 10}})
	for range 2 {
		l.reserve(deleteSnapshot)
	}
	c.advance(time.Hour) // refills 2, not 36,000
	var waits []time.Duration
	for range 3 {
		_, w := l.reserve(deleteSnapshot)
		waits = append(waits, w)
	}
	if diff := cmp.Diff([]time.Duration{0, 0, 100 * time.Millisecond}, waits); diff != "" {
		t.Errorf("waits after an hour (-want +got):\n%s", diff)
	}
}

func TestLimiterKeepsOneBucketPerRegionAndAction(t *testing.T) {
	t.Parallel()
	l, _ := newFakeLimiter(map[string]config.RateLimit{config.RateMutating: {Burst: 1, PerSecond: 1}})
	keys := []bucketKey{
		{region: "us-east-1", service: "EC2", op: "ReleaseAddress"},
		{region: "eu-west-1", service: "EC2", op: "ReleaseAddress"},
		{region: "us-east-1", service: "EC2", op: "DeleteTags"},
		{account: "222222222222", region: "us-east-1", service: "EC2", op: "DeleteTags"},
	}
	for _, k := range keys {
		if _, w := l.reserve(k); w != 0 {
			t.Errorf("%v: first call waits %v, want 0: it has its own bucket", k, w)
		}
	}
	if _, w := l.reserve(keys[0]); w != time.Second {
		t.Errorf("second call of %v waits %v, want 1s", keys[0], w)
	}
}

func TestLimiterHalvesTheRateOncePerRoundOfThrottling(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 10, PerSecond: 8}})
	// Eight calls in flight together are all throttled: one cut, not eight.
	var inFlight []reservation
	for range 8 {
		r, _ := l.reserve(deleteSnapshot)
		inFlight = append(inFlight, r)
	}
	c.advance(10 * time.Millisecond)
	for _, r := range inFlight {
		l.done(r, throttled)
	}
	st := l.Stats()[0]
	if st.Rate != 4 || st.Cuts != 1 || st.Throttled != 8 {
		t.Errorf("after one round of 8 throttles: rate %v, cuts %d, throttled %d; want rate 4, 1 cut, 8 throttled", st.Rate, st.Cuts, st.Throttled)
	}
	// The bucket was emptied: the next call waits for a token at the new rate.
	if _, w := l.reserve(deleteSnapshot); w != 250*time.Millisecond {
		t.Errorf("the call after the cut waits %v, want 250ms (1 token at 4/s)", w)
	}
	// A call paced after the cut and throttled again cuts again.
	c.advance(250 * time.Millisecond)
	r, _ := l.reserve(deleteSnapshot)
	l.done(r, throttled)
	if st := l.Stats()[0]; st.Rate != 2 || st.Cuts != 2 {
		t.Errorf("after a second round: rate %v, cuts %d; want 2 and 2", st.Rate, st.Cuts)
	}
}

func TestLimiterNeverGoesBelowItsFloor(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 1, PerSecond: 64}})
	for range 20 {
		c.advance(time.Second)
		r, _ := l.reserve(deleteSnapshot)
		c.advance(time.Second)
		l.done(r, throttled)
	}
	if st := l.Stats()[0]; st.Rate != 2 || st.MinRate != 2 {
		t.Errorf("rate %v (lowest %v) after 20 rounds of throttling, want the floor 64/32 = 2", st.Rate, st.MinRate)
	}
}

func TestLimiterIgnoresOtherErrors(t *testing.T) {
	t.Parallel()
	l, _ := newFakeLimiter(nil)
	r, _ := l.reserve(deleteSnapshot)
	l.done(r, fmt.Errorf("delete: %w", inUse))
	l.done(r, errors.New("connection reset"))
	if st := l.Stats()[0]; st.Rate != 5 || st.Cuts != 0 || st.Throttled != 0 {
		t.Errorf("after permanent and transient errors: %+v, want rate 5 and no cut", st)
	}
}

func TestLimiterRecoversLinearlyWhileCallsSucceed(t *testing.T) {
	t.Parallel()
	limit := 10.0
	l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 10, PerSecond: limit}})
	r, _ := l.reserve(deleteSnapshot)
	l.done(r, throttled) // 10 → 5
	start := c.now()
	for l.Stats()[0].Rate < limit {
		r, w := l.reserve(deleteSnapshot)
		c.advance(w)
		l.done(r, nil)
		if c.now().Sub(start) > time.Minute {
			t.Fatalf("rate %v after a minute of successes, want back at %v", l.Stats()[0].Rate, limit)
		}
	}
	// From half the limit, at a tenth of the limit per second: about 5s.
	if took := c.now().Sub(start); took < 4*time.Second || took > 6*time.Second {
		t.Errorf("recovery from %v/s to %v/s took %v, want about 5s", limit/2, limit, took)
	}
}

func TestLimiterWaitGivesTheTokenBackWhenCancelled(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var slept []time.Duration
	l := NewLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 1, PerSecond: 0.01}},
		WithLimiterClock(c.now),
		WithLimiterSleep(func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			<-ctx.Done() // the token is 100s away: the context ends first
			return ctx.Err()
		}))
	done, err := l.Wait(t.Context(), "us-east-1", "EC2", "DeleteSnapshot")
	if err != nil {
		t.Fatal(err)
	}
	done(nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Wait(ctx, "us-east-1", "EC2", "DeleteSnapshot"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want the context's error", err)
	}
	if diff := cmp.Diff([]time.Duration{100 * time.Second}, slept); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if st := l.Stats()[0]; st.Calls != 1 {
		t.Errorf("%d calls counted, want 1: the cancelled one was not made", st.Calls)
	}
	// The token came back: the next call waits for one token, not two.
	if _, w := l.reserve(deleteSnapshot); w != 100*time.Second {
		t.Errorf("the next call waits %v, want 100s", w)
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep(cancelled, 1h) = %v, want context.Canceled", err)
	}
	if err := sleep(t.Context(), time.Nanosecond); err != nil {
		t.Errorf("sleep(1ns) = %v", err)
	}
}

// server is the API's own token bucket: it throttles above its rate.
type server struct {
	rate, size, tokens float64
	last               time.Time
}

func (s *server) take(now time.Time) error {
	s.tokens = min(s.size, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	s.last = now
	if s.tokens < 1-1e-9 { // a call on the dot of its token is on time
		return throttled
	}
	s.tokens--
	return nil
}

// api answers a call sent at a time: nil or a throttling error.
type api interface{ take(time.Time) error }

// flaky throttles a fraction of the calls at random, whatever their rate,
// and every call before quietAt.
type flaky struct {
	rng      *rand.Rand
	fraction float64
	quietAt  time.Time
}

func (f *flaky) take(now time.Time) error {
	if now.Before(f.quietAt) || f.rng.Float64() < f.fraction {
		return throttled
	}
	return nil
}

// simulate runs n calls through l from workers concurrent workers against
// srv, each call taking latency, on the fake clock, and returns how long
// they took and how many were throttled. A throttled call is retried.
func simulate(l *Limiter, c *clock, srv api, n, workers int, latency time.Duration) (time.Duration, int) {
	const (
		ready   = iota // takes a token
		waiting        // for its token, then sends
		sent           // the answer arrives
	)
	type worker struct {
		at    time.Time // of its next event
		phase int
		r     reservation
		err   error
	}
	start := c.now()
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = &worker{at: start}
	}
	done, throttles := 0, 0
	for done < n {
		w := ws[0] // the worker whose next event comes first
		for _, x := range ws[1:] {
			if x.at.Before(w.at) {
				w = x
			}
		}
		c.t = w.at
		switch w.phase {
		case ready:
			var wait time.Duration
			w.r, wait = l.reserve(deleteSnapshot)
			w.at, w.phase = w.at.Add(wait), waiting
		case waiting:
			if l.stale(w.r) {
				w.phase = ready
				continue
			}
			w.err = srv.take(w.at)
			w.at, w.phase = w.at.Add(latency), sent
		case sent:
			l.done(w.r, w.err)
			w.phase = ready
			if w.err != nil {
				throttles++
			} else {
				done++
			}
		}
	}
	return c.now().Sub(start), throttles
}

// The limiter, not the number of workers, sets the pace: at EC2's limits,
// 1,000 deletions go at the allowed rate without a throttling error.
func TestLimiterKeepsToTheAllowedRate(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(nil)
	srv := &server{rate: 5, size: 100, tokens: 100, last: c.now()}
	took, throttles := simulate(l, c, srv, 1000, 8, 30*time.Millisecond)
	// 100 at once, then 900 at 5/s: 180s.
	if want := 180 * time.Second; took < want-time.Second || took > want+time.Second {
		t.Errorf("1,000 deletions took %v, want about %v", took, want)
	}
	if throttles != 0 {
		t.Errorf("%d throttling errors, want none", throttles)
	}
}

// Limits set higher than the API grants cost some throttling errors, not a
// storm, and the calls still go at most of the allowed rate.
func TestLimiterAdaptsToAnAPISlowerThanItsLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit, allowed float64
	}{
		{limit: 20, allowed: 5},
		{limit: 100, allowed: 50},
		{limit: 60, allowed: 50},
	} {
		t.Run(fmt.Sprintf("limit %v, allowed %v", tc.limit, tc.allowed), func(t *testing.T) {
			t.Parallel()
			l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: int(tc.allowed), PerSecond: tc.limit}})
			srv := &server{rate: tc.allowed, size: tc.allowed, tokens: tc.allowed, last: c.now()}
			n := 1000
			took, throttles := simulate(l, c, srv, n, 8, 30*time.Millisecond)
			achieved := float64(n) / took.Seconds()
			ratio := achieved / tc.allowed
			t.Logf("%d calls in %v: %.1f/s = %.2f of the allowed rate, %d throttled (%.1f%%)", n, took.Round(time.Millisecond), achieved, ratio, throttles, 100*float64(throttles)/float64(n))
			if ratio < 0.7 || math.IsNaN(ratio) {
				t.Errorf("achieved %.2f of the allowed rate, want at least 0.7", ratio)
			}
			if float64(throttles) > 0.1*float64(n) {
				t.Errorf("%d of %d calls throttled, want at most 10%%", throttles, n)
			}
		})
	}
}

// Throttling that has nothing to do with the rate (another client of the
// account, a busy API) slows the limiter down but does not stall it at its
// floor.
func TestLimiterKeepsGoingUnderRandomThrottling(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(nil) // DeleteSnapshot: 5/s
	srv := &flaky{rng: rand.New(rand.NewPCG(1, 2)), fraction: 0.3}
	n := 300
	took, throttles := simulate(l, c, srv, n, 8, 30*time.Millisecond)
	achieved := float64(n) / took.Seconds()
	t.Logf("%d calls in %v: %.2f/s, %d throttled; %+v", n, took.Round(time.Millisecond), achieved, throttles, l.Stats()[0])
	// It settles near a fifth of the limit, far above its floor of 5/32.
	if achieved < 0.75 {
		t.Errorf("achieved %.2f/s with 30%% of calls throttled at random, want at least 0.75/s of the 5/s", achieved)
	}
}

// After a spell of throttling the rate climbs back to the limit in seconds.
func TestLimiterRecoversAfterAThrottlingSpell(t *testing.T) {
	t.Parallel()
	l, c := newFakeLimiter(map[string]config.RateLimit{"DeleteSnapshot": {Burst: 10, PerSecond: 10}})
	spell := 5 * time.Second
	srv := &flaky{rng: rand.New(rand.NewPCG(1, 2)), quietAt: c.now().Add(spell)}
	simulate(l, c, srv, 1, 8, 30*time.Millisecond) // the first success ends the spell
	if st := l.Stats()[0]; st.MinRate >= 1 {
		t.Fatalf("the spell did not slow the limiter: %+v", st)
	}
	start := c.now()
	for l.Stats()[0].Rate < 10 {
		simulate(l, c, srv, 1, 1, 30*time.Millisecond)
		if c.now().Sub(start) > time.Minute {
			t.Fatalf("rate %.2f a minute after the spell, want back at 10/s", l.Stats()[0].Rate)
		}
	}
	if took := c.now().Sub(start); took > 20*time.Second {
		t.Errorf("back at the limit %v after the spell, want within 20s", took)
	}
	t.Logf("back at 10/s %v after the spell; %+v", c.now().Sub(start).Round(time.Millisecond), l.Stats()[0])
}
