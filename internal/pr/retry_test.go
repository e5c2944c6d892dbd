package pr

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

// canned is one scripted answer of a scripted server; hangUp breaks the
// connection instead of answering.
type canned struct {
	status int
	header http.Header
	body   string
	hangUp bool
}

// scripted is a server that answers with its script, one entry per
// request, then 200 "ok", and records what it was sent.
type scripted struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []canned
	got    []string // "METHOD body" per request
}

func newScripted(t *testing.T, script ...canned) *scripted {
	t.Helper()
	s := &scripted{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, r.Method+" "+string(body))
		c := canned{status: http.StatusOK, body: "ok"}
		if len(s.script) > 0 {
			c, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		if c.hangUp {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, vs := range c.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, c.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// fastRetries is a transport for s whose waits are recorded, not slept,
// and whose jitter is none (always the upper end).
func fastRetries(s *scripted, waits *[]time.Duration) *retryTransport {
	rt := newRetryTransport(s.srv.Client().Transport)
	var mu sync.Mutex
	rt.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	}
	rt.jitter = func(n int64) int64 { return n - 1 }
	rt.now = func() time.Time { return time.Unix(1_700_000_000, 0) }
	return rt
}

var secondaryLimit = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

func TestRetryTransport(t *testing.T) {
	t.Parallel()
	const reset = 1_700_000_000 + 7 // 7 s after the fake clock's now
	retryAfter := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	badGateway := canned{status: http.StatusBadGateway, body: "bad gateway"}
	tests := map[string]struct {
		method    string
		header    http.Header // on the request
		script    []canned
		wantCalls int
		wantWaits []time.Duration
		want      int    // final status; 0: a transport error
		wantBody  string // final body
	}{
		"a 502 on GET is retried until it succeeds": {
			method: "GET", script: []canned{badGateway, badGateway},
			wantCalls: 3, wantWaits: []time.Duration{500 * time.Millisecond, time.Second}, want: 200, wantBody: "ok",
		},
		"a 503 and a 504 on DELETE are retried": {
			method: "DELETE", script: []canned{{status: 503}, {status: 504}},
			wantCalls: 3, wantWaits: []time.Duration{500 * time.Millisecond, time.Second}, want: 200,
		},
		"a 502 on PATCH is retried: GitHub's PATCH is a merge patch": {
			method: "PATCH", script: []canned{badGateway},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}, want: 200,
		},
		"a 502 on POST is not retried: the comment may have been made": {
			method: "POST", script: []canned{badGateway},
			wantCalls: 1, want: 502, wantBody: "bad gateway",
		},
		"a 502 on POST with an Idempotency-Key is retried": {
			method: "POST", header: http.Header{"Idempotency-Key": {"k1"}}, script: []canned{badGateway},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}, want: 200,
		},
		"a 503's Retry-After is followed": {
			method: "GET", script: []canned{{status: 503, header: retryAfter("3")}},
			wantCalls: 2, wantWaits: []time.Duration{3 * time.Second}, want: 200,
		},
		"a broken connection on GET is retried": {
			method: "GET", script: []canned{{hangUp: true}},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}, want: 200,
		},
		"a broken connection on POST is not retried": {
			method: "POST", script: []canned{{hangUp: true}},
			wantCalls: 1, want: 0,
		},
		"a secondary rate limit on POST is retried after Retry-After": {
			method: "POST", script: []canned{{status: 403, header: retryAfter("1"), body: secondaryLimit}},
			wantCalls: 2, wantWaits: []time.Duration{time.Second}, want: 200,
		},
		"a secondary rate limit named only in the message waits a minute": {
			method: "POST", script: []canned{{status: 403, body: secondaryLimit}},
			wantCalls: 2, wantWaits: []time.Duration{time.Minute}, want: 200,
		},
		"a primary rate limit waits until X-RateLimit-Reset": {
			method: "GET", script: []canned{{status: 403, body: `{"message":"API rate limit exceeded for installation ID 1."}`,
				header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.Itoa(reset)}}}},
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}, want: 200,
		},
		"a 429 is retried after Retry-After, POST included": {
			method: "POST", script: []canned{{status: 429, header: retryAfter("2")}},
			wantCalls: 2, wantWaits: []time.Duration{2 * time.Second}, want: 200,
		},
		"a Retry-After date is followed": {
			method: "GET", script: []canned{{status: 429, header: retryAfter(time.Unix(1_700_000_005, 0).UTC().Format(http.TimeFormat))}},
			wantCalls: 2, wantWaits: []time.Duration{5 * time.Second}, want: 200,
		},
		"a rate limit longer than the longest wait is returned at once": {
			method: "PATCH", script: []canned{{status: 403, header: retryAfter("3600"), body: secondaryLimit}},
			wantCalls: 1, want: 403, wantBody: secondaryLimit,
		},
		"a 403 that is not a rate limit is not retried": {
			method: "GET", script: []canned{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			wantCalls: 1, want: 403, wantBody: `{"message":"Resource not accessible by integration"}`,
		},
		"a 404 is not retried": {method: "GET", script: []canned{{status: 404, body: "nf"}}, wantCalls: 1, want: 404, wantBody: "nf"},
		"a 422 is not retried": {method: "POST", script: []canned{{status: 422, body: "bad"}}, wantCalls: 1, want: 422, wantBody: "bad"},
		"a 500 is not retried": {method: "GET", script: []canned{{status: 500, body: "oops"}}, wantCalls: 1, want: 500, wantBody: "oops"},
		"after five attempts the last response is returned": {
			method: "GET", script: []canned{badGateway, badGateway, badGateway, badGateway, {status: 502, body: "fifth"}},
			wantCalls: 5, wantWaits: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second},
			want: 502, wantBody: "fifth",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newScripted(t, tc.script...)
			var waits []time.Duration
			client := &http.Client{Transport: fastRetries(s, &waits)}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, s.srv.URL+"/x", strings.NewReader(`{"body":"hello"}`))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := client.Do(req)
			if tc.want == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %s, want a transport error", resp.Status)
				}
			} else {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want || (tc.wantBody != "" && string(body) != tc.wantBody) {
					t.Errorf("final answer %d %q, want %d %q", resp.StatusCode, body, tc.want, tc.wantBody)
				}
			}
			got := s.requests()
			if len(got) != tc.wantCalls {
				t.Errorf("%d requests, want %d: %q", len(got), tc.wantCalls, got)
			}
			for i, r := range got {
				if want := tc.method + ` {"body":"hello"}`; r != want {
					t.Errorf("request %d was %q, want %q (the body must be sent again whole)", i+1, r, want)
				}
			}
			if diff := cmp.Diff(tc.wantWaits, waits, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

// onceReader is a body without GetBody: it can be read only once.
type onceReader struct{ io.Reader }

func TestRetryTransportBuffersABodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	s := newScripted(t, canned{status: 429, header: http.Header{"Retry-After": {"1"}}})
	var waits []time.Duration
	client := &http.Client{Transport: fastRetries(s, &waits)}
	req, err := http.NewRequestWithContext(t.Context(), "POST", s.srv.URL, onceReader{strings.NewReader("payload")})
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil {
		t.Fatal("test needs a request without GetBody")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{"POST payload", "POST payload"}, s.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestRetryTransportJitterStaysWithinBounds(t *testing.T) {
	t.Parallel()
	rt := newRetryTransport(nil)
	for attempt := 1; attempt <= 8; attempt++ {
		full := min(rt.backoff<<(attempt-1), rt.maxBackoff)
		for range 100 {
			if d := rt.backoffFor(attempt); d < full/2 || d > full {
				t.Fatalf("backoffFor(%d) = %v, want within [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}

func TestRetryTransportRealWaits(t *testing.T) {
	t.Parallel()
	limited := canned{status: 403, header: http.Header{"Retry-After": {"1"}}, body: secondaryLimit}

	t.Run("waits at least Retry-After", func(t *testing.T) {
		t.Parallel()
		s := newScripted(t, limited)
		client := withRetries(&http.Client{Timeout: 10 * time.Second, Transport: s.srv.Client().Transport})
		start := time.Now()
		resp, err := client.Post(s.srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if elapsed := time.Since(start); resp.StatusCode != 200 || elapsed < time.Second {
			t.Errorf("answer %d after %v, want 200 after at least 1s", resp.StatusCode, elapsed)
		}
	})

	t.Run("a cancelled context ends the wait at once", func(t *testing.T) {
		t.Parallel()
		s := newScripted(t, canned{status: 429, header: http.Header{"Retry-After": {"30"}}})
		client := withRetries(&http.Client{Transport: s.srv.Client().Transport})
		ctx, cancel := context.WithCancel(t.Context())
		go func() { // cancel once the first request has arrived: its wait is next
			for len(s.requests()) == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		// A wait not ended by the context would retry after 30s: no error,
		// and a second request.
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Do = %v, want context.Canceled", err)
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("no wait is started that would end after the call's deadline", func(t *testing.T) {
		t.Parallel()
		s := newScripted(t, canned{status: 429, header: http.Header{"Retry-After": {"30"}}, body: "slow down"})
		client := withRetries(&http.Client{Timeout: 2 * time.Second, Transport: s.srv.Client().Transport})
		// A wait started would run into the 2s timeout: an error.
		resp, err := client.Get(s.srv.URL)
		if err != nil {
			t.Fatalf("Get: %v, want the 429 itself", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 429 || string(body) != "slow down" || len(s.requests()) != 1 {
			t.Errorf("answer %d %q after %d requests, want the 429 of the first", resp.StatusCode, body, len(s.requests()))
		}
	})
}

func TestWithRetriesLeavesTheCallersClientAlone(t *testing.T) {
	t.Parallel()
	base := &http.Client{Timeout: 3 * time.Second}
	c := withRetries(base)
	if base.Transport != nil {
		t.Errorf("the caller's client was changed: Transport %T", base.Transport)
	}
	if _, ok := c.Transport.(*retryTransport); !ok || c.Timeout != 3*time.Second {
		t.Errorf("withRetries gave Transport %T, Timeout %v; want a retryTransport and the same timeout", c.Transport, c.Timeout)
	}
	if again := withRetries(c); again != c {
		t.Error("withRetries wrapped a retrying client a second time")
	}
}

// go-github refuses every request of a client for Retry-After after it sees
// a secondary rate limit. The limit is waited out below it, so it never
// does, and the comment is written exactly once.
func TestUpsertRidesOutASecondaryRateLimit(t *testing.T) {
	t.Parallel()
	limit := http.Header{"Retry-After": {"1"}}
	tests := map[string]struct {
		existing bool
		method   string
		prefix   string
	}{
		"the comment's update":   {existing: true, method: "PATCH", prefix: "/repos/acme/infra/issues/comments/"},
		"the comment's creation": {method: "POST", prefix: "/repos/acme/infra/issues/1/comments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(prtest.PR{})
			var existing *Comment
			if tc.existing {
				existing = &Comment{ID: f.AddComment(n, prtest.DefaultLogin, "<!-- broom:plan id=prod -->\nold")}
			}
			f.FailNext(tc.method, tc.prefix, 1, http.StatusForbidden, limit, secondaryLimit)
			c, err := New(prtest.DefaultToken, f.APIURL(), f.GraphQLURL(), "acme/infra", nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := c.Upsert(t.Context(), n, existing, "<!-- broom:plan id=prod -->\nnew")
			if err != nil {
				t.Fatalf("Upsert: %v", err)
			}
			if elapsed := time.Since(start); elapsed < time.Second {
				t.Errorf("Upsert took %v, less than the Retry-After of 1s", elapsed)
			}
			comments := f.Comments(n)
			if len(comments) != 1 || comments[0].Body != "<!-- broom:plan id=prod -->\nnew" || comments[0].ID != got.ID {
				t.Errorf("comments %+v, want exactly one, the new body, id %d", comments, got.ID)
			}
			if calls := f.Count(tc.method, tc.prefix+"*"); calls != 2 {
				t.Errorf("%d %s requests, want 2 (the limited one and one more)", calls, tc.method)
			}
			// go-github did not see the limit, so it does not refuse the next
			// call (it would with an error, without sending it).
			if _, err := c.Upsert(t.Context(), n, got, "<!-- broom:plan id=prod -->\nnewer"); err != nil {
				t.Errorf("the next Upsert: %v, want success", err)
			}
		})
	}
}
