package pr

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy defaults. A call's deadline (the http.Client's Timeout or
// the context's) bounds all of its attempts and waits together: no wait is
// started that would end after it.
const (
	defaultMaxAttempts = 5                      // per call, including the first
	defaultMaxWait     = time.Minute            // longest wait the server may ask for
	defaultBackoff     = 500 * time.Millisecond // first wait after a 5xx or a broken connection
	defaultMaxBackoff  = 8 * time.Second
	// peekLimit is how much of a 403's body is read to tell a secondary
	// rate limit from a refusal.
	peekLimit = 64 << 10
)

// retryTransport retries GitHub calls (REST and GraphQL) that a later
// attempt can fix, below go-github, so go-github only ever sees the final
// response and its own rate-limit bookkeeping stays right: after a 403
// secondary rate limit that is waited out here, the next request is not
// refused locally.
//
// What is retried:
//   - Rate limits, for every method, POST included: 429; 403 with
//     Retry-After, with X-RateLimit-Remaining: 0, or whose message speaks
//     of a rate limit or abuse detection. GitHub did not process such a
//     request, so sending it again cannot do anything twice. The wait is
//     Retry-After (seconds or a date), else until X-RateLimit-Reset, else
//     (a secondary limit without headers) a minute as GitHub's
//     documentation asks. A wait longer than maxWait, or past the call's
//     deadline, is not started: the rate-limit response is returned as is.
//   - 502, 503 and 504 and broken connections, only for requests that are
//     safe to repeat: GET, HEAD, OPTIONS, TRACE, PUT, DELETE, PATCH, or any
//     request with an Idempotency-Key or X-Idempotency-Key header. PATCH is
//     included because GitHub's PATCH endpoints set the fields they are
//     given (a merge patch), so applying one twice leaves the same state.
//     POST is not: a 502 on "create a comment" does not say whether the
//     comment was made, and sending it again could post it twice. The
//     caller decides (it can look for the comment, or mark a request that
//     is safe, such as a GraphQL query, with an Idempotency-Key).
//     Waits grow exponentially from backoff to maxBackoff, with jitter, or
//     follow a Retry-After.
//
// Everything else (404, 422, other 4xx, 500) is returned at once. After
// maxAttempts the last response or error is returned. A cancelled context
// ends a wait at once with the context's error.
type retryTransport struct {
	base        http.RoundTripper
	maxAttempts int
	maxWait     time.Duration
	backoff     time.Duration
	maxBackoff  time.Duration
	// secondaryWait is the wait after a secondary rate limit that names
	// none; GitHub asks for at least a minute.
	secondaryWait time.Duration

	// Tests replace these.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64 // uniform in [0, n)
}

// withRetries returns a copy of hc whose transport retries (see
// retryTransport); hc itself is not changed. Its Timeout still bounds each
// call as a whole, retries included.
func withRetries(hc *http.Client) *http.Client {
	if _, ok := hc.Transport.(*retryTransport); ok {
		return hc
	}
	c := *hc
	c.Transport = newRetryTransport(hc.Transport)
	return &c
}

func newRetryTransport(base http.RoundTripper) *retryTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &retryTransport{
		base:          base,
		maxAttempts:   defaultMaxAttempts,
		maxWait:       defaultMaxWait,
		backoff:       defaultBackoff,
		maxBackoff:    defaultMaxBackoff,
		secondaryWait: time.Minute,
		now:           time.Now,
		sleep:         sleepCtx,
		jitter:        rand.Int64N,
	}
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	getBody, buffered, err := rewindable(req)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		out := req
		if attempt > 1 || buffered {
			out = req.Clone(ctx)
			if out.Body, err = getBody(); err != nil {
				return nil, err
			}
		}
		resp, err := t.base.RoundTrip(out)
		wait, retry := t.decide(req, resp, err, attempt)
		if !retry || attempt >= t.maxAttempts || wait > t.maxWait || t.pastDeadline(ctx, wait) {
			if resp != nil {
				resp.Request = req
			}
			return resp, err
		}
		if resp != nil {
			discard(resp.Body)
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// decide says whether the outcome of attempt number attempt is worth
// another attempt, and after how long. It may read and restore resp.Body.
func (t *retryTransport) decide(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	switch {
	case err != nil:
		if req.Context().Err() != nil || !repeatable(req) || permanent(err) {
			return 0, false
		}
		return t.backoffFor(attempt), true
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusForbidden && rateLimited(resp):
		return t.rateLimitWait(resp, attempt), true
	case resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusGatewayTimeout:
		if !repeatable(req) {
			return 0, false
		}
		if d, ok := t.retryAfter(resp); ok {
			return d, true
		}
		return t.backoffFor(attempt), true
	}
	return 0, false
}

// pastDeadline reports whether a wait of d would end after ctx's deadline,
// when the attempt after it could not finish anyway.
func (t *retryTransport) pastDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && !t.now().Add(d).Before(deadline)
}

// backoffFor is the wait after the attempt-th attempt failed: exponential,
// capped, with "equal jitter" (between half and all of it), so that clients
// that failed together do not come back together.
func (t *retryTransport) backoffFor(attempt int) time.Duration {
	d := t.backoff
	for i := 1; i < attempt && d < t.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, t.maxBackoff)
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + t.jitter(half+1))
}

// rateLimitWait is how long GitHub asks to wait before the next attempt.
func (t *retryTransport) rateLimitWait(resp *http.Response, attempt int) time.Duration {
	if d, ok := t.retryAfter(resp); ok {
		return d
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if d := time.Unix(reset, 0).Sub(t.now()); d > 0 {
				return d
			}
			return t.backoffFor(attempt) // the reset has passed (or clocks differ)
		}
	}
	// A secondary limit that names no time: at least a minute, growing,
	// but never so long that it would be given up.
	d := t.secondaryWait
	for i := 1; i < attempt && d < t.maxWait; i++ {
		d *= 2
	}
	return min(d, t.maxWait)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func (t *retryTransport) retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(t.now()), 0), true
	}
	return 0, false
}

// rateLimited tells a 403 that is a rate limit (not processed; retry
// later) from one that is a refusal (retrying would not help). It may
// read and restore resp.Body.
func rateLimited(resp *http.Response) bool {
	if resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return true
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	msg := strings.ToLower(string(head))
	return strings.Contains(msg, "rate limit") || strings.Contains(msg, "abuse detection")
}

// repeatable reports whether sending req twice has the effect of sending
// it once (see retryTransport for why PATCH is and POST is not).
func repeatable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// permanent reports whether a transport error cannot go away by itself.
func permanent(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	return errors.As(err, &verify) || errors.As(err, &unknownCA) || errors.As(err, &hostname)
}

// rewindable returns a function giving a fresh copy of req's body for each
// attempt. When req has no GetBody the body is read into memory now
// (buffered is then true and the original body is closed).
func rewindable(req *http.Request) (getBody func() (io.ReadCloser, error), buffered bool, err error) {
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		return func() (io.ReadCloser, error) { return http.NoBody, nil }, false, nil
	case req.GetBody != nil:
		return req.GetBody, false, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, false, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, true, nil
}

// discard drains a little of a response body, so the connection can be
// reused, and closes it.
func discard(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, peekLimit))
	body.Close()
}

// sleepCtx waits for d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
