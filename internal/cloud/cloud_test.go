package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/faults"
)

// fakeEC2 answers DeleteSnapshot and DescribeSnapshots with success, the
// way EC2's query protocol does.
func fakeEC2(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		const ns = `xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"`
		switch op := r.PostForm.Get("Action"); op {
		case "DeleteSnapshot":
			fmt.Fprintf(w, `<DeleteSnapshotResponse %s><requestId>r1</requestId><return>true</return></DeleteSnapshotResponse>`, ns)
		case "DescribeSnapshots":
			fmt.Fprintf(w, `<DescribeSnapshotsResponse %s><requestId>r2</requestId><snapshotSet/></DescribeSnapshotsResponse>`, ns)
		default:
			http.Error(w, "fakeEC2: no "+op, http.StatusNotImplemented)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// world is a fake EC2 behind the fault proxy.
type world struct {
	proxy *faults.Proxy
}

func newWorld(t *testing.T, rules ...faults.Rule) *world {
	t.Helper()
	p, err := faults.New(fakeEC2(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.SetRules(rules...)
	return &world{proxy: p}
}

// client builds an EC2 client the way broom does, through the proxy.
func (w *world) client(t *testing.T, region string, o cloud.Options) *ec2.Client {
	t.Helper()
	cfg, err := cloud.Load(t.Context(), region, o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	return ec2.NewFromConfig(cfg, func(eo *ec2.Options) { eo.BaseEndpoint = aws.String(w.proxy.URL()) })
}

func (w *world) requests(op string) int { return w.proxy.Stats()[op].Requests }

func deleteSnapshot(ctx context.Context, c *ec2.Client, id string) error {
	_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	return err
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// fast is the aws block of a test: short waits between attempts.
var fast = config.AWS{MaxBackoff: 20 * time.Millisecond}

func TestPermanentErrorsAreAttemptedOnce(t *testing.T) {
	t.Parallel()
	for _, f := range []faults.Fault{
		faults.APIError(400, "InvalidSnapshot.InUse", "The snapshot snap-inuse is currently in use by ami-1"),
		faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation."),
	} {
		t.Run(f.Code, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, faults.Rule{Op: "DeleteSnapshot", IDs: []string{"snap-inuse"}, Fault: f})
			c := w.client(t, "us-east-1", cloud.NewOptions(fast))
			err := deleteSnapshot(t.Context(), c, "snap-inuse")
			if got := errorCode(err); got != f.Code {
				t.Fatalf("DeleteSnapshot error %v (code %q), want %s", err, got, f.Code)
			}
			if n := w.requests("DeleteSnapshot"); n != 1 {
				t.Errorf("%d DeleteSnapshot attempts, want 1: a permanent error is not retried", n)
			}
			if err := deleteSnapshot(t.Context(), c, "snap-other"); err != nil {
				t.Errorf("another snapshot: %v", err)
			}
		})
	}
}

func TestThrottlingIsRetriedAndSlowsTheBucket(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"standard", "adaptive"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, faults.Rule{Op: "DeleteSnapshot", Limit: 2, Fault: faults.Throttle()})
			a := fast
			a.RetryMode = mode
			o := cloud.NewOptions(a)
			if err := deleteSnapshot(t.Context(), w.client(t, "us-east-1", o), "snap-1"); err != nil {
				t.Fatalf("DeleteSnapshot after 2 throttling errors: %v", err)
			}
			if n := w.requests("DeleteSnapshot"); n != 3 {
				t.Errorf("%d DeleteSnapshot attempts, want 3", n)
			}
			st := o.Limiter.Stats()
			if len(st) != 1 || st[0].Op != "DeleteSnapshot" || st[0].Region != "us-east-1" || st[0].Service != "EC2" {
				t.Fatalf("limiter buckets %+v, want one: us-east-1 EC2 DeleteSnapshot", st)
			}
			if st[0].Calls != 3 || st[0].Throttled != 2 || st[0].Cuts == 0 || st[0].Rate >= 5 {
				t.Errorf("bucket %+v: want 3 calls, 2 throttled, a rate cut below 5/s", st[0])
			}
		})
	}
}

func TestTransientErrorsAreRetriedUpToMaxAttempts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, faults.Rule{Op: "DeleteSnapshot", Fault: faults.InternalError()})
	a := fast
	a.MaxAttempts = 3
	err := deleteSnapshot(t.Context(), w.client(t, "us-east-1", cloud.NewOptions(a)), "snap-1")
	if got := errorCode(err); got != "InternalError" {
		t.Fatalf("DeleteSnapshot error %v, want InternalError", err)
	}
	if n := w.requests("DeleteSnapshot"); n != 3 {
		t.Errorf("%d attempts, want max-attempts = 3", n)
	}
}

func TestEveryAttemptHasTheCallTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t, faults.Rule{Op: "DescribeSnapshots", Fault: faults.Delay(time.Minute)})
	a := fast
	a.MaxAttempts, a.CallTimeout = 2, 200*time.Millisecond
	c := w.client(t, "us-east-1", cloud.NewOptions(a))
	// Without the timeout the call would wait the proxy's minute out.
	_, err := c.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("DescribeSnapshots error %v, want a timeout", err)
	}
	if n := w.requests("DescribeSnapshots"); n != 2 {
		t.Errorf("%d attempts, want 2 (a timeout is transient)", n)
	}
}

// sleeps records the limiter's waits for tokens on a clock that stands
// still, and returns at once: each wait is then exactly the number of
// tokens queued ahead of the call, over the rate.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) sorted() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.d))
}

// The limiter, not the number of workers, sets the pace: eight workers on
// two clients of one region share its bucket; another region has its own.
func TestClientsOfARegionShareTheRunsLimiter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := fast
	a.RateLimits = map[string]config.RateLimit{"DeleteSnapshot": {Burst: 2, PerSecond: 20}}
	o := cloud.NewOptions(a)
	frozen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var s sleeps
	o.Limiter = cloud.NewLimiter(a.RateLimits, cloud.WithLimiterClock(func() time.Time { return frozen }), cloud.WithLimiterSleep(s.sleep))
	clients := []*ec2.Client{w.client(t, "us-east-1", o), w.client(t, "us-east-1", o)}
	const calls = 20
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	jobs := make(chan int)
	for i := range 8 {
		wg.Go(func() {
			for j := range jobs {
				errs <- deleteSnapshot(t.Context(), clients[i%2], fmt.Sprintf("snap-%d", j))
			}
		})
	}
	for j := range calls {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 2 at once (the burst), then one token every 50ms for the other 18,
	// whichever worker and client made them: the last waits 0.9s.
	var want []time.Duration
	for k := 1; k <= calls-2; k++ {
		want = append(want, time.Duration(k)*50*time.Millisecond)
	}
	if diff := cmp.Diff(want, s.sorted()); diff != "" {
		t.Errorf("waits for tokens in us-east-1 (-want +got):\n%s", diff)
	}
	for j := range 2 {
		if err := deleteSnapshot(t.Context(), w.client(t, "eu-west-1", o), fmt.Sprintf("snap-eu-%d", j)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(s.sorted()); got != calls-2 {
		t.Errorf("the 2 deletions in eu-west-1 waited %d times, want none: its bucket is not us-east-1's", got-(calls-2))
	}
	var got []string
	for _, s := range o.Limiter.Stats() {
		got = append(got, fmt.Sprintf("%s %s %s %d", s.Region, s.Service, s.Op, s.Calls))
	}
	want2 := []string{"eu-west-1 EC2 DeleteSnapshot 2", fmt.Sprintf("us-east-1 EC2 DeleteSnapshot %d", calls)}
	if diff := cmp.Diff(want2, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
}

// limited reports whether a client built from o paces its calls: whether
// broom's rate-limit middleware is on the stack of the call it makes.
func limited(t *testing.T, w *world, o cloud.Options) bool {
	t.Helper()
	cfg, err := cloud.Load(t.Context(), "us-east-1", o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	var found bool
	c := ec2.NewFromConfig(cfg, func(eo *ec2.Options) {
		eo.BaseEndpoint = aws.String(w.proxy.URL())
		eo.APIOptions = append(eo.APIOptions, func(s *middleware.Stack) error {
			_, found = s.Finalize.Get("broom.RateLimit")
			return nil
		})
	})
	if err := deleteSnapshot(t.Context(), c, "snap-1"); err != nil {
		t.Fatal(err)
	}
	return found
}

func TestOptionsWithoutALimiterDoNotPace(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if limited(t, w, cloud.Options{}) {
		t.Error("a client of Options without a Limiter has the rate-limit middleware")
	}
	if !limited(t, w, cloud.NewOptions(fast)) {
		t.Error("a client of NewOptions has no rate-limit middleware")
	}
}

// A wait for a token ends with the call's context, and is not retried.
func TestWaitingForATokenEndsWithTheContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := fast
	a.RateLimits = map[string]config.RateLimit{"DeleteSnapshot": {Burst: 1, PerSecond: 0.01}}
	o := cloud.NewOptions(a)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var waits []time.Duration
	o.Limiter = cloud.NewLimiter(a.RateLimits, cloud.WithLimiterSleep(func(wctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		cancel() // the run is cancelled while the call waits for its token
		<-wctx.Done()
		return wctx.Err()
	}))
	c := w.client(t, "us-east-1", o)
	if err := deleteSnapshot(t.Context(), c, "snap-1"); err != nil {
		t.Fatal(err)
	}
	err := deleteSnapshot(ctx, c, "snap-2")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteSnapshot = %v, want the context's error", err)
	}
	if len(waits) != 1 {
		t.Errorf("%d waits for a token, want 1: a cancelled wait is not retried", len(waits))
	}
	if n := w.requests("DeleteSnapshot"); n != 1 {
		t.Errorf("%d DeleteSnapshot requests, want 1: the second never got its token", n)
	}
}
