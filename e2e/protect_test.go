package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/broom-dev/broom/internal/awstest"
)

// This file checks SPEC §9's "protect wins over every rule, for every
// resource an action touches" through the built binary: an AMI's backing
// snapshots are judged by protect and AWS Backup.

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
