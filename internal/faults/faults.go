// Package faults is test and benchmark support: a reverse proxy on
// 127.0.0.1 that forwards to moto or to the GitHub fake, counts the calls
// per API operation, and injects faults by rule: throttling for a fraction
// of calls or above a token-bucket rate, S3 SlowDown, 500s, connection
// resets, slow responses, permanent errors for chosen resource ids, and
// GitHub's rate limits and 502s.
//
// Point the process under test at URL (AWS_ENDPOINT_URL, GITHUB_API_URL),
// set rules with SetRules (at any time, from any goroutine), and read Stats.
//
//	p, err := faults.New(moto.URL())
//	...
//	defer p.Close()
//	p.SetRules(
//		faults.Rule{Op: "DeleteSnapshot", IDs: []string{"snap-1"}, Fault: faults.APIError(400, "InvalidSnapshot.InUse", "in use")},
//		faults.Rule{Service: "ec2", Fraction: 0.3, Fault: faults.Throttle()},
//	)
package faults

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Rule says which calls get which fault. A call matches when every field
// that is set matches; then Rate and Fraction decide whether this call is
// faulted. Rules are tried in order and the first that faults a call wins;
// a rule that matches but lets the call through passes it to the next.
type Rule struct {
	// Service is the SigV4 signing name ("ec2", "s3", "sts"); "" any.
	Service string
	// Op is the operation: an AWS API name ("DeleteSnapshot") or, for a
	// call that is not AWS, "METHOD /path"; "" any.
	Op string
	// Method and PathPrefix match the HTTP request, e.g. "PATCH" and
	// "/api/v3/repos/acme/infra/issues/comments/" for GitHub; "" any.
	Method, PathPrefix string
	// IDs, if set, limits the rule to calls that name one of them (a query
	// or form value such as SnapshotId=snap-1, a path segment, or a JSON
	// string in the body): permanent errors for chosen resources.
	IDs []string

	// Rate, if positive, is a token bucket of Rate calls per second and
	// Burst tokens (at least 1; default Rate rounded up): only calls above
	// it are faulted. Calls that are faulted take no token. The bucket is
	// shared by every call the rule matches, or kept per operation when
	// PerOp is set.
	Rate  float64
	Burst int
	PerOp bool
	// Fraction, if strictly between 0 and 1, faults that share of the calls
	// that reach it (after Rate), chosen by a random source seeded from the
	// proxy's seed and the rule's position: the same sequence of calls gets
	// the same faults. 0 or 1: every call.
	Fraction float64
	// Limit, if positive, is how many calls the rule faults at most.
	Limit int

	// Fault is what a faulted call gets.
	Fault Fault
}

// Stats counts calls of one operation.
type Stats struct {
	// Requests is every call that arrived.
	Requests int
	// Forwarded is the calls sent on to the target, including delayed ones
	// and those forwarded before a fault (Fault.AfterForward).
	Forwarded int
	// Injected is the calls that got a fault, delays included.
	Injected int
}

// Proxy is a fault-injecting reverse proxy. It is safe for concurrent use.
type Proxy struct {
	srv     *httptest.Server
	proxy   *httputil.ReverseProxy
	seed    uint64
	now     func() time.Time // the rate buckets' clock
	closing chan struct{}
	closed  sync.Once
	ids     atomic.Int64

	mu    sync.Mutex
	rules []*rule
	stats map[string]*Stats
}

// rule is a Rule with its running state.
type rule struct {
	Rule
	rng      *rand.Rand
	buckets  map[string]*bucket // by op, or "" for the shared one
	injected int
}

// Option configures a Proxy.
type Option func(*Proxy)

// WithSeed sets the seed of the rules' random sources (default 1).
func WithSeed(seed uint64) Option { return func(p *Proxy) { p.seed = seed } }

// WithClock sets the clock that refills the rules' token buckets (default
// time.Now), so a test can step it instead of waiting.
func WithClock(now func() time.Time) Option { return func(p *Proxy) { p.now = now } }

// New starts a proxy on a free 127.0.0.1 port that forwards to target (an
// absolute URL such as moto's). Close it when done.
func New(target string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faults: target %q is not an absolute URL", target)
	}
	p := &Proxy{seed: 1, now: time.Now, closing: make(chan struct{}), stats: map[string]*Stats{}}
	for _, o := range opts {
		o(p)
	}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // keep the Host the client signed
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faults: listen on loopback: %w", err)
	}
	p.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(p.serve)}}
	p.srv.Start()
	return p, nil
}

// URL is the proxy's endpoint, http://127.0.0.1:PORT.
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy; calls waiting in a Delay end at once.
func (p *Proxy) Close() {
	p.closed.Do(func() {
		close(p.closing)
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
}

// SetRules replaces the rules, with fresh buckets, random sources and limits.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
	for _, r := range rules {
		p.addRule(r)
	}
}

// AddRule adds a rule after the others.
func (p *Proxy) AddRule(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addRule(r)
}

func (p *Proxy) addRule(r Rule) {
	r.IDs = append([]string(nil), r.IDs...)
	r.Fault.Header = r.Fault.Header.Clone()
	p.rules = append(p.rules, &rule{
		Rule:    r,
		rng:     rand.New(rand.NewPCG(p.seed, uint64(len(p.rules)))),
		buckets: map[string]*bucket{},
	})
}

// ClearRules removes every rule: from now on every call is forwarded.
func (p *Proxy) ClearRules() { p.SetRules() }

// Stats returns the counts per operation since the start or the last
// ResetStats.
func (p *Proxy) Stats() map[string]Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Stats, len(p.stats))
	for op, s := range p.stats {
		out[op] = *s
	}
	return out
}

// Total returns the counts over every operation.
func (p *Proxy) Total() Stats {
	var t Stats
	for _, s := range p.Stats() {
		t.Requests += s.Requests
		t.Forwarded += s.Forwarded
		t.Injected += s.Injected
	}
	return t
}

// Ops returns the operations seen, sorted.
func (p *Proxy) Ops() []string {
	s := p.Stats()
	ops := make([]string, 0, len(s))
	for op := range s {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// ResetStats forgets the counts (not the rules' state).
func (p *Proxy) ResetStats() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = map[string]*Stats{}
}

func (p *Proxy) count(op string, f func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[op]
	if s == nil {
		s = &Stats{}
		p.stats[op] = s
	}
	f(s)
}

func (p *Proxy) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		http.Error(w, "faults: read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := identify(req, body)
	fault, ok := p.decide(c)
	p.count(c.op, func(s *Stats) {
		s.Requests++
		if ok {
			s.Injected++
		}
	})
	forward := func(w http.ResponseWriter) {
		req.Body = io.NopCloser(bytes.NewReader(body))
		p.count(c.op, func(s *Stats) { s.Forwarded++ })
		p.proxy.ServeHTTP(w, req)
	}
	if !ok {
		forward(w)
		return
	}
	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done(): // the client gave up: nothing to forward or answer
			return
		case <-p.closing:
			return
		}
	}
	if fault.AfterForward {
		forward(httptest.NewRecorder())
	}
	switch {
	case fault.Reset:
		reset(w)
	case fault.Status != 0:
		fault.answer(w, c, fmt.Sprintf("faults-%08d", p.ids.Add(1)))
	default:
		if !fault.AfterForward {
			forward(w)
		}
	}
}

// decide returns the fault for call c, if a rule gives it one.
func (p *Proxy) decide(c call) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, r := range p.rules {
		if !r.matches(c) || (r.Limit > 0 && r.injected >= r.Limit) {
			continue
		}
		if r.Rate > 0 {
			key := ""
			if r.PerOp {
				key = c.op
			}
			b := r.buckets[key]
			if b == nil {
				b = newBucket(r.Rate, r.Burst, now)
				r.buckets[key] = b
			}
			if b.take(now) {
				continue // within the allowed rate
			}
		}
		if r.Fraction > 0 && r.Fraction < 1 && r.rng.Float64() >= r.Fraction {
			continue
		}
		r.injected++
		return r.Fault, true
	}
	return Fault{}, false
}

func (r *rule) matches(c call) bool {
	return (r.Service == "" || r.Service == c.service) &&
		(r.Op == "" || r.Op == c.op) &&
		(r.Method == "" || strings.EqualFold(r.Method, c.method)) &&
		strings.HasPrefix(c.path, r.PathPrefix) &&
		(len(r.IDs) == 0 || c.carries(r.IDs))
}

// bucket is a token bucket.
type bucket struct {
	rate, tokens, size float64
	last               time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	size := float64(burst)
	if burst <= 0 {
		size = math.Ceil(rate)
	}
	size = max(size, 1)
	return &bucket{rate: rate, tokens: size, size: size, last: now}
}

// take takes a token if there is one.
func (b *bucket) take(now time.Time) bool {
	b.tokens = min(b.size, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// reset closes the client's connection with a TCP RST and no answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: aborts the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	conn.Close()
}
