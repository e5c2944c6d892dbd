package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

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
	start := time.Now()
	_, err := c.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	took := time.Since(start)
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("DescribeSnapshots error %v, want a timeout", err)
	}
	if took > 5*time.Second {
		t.Errorf("2 attempts of 200ms took %v", took)
	}
	if n := w.requests("DescribeSnapshots"); n != 2 {
		t.Errorf("%d attempts, want 2 (a timeout is transient)", n)
	}
}

// The limiter, not the number of workers, sets the pace: eight workers on
// two clients of one region share its bucket; another region has its own.
func TestClientsOfARegionShareTheRunsLimiter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := fast
	a.RateLimits = map[string]config.RateLimit{"DeleteSnapshot": {Burst: 2, PerSecond: 20}}
	o := cloud.NewOptions(a)
	clients := []*ec2.Client{w.client(t, "us-east-1", o), w.client(t, "us-east-1", o)}
	const calls = 20
	start := time.Now()
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
	// 2 at once, then 18 at 20/s: at least 0.9s.
	if took := time.Since(start); took < 850*time.Millisecond || took > 5*time.Second {
		t.Errorf("%d deletions with burst 2 at 20/s took %v, want about 0.9s", calls, took)
	}
	other := time.Now()
	for j := range 2 {
		if err := deleteSnapshot(t.Context(), w.client(t, "eu-west-1", o), fmt.Sprintf("snap-eu-%d", j)); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(other); took > 500*time.Millisecond {
		t.Errorf("2 deletions in eu-west-1 took %v: its bucket is not us-east-1's", took)
	}
	var got []string
	for _, s := range o.Limiter.Stats() {
		got = append(got, fmt.Sprintf("%s %s %s %d", s.Region, s.Service, s.Op, s.Calls))
	}
	want := []string{"eu-west-1 EC2 DeleteSnapshot 2", fmt.Sprintf("us-east-1 EC2 DeleteSnapshot %d", calls)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
}

func TestOptionsWithoutALimiterDoNotPace(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(t, "us-east-1", cloud.Options{})
	start := time.Now()
	for j := range 3 {
		if err := deleteSnapshot(t.Context(), c, fmt.Sprintf("snap-%d", j)); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("3 calls took %v", took)
	}
}

// A wait for a token ends with the call's context, and is not retried.
func TestWaitingForATokenEndsWithTheContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := fast
	a.RateLimits = map[string]config.RateLimit{"DeleteSnapshot": {Burst: 1, PerSecond: 0.01}}
	c := w.client(t, "us-east-1", cloud.NewOptions(a))
	if err := deleteSnapshot(t.Context(), c, "snap-1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := deleteSnapshot(ctx, c, "snap-2")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DeleteSnapshot = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if n := w.requests("DeleteSnapshot"); n != 1 {
		t.Errorf("%d DeleteSnapshot requests, want 1: the second never got its token", n)
	}
}
