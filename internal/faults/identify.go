package faults

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// protocol is how a request's errors must be written for its client to
// understand them.
type protocol int

const (
	protoHTTP  protocol = iota // not AWS (e.g. GitHub): JSON {"message": …}
	protoEC2                   // EC2 query: <Response><Errors><Error>…
	protoQuery                 // other query services (STS, IAM): <ErrorResponse>…
	protoJSON                  // awsJson 1.0/1.1 (X-Amz-Target)
	protoS3                    // S3 REST: <Error>…
)

// call is what the proxy knows about one request.
type call struct {
	service string // SigV4 signing name; "" when unsigned
	op      string
	proto   protocol
	method  string
	path    string
	values  url.Values // query string and form body together
	body    []byte
}

// identify names req's operation the way awstest's Recorder does (SigV4
// credential scope, then X-Amz-Target, the query Action, or S3's REST
// shape), and falls back to "METHOD /path" for requests that are not AWS,
// such as GitHub's. body is req's body, already read.
func identify(req *http.Request, body []byte) call {
	c := call{method: req.Method, path: req.URL.Path, body: body, values: req.URL.Query()}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				c.values[k] = append(c.values[k], vs...)
			}
		}
	}
	c.service = signingService(req)
	switch target := req.Header.Get("X-Amz-Target"); {
	case target != "":
		c.proto = protoJSON
		c.op = target[strings.LastIndexByte(target, '.')+1:]
	case c.values.Get("Action") != "":
		c.proto = protoQuery
		if c.service == "ec2" || c.service == "" {
			c.proto = protoEC2
		}
		c.op = c.values.Get("Action")
	case c.service == "s3":
		c.proto = protoS3
		c.op = s3Operation(req)
	case c.service != "":
		c.proto = protoEC2
		c.op = "UNKNOWN:" + req.Method + " " + req.URL.Path
	default:
		c.op = req.Method + " " + req.URL.Path
	}
	return c
}

// signingService is the service of a SigV4 Authorization header's
// credential scope (AKID/date/region/service/aws4_request), or "".
func signingService(req *http.Request) string {
	cred := req.URL.Query().Get("X-Amz-Credential")
	for _, part := range strings.FieldsFunc(req.Header.Get("Authorization"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if v, ok := strings.CutPrefix(part, "Credential="); ok {
			cred = v
		}
	}
	f := strings.Split(cred, "/")
	if len(f) != 5 || f[4] != "aws4_request" {
		return ""
	}
	return f[3]
}

// s3Subresources maps an S3 bucket subresource (a query key) to the noun
// of its Get/Put/Delete operations. Only those broom may use are named;
// others are "S3:METHOD".
var s3Subresources = map[string]string{
	"acl":               "BucketAcl",
	"encryption":        "BucketEncryption",
	"lifecycle":         "BucketLifecycleConfiguration",
	"location":          "BucketLocation",
	"ownershipControls": "BucketOwnershipControls",
	"policy":            "BucketPolicy",
	"publicAccessBlock": "PublicAccessBlock",
	"tagging":           "BucketTagging",
	"versioning":        "BucketVersioning",
}

var s3Verbs = map[string]string{http.MethodGet: "Get", http.MethodPut: "Put", http.MethodDelete: "Delete"}

// s3Operation names a path-style S3 request (/bucket or /bucket/key).
func s3Operation(req *http.Request) string {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	q, m := req.URL.Query(), req.Method
	switch {
	case bucket == "" && m == http.MethodGet:
		return "ListBuckets"
	case bucket != "" && key == "":
		for sub, noun := range s3Subresources {
			if q.Has(sub) && s3Verbs[m] != "" {
				return s3Verbs[m] + noun
			}
		}
		switch m {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
	case key != "":
		switch m {
		case http.MethodGet:
			return "GetObject"
		case http.MethodPut:
			return "PutObject"
		case http.MethodDelete:
			return "DeleteObject"
		case http.MethodHead:
			return "HeadObject"
		}
	}
	return "S3:" + m
}

// carries reports whether the call names one of ids: as a query or form
// value (SnapshotId=snap-1, VolumeId.1=vol-2), a path segment (an S3
// bucket or key, a GitHub comment id) or a JSON string in the body.
func (c call) carries(ids []string) bool {
	for _, id := range ids {
		for _, vs := range c.values {
			for _, v := range vs {
				if v == id {
					return true
				}
			}
		}
		for _, seg := range strings.Split(c.path, "/") {
			if seg == id {
				return true
			}
		}
		if bytes.Contains(c.body, []byte(`"`+id+`"`)) {
			return true
		}
	}
	return false
}
