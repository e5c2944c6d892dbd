package faults

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/broom-dev/broom/internal/awsreq"
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

// identify names req's operation with awsreq.Identify, as awstest's
// Recorder does. body is req's body, already read.
func identify(req *http.Request, body []byte) call {
	c := call{method: req.Method, path: req.URL.Path, body: body, values: req.URL.Query()}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				c.values[k] = append(c.values[k], vs...)
			}
		}
	}
	r := awsreq.Identify(req, body)
	c.service, c.op = r.Service, r.Op
	switch r.Protocol {
	case awsreq.EC2:
		c.proto = protoEC2
	case awsreq.Query:
		c.proto = protoQuery
	case awsreq.JSON, awsreq.CBOR:
		// A CBOR client reads a JSON error as an unknown one: still an error.
		c.proto = protoJSON
	case awsreq.S3:
		c.proto = protoS3
	default:
		c.proto = protoHTTP
	}
	return c
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
