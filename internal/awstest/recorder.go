package awstest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/broom-dev/broom/internal/awsreq"
)

// Call is one AWS API request seen by a Recorder.
type Call struct {
	// Service is the SigV4 signing name ("ec2", "sts", "s3", ...) from the
	// request's credential scope; "" for an unsigned request.
	Service string
	// Region is the SigV4 signing region; "" for an unsigned request.
	Region string
	// Op is the API operation, such as "DescribeSnapshots" or
	// "PutBucketVersioning", as awsreq.Identify names it. A request that
	// cannot be identified gets a descriptive name such as "S3:PATCH",
	// "UNKNOWN:POST /x" or (unsigned) "POST /x", which counts as mutating.
	Op string
}

// Mutating reports whether c is not a read. See IsRead.
func (c Call) Mutating() bool { return !IsRead(c.Op) }

// readPrefixes are the operation name prefixes of reads.
var readPrefixes = []string{"Describe", "Get", "List", "Head"}

// IsRead reports whether op is a read, which by definition here means its
// name starts with Describe, Get, List or Head (so GetCallerIdentity is a
// read). Everything else is mutating: Create, Delete, Modify, Put, Register,
// Deregister, Tag, Untag, Copy, Run, Terminate, ... and also reads named
// otherwise (AssumeRole, LookupEvents, SelectObjectContent) and unidentified
// requests. The error is on the safe side: a check that a run makes no
// mutating call can fail spuriously, never pass spuriously.
func IsRead(op string) bool {
	for _, p := range readPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// Recorder is a reverse proxy on 127.0.0.1 that forwards every request to
// its target (usually moto) and records which AWS operation it was. Point
// the process under test at URL (AWS_ENDPOINT_URL, see Env) and then
// assert on Calls, Count or Mutating. A request is recorded when it arrives,
// before it is forwarded, so failed calls count too. It is safe for
// concurrent use.
type Recorder struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []Call
	assumed []AssumedRole
}

// AssumedRole is what one sts:AssumeRole request asked for.
type AssumedRole struct {
	RoleArn     string
	SessionName string
}

// NewRecorder starts a Recorder forwarding to target (e.g. Moto.URL()); it is
// closed by t.Cleanup.
func NewRecorder(t testing.TB, target string) *Recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("awstest: recorder target %q is not an absolute URL (err %v)", target, err)
	}
	r := &Recorder{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the Host the client signed.
			pr.Out.Host = pr.In.Host
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("awstest: recorder listen on loopback: %v", err)
	}
	r.srv = &httptest.Server{
		Listener: l,
		Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			c, body := identify(req)
			r.record(c, body)
			proxy.ServeHTTP(w, req)
		})},
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the recorder's endpoint, http://127.0.0.1:PORT.
func (r *Recorder) URL() string { return r.srv.URL }

func (r *Recorder) record(c Call, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if c.Service == "sts" && c.Op == "AssumeRole" {
		// STS speaks the query protocol: the parameters are a form body.
		form, _ := url.ParseQuery(string(body))
		r.assumed = append(r.assumed, AssumedRole{RoleArn: form.Get("RoleArn"), SessionName: form.Get("RoleSessionName")})
	}
}

// AssumedRoles returns the role ARN and session name of each sts:AssumeRole
// recorded since the start or the last Reset, in arrival order: which
// role a run asked for, which moto does not check.
func (r *Recorder) AssumedRoles() []AssumedRole {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]AssumedRole(nil), r.assumed...)
}

// Calls returns the calls recorded since the start or the last Reset, in
// arrival order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Count returns how many recorded calls were operation op.
func (r *Recorder) Count(op string) int {
	n := 0
	for _, c := range r.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Mutating returns the recorded calls that are not reads (see IsRead), in
// arrival order; nil if there are none.
func (r *Recorder) Mutating() []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Mutating() {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.assumed = nil, nil
}

// identify works out the service, region and operation of req with
// awsreq.Identify, and returns its body too. It reads req.Body and puts an
// unread copy back.
func identify(req *http.Request) (Call, []byte) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r := awsreq.Identify(req, body)
	return Call{Service: r.Service, Region: r.Region, Op: r.Op}, body
}
