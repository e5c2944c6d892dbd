package engine

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/plan"
)

// kmTestAMIProtect plans and applies an AMI rule against moto, with
// protect (a tag and a listed id) and AWS Backup keeping some of the
// images' snapshots, and a snapshot protected between plan and apply
// (SPEC §9). moto gives every AMI one snapshot; an awstest.ImageMapper
// gives the images more, as AWS does for an AMI of several volumes.
func kmTestAMIProtect(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, acct = "us-east-1", awstest.AccountID
	direct := m.Config(t, region)
	c := ec2.NewFromConfig(direct)
	mapper := awstest.NewImageMapper(t, m.URL())

	m.SetClock("-400d")
	image, root := awstest.RegisterImage(t, direct, "multi", nil)
	vol := awstest.CreateVolume(t, direct, 8, region+"a")
	kept := awstest.CreateSnapshot(t, direct, vol, map[string]string{"broom:keep": "true"})
	listed := awstest.CreateSnapshot(t, direct, vol, nil)
	backup := awstest.CreateSnapshot(t, direct, vol, map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::volume/" + vol})
	mapper.AddSnapshots(image, kept, listed, backup)
	later, laterRoot := awstest.RegisterImage(t, direct, "later", nil)
	extra := awstest.CreateSnapshot(t, direct, vol, nil)
	mapper.AddSnapshots(later, extra)
	backedUp, backedUpSnap := awstest.RegisterImage(t, direct, "backed-up", nil)
	awstest.Tag(t, direct, backedUp, map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::image/ami-0"})
	m.SetClock("+0")

	rec := awstest.NewRecorder(t, mapper.URL())
	rc := m.Config(t, region)
	rc.BaseEndpoint = aws.String(rec.URL())
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{acct + "/" + region: rc}), WithChangeRef(kmChangeRef))
	cfg := kmParse(t, `version: 1
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
  ids: [`+listed+`]
rules:
  - name: stale-amis
    resource: ami
    action: delete
    where: {older-than: 90d, unused: true}
`)
	first, err := e.Plan(t.Context(), cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	want := kmSorted([]kmAction{
		{"stale-amis", "delete", "ami", acct, region, image, map[string]string{"delete-snapshots": root}},
		{"stale-amis", "delete", "ami", acct, region, later, map[string]string{"delete-snapshots": strings.Join(slices.Sorted(slices.Values([]string{laterRoot, extra})), ",")}},
	})
	if diff := cmp.Diff(want, kmActions(first.Plan.Actions)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	for _, a := range first.Plan.Actions {
		if a.ID != image {
			continue
		}
		for _, k := range []string{kept + " (protected: tag broom:keep=true)", listed + " (protected: id listed in protect.ids)", backup + " (managed by AWS Backup)"} {
			if !strings.Contains(a.Details["keeps snapshots"], k) {
				t.Errorf("row of %s: keeps %q, want it to name %s", image, a.Details["keeps snapshots"], k)
			}
		}
		if a.Details["deletes snapshots"] != root {
			t.Errorf("row of %s: snapshots %q, want %s", image, a.Details["deletes snapshots"], root)
		}
	}
	if diff := cmp.Diff(map[string]string{backedUp: "stale-amis: in use: managed by AWS Backup"}, kmProtected(first.Protected)); diff != "" {
		t.Errorf("left alone (-want +got):\n%s", diff)
	}
	if got := rec.Mutating(); got != nil {
		t.Fatalf("plan made mutating calls: %v", got)
	}

	// Between plan and apply, one of later's snapshots is protected.
	awstest.Tag(t, direct, extra, map[string]string{"broom:keep": "since the plan"})
	applied := e.Apply(t.Context(), cfg, first.Plan)
	status := map[string]string{}
	for _, a := range applied.Actions {
		status[a.ID] = string(a.Status)
		if a.Status != plan.Done && !strings.Contains(a.Error, "delete-snapshots changed since the plan") {
			t.Errorf("apply %s: %s %q, want the changed snapshots named", a.ID, a.Status, a.Error)
		}
	}
	if diff := cmp.Diff(map[string]string{image: "done", later: "skipped"}, status); diff != "" {
		t.Errorf("apply (-want +got):\n%s", diff)
	}
	snaps := awstest.Snapshots(t, direct)
	if _, ok := snaps[root]; ok {
		t.Errorf("snapshot %s of the deleted image %s still exists", root, image)
	}
	for _, id := range []string{kept, listed, backup, laterRoot, extra, backedUpSnap} {
		if _, ok := snaps[id]; !ok {
			t.Errorf("snapshot %s was deleted", id)
		}
	}
	images := map[string]bool{}
	for _, img := range kmTry(c.DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: []string{"self"}})).must(t, "describe images").Images {
		images[aws.ToString(img.ImageId)] = true
	}
	if diff := cmp.Diff(map[string]bool{later: true, backedUp: true}, images); diff != "" {
		t.Errorf("images after apply (-want +got):\n%s", diff)
	}

	// The next plan deletes later with its one deletable snapshot: another
	// change, so another fingerprint than the approved action's.
	second, err := e.Plan(t.Context(), cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	wantSecond := []kmAction{{"stale-amis", "delete", "ami", acct, region, later, map[string]string{"delete-snapshots": laterRoot}}}
	if diff := cmp.Diff(wantSecond, kmActions(second.Plan.Actions)); diff != "" {
		t.Fatalf("second plan (-want +got):\n%s", diff)
	}
	for _, a := range first.Plan.Actions {
		if a.ID == later && plan.Fingerprint([]plan.Action{a}) == second.Plan.Fingerprint {
			t.Errorf("the plan deleting %s with %s has the fingerprint of the one deleting it with %s too", later, laterRoot, extra)
		}
	}
}
