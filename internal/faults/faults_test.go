package faults_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/faults"
)

// target is a plain HTTP server that answers 200 "ok METHOD PATH" and
// counts what reached it.
type target struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.got = append(tg.got, r.Method+" "+r.URL.Path)
		tg.mu.Unlock()
		fmt.Fprintf(w, "ok %s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) reached() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]string(nil), tg.got...)
}

func newProxy(t *testing.T, to string, opts ...faults.Option) *faults.Proxy {
	t.Helper()
	p, err := faults.New(to, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// answer is what a client got.
type answer struct {
	Status int
	Header map[string]string // only the keys asked for
	Body   string
}

// send makes one request through p and returns the answer.
func send(t *testing.T, client *http.Client, method, url string, header http.Header, body string, keys ...string) (answer, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Body: string(b)}
	for _, k := range keys {
		if a.Header == nil {
			a.Header = map[string]string{}
		}
		a.Header[k] = resp.Header.Get(k)
	}
	return a, err
}

// signed is the header of a SigV4-signed request for service.
func signed(service string) http.Header {
	return http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/us-east-1/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"}}
}

func form(service string) http.Header {
	h := signed(service)
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return h
}

func TestFaultAnswers(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		rule   faults.Rule
		method string
		path   string
		header http.Header
		body   string
		keys   []string
		want   answer
		wantOp string
	}{
		"EC2 throttling is a 503 RequestLimitExceeded in EC2's XML": {
			rule:   faults.Rule{Op: "DescribeSnapshots", Fault: faults.Throttle()},
			method: "POST", path: "/", header: form("ec2"), body: "Action=DescribeSnapshots&Version=2016-11-15",
			want: answer{Status: 503, Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>faults-00000001</RequestID></Response>`},
			wantOp: "DescribeSnapshots",
		},
		"a permanent error for a chosen id": {
			rule: faults.Rule{Op: "DeleteSnapshot", IDs: []string{"snap-1"},
				Fault: faults.APIError(400, "InvalidSnapshot.InUse", "The snapshot snap-1 is in use by ami-1")},
			method: "POST", path: "/", header: form("ec2"), body: "Action=DeleteSnapshot&SnapshotId=snap-1&Version=2016-11-15",
			want: answer{Status: 400, Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>InvalidSnapshot.InUse</Code><Message>The snapshot snap-1 is in use by ami-1</Message></Error></Errors><RequestID>faults-00000001</RequestID></Response>`},
			wantOp: "DeleteSnapshot",
		},
		"S3 SlowDown is a 503 in S3's XML": {
			rule:   faults.Rule{Service: "s3", Fault: faults.SlowDown()},
			method: "PUT", path: "/acme-ci-artifacts", header: signed("s3"),
			want: answer{Status: 503, Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>faults-00000001</RequestId><HostId>faults-00000001</HostId></Error>`},
			wantOp: "CreateBucket",
		},
		"an STS error is in the query protocol's XML": {
			rule:   faults.Rule{Service: "sts", Fault: faults.InternalError()},
			method: "POST", path: "/", header: form("sts"), body: "Action=GetCallerIdentity&Version=2011-06-15",
			want: answer{Status: 500, Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>An internal error has occurred.</Message></Error><RequestId>faults-00000001</RequestId></ErrorResponse>`},
			wantOp: "GetCallerIdentity",
		},
		"an awsJson error": {
			rule:   faults.Rule{Op: "ListTables", Fault: faults.APIError(400, "ThrottlingException", "Rate exceeded")},
			method: "POST", path: "/", header: func() http.Header {
				h := signed("dynamodb")
				h.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
				return h
			}(),
			body: "{}", keys: []string{"X-Amzn-Errortype"},
			want: answer{Status: 400, Body: `{"__type":"ThrottlingException","message":"Rate exceeded"}`,
				Header: map[string]string{"X-Amzn-Errortype": "ThrottlingException"}},
			wantOp: "ListTables",
		},
		"GitHub's secondary rate limit": {
			rule:   faults.Rule{Method: "PATCH", PathPrefix: "/api/v3/repos/acme/infra/issues/comments/", Fault: faults.SecondaryRateLimit(time.Second)},
			method: "PATCH", path: "/api/v3/repos/acme/infra/issues/comments/42", body: `{"body":"x"}`, keys: []string{"Retry-After"},
			want: answer{Status: 403, Header: map[string]string{"Retry-After": "1"},
				Body: `{"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`},
			wantOp: "PATCH /api/v3/repos/acme/infra/issues/comments/42",
		},
		"GitHub's 429": {
			rule:   faults.Rule{Method: "POST", Fault: faults.TooManyRequests(2500 * time.Millisecond)},
			method: "POST", path: "/graphql", body: `{"query":"query { viewer { login } }"}`, keys: []string{"Retry-After"},
			want: answer{Status: 429, Header: map[string]string{"Retry-After": "3"},
				Body: `{"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","message":"Too many requests."}`},
			wantOp: "POST /graphql",
		},
		"GitHub's primary rate limit": {
			rule:   faults.Rule{Fault: faults.PrimaryRateLimit(time.Unix(1_700_000_000, 0))},
			method: "GET", path: "/api/v3/repos/acme/infra/pulls/7", keys: []string{"X-Ratelimit-Remaining", "X-Ratelimit-Reset"},
			want: answer{Status: 403, Header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700000000"},
				Body: `{"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit","message":"API rate limit exceeded."}`},
			wantOp: "GET /api/v3/repos/acme/infra/pulls/7",
		},
		"GitHub's 502": {
			rule:   faults.Rule{Fault: faults.BadGateway()},
			method: "DELETE", path: "/api/v3/repos/acme/infra/issues/7/labels/broom:approved",
			want:   answer{Status: 502, Body: `{"message":"Server Error"}`},
			wantOp: "DELETE /api/v3/repos/acme/infra/issues/7/labels/broom:approved",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			p := newProxy(t, tg.srv.URL)
			p.SetRules(tc.rule)
			got, err := send(t, http.DefaultClient, tc.method, p.URL()+tc.path, tc.header, tc.body, tc.keys...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if r := tg.reached(); len(r) != 0 {
				t.Errorf("the faulted call reached the target: %v", r)
			}
			if diff := cmp.Diff(map[string]faults.Stats{tc.wantOp: {Requests: 1, Injected: 1}}, p.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRulesMatchAndForward(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := newProxy(t, tg.srv.URL)
	p.SetRules(
		faults.Rule{Op: "DeleteSnapshot", IDs: []string{"snap-bad"}, Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")},
		faults.Rule{Method: "GET", PathPrefix: "/api/v3/repos/", Limit: 2, Fault: faults.BadGateway()},
	)
	calls := []struct {
		method, path string
		header       http.Header
		body         string
		want         int
	}{
		{"POST", "/", form("ec2"), "Action=DeleteSnapshot&SnapshotId=snap-bad", 403},
		{"POST", "/", form("ec2"), "Action=DeleteSnapshot&SnapshotId=snap-good", 200},
		{"POST", "/", form("ec2"), "Action=DeleteVolume&VolumeId=snap-bad", 200}, // another op
		{"GET", "/api/v3/repos/acme/infra/pulls/7", nil, "", 502},
		{"GET", "/api/v3/repos/acme/infra/pulls/7", nil, "", 502},
		{"GET", "/api/v3/repos/acme/infra/pulls/7", nil, "", 200}, // Limit reached
		{"POST", "/api/v3/repos/acme/infra/issues/7/comments", nil, "{}", 200},
	}
	for _, c := range calls {
		got, err := send(t, http.DefaultClient, c.method, p.URL()+c.path, c.header, c.body)
		if err != nil || got.Status != c.want {
			t.Errorf("%s %s %s: %d %v, want %d", c.method, c.path, c.body, got.Status, err, c.want)
		}
	}
	want := map[string]faults.Stats{
		"DeleteSnapshot":                                  {Requests: 2, Forwarded: 1, Injected: 1},
		"DeleteVolume":                                    {Requests: 1, Forwarded: 1},
		"GET /api/v3/repos/acme/infra/pulls/7":            {Requests: 3, Forwarded: 1, Injected: 2},
		"POST /api/v3/repos/acme/infra/issues/7/comments": {Requests: 1, Forwarded: 1},
	}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(faults.Stats{Requests: 7, Forwarded: 4, Injected: 3}, p.Total()); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
	if got := len(tg.reached()); got != 4 {
		t.Errorf("%d calls reached the target, want 4", got)
	}

	// Rules change at run time; stats can be reset.
	p.ClearRules()
	p.ResetStats()
	if got, _ := send(t, http.DefaultClient, "POST", p.URL()+"/", form("ec2"), "Action=DeleteSnapshot&SnapshotId=snap-bad"); got.Status != 200 {
		t.Errorf("after ClearRules: %d, want 200", got.Status)
	}
	if diff := cmp.Diff([]string{"DeleteSnapshot"}, p.Ops()); diff != "" {
		t.Errorf("ops after ResetStats (-want +got):\n%s", diff)
	}
}

// statuses sends n GETs through a fresh proxy with rule and returns the
// statuses, in order.
func statuses(t *testing.T, to string, rule faults.Rule, n int, opts ...faults.Option) []int {
	t.Helper()
	p := newProxy(t, to, opts...)
	p.SetRules(rule)
	out := make([]int, n)
	for i := range out {
		a, err := send(t, http.DefaultClient, "GET", p.URL()+"/x", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = a.Status
	}
	return out
}

func TestFractionIsDeterministic(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	rule := faults.Rule{Fraction: 0.3, Fault: faults.Throttle()}
	a := statuses(t, tg.srv.URL, rule, 400, faults.WithSeed(7))
	b := statuses(t, tg.srv.URL, rule, 400, faults.WithSeed(7))
	c := statuses(t, tg.srv.URL, rule, 400, faults.WithSeed(8))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("the same seed gave different faults (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Error("another seed gave the same faults")
	}
	n := 0
	for _, s := range a {
		if s == 503 {
			n++
		}
	}
	if n < 90 || n > 150 { // 30% of 400 is 120
		t.Errorf("%d of 400 calls throttled, want about 120", n)
	}
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := newProxy(t, tg.srv.URL)
	// 0.01 per second: no token comes back during the test.
	p.SetRules(
		faults.Rule{Service: "ec2", PerOp: true, Rate: 0.01, Burst: 3, Fault: faults.Throttle()},
		faults.Rule{Service: "sts", Rate: 0.01, Burst: 2, Fault: faults.Throttle()},
	)
	for range 5 {
		for _, op := range []string{"DeleteSnapshot", "DeleteVolume"} {
			_, _ = send(t, http.DefaultClient, "POST", p.URL()+"/", form("ec2"), "Action="+op)
		}
		for _, op := range []string{"GetCallerIdentity", "AssumeRole"} {
			_, _ = send(t, http.DefaultClient, "POST", p.URL()+"/", form("sts"), "Action="+op)
		}
	}
	want := map[string]faults.Stats{
		"DeleteSnapshot":    {Requests: 5, Forwarded: 3, Injected: 2}, // a bucket per op
		"DeleteVolume":      {Requests: 5, Forwarded: 3, Injected: 2},
		"GetCallerIdentity": {Requests: 5, Forwarded: 1, Injected: 4}, // one shared bucket
		"AssumeRole":        {Requests: 5, Forwarded: 1, Injected: 4},
	}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// clock is a fake clock a test steps by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenBucketRefills(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProxy(t, tg.srv.URL, faults.WithClock(c.now))
	p.SetRules(faults.Rule{Rate: 20, Burst: 1, Fault: faults.Throttle()})
	// 20 per second: a token every 50ms, at most one (the burst) kept.
	steps := []struct {
		advance time.Duration
		want    int
	}{
		{0, 200},                      // the full bucket
		{0, 503},                      // empty
		{49 * time.Millisecond, 503},  // not yet a whole token
		{time.Millisecond, 200},       // 50ms: one token
		{50 * time.Millisecond, 200},  // another
		{time.Hour, 200},              // an hour refills one, the burst...
		{0, 503},                      // ...not 72,000
		{100 * time.Millisecond, 200}, // two tokens' worth, one kept
		{0, 503},
	}
	for i, s := range steps {
		c.advance(s.advance)
		a, err := send(t, http.DefaultClient, "GET", p.URL()+"/x", nil, "")
		if err != nil || a.Status != s.want {
			t.Errorf("call %d (after +%v): %d %v, want %d", i, s.advance, a.Status, err, s.want)
		}
	}
}

func TestResetDelayAndAfterForward(t *testing.T) {
	t.Parallel()
	t.Run("a reset call gets no answer", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		p := newProxy(t, tg.srv.URL)
		p.SetRules(faults.Rule{Fault: faults.ConnReset()})
		if a, err := send(t, http.DefaultClient, "POST", p.URL()+"/x", nil, "{}"); err == nil {
			t.Fatalf("got %+v, want a connection error", a)
		}
		if r := tg.reached(); len(r) != 0 {
			t.Errorf("the reset call reached the target: %v", r)
		}
	})
	t.Run("a delay longer than the client's timeout", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		p := newProxy(t, tg.srv.URL)
		p.SetRules(faults.Rule{Fault: faults.Delay(time.Hour)})
		_, err := send(t, &http.Client{Timeout: 200 * time.Millisecond}, "GET", p.URL()+"/x", nil, "")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err %v, want the client's timeout", err)
		}
	})
	t.Run("a delay shorter than the timeout forwards", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		p := newProxy(t, tg.srv.URL)
		p.SetRules(faults.Rule{Fault: faults.Delay(300 * time.Millisecond)})
		start := time.Now()
		a, err := send(t, http.DefaultClient, "GET", p.URL()+"/x", nil, "")
		if err != nil || a.Body != "ok GET /x" || time.Since(start) < 300*time.Millisecond {
			t.Errorf("%+v %v after %v, want the target's answer after 300ms", a, err, time.Since(start))
		}
		if diff := cmp.Diff(faults.Stats{Requests: 1, Forwarded: 1, Injected: 1}, p.Total()); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}
	})
	t.Run("a fault after forwarding: the call took effect", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		p := newProxy(t, tg.srv.URL)
		f := faults.BadGateway()
		f.AfterForward = true
		p.SetRules(faults.Rule{Fault: f})
		a, err := send(t, http.DefaultClient, "POST", p.URL()+"/api/v3/x", nil, "{}")
		if err != nil || a.Status != 502 {
			t.Errorf("%+v %v, want 502", a, err)
		}
		if diff := cmp.Diff([]string{"POST /api/v3/x"}, tg.reached()); diff != "" {
			t.Errorf("target (-want +got):\n%s", diff)
		}
	})
	t.Run("Close ends delays at once", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		p, err := faults.New(tg.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		p.SetRules(faults.Rule{Fault: faults.Delay(24 * time.Hour)})
		done := make(chan error, 1)
		go func() {
			_, err := send(t, http.DefaultClient, "GET", p.URL()+"/x", nil, "")
			done <- err
		}()
		// The call is counted when it arrives, before its delay starts.
		for p.Total().Requests == 0 {
			time.Sleep(time.Millisecond)
		}
		closed := make(chan struct{})
		go func() {
			p.Close() // returns once every handler has: the delay must end
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(time.Minute): // a day's delay still running: Close hangs
			t.Fatal("Close did not return: it waits for the delayed call")
		}
		if err := <-done; err == nil {
			t.Error("the delayed call got an answer, want its connection closed")
		}
		if diff := cmp.Diff(faults.Stats{Requests: 1, Injected: 1}, p.Total()); diff != "" {
			t.Errorf("stats (-want +got): the call must not be forwarded\n%s", diff)
		}
		if r := tg.reached(); len(r) != 0 {
			t.Errorf("the delayed call reached the target: %v", r)
		}
	})
}

func TestConcurrentCallsAndRuleChanges(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := newProxy(t, tg.srv.URL)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				_, _ = send(t, http.DefaultClient, "POST", p.URL()+"/", form("ec2"), fmt.Sprintf("Action=Op%d", i%2))
			}
		}()
	}
	for range 20 {
		p.SetRules(faults.Rule{Fraction: 0.5, Fault: faults.Throttle()}, faults.Rule{Rate: 100, Fault: faults.Throttle()})
		p.AddRule(faults.Rule{Op: "Op1", Limit: 1, Fault: faults.InternalError()})
		_ = p.Stats()
	}
	wg.Wait()
	total := p.Total()
	if total.Requests != 200 || total.Forwarded+total.Injected != 200 {
		t.Errorf("total %+v, want 200 requests, each forwarded or injected", total)
	}
}

func TestNewRejectsARelativeTarget(t *testing.T) {
	t.Parallel()
	if _, err := faults.New("127.0.0.1:4566"); err == nil {
		t.Error("New accepted a target without a scheme")
	}
}

// TestWithMoto drives the SDK's EC2 client through the proxy to moto.
func TestWithMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, "us-east-1")
	// moto builds a region's EC2 backend on its first call, which takes
	// seconds: do that before the timed subtests.
	if _, err := ec2.NewFromConfig(direct).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{}); err != nil {
		t.Fatalf("warm up moto: %v", err)
	}

	// client returns an EC2 client through p, with attempts tries per call
	// and no waits between them, and an HTTP timeout per attempt.
	client := func(p *faults.Proxy, attempts int, timeout time.Duration) *ec2.Client {
		return ec2.NewFromConfig(direct, func(o *ec2.Options) {
			o.BaseEndpoint = aws.String(p.URL())
			o.RetryMaxAttempts = attempts
			o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				so.RateLimiter = ratelimit.None
			})
		})
	}
	code := func(err error) string {
		var api smithy.APIError
		if errors.As(err, &api) {
			return api.ErrorCode()
		}
		return ""
	}

	t.Run("throttling is retried by the SDK until it passes", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		p.SetRules(faults.Rule{Op: "DescribeVolumes", Limit: 2, Fault: faults.Throttle()})
		if _, err := client(p, 3, 30*time.Second).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{}); err != nil {
			t.Fatalf("DescribeVolumes: %v", err)
		}
		if diff := cmp.Diff(faults.Stats{Requests: 3, Forwarded: 1, Injected: 2}, p.Stats()["DescribeVolumes"]); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}
	})

	t.Run("throttling past the attempts is a RequestLimitExceeded error", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		p.SetRules(faults.Rule{Op: "DescribeSnapshots", Fault: faults.Throttle()})
		_, err := client(p, 2, 30*time.Second).DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		if code(err) != "RequestLimitExceeded" || !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
			t.Errorf("err %v (code %q), want a throttling error RequestLimitExceeded", err, code(err))
		}
		if got := p.Stats()["DescribeSnapshots"].Requests; got != 2 {
			t.Errorf("%d DescribeSnapshots calls, want 2", got)
		}
	})

	t.Run("a 500 is retried", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		p.SetRules(faults.Rule{Op: "DescribeAddresses", Limit: 1, Fault: faults.InternalError()})
		if _, err := client(p, 3, 30*time.Second).DescribeAddresses(t.Context(), &ec2.DescribeAddressesInput{}); err != nil {
			t.Fatalf("DescribeAddresses: %v", err)
		}
		if got := p.Stats()["DescribeAddresses"]; got.Requests != 2 {
			t.Errorf("stats %+v, want 2 requests", got)
		}
	})

	t.Run("a reset connection is retried", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		p.SetRules(faults.Rule{Op: "DescribeImages", Limit: 1, Fault: faults.ConnReset()})
		if _, err := client(p, 3, 30*time.Second).DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil {
			t.Fatalf("DescribeImages: %v", err)
		}
		if got := p.Stats()["DescribeImages"]; got.Requests != 2 || got.Injected != 1 {
			t.Errorf("stats %+v, want 2 requests, 1 reset", got)
		}
	})

	t.Run("a slow answer runs into the client's timeout", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		// Without the timeout the call would get moto's answer after 10s.
		p.SetRules(faults.Rule{Op: "DescribeVolumes", Fault: faults.Delay(10 * time.Second)})
		_, err := client(p, 1, 300*time.Millisecond).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{})
		var timeout interface{ Timeout() bool }
		if !errors.As(err, &timeout) || !timeout.Timeout() {
			t.Errorf("err %v, want the client's timeout", err)
		}
	})

	t.Run("permanent errors for chosen ids are not retried", func(t *testing.T) {
		t.Parallel()
		vol := awstest.CreateVolume(t, direct, 1, "us-east-1a")
		inUse := awstest.CreateSnapshot(t, direct, vol, nil)
		denied := awstest.CreateSnapshot(t, direct, vol, nil)
		fine := awstest.CreateSnapshot(t, direct, vol, nil)
		p := newProxy(t, m.URL())
		p.SetRules(
			faults.Rule{Op: "DeleteSnapshot", IDs: []string{inUse}, Fault: faults.APIError(400, "InvalidSnapshot.InUse", "The snapshot "+inUse+" is currently in use by ami-0123")},
			faults.Rule{Op: "DeleteSnapshot", IDs: []string{denied}, Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")},
		)
		c := client(p, 5, 30*time.Second)
		got := map[string]string{}
		for _, id := range []string{inUse, denied, fine} {
			_, err := c.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
			got[id] = code(err)
			if err != nil && code(err) == "" {
				t.Errorf("DeleteSnapshot(%s): %v, want an API error", id, err)
			}
		}
		want := map[string]string{inUse: "InvalidSnapshot.InUse", denied: "UnauthorizedOperation", fine: ""}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("error codes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(faults.Stats{Requests: 3, Forwarded: 1, Injected: 2}, p.Stats()["DeleteSnapshot"]); diff != "" {
			t.Errorf("stats (-want +got): each call made once, only %s forwarded:\n%s", fine, diff)
		}
		left := awstest.Snapshots(t, direct)
		for id, wantLeft := range map[string]bool{inUse: true, denied: true, fine: false} {
			if _, ok := left[id]; ok != wantLeft {
				t.Errorf("snapshot %s exists %v, want %v", id, ok, wantLeft)
			}
		}
	})

	t.Run("a global rate limit throttles above the rate", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, m.URL())
		p.SetRules(faults.Rule{Service: "ec2", Rate: 0.01, Burst: 4, Fault: faults.Throttle()})
		c := client(p, 1, 30*time.Second)
		throttled := 0
		for range 6 {
			_, err := c.DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{})
			if code(err) == "RequestLimitExceeded" {
				throttled++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if throttled != 2 {
			t.Errorf("%d of 6 calls throttled with a burst of 4, want 2", throttled)
		}
	})

}
