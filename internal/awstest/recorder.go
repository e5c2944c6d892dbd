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
)

// Call is one AWS API request seen by a Recorder.
type Call struct {
	// Service is the SigV4 signing name ("ec2", "sts", "s3", ...) from the
	// request's credential scope; "" for an unsigned request.
	Service string
	// Region is the SigV4 signing region; "" for an unsigned request.
	Region string
	// Op is the API operation, such as "DescribeSnapshots" or
	// "PutBucketVersioning". A request that cannot be identified gets a
	// descriptive name such as "S3:PATCH" or "UNKNOWN:POST /x", which counts
	// as mutating.
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
// the process under test at URL (AWS_ENDPOINT_URL, see Moto.Env) and then
// assert on Calls, Count or Mutating. A request is recorded when it arrives,
// before it is forwarded, so failed calls count too. It is safe for
// concurrent use.
type Recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []Call
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
			r.record(identify(req))
			proxy.ServeHTTP(w, req)
		})},
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the recorder's endpoint, http://127.0.0.1:PORT.
func (r *Recorder) URL() string { return r.srv.URL }

func (r *Recorder) record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
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
	r.calls = nil
}

// identify works out the service, region and operation of req. It may read
// and restore req.Body.
func identify(req *http.Request) Call {
	c := Call{}
	c.Service, c.Region = credentialScope(req)
	c.Op = operation(req, c.Service)
	return c
}

// credentialScope extracts service and region from a SigV4 Authorization
// header ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ec2/aws4_request, ...")
// or a presigned URL's X-Amz-Credential.
func credentialScope(req *http.Request) (service, region string) {
	cred := req.URL.Query().Get("X-Amz-Credential")
	if auth := req.Header.Get("Authorization"); auth != "" {
		for _, part := range strings.FieldsFunc(auth, func(r rune) bool { return r == ',' || r == ' ' }) {
			if v, ok := strings.CutPrefix(part, "Credential="); ok {
				cred = v
				break
			}
		}
	}
	// AKID/date/region/service/aws4_request
	f := strings.Split(cred, "/")
	if len(f) != 5 || f[4] != "aws4_request" {
		return "", ""
	}
	return f[3], f[2]
}

// operation names req's API operation, by protocol: awsJson (X-Amz-Target),
// Smithy RPCv2 CBOR (/service/S/operation/Op), query (Action, as used by
// EC2, STS, IAM, ...) and S3's REST protocol.
func operation(req *http.Request, service string) string {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			return target[i+1:]
		}
		return target
	}
	if _, rest, ok := strings.Cut(req.URL.Path, "/operation/"); ok && strings.HasPrefix(req.URL.Path, "/service/") {
		return rest
	}
	if a := req.URL.Query().Get("Action"); a != "" {
		return a
	}
	if req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
				return form.Get("Action")
			}
		}
	}
	if service == "s3" {
		return s3Operation(req)
	}
	return "UNKNOWN:" + req.Method + " " + req.URL.Path
}

// s3Sub maps an S3 subresource (a query key) to its Get, Put and Delete
// operation names, for bucket and object requests.
type s3Sub struct{ get, put, del string }

var s3BucketSubs = map[string]s3Sub{
	"accelerate":          {"GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", ""},
	"acl":                 {"GetBucketAcl", "PutBucketAcl", ""},
	"analytics":           {"GetBucketAnalyticsConfiguration", "PutBucketAnalyticsConfiguration", "DeleteBucketAnalyticsConfiguration"},
	"cors":                {"GetBucketCors", "PutBucketCors", "DeleteBucketCors"},
	"encryption":          {"GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
	"intelligent-tiering": {"GetBucketIntelligentTieringConfiguration", "PutBucketIntelligentTieringConfiguration", "DeleteBucketIntelligentTieringConfiguration"},
	"inventory":           {"GetBucketInventoryConfiguration", "PutBucketInventoryConfiguration", "DeleteBucketInventoryConfiguration"},
	"lifecycle":           {"GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"},
	"location":            {"GetBucketLocation", "", ""},
	"logging":             {"GetBucketLogging", "PutBucketLogging", ""},
	"metrics":             {"GetBucketMetricsConfiguration", "PutBucketMetricsConfiguration", "DeleteBucketMetricsConfiguration"},
	"notification":        {"GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", ""},
	"object-lock":         {"GetObjectLockConfiguration", "PutObjectLockConfiguration", ""},
	"ownershipControls":   {"GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
	"policy":              {"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
	"policyStatus":        {"GetBucketPolicyStatus", "", ""},
	"publicAccessBlock":   {"GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
	"replication":         {"GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication"},
	"requestPayment":      {"GetBucketRequestPayment", "PutBucketRequestPayment", ""},
	"tagging":             {"GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
	"uploads":             {"ListMultipartUploads", "", ""},
	"versioning":          {"GetBucketVersioning", "PutBucketVersioning", ""},
	"versions":            {"ListObjectVersions", "", ""},
	"website":             {"GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
	"session":             {"CreateSession", "", ""},
}

var s3ObjectSubs = map[string]s3Sub{
	"acl":        {"GetObjectAcl", "PutObjectAcl", ""},
	"attributes": {"GetObjectAttributes", "", ""},
	"legal-hold": {"GetObjectLegalHold", "PutObjectLegalHold", ""},
	"retention":  {"GetObjectRetention", "PutObjectRetention", ""},
	"tagging":    {"GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"},
	"torrent":    {"GetObjectTorrent", "", ""},
	"uploadId":   {"ListParts", "", "AbortMultipartUpload"},
}

// s3Operation names a path-style S3 REST request (/bucket or /bucket/key),
// falling back to "S3:METHOD".
func s3Operation(req *http.Request) string {
	q := req.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	m := req.Method
	fallback := "S3:" + m

	pick := func(subs map[string]s3Sub) (string, bool) {
		for sub, ops := range subs {
			if !q.Has(sub) {
				continue
			}
			var op string
			switch m {
			case http.MethodGet, http.MethodHead:
				op = ops.get
			case http.MethodPut:
				op = ops.put
			case http.MethodDelete:
				op = ops.del
			}
			if op != "" {
				return op, true
			}
		}
		return "", false
	}

	switch {
	case bucket == "":
		if m == http.MethodGet {
			return "ListBuckets"
		}
		return fallback
	case key == "":
		if m == http.MethodPost && q.Has("delete") {
			return "DeleteObjects"
		}
		if m == http.MethodGet && q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		if op, ok := pick(s3BucketSubs); ok {
			return op
		}
		switch m {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodGet:
			return "ListObjects"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		}
		return fallback
	default:
		copySource := req.Header.Get("X-Amz-Copy-Source") != ""
		switch {
		case m == http.MethodPut && q.Has("partNumber") && q.Has("uploadId"):
			if copySource {
				return "UploadPartCopy"
			}
			return "UploadPart"
		case m == http.MethodPost && q.Has("uploads"):
			return "CreateMultipartUpload"
		case m == http.MethodPost && q.Has("uploadId"):
			return "CompleteMultipartUpload"
		case m == http.MethodPost && q.Has("restore"):
			return "RestoreObject"
		case m == http.MethodPost && q.Has("select"):
			return "SelectObjectContent"
		}
		if op, ok := pick(s3ObjectSubs); ok {
			return op
		}
		switch m {
		case http.MethodPut:
			if copySource {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodDelete:
			return "DeleteObject"
		}
		return fallback
	}
}
