package cloud

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/broom-dev/broom/internal/config"
)

// defaultRateLimits are EC2's published request-rate limits (token bucket
// size and refill per second, per account and region): the actions broom
// deletes with have their own buckets, the rest fall into a class.
var defaultRateLimits = map[string]config.RateLimit{
	"DeleteSnapshot":       {Burst: 100, PerSecond: 5},
	"DeleteVolume":         {Burst: 100, PerSecond: 5},
	"DeregisterImage":      {Burst: 100, PerSecond: 5},
	"CreateTags":           {Burst: 100, PerSecond: 10},
	config.RateMutating:    {Burst: 50, PerSecond: 5},
	config.RateNonMutating: {Burst: 100, PerSecond: 20},
}

// nonMutating are the prefixes of the actions EC2 counts as non-mutating.
var nonMutating = []string{"Describe", "Get", "List", "Search", "Head"}

// RateLimitFor returns the bucket of an API action: the action's own limit
// from overrides, else its built-in one, else its class's (mutating or
// non-mutating) from overrides, else the class's built-in one.
func RateLimitFor(op string, overrides map[string]config.RateLimit) config.RateLimit {
	if r, ok := overrides[op]; ok {
		return r
	}
	if r, ok := defaultRateLimits[op]; ok {
		return r
	}
	class := config.RateMutating
	for _, p := range nonMutating {
		if strings.HasPrefix(op, p) {
			class = config.RateNonMutating
		}
	}
	if r, ok := overrides[class]; ok {
		return r
	}
	return defaultRateLimits[class]
}

// How a bucket's refill rate adapts (AIMD, as TCP does): a throttling
// error halves it, at most once per round of calls, down to floorFraction
// of the limit; while calls succeed it climbs back by recoverFraction of
// the limit per second.
const (
	floorFraction   = 1.0 / 32
	recoverFraction = 1.0 / 10
)

// Limiter paces API calls with one token bucket per account, region and API
// action, as EC2 counts them. One Limiter is shared by every client of a
// run (NewOptions makes it), so that the workers of an apply together keep
// to the allowance AWS grants each account, whatever their number: a call waits for its bucket's token
// before each attempt, retries included. It is safe for concurrent use.
type Limiter struct {
	overrides map[string]config.RateLimit
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

// bucketKey names a bucket; account is "" for the calls of clients that
// ForAccount has not named an account for (the credentials' own).
type bucketKey struct{ account, region, service, op string }

// bucket is a token bucket whose refill rate adapts to throttling. tokens
// goes below zero when calls queue: each waits for its own token.
type bucket struct {
	limit        config.RateLimit
	rate, tokens float64
	last         time.Time // of the last refill
	cut          time.Time // when the rate was last cut
	stat         LimitStat
}

// LimiterOption configures a Limiter.
type LimiterOption func(*Limiter)

// WithLimiterClock sets the limiter's clock, for tests.
func WithLimiterClock(now func() time.Time) LimiterOption {
	return func(l *Limiter) { l.now = now }
}

// WithLimiterSleep sets how Wait waits for a token: sleep returns after d,
// or with ctx's error if ctx ends first. For tests, with WithLimiterClock.
func WithLimiterSleep(sleep func(ctx context.Context, d time.Duration) error) LimiterOption {
	return func(l *Limiter) { l.sleep = sleep }
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewLimiter returns a limiter with the built-in EC2 limits, overridden by
// overrides (by action name, or config.RateMutating / RateNonMutating).
func NewLimiter(overrides map[string]config.RateLimit, opts ...LimiterOption) *Limiter {
	l := &Limiter{overrides: overrides, now: time.Now, sleep: sleep, buckets: map[bucketKey]*bucket{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// bucket returns k's bucket, full at first. l.mu is held.
func (l *Limiter) bucket(k bucketKey, now time.Time) *bucket {
	b := l.buckets[k]
	if b == nil {
		lim := RateLimitFor(k.op, l.overrides)
		b = &bucket{limit: lim, rate: lim.PerSecond, tokens: float64(lim.Burst), last: now}
		b.stat = LimitStat{Account: k.account, Region: k.region, Service: k.service, Op: k.op, Burst: lim.Burst}
		l.buckets[k] = b
	}
	return b
}

// reservation is a token taken from a bucket at a time.
type reservation struct {
	b  *bucket
	at time.Time
}

// reserve takes the next token of k's bucket and says how long to wait for
// it.
func (l *Limiter) reserve(k bucketKey) (reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(k, now)
	b.refill(now)
	b.tokens--
	r := reservation{b: b, at: now}
	if b.tokens >= 0 {
		return r, 0
	}
	// Rounded up: a call sent a nanosecond before its token is throttled.
	wait := time.Duration(math.Ceil(-b.tokens / b.rate * float64(time.Second)))
	b.stat.Waited += wait
	return r, wait
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(b.limit.Burst), b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// stale reports whether the rate was cut after r was taken: r's turn was
// paced at a rate the API refused, so r must queue again.
func (l *Limiter) stale(r reservation) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return r.at.Before(r.b.cut)
}

// cancel gives back a token whose call was not made. A cut has already
// dropped the queue that a stale one was part of.
func (l *Limiter) cancel(r reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !r.at.Before(r.b.cut) {
		r.b.tokens = min(float64(r.b.limit.Burst), r.b.tokens+1)
	}
}

// done adapts the bucket to the outcome of r's call. A throttling error
// halves the rate and empties the bucket, dropping the queue (the calls
// waiting in it take their turn again, at the new rate), unless the rate
// was already cut after r was taken: the calls in flight when the API
// started throttling fail together and count as one signal. A success adds
// to the rate, so that it climbs back by recoverFraction of the limit per
// second of successful calls.
func (l *Limiter) done(r reservation, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, now := r.b, l.now()
	b.refill(now)
	b.stat.Calls++
	switch {
	case err == nil:
		if b.rate < b.limit.PerSecond {
			b.rate = min(b.limit.PerSecond, b.rate+recoverFraction*b.limit.PerSecond/b.rate)
		}
	case isThrottle(err):
		b.stat.Throttled++
		if r.at.Before(b.cut) {
			return
		}
		b.rate = max(b.limit.PerSecond*floorFraction, b.rate/2)
		b.tokens = 0
		b.cut = now
		if b.stat.Cuts++; b.stat.Cuts == 1 || b.rate < b.stat.MinRate {
			b.stat.MinRate = b.rate
		}
	}
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func isThrottle(err error) bool { return throttles.IsErrorThrottle(err) == aws.TrueTernary }

// Wait waits for a token of the bucket of (region, service, op) in the
// account ForAccount named for ctx's call, if any, and returns the function
// to call with the call's outcome. A call still waiting when the rate is
// cut queues again at the new rate. Wait returns ctx's error if ctx ends
// first.
func (l *Limiter) Wait(ctx context.Context, region, service, op string) (func(error), error) {
	account, _ := middleware.GetStackValue(ctx, accountKey{}).(string)
	for {
		r, wait := l.reserve(bucketKey{account, region, service, op})
		if wait > 0 {
			if err := l.sleep(ctx, wait); err != nil {
				l.cancel(r)
				return nil, err
			}
		}
		if wait == 0 || !l.stale(r) {
			return func(err error) { l.done(r, err) }, nil
		}
	}
}

// LimitStat is what one bucket saw during the run.
type LimitStat struct {
	Account, Region, Service, Op string
	Burst                        int
	// Rate is the refill rate now; MinRate the lowest it was cut to (0 if
	// never cut).
	Rate, MinRate float64
	Calls         int           // attempts made, retries included
	Throttled     int           // attempts answered with a throttling error
	Cuts          int           // times the rate was halved
	Waited        time.Duration // total wait for tokens, over all calls
}

// Stats returns every bucket's counts, by account, region, service and
// action.
func (l *Limiter) Stats() []LimitStat {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LimitStat, 0, len(l.buckets))
	for _, b := range l.buckets {
		s := b.stat
		s.Rate = b.rate
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Op < b.Op
	})
	return out
}

// limitMiddleware paces each attempt of an SDK call. It sits in the
// Finalize step right after the retryer, so that retries wait for a token
// too, and before signing, so that a signature never ages in the queue.
type limitMiddleware struct {
	l      *Limiter
	region string // the client's; an operation may name its own
}

func (*limitMiddleware) ID() string { return "broom.RateLimit" }

func (m *limitMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	op := awsmiddleware.GetOperationName(ctx)
	region := awsmiddleware.GetRegion(ctx)
	if region == "" {
		region = m.region
	}
	done, err := m.l.Wait(ctx, region, awsmiddleware.GetServiceID(ctx), op)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the %s rate limit: %w", op, err)
	}
	out, md, err := next.HandleFinalize(ctx, in)
	done(err)
	return out, md, err
}

// addTo returns the API option that puts the limiter on a client's stack.
func (l *Limiter) addTo(region string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		m := &limitMiddleware{l: l, region: region}
		if err := s.Finalize.Insert(m, (&retry.Attempt{}).ID(), middleware.After); err == nil {
			return nil
		}
		return s.Finalize.Add(m, middleware.After) // a stack without the retryer
	}
}

// accountKey is the stack value ForAccount sets: the account whose buckets
// pace the call.
type accountKey struct{}

// ForAccount returns cfg whose calls the run's limiter paces in the
// buckets of account: EC2 counts request rates per account and region, so
// each account of a run has an allowance of its own. The clients cfg
// already built (an assumed role's STS client) keep cfg's buckets: the
// account that assumes the role makes those calls.
func ForAccount(cfg aws.Config, account string) aws.Config {
	out := cfg.Copy()
	out.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("broom.Account",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(middleware.WithStackValue(ctx, accountKey{}, account), in)
			}), middleware.Before)
	})
	return out
}
