// Command proxy is the benchmarks' counting proxy. It forwards every call to
// moto through internal/faults, which counts calls per API action and, with
// -rate, answers EC2's throttling error (503 RequestLimitExceeded) to calls
// above a token bucket shared by all calls to one moto. With -region, calls
// signed for that region go to a moto of their own (and bucket), as AWS
// regions are separate endpoints; the counts are added up. In front, it
// notes when the first call arrived and the last answer left, how many calls
// were in flight at most, and for how long at least one was: the time the
// client waited for the API, if it had nothing else to do meanwhile.
//
// It writes "PROXY_URL CONTROL_URL" to -addr-file once it listens. The
// control listener answers GET /stats (text: first_ns, last_ns, busy_ns,
// max_in_flight, then one "op NAME requests forwarded injected" line per
// action, a "total" line, one "rop REGION NAME requests forwarded injected"
// line per -region and action ("-" for the calls of no -region), and one
// "span NAME first_ns last_ns" line per query-protocol action: its first
// call's arrival and its last answer) and POST /reset (forget the counts and
// times, refill the bucket).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/broom-dev/broom/internal/faults"
)

// regionTargets is the -region flag: REGION=URL, repeated.
type regionTargets map[string]string

func (r regionTargets) String() string { return fmt.Sprint(map[string]string(r)) }

func (r regionTargets) Set(v string) error {
	region, target, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want REGION=URL, got %q", v)
	}
	r[region] = target
	return nil
}

func main() {
	target := flag.String("target", "", "moto's URL (required)")
	regions := regionTargets{}
	flag.Var(regions, "region", "REGION=URL: send calls signed for REGION to this moto instead (repeatable)")
	rate := flag.Float64("rate", 0, "calls per second allowed; above it calls are throttled (0: no limit)")
	burst := flag.Int("burst", 0, "token bucket size (default: -rate rounded up)")
	addrFile := flag.String("addr-file", "", "file to write the proxy's and the control URLs to (required)")
	flag.Parse()
	if *target == "" || *addrFile == "" {
		fmt.Fprintln(os.Stderr, "proxy: -target and -addr-file are required")
		os.Exit(2)
	}
	var rules []faults.Rule
	if *rate > 0 {
		rules = []faults.Rule{{Rate: *rate, Burst: *burst, Fault: faults.Throttle()}}
	}
	if err := run(*target, regions, rules, *addrFile); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// counter is the front of the proxy: it notes arrival times and passes each
// call on to the faults proxy of its region.
type counter struct {
	rules []faults.Rule
	all   []*faults.Proxy
	names []string                          // all's regions; "" for the rest
	next  map[string]*httputil.ReverseProxy // by region; "" for the rest

	mu                    sync.Mutex
	first, last, busyFrom time.Time
	busy                  time.Duration
	inFlight, maxInFlight int
	spans                 map[string]*span // by query-protocol action
}

// span is when an action's first call arrived and its last answer left.
type span struct{ first, last time.Time }

func run(target string, regions regionTargets, rules []faults.Rule, addrFile string) error {
	c := &counter{rules: rules, next: map[string]*httputil.ReverseProxy{}, spans: map[string]*span{}}
	defer func() {
		for _, p := range c.all {
			p.Close()
		}
	}()
	transport := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	regions[""] = target
	for region, t := range regions {
		fp, err := faults.New(t)
		if err != nil {
			return err
		}
		c.all = append(c.all, fp)
		c.names = append(c.names, region)
		fp.SetRules(rules...)
		u, err := url.Parse(fp.URL())
		if err != nil {
			return err
		}
		c.next[region] = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Host = pr.In.Host // keep the Host the client signed
			},
			Transport: transport,
		}
	}
	front, err := serve(http.HandlerFunc(c.forward))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", c.stats)
	mux.HandleFunc("POST /reset", c.reset)
	control, err := serve(mux)
	if err != nil {
		return err
	}
	tmp := addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(front+" "+control+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, addrFile); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	return nil
}

// serve serves h on a free loopback port and returns its URL.
func serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen on loopback: %w", err)
	}
	go func() { _ = http.Serve(l, h) }()
	return "http://" + l.Addr().String(), nil
}

// region is the region of a SigV4 Authorization header's credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), or "".
func region(r *http.Request) string {
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	f := strings.Split(cred, "/")
	if len(f) < 5 {
		return ""
	}
	return f[2]
}

func (c *counter) forward(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	op := queryAction(r)
	c.mu.Lock()
	if c.first.IsZero() {
		c.first = now
	}
	if op != "" && c.spans[op] == nil {
		c.spans[op] = &span{first: now}
	}
	if c.inFlight == 0 {
		c.busyFrom = now
	}
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
	c.mu.Unlock()
	defer func() {
		now := time.Now()
		c.mu.Lock()
		c.last = now
		if op != "" {
			c.spans[op].last = now
		}
		if c.inFlight--; c.inFlight == 0 {
			c.busy += now.Sub(c.busyFrom)
		}
		c.mu.Unlock()
	}()
	next := c.next[region(r)]
	if next == nil {
		next = c.next[""]
	}
	next.ServeHTTP(w, r)
}

func (c *counter) stats(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	first, last, busy, most := unixNano(c.first), unixNano(c.last), c.busy, c.maxInFlight
	c.mu.Unlock()
	fmt.Fprintf(w, "first_ns %d\nlast_ns %d\nbusy_ns %d\nmax_in_flight %d\n", first, last, busy.Nanoseconds(), most)
	sum := map[string]faults.Stats{}
	for _, p := range c.all {
		for op, s := range p.Stats() {
			t := sum[op]
			t.Requests += s.Requests
			t.Forwarded += s.Forwarded
			t.Injected += s.Injected
			sum[op] = t
		}
	}
	var total faults.Stats
	ops := make([]string, 0, len(sum))
	for op := range sum {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		s := sum[op]
		fmt.Fprintf(w, "op %s %d %d %d\n", op, s.Requests, s.Forwarded, s.Injected)
		total.Requests += s.Requests
		total.Forwarded += s.Forwarded
		total.Injected += s.Injected
	}
	fmt.Fprintf(w, "total %d %d %d\n", total.Requests, total.Forwarded, total.Injected)
	for i, p := range c.all {
		name := c.names[i]
		if name == "" {
			name = "-"
		}
		st := p.Stats()
		for _, op := range slices.Sorted(maps.Keys(st)) {
			fmt.Fprintf(w, "rop %s %s %d %d %d\n", name, op, st[op].Requests, st[op].Forwarded, st[op].Injected)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range slices.Sorted(maps.Keys(c.spans)) {
		fmt.Fprintf(w, "span %s %d %d\n", op, unixNano(c.spans[op].first), unixNano(c.spans[op].last))
	}
}

// queryAction is the Action of an AWS query-protocol call (EC2, STS), read
// from its form body, which is put back for the next hop; or "".
func queryAction(r *http.Request) string {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return q.Get("Action")
}

func (c *counter) reset(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	c.first, c.last, c.busy, c.maxInFlight = time.Time{}, time.Time{}, 0, 0
	c.spans = map[string]*span{}
	c.mu.Unlock()
	for _, p := range c.all {
		p.ResetStats()
		p.SetRules(c.rules...) // a full bucket
	}
	w.WriteHeader(http.StatusNoContent)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
