package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/broom-dev/broom/internal/awstest"
)

// This file checks SPEC §9's "protect wins over every rule, for every
// resource an action touches" through the built binary: an AMI's backing
// snapshots are judged by protect and AWS Backup, and an ensure never
// modifies a protected bucket.

// TestProtectKeepsAnAMIsProtectedSnapshots deletes an old AMI whose
// snapshots are one plain, one tagged broom:keep and one AWS Backup's,
// through a pull request's plan and approval: only the plain one goes.
// moto gives every AMI one snapshot; an awstest.ImageMapper between the
// recorder and moto gives this one the other two as well, as AWS does
// for an AMI of three volumes.
func TestProtectKeepsAnAMIsProtectedSnapshots(t *testing.T) {
	w := newWorld(t)
	mapper := awstest.NewImageMapper(t, w.moto.URL())
	w.rec = awstest.NewRecorder(t, mapper.URL())
	w.writeConfig(`version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: stale-amis
    resource: ami
    action: delete
    where: {older-than: 90d, unused: true}
`)
	w.moto.SetClock("-400d")
	image, plain := awstest.RegisterImage(t, w.aws, "golden-image", nil)
	w.moto.SetClock("+0")
	kept := w.snapshot("-400d", map[string]string{"broom:keep": "true"})
	backup := w.snapshot("-400d", map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::volume/" + w.volume})
	mapper.AddSnapshots(image, kept, backup)

	planned := w.run("pull_request", w.prPayload("opened"), nil)
	planned.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "1"})
	w.noMutatingCalls()
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	// The row says which snapshots go with the image and which stay, and why.
	for _, want := range []string{image, "deletes snapshots: " + plain, "keeps snapshots: ", kept + " (protected: tag broom:keep=true)", backup + " (managed by AWS Backup)"} {
		if !strings.Contains(comments[0].Body, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, comments[0].Body)
		}
	}

	w.rec.Reset()
	applied := w.run("pull_request", w.labeled("alice", label), nil)
	applied.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "applied": "1", "failed": "0", "skipped": "0",
		"fingerprint": planned.outputs["fingerprint"]})
	if w.exists(plain) {
		t.Errorf("the image's plain snapshot %s still exists", plain)
	}
	for _, id := range []string{kept, backup} {
		if !w.exists(id) {
			t.Errorf("snapshot %s, which protect or AWS Backup keeps, was deleted with its image", id)
		}
	}
	if n := w.rec.Count("DeleteSnapshot"); n != 1 {
		t.Errorf("%d DeleteSnapshot calls, want 1", n)
	}
	out, err := ec2.NewFromConfig(w.aws).DescribeImages(t.Context(), &ec2.DescribeImagesInput{ImageIds: []string{image}})
	if err == nil && len(out.Images) > 0 {
		t.Errorf("image %s is still registered", image)
	}
}

// TestProtectEnsureLeavesAProtectedBucketAlone plans an ensure rule for a
// bucket tagged broom:keep: the plan has nothing to do, says the bucket is
// left alone and why, and changes nothing.
func TestProtectEnsureLeavesAProtectedBucketAlone(t *testing.T) {
	w := newWorld(t)
	const bucket = "acme-ci-artifacts"
	w.writeConfig(`version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
tags: {Owner: platform-team}
rules:
  - name: artifacts-bucket
    resource: s3-bucket
    action: ensure
    bucket: ` + bucket + `
    settings: {versioning: true}
`)
	c := s3.NewFromConfig(w.aws)
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	awstest.TagBucket(t, w.aws, bucket, map[string]string{"broom:keep": "yes"})

	p := w.cli("plan")
	if p.code != 0 || !strings.Contains(p.stdout, "Plan: nothing to do") {
		t.Errorf("plan: exit %d, want 0 and nothing to do", p.code)
	}
	if want := "left alone: s3-bucket " + bucket + " in us-east-1 (rule artifacts-bucket): protected: tag broom:keep=yes"; !strings.Contains(p.stdout, want) {
		t.Errorf("plan does not say %q", want)
	}
	a := w.cli("apply", "--expect-fingerprint", fingerprintOf(t, w))
	if a.code != 0 || !strings.Contains(a.stdout, "Plan: nothing to do") {
		t.Errorf("apply: exit %d, want 0 and nothing to do", a.code)
	}
	w.noMutatingCalls()
	v, err := c.GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "" {
		t.Errorf("versioning of the protected bucket is %q: it was modified", v.Status)
	}
}
