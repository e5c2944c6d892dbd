package resource

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// kmTestAMIProtect checks, against moto, that an AMI's snapshots are judged
// by protect and AWS Backup when it is listed and again when it is
// deleted. moto gives every AMI one snapshot (awstest.RegisterImage); an
// awstest.ImageMapper gives the image more, as AWS does for an AMI of
// several volumes.
func kmTestAMIProtect(t *testing.T, m *awstest.Moto) {
	const region = "us-east-1"
	m.Reset()
	direct := m.Config(t, region)
	mapper := awstest.NewImageMapper(t, m.URL())
	rec := awstest.NewRecorder(t, mapper.URL())
	cfg := m.Config(t, region)
	cfg.BaseEndpoint = aws.String(rec.URL())
	protect := config.Protect{Tags: map[string]string{"broom:keep": "*"}}
	backupTag := map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::volume/vol-0"}

	image, root := awstest.RegisterImage(t, direct, "multi", nil)
	vol := awstest.CreateVolume(t, direct, 8, region+"a")
	kept := awstest.CreateSnapshot(t, direct, vol, map[string]string{"broom:keep": "true"})
	listed := awstest.CreateSnapshot(t, direct, vol, nil)
	backup := awstest.CreateSnapshot(t, direct, vol, backupTag)
	mapper.AddSnapshots(image, kept, listed, backup)
	protect.IDs = []string{listed}
	backedUp, backedUpSnap := awstest.RegisterImage(t, direct, "backed-up", nil)
	awstest.Tag(t, direct, backedUp, map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::image/ami-0"})

	spec, err := Lookup("ami")
	if err != nil {
		t.Fatal(err)
	}
	k := spec.New(Env{AWS: cfg, Change: kmChange, Protected: func(r plan.Resource) string { return policy.Protected(protect, r) }})

	got, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byID := kmByID(got)
	keeps := map[string]string{
		kept:   kept + " (protected: tag broom:keep=true)",
		listed: listed + " (protected: id listed in protect.ids)",
		backup: backup + " (managed by AWS Backup)",
	}
	var wantKeeps []string
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range keeps {
			if !yield(id) {
				return
			}
		}
	}) {
		wantKeeps = append(wantKeeps, keeps[id])
	}
	r := byID[image]
	if r.Details["deletes snapshots"] != root || r.Details["keeps snapshots"] != strings.Join(wantKeeps, ", ") {
		t.Errorf("details of %s: snapshots %q, keeps %q; want %q and %q", image, r.Details["deletes snapshots"], r.Details["keeps snapshots"], root, strings.Join(wantKeeps, ", "))
	}
	if diff := cmp.Diff(map[string]string{"delete-snapshots": root}, r.DeleteChange); diff != "" {
		t.Errorf("delete change of %s (-want +got):\n%s", image, diff)
	}
	if b := byID[backedUp]; b.InUse != "managed by AWS Backup" {
		t.Errorf("image of AWS Backup: InUse %q, want managed by AWS Backup", b.InUse)
	}
	kmNoMutation(t, rec, "List")
	kmGetMatchesList(t, k, got, "ami-0123456789abcdef0")

	// Deleting deregisters the image and deletes only its plain snapshot.
	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ami", ID: image, Change: r.DeleteChange}); err != nil {
		t.Fatalf("Do delete %s: %v", image, err)
	}
	if kmImageExists(t, direct, image) {
		t.Errorf("image %s still registered", image)
	}
	snaps := awstest.Snapshots(t, direct)
	if _, ok := snaps[root]; ok {
		t.Errorf("plain snapshot %s of the deleted image still exists", root)
	}
	for _, id := range []string{kept, listed, backup, backedUpSnap} {
		if _, ok := snaps[id]; !ok {
			t.Errorf("snapshot %s, which protect or AWS Backup keeps, was deleted", id)
		}
	}

	// A snapshot protected between plan and apply stops the delete.
	later, laterRoot := awstest.RegisterImage(t, direct, "later", nil)
	extra := awstest.CreateSnapshot(t, direct, vol, nil)
	mapper.AddSnapshots(later, extra)
	planned, found, err := k.Get(t.Context(), later)
	if err != nil || !found {
		t.Fatalf("Get(%s) = found %v, %v", later, found, err)
	}
	want := fmt.Sprint(slices.Sorted(slices.Values([]string{laterRoot, extra})))
	if got := fmt.Sprint(splitIDs(planned.DeleteChange["delete-snapshots"])); got != want {
		t.Fatalf("planned snapshots of %s = %s, want %s", later, got, want)
	}
	awstest.Tag(t, direct, extra, map[string]string{"broom:keep": "since the plan"})
	rec.Reset()
	err = k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ami", ID: later, Change: planned.DeleteChange})
	if !errors.Is(err, ErrChanged) {
		t.Errorf("Do delete %s after its snapshot %s was protected = %v, want ErrChanged", later, extra, err)
	}
	kmNoMutation(t, rec, "Do of a changed image")
	if !kmImageExists(t, direct, later) {
		t.Errorf("image %s deregistered although its snapshot became protected", later)
	}
	snaps = awstest.Snapshots(t, direct)
	for _, id := range []string{laterRoot, extra} {
		if _, ok := snaps[id]; !ok {
			t.Errorf("snapshot %s of %s deleted although the plan changed", id, later)
		}
	}
}
