package awsreq_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awsreq"
)

// capture is a server that keeps the last request it got, body read.
type capture struct {
	srv  *httptest.Server
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

func newCapture(t *testing.T) *capture {
	t.Helper()
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.req, c.body = r, body
		c.mu.Unlock()
		// Not a valid answer for most operations: the SDK's error after
		// this is of no interest, only what it sent.
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) last() (*http.Request, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, b := c.req, c.body
	c.req, c.body = nil, nil
	return r, b
}

// TestIdentifyWhatTheSDKSends sends every call broom makes with the real
// SDK clients and checks the name Identify gives the request that arrived.
func TestIdentifyWhatTheSDKSends(t *testing.T) {
	t.Parallel()
	c := newCapture(t)
	cfg := aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint:     aws.String(c.srv.URL),
		RetryMaxAttempts: 1,
	}
	e, s, st := ec2.NewFromConfig(cfg), s3.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	db := rds.NewFromConfig(cfg)
	lb := elbv2.NewFromConfig(cfg)
	cr := ecr.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	id, bkt := aws.String("x-1"), aws.String("acme-ci-artifacts")
	type call func(context.Context) error
	ign := func(_ any, err error) error { return err }
	tests := []struct {
		service, op string
		call        call
	}{
		{"ec2", "DescribeSnapshots", func(ctx context.Context) error {
			return ign(e.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}))
		}},
		{"ec2", "DeleteSnapshot", func(ctx context.Context) error {
			return ign(e.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: id}))
		}},
		{"ec2", "CreateTags", func(ctx context.Context) error {
			return ign(e.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"snap-1"}, Tags: []ec2types.Tag{{Key: id, Value: id}}}))
		}},
		{"ec2", "DescribeVolumes", func(ctx context.Context) error { return ign(e.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})) }},
		{"ec2", "DeleteVolume", func(ctx context.Context) error { return ign(e.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: id})) }},
		{"ec2", "ModifyVolume", func(ctx context.Context) error {
			return ign(e.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: id, VolumeType: ec2types.VolumeTypeGp3}))
		}},
		{"ec2", "DescribeImages", func(ctx context.Context) error {
			return ign(e.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}))
		}},
		{"ec2", "DeregisterImage", func(ctx context.Context) error {
			return ign(e.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: id}))
		}},
		{"ec2", "DescribeAddresses", func(ctx context.Context) error { return ign(e.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})) }},
		{"ec2", "ReleaseAddress", func(ctx context.Context) error {
			return ign(e.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: id}))
		}},
		{"ec2", "DescribeInstances", func(ctx context.Context) error { return ign(e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})) }},
		{"ec2", "DescribeLaunchTemplates", func(ctx context.Context) error {
			return ign(e.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{}))
		}},
		{"ec2", "DescribeLaunchTemplateVersions", func(ctx context.Context) error {
			return ign(e.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: id}))
		}},
		{"ec2", "DescribeRegions", func(ctx context.Context) error { return ign(e.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})) }},
		{"rds", "DescribeDBSnapshots", func(ctx context.Context) error {
			return ign(db.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")}))
		}},
		{"rds", "DescribeDBSnapshotAttributes", func(ctx context.Context) error {
			return ign(db.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: id}))
		}},
		{"rds", "DeleteDBSnapshot", func(ctx context.Context) error {
			return ign(db.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: id}))
		}},
		{"rds", "AddTagsToResource", func(ctx context.Context) error {
			return ign(db.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String("arn:aws:rds:eu-west-1:123456789012:snapshot:x-1"),
				Tags: []rdstypes.Tag{{Key: id, Value: id}}}))
		}},
		{"sts", "GetCallerIdentity", func(ctx context.Context) error {
			return ign(st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
		}},
		{"sts", "AssumeRole", func(ctx context.Context) error {
			return ign(st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/broom"), RoleSessionName: id}))
		}},
		{"elasticloadbalancing", "DescribeLoadBalancers", func(ctx context.Context) error {
			return ign(lb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{"arn:1"}}))
		}},
		{"elasticloadbalancing", "DescribeTags", func(ctx context.Context) error {
			return ign(lb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{"arn:1"}}))
		}},
		{"elasticloadbalancing", "DescribeListeners", func(ctx context.Context) error {
			return ign(lb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: id}))
		}},
		{"elasticloadbalancing", "DescribeTargetGroups", func(ctx context.Context) error {
			return ign(lb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: id}))
		}},
		{"elasticloadbalancing", "DescribeTargetHealth", func(ctx context.Context) error {
			return ign(lb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: id}))
		}},
		{"elasticloadbalancing", "DescribeLoadBalancerAttributes", func(ctx context.Context) error {
			return ign(lb.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: id}))
		}},
		{"elasticloadbalancing", "DeleteLoadBalancer", func(ctx context.Context) error {
			return ign(lb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: id}))
		}},
		// ECR speaks awsJson 1.1 (X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.Op).
		{"ecr", "DescribeRepositories", func(ctx context.Context) error {
			return ign(cr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}))
		}},
		{"ecr", "DescribeImages", func(ctx context.Context) error {
			return ign(cr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: id}))
		}},
		{"ecr", "ListTagsForResource", func(ctx context.Context) error {
			return ign(cr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecr:eu-west-1:123456789012:repository/x-1")}))
		}},
		{"ecr", "BatchDeleteImage", func(ctx context.Context) error {
			return ign(cr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: id, ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String("sha256:0")}}}))
		}},
		{"logs", "DescribeLogGroups", func(ctx context.Context) error {
			return ign(logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: id}))
		}},
		{"logs", "ListTagsForResource", func(ctx context.Context) error {
			return ign(logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:eu-west-1:123456789012:log-group:x-1")}))
		}},
		{"logs", "DeleteLogGroup", func(ctx context.Context) error {
			return ign(logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: id}))
		}},
		{"s3", "HeadBucket", func(ctx context.Context) error { return ign(s.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bkt})) }},
		{"s3", "CreateBucket", func(ctx context.Context) error { return ign(s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt})) }},
		{"s3", "GetBucketVersioning", func(ctx context.Context) error {
			return ign(s.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bkt}))
		}},
		{"s3", "PutBucketVersioning", func(ctx context.Context) error {
			return ign(s.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bkt,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
		}},
		{"s3", "GetPublicAccessBlock", func(ctx context.Context) error {
			return ign(s.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bkt}))
		}},
		{"s3", "PutPublicAccessBlock", func(ctx context.Context) error {
			return ign(s.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bkt,
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}))
		}},
		{"s3", "GetBucketEncryption", func(ctx context.Context) error {
			return ign(s.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bkt}))
		}},
		{"s3", "PutBucketEncryption", func(ctx context.Context) error {
			return ign(s.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bkt,
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
				}}}}))
		}},
		{"s3", "GetBucketTagging", func(ctx context.Context) error {
			return ign(s.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bkt}))
		}},
		{"s3", "PutBucketTagging", func(ctx context.Context) error {
			return ign(s.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bkt,
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: id, Value: id}}}}))
		}},
		{"s3", "DeleteBucketTagging", func(ctx context.Context) error {
			return ign(s.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: bkt}))
		}},
		{"s3", "GetBucketLocation", func(ctx context.Context) error {
			return ign(s.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: bkt}))
		}},
		// Not called by broom; the case the two old identifiers named differently.
		{"s3", "DeleteBucketLifecycle", func(ctx context.Context) error {
			return ign(s.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: bkt}))
		}},
		{"s3", "ListBuckets", func(ctx context.Context) error { return ign(s.ListBuckets(ctx, &s3.ListBucketsInput{})) }},
		{"s3", "DeleteObject", func(ctx context.Context) error {
			return ign(s.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bkt, Key: aws.String("a/b.txt")}))
		}},
	}
	for _, tc := range tests {
		_ = tc.call(t.Context())
		req, body := c.last()
		if req == nil {
			t.Errorf("%s: the SDK sent nothing", tc.op)
			continue
		}
		want := awsreq.Request{Service: tc.service, Region: "eu-west-1", Op: tc.op, Protocol: map[string]awsreq.Protocol{
			"ec2": awsreq.EC2, "sts": awsreq.Query, "rds": awsreq.Query, "s3": awsreq.S3, "elasticloadbalancing": awsreq.Query, "ecr": awsreq.JSON, "logs": awsreq.JSON}[tc.service]}
		if diff := cmp.Diff(want, awsreq.Identify(req, body)); diff != "" {
			t.Errorf("%s: %s %s (-want +got):\n%s", tc.op, req.Method, req.URL.RequestURI(), diff)
		}
	}
}

func sign(req *http.Request, service string) {
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/eu-west-1/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
}

// TestIdentify covers the shapes the SDK test does not send: other
// protocols, IAM (not a dependency of broom's module), S3 object calls,
// requests that are not AWS and ones that cannot be identified.
func TestIdentify(t *testing.T) {
	t.Parallel()
	form := "application/x-www-form-urlencoded; charset=utf-8"
	tests := map[string]struct {
		method, target, service, contentType, body string
		header                                     map[string]string
		want                                       awsreq.Request
	}{
		"IAM ListAccountAliases in a form body": {method: "POST", target: "/", service: "iam", contentType: form,
			body: "Action=ListAccountAliases&Version=2010-05-08", want: awsreq.Request{Op: "ListAccountAliases", Protocol: awsreq.Query}},
		"a query Action in the URL": {method: "GET", target: "/?Action=ListUsers&Version=2010-05-08", service: "iam",
			want: awsreq.Request{Op: "ListUsers", Protocol: awsreq.Query}},
		"an unsigned query request is EC2's": {method: "POST", target: "/", contentType: form, body: "Action=DescribeRegions",
			want: awsreq.Request{Op: "DescribeRegions", Protocol: awsreq.EC2}},
		"a form body without Action": {method: "POST", target: "/", service: "ec2", contentType: form, body: "Version=2016-11-15",
			want: awsreq.Request{Op: "UNKNOWN:POST /", Protocol: awsreq.EC2}},
		"awsJson": {method: "POST", target: "/", service: "logs", contentType: "application/x-amz-json-1.1", body: "{}",
			header: map[string]string{"X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
			want:   awsreq.Request{Op: "DescribeLogGroups", Protocol: awsreq.JSON}},
		"RPCv2 CBOR": {method: "POST", target: "/service/GraniteServiceVersion20100801/operation/GetMetricData", service: "monitoring",
			contentType: "application/cbor", want: awsreq.Request{Op: "GetMetricData", Protocol: awsreq.CBOR}},
		"S3 PUT ?lifecycle":            {method: "PUT", target: "/bkt?lifecycle", service: "s3", want: awsreq.Request{Op: "PutBucketLifecycleConfiguration", Protocol: awsreq.S3}},
		"S3 DELETE ?lifecycle":         {method: "DELETE", target: "/bkt?lifecycle", service: "s3", want: awsreq.Request{Op: "DeleteBucketLifecycle", Protocol: awsreq.S3}},
		"S3 DELETE bucket":             {method: "DELETE", target: "/bkt", service: "s3", want: awsreq.Request{Op: "DeleteBucket", Protocol: awsreq.S3}},
		"S3 ListObjectsV2":             {method: "GET", target: "/bkt?list-type=2&prefix=a", service: "s3", want: awsreq.Request{Op: "ListObjectsV2", Protocol: awsreq.S3}},
		"S3 ListObjects":               {method: "GET", target: "/bkt", service: "s3", want: awsreq.Request{Op: "ListObjects", Protocol: awsreq.S3}},
		"S3 ListObjectVersions":        {method: "GET", target: "/bkt?versions", service: "s3", want: awsreq.Request{Op: "ListObjectVersions", Protocol: awsreq.S3}},
		"S3 DeleteObjects":             {method: "POST", target: "/bkt?delete", service: "s3", contentType: "application/xml", body: "<Delete/>", want: awsreq.Request{Op: "DeleteObjects", Protocol: awsreq.S3}},
		"S3 PutObject":                 {method: "PUT", target: "/bkt/a/b.txt", service: "s3", body: "hi", want: awsreq.Request{Op: "PutObject", Protocol: awsreq.S3}},
		"S3 CopyObject":                {method: "PUT", target: "/bkt/a/b.txt", service: "s3", header: map[string]string{"X-Amz-Copy-Source": "/o/k"}, want: awsreq.Request{Op: "CopyObject", Protocol: awsreq.S3}},
		"S3 GetObject":                 {method: "GET", target: "/bkt/a/b.txt", service: "s3", want: awsreq.Request{Op: "GetObject", Protocol: awsreq.S3}},
		"S3 HeadObject":                {method: "HEAD", target: "/bkt/a/b.txt", service: "s3", want: awsreq.Request{Op: "HeadObject", Protocol: awsreq.S3}},
		"S3 PutObjectTagging":          {method: "PUT", target: "/bkt/k?tagging", service: "s3", want: awsreq.Request{Op: "PutObjectTagging", Protocol: awsreq.S3}},
		"S3 CreateMultipartUpload":     {method: "POST", target: "/bkt/k?uploads", service: "s3", want: awsreq.Request{Op: "CreateMultipartUpload", Protocol: awsreq.S3}},
		"S3 UploadPart":                {method: "PUT", target: "/bkt/k?partNumber=1&uploadId=u", service: "s3", want: awsreq.Request{Op: "UploadPart", Protocol: awsreq.S3}},
		"S3 CompleteMultipartUpload":   {method: "POST", target: "/bkt/k?uploadId=u", service: "s3", want: awsreq.Request{Op: "CompleteMultipartUpload", Protocol: awsreq.S3}},
		"S3 AbortMultipartUpload":      {method: "DELETE", target: "/bkt/k?uploadId=u", service: "s3", want: awsreq.Request{Op: "AbortMultipartUpload", Protocol: awsreq.S3}},
		"two subresources: name order": {method: "GET", target: "/bkt?versioning&acl", service: "s3", want: awsreq.Request{Op: "GetBucketAcl", Protocol: awsreq.S3}},
		"an S3 method with no operation": {method: "PATCH", target: "/bkt", service: "s3",
			want: awsreq.Request{Op: "S3:PATCH", Protocol: awsreq.S3}},
		"a signed request of no known shape": {method: "POST", target: "/x", service: "lambda",
			want: awsreq.Request{Op: "UNKNOWN:POST /x", Protocol: awsreq.EC2}},
		"GitHub": {method: "PATCH", target: "/api/v3/repos/acme/infra/issues/comments/42", body: `{"body":"x"}`,
			want: awsreq.Request{Op: "PATCH /api/v3/repos/acme/infra/issues/comments/42", Protocol: awsreq.NotAWS}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:1"+tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			want := tc.want
			if tc.service != "" {
				sign(req, tc.service)
				want.Service, want.Region = tc.service, "eu-west-1"
			}
			if diff := cmp.Diff(want, awsreq.Identify(req, []byte(tc.body))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if b, _ := io.ReadAll(req.Body); !bytes.Equal(b, []byte(tc.body)) {
				t.Errorf("Identify read the request's body: %q left", b)
			}
		})
	}
}

func TestCredentialScopeOfAPresignedURL(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest("GET", "http://127.0.0.1:1/bkt/k?X-Amz-Credential=AKID%2F20250101%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=0", nil)
	if s, r := awsreq.CredentialScope(req); s != "s3" || r != "us-west-2" {
		t.Errorf("CredentialScope = %q, %q; want s3, us-west-2", s, r)
	}
	if got := awsreq.Identify(req, nil).Op; got != "GetObject" {
		t.Errorf("Op = %q, want GetObject", got)
	}
}
