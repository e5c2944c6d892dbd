// Package awsreq names the AWS API operation an HTTP request makes, from the
// request alone: the SigV4 credential scope gives the service and region,
// and the protocol gives the operation (X-Amz-Target for awsJson, the path
// for Smithy RPCv2 CBOR, the Action parameter for the query protocol of EC2,
// STS and IAM, and the method, path and subresource for S3's REST API).
//
// It is the one identifier shared by test support that sits between broom
// and its peers: awstest's Recorder and the faults proxy. Both must agree,
// or a rule written against one name never fires while a count made with
// the other passes.
package awsreq

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Protocol is how a request is encoded, and so how its errors are written.
type Protocol int

// The protocols broom's peers speak.
const (
	NotAWS Protocol = iota // unsigned and not AWS-shaped, e.g. GitHub
	EC2                    // EC2's query protocol: errors in <Response><Errors>
	Query                  // the query protocol of STS, IAM, ...: <ErrorResponse>
	JSON                   // awsJson 1.0/1.1 (X-Amz-Target)
	CBOR                   // Smithy RPCv2 CBOR (/service/S/operation/Op)
	S3                     // S3's REST protocol
)

// Request is what Identify knows about one request.
type Request struct {
	// Service is the SigV4 signing name ("ec2", "sts", "s3", ...) from the
	// credential scope; "" for an unsigned request.
	Service string
	// Region is the SigV4 signing region; "" for an unsigned request.
	Region string
	// Op is the API operation, such as "DescribeSnapshots" or
	// "PutBucketVersioning". A signed request that cannot be identified is
	// "UNKNOWN:METHOD /path" (S3: "S3:METHOD"); a request that is not AWS
	// at all is "METHOD /path", e.g. "PATCH /api/v3/repos/o/r/issues/comments/1".
	Op string
	// Protocol is how the request is encoded.
	Protocol Protocol
}

// Identify names req's operation. body is req's body, already read (nil if
// there is none); Identify does not read req.Body.
func Identify(req *http.Request, body []byte) Request {
	r := Request{}
	r.Service, r.Region = CredentialScope(req)
	switch target := req.Header.Get("X-Amz-Target"); {
	case target != "":
		r.Protocol, r.Op = JSON, target[strings.LastIndexByte(target, '.')+1:]
		return r
	case strings.HasPrefix(req.URL.Path, "/service/") && strings.Contains(req.URL.Path, "/operation/"):
		_, op, _ := strings.Cut(req.URL.Path, "/operation/")
		r.Protocol, r.Op = CBOR, op
		return r
	}
	if a := action(req, body); a != "" {
		r.Protocol, r.Op = Query, a
		if r.Service == "ec2" || r.Service == "" {
			r.Protocol = EC2
		}
		return r
	}
	switch r.Service {
	case "s3":
		r.Protocol, r.Op = S3, s3Operation(req)
	case "":
		r.Protocol, r.Op = NotAWS, req.Method+" "+req.URL.Path
	default:
		r.Protocol, r.Op = EC2, "UNKNOWN:"+req.Method+" "+req.URL.Path
	}
	return r
}

// action is the query protocol's Action, from the query string or a form
// body.
func action(req *http.Request, body []byte) string {
	if a := req.URL.Query().Get("Action"); a != "" {
		return a
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}

// CredentialScope returns the service and region of a SigV4 Authorization
// header's credential ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ec2/aws4_request, ...")
// or a presigned URL's X-Amz-Credential; "" and "" when there is none.
func CredentialScope(req *http.Request) (service, region string) {
	cred := req.URL.Query().Get("X-Amz-Credential")
	for _, part := range strings.FieldsFunc(req.Header.Get("Authorization"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if v, ok := strings.CutPrefix(part, "Credential="); ok {
			cred = v
			break
		}
	}
	f := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	if len(f) != 5 || f[4] != "aws4_request" {
		return "", ""
	}
	return f[3], f[2]
}

// s3Sub is an S3 subresource's Get, Put and Delete operations ("" none).
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
	"session":             {"CreateSession", "", ""},
	"tagging":             {"GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
	"uploads":             {"ListMultipartUploads", "", ""},
	"versioning":          {"GetBucketVersioning", "PutBucketVersioning", ""},
	"versions":            {"ListObjectVersions", "", ""},
	"website":             {"GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
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

// subOp returns the operation of the first subresource in q (in name
// order, so the answer never depends on map order) that has one for
// method.
func subOp(subs map[string]s3Sub, q url.Values, method string) (string, bool) {
	var present []string
	for k := range q {
		if _, ok := subs[k]; ok {
			present = append(present, k)
		}
	}
	slices.Sort(present)
	for _, k := range present {
		ops := subs[k]
		var op string
		switch method {
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

// s3Operation names a path-style S3 REST request (/bucket or /bucket/key),
// the style the SDK uses for an endpoint that is an IP address; "S3:METHOD"
// when it cannot.
func s3Operation(req *http.Request) string {
	q := req.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	m := req.Method
	fallback := "S3:" + m
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
		if op, ok := subOp(s3BucketSubs, q, m); ok {
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
	}
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
	if op, ok := subOp(s3ObjectSubs, q, m); ok {
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
