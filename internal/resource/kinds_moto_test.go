package resource

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/plan"
)

// This file checks the kinds ebs-volume, ami, elastic-ip and s3-bucket, and
// the tag action of every EC2 kind, against a real moto_server (SPEC §10).

// TestKindsMoto starts one moto and runs every check on it, resetting it
// between subtests, which therefore run one after the other (they share
// moto's clock). One server rather than one per kind: moto is CPU-heavy, and
// several at once on a small CI machine make calls time out.
//
// moto lets any account read and write any account's buckets unless
// MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false, which it reads from its own
// environment, inherited at start. Real S3 refuses another account's
// bucket, so the server runs with it false; t.Setenv rules out t.Parallel,
// and the package's parallel tests wait until this one is done.
func TestKindsMoto(t *testing.T) {
	t.Setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
	m := awstest.StartMoto(t)
	t.Run("ebs-volume", func(t *testing.T) { kmTestEBSVolume(t, m) })
	t.Run("ami", func(t *testing.T) { kmTestAMI(t, m) })
	t.Run("ami snapshots and protect", func(t *testing.T) { kmTestAMIProtect(t, m) })
	t.Run("elastic-ip", func(t *testing.T) { kmTestElasticIP(t, m) })
	t.Run("tag action", func(t *testing.T) { kmTestTagAction(t, m) })
	t.Run("s3-bucket ensure", func(t *testing.T) { kmTestS3BucketEnsure(t, m) })
	t.Run("s3-bucket of another account", func(t *testing.T) { kmTestS3BucketForeign(t, m) })
}

// kmChange is the broom:change value the kinds under test are built with.
const kmChange = "https://github.com/acme/infra/pull/7"

// kmConfigTags are the config's tags: stamped on what broom creates, never
// on what it only modifies.
var kmConfigTags = map[string]string{"Owner": "platform-team", "ManagedBy": "broom"}

// kmKind builds the named kind from the registry, for cfg.
func kmKind(t *testing.T, name string, cfg aws.Config) Kind {
	t.Helper()
	spec, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return spec.New(Env{AWS: cfg, Tags: kmConfigTags, Change: kmChange})
}

func kmByID(rs []plan.Resource) map[string]plan.Resource {
	out := map[string]plan.Resource{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

func kmNoMutation(t *testing.T, rec *awstest.Recorder, what string) {
	t.Helper()
	if got := rec.Mutating(); got != nil {
		t.Errorf("%s made mutating calls: %v", what, got)
	}
}

func kmImageExists(t *testing.T, cfg aws.Config, id string) bool {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: self, Filters: byFilter("image-id", id)})
	if err != nil {
		t.Fatalf("describe image %s: %v", id, err)
	}
	return len(out.Images) > 0
}

// kmGetMissing checks that Get misses id without an error.
func kmGetMissing(t *testing.T, k Kind, id string) {
	t.Helper()
	got, found, err := k.Get(t.Context(), id)
	if err != nil || found {
		t.Errorf("Get(%s) = %+v, found %v, err %v; want not found, no error", id, got, found, err)
	}
}

// kmGetMatchesList checks that Get and GetMany re-read each listed resource
// as List saw it; missing is an id that does not exist.
func kmGetMatchesList(t *testing.T, k Kind, listed []plan.Resource, missing string) {
	t.Helper()
	for _, want := range listed {
		got, found, err := k.Get(t.Context(), want.ID)
		if err != nil || !found {
			t.Errorf("Get(%s) = found %v, err %v; want found", want.ID, found, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%s) differs from List (-list +get):\n%s", want.ID, diff)
		}
	}
	// The batched re-read answers the same, and leaves out a missing id.
	batch := []string{missing}
	for _, r := range listed {
		batch = append(batch, r.ID)
	}
	got, err := k.(Rereader).GetMany(t.Context(), batch)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if diff := cmp.Diff(kmByID(listed), got); diff != "" {
		t.Errorf("GetMany differs from List (-list +get):\n%s", diff)
	}
}

func kmTestEBSVolume(t *testing.T, m *awstest.Moto) {
	const region = "us-east-1"

	t.Run("list reports unattached and attached volumes with size, type, age and cost, and only reads", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		m.SetClock("-400d")
		image, _ := awstest.RegisterImage(t, direct, "base", nil)
		free := awstest.CreateVolume(t, direct, 8, region+"a")
		awstest.Tag(t, direct, free, map[string]string{"Name": "scratch", "Team": "data"})
		busy := awstest.CreateVolume(t, direct, 20, region+"a")
		m.SetClock("+0")
		inst := awstest.RunInstance(t, direct, image)
		awstest.AttachVolume(t, direct, busy, inst, "/dev/sdf")

		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ebs-volume", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		// moto gives the instance a root volume of its own: attached too.
		if len(got) != 3 {
			t.Errorf("listed %d volumes, want 3 (free, attached, instance root): %+v", len(got), got)
		}
		f, ok := byID[free]
		if !ok {
			t.Fatalf("free volume %s not listed: %+v", free, got)
		}
		awstest.TimeNear(t, "free volume's Created", f.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
		wantFree := plan.Resource{
			ID: free, Name: "scratch", Created: f.Created,
			Tags:  map[string]string{"Name": "scratch", "Team": "data"},
			Flags: map[string]bool{"unattached": true},
			Details: map[string]string{"size": "8 GiB", "type": f.Details["type"], "state": "available",
				"created": f.Created.UTC().Format("2006-01-02")},
			Settings:       map[string]string{"type": f.Details["type"], "size": "8"},
			MonthlyCostUSD: 8 * volumePrices[f.Details["type"]][region],
		}
		if diff := cmp.Diff(wantFree, f); diff != "" {
			t.Errorf("free volume (-want +got):\n%s", diff)
		}
		if f.Details["type"] == "" || f.MonthlyCostUSD <= 0 {
			t.Errorf("free volume: type %q, cost %v; want a type with a price", f.Details["type"], f.MonthlyCostUSD)
		}

		// Attached keeps a volume from being deleted, not from an update.
		b := byID[busy]
		if b.Vetoes["delete"] != "in use: attached to "+inst || b.InUse != "" || b.Flags["unattached"] || b.Details["attached"] != inst ||
			b.Details["state"] != "in-use" || b.Details["size"] != "20 GiB" || b.MonthlyCostUSD <= 0 {
			t.Errorf("attached volume = %+v; want a delete veto %q, not unattached, attached %s, state in-use, 20 GiB, a cost", b, "in use: attached to "+inst, inst)
		}
		awstest.TimeNear(t, "attached volume's Created", b.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
		for id, r := range byID {
			if id != free && id != busy && r.Vetoes["delete"] != "in use: attached to "+inst {
				t.Errorf("root volume %s: delete veto %q, want in use: attached to %s", id, r.Vetoes["delete"], inst)
			}
		}
		kmNoMutation(t, rec, "List")

		rec.Reset()
		kmGetMatchesList(t, k, got, "vol-0123456789abcdef0")
		kmGetMissing(t, k, "vol-0123456789abcdef0")
		kmNoMutation(t, rec, "Get")
	})

	t.Run("delete removes the volume, then reports gone", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		vol := awstest.CreateVolume(t, direct, 4, region+"a")
		other := awstest.CreateVolume(t, direct, 4, region+"a")
		k := kmKind(t, "ebs-volume", direct)

		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: vol}); err != nil {
			t.Fatalf("Do delete %s: %v", vol, err)
		}
		kmGetMissing(t, k, vol)
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: vol}); !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}
		if _, found, err := k.Get(t.Context(), other); err != nil || !found {
			t.Errorf("untouched volume %s: found %v, err %v", other, found, err)
		}
		if got := awstest.Snapshots(t, direct); len(got) != 0 {
			t.Errorf("a plain delete made snapshots: %v", slices.Sorted(maps.Keys(got)))
		}
	})

	t.Run("snapshot-first leaves a completed, tagged snapshot of each volume, then deletes it", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		first := awstest.CreateVolume(t, direct, 5, region+"a")
		second := awstest.CreateVolume(t, direct, 6, region+"a")
		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ebs-volume", cfg)
		snapFirst := map[string]string{"snapshot-first": "true"}

		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: first, Change: snapFirst}); err != nil {
			t.Fatalf("Do delete %s with snapshot-first: %v", first, err)
		}
		kmGetMissing(t, k, first)
		snaps := awstest.Snapshots(t, direct)
		if len(snaps) != 1 {
			t.Fatalf("snapshots after the first delete: %d, want 1", len(snaps))
		}
		var firstSnap types.Snapshot
		for _, s := range snaps {
			firstSnap = s
		}
		wantTags := map[string]string{"Owner": "platform-team", "ManagedBy": "broom", "broom:change": kmChange, "broom:source-volume": first}
		if diff := cmp.Diff(wantTags, awstest.Tags(firstSnap.Tags)); diff != "" {
			t.Errorf("snapshot-first snapshot's tags (-want +got):\n%s", diff)
		}
		if firstSnap.State != types.SnapshotStateCompleted || aws.ToString(firstSnap.VolumeId) != first || aws.ToInt32(firstSnap.VolumeSize) != 5 {
			t.Errorf("snapshot-first snapshot: state %s, volume %s, size %d; want completed, %s, 5",
				firstSnap.State, aws.ToString(firstSnap.VolumeId), aws.ToInt32(firstSnap.VolumeSize), first)
		}
		if got := rec.Count("CreateSnapshot"); got != 1 {
			t.Errorf("CreateSnapshot calls = %d, want 1", got)
		}

		// A fresh volume gets a snapshot of its own, not the first one's.
		rec.Reset()
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: second, Change: snapFirst}); err != nil {
			t.Fatalf("Do delete %s with snapshot-first: %v", second, err)
		}
		kmGetMissing(t, k, second)
		if got := rec.Count("CreateSnapshot"); got != 1 {
			t.Errorf("CreateSnapshot calls for the second volume = %d, want 1", got)
		}
		sources := map[string]string{}
		for id, s := range awstest.Snapshots(t, direct) {
			sources[aws.ToString(s.VolumeId)] = awstest.Tags(s.Tags)["broom:source-volume"]
			if s.State != types.SnapshotStateCompleted {
				t.Errorf("snapshot %s is %s, want completed", id, s.State)
			}
		}
		if diff := cmp.Diff(map[string]string{first: first, second: second}, sources); diff != "" {
			t.Errorf("snapshot per source volume (-want +got):\n%s", diff)
		}

		// Again on a deleted volume: gone, and no new snapshot.
		rec.Reset()
		err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: first, Change: snapFirst})
		if !errors.Is(err, ErrGone) {
			t.Errorf("Do again on %s = %v, want ErrGone", first, err)
		}
		if got := rec.Count("CreateSnapshot"); got != 0 {
			t.Errorf("Do again made %d snapshots, want 0", got)
		}
		if got := len(awstest.Snapshots(t, direct)); got != 2 {
			t.Errorf("snapshots after Do again: %d, want 2", got)
		}
	})

	t.Run("snapshot-first reuses the snapshot an interrupted run left of the same volume", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		vol := awstest.CreateVolume(t, direct, 3, region+"a")
		left := awstest.CreateSnapshot(t, direct, vol, map[string]string{"broom:source-volume": vol, "broom:change": kmChange})
		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ebs-volume", cfg)
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: vol, Change: map[string]string{"snapshot-first": "true"}}); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if got := rec.Count("CreateSnapshot"); got != 0 {
			t.Errorf("CreateSnapshot calls = %d, want 0 (reuse %s)", got, left)
		}
		if got := slices.Sorted(maps.Keys(awstest.Snapshots(t, direct))); !slices.Equal(got, []string{left}) {
			t.Errorf("snapshots = %v, want only %s", got, left)
		}
		kmGetMissing(t, k, vol)
	})
}

func kmTestAMI(t *testing.T, m *awstest.Moto) {
	const region = "us-east-1"

	t.Run("list reports unused images and what uses the others, with creation date, and only reads", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		m.SetClock("-400d")
		unused, unusedSnap := awstest.RegisterImage(t, direct, "unused", nil)
		awstest.Tag(t, direct, unused, map[string]string{"Name": "old-build"})
		running, _ := awstest.RegisterImage(t, direct, "running", nil)
		templated, _ := awstest.RegisterImage(t, direct, "templated", nil)
		m.SetClock("+0")
		young, _ := awstest.RegisterImage(t, direct, "young", nil)
		inst := awstest.RunInstance(t, direct, running)
		awstest.CreateLaunchTemplate(t, direct, "web-servers", templated)

		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ami", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		if diff := cmp.Diff(slices.Sorted(slices.Values([]string{unused, running, templated, young})), slices.Sorted(maps.Keys(byID))); diff != "" {
			t.Fatalf("listed images (-want +got):\n%s", diff)
		}
		inUse := map[string]string{}
		unusedFlag := map[string]bool{}
		for id, r := range byID {
			inUse[id], unusedFlag[id] = r.InUse, r.Flags["unused"]
		}
		wantInUse := map[string]string{unused: "", young: "", running: "used by instance " + inst, templated: "used by launch template web-servers"}
		if diff := cmp.Diff(wantInUse, inUse); diff != "" {
			t.Errorf("InUse (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]bool{unused: true, young: true, running: false, templated: false}, unusedFlag); diff != "" {
			t.Errorf("unused flag (-want +got):\n%s", diff)
		}
		u := byID[unused]
		awstest.TimeNear(t, "old image's Created", u.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
		awstest.TimeNear(t, "young image's Created", byID[young].Created, time.Now(), 10*time.Minute)
		if u.Name != "unused" || u.Tags["Name"] != "old-build" || u.Details["deletes snapshots"] != unusedSnap ||
			u.Details["created"] != u.Created.UTC().Format("2006-01-02") {
			t.Errorf("old image = %+v; want name unused, tag Name=old-build, snapshots %s, created date", u, unusedSnap)
		}
		kmNoMutation(t, rec, "List")

		rec.Reset()
		kmGetMatchesList(t, k, got, "ami-0123456789abcdef0")
		kmGetMissing(t, k, "ami-0123456789abcdef0")
		kmNoMutation(t, rec, "Get")

		// A terminated instance no longer uses its image.
		if _, err := ec2.NewFromConfig(direct).TerminateInstances(t.Context(), &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
			t.Fatal(err)
		}
		r, found, err := k.Get(t.Context(), running)
		if err != nil || !found || r.InUse != "" || !r.Flags["unused"] {
			t.Errorf("image of a terminated instance: %+v, found %v, err %v; want unused", r, found, err)
		}
	})

	t.Run("a launch template's default and latest versions use their images, older versions do not", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		v1, _ := awstest.RegisterImage(t, direct, "v1", nil)
		v2, _ := awstest.RegisterImage(t, direct, "v2", nil)
		v3, _ := awstest.RegisterImage(t, direct, "v3", nil)
		awstest.CreateLaunchTemplate(t, direct, "workers", v1) // version 1, the default
		for _, img := range []string{v2, v3} {                 // versions 2 and 3, the latest
			if _, err := ec2.NewFromConfig(direct).CreateLaunchTemplateVersion(t.Context(), &ec2.CreateLaunchTemplateVersionInput{
				LaunchTemplateName: aws.String("workers"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(img)},
			}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := kmKind(t, "ami", direct).List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		inUse := map[string]string{}
		for _, r := range got {
			inUse[r.ID] = r.InUse
		}
		want := map[string]string{v1: "used by launch template workers", v2: "", v3: "used by launch template workers"}
		if diff := cmp.Diff(want, inUse); diff != "" {
			t.Errorf("InUse (-want +got):\n%s", diff)
		}
	})

	t.Run("delete deregisters the image and deletes its snapshot, then reports gone", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		image, snap := awstest.RegisterImage(t, direct, "doomed", nil)
		keep, keepSnap := awstest.RegisterImage(t, direct, "kept", nil)
		k := kmKind(t, "ami", direct)
		doomed := map[string]string{"delete-snapshots": snap} // as planned

		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ami", ID: image, Change: doomed}); err != nil {
			t.Fatalf("Do delete %s: %v", image, err)
		}
		if kmImageExists(t, direct, image) {
			t.Errorf("image %s still registered", image)
		}
		kmGetMissing(t, k, image)
		snaps := awstest.Snapshots(t, direct)
		if _, ok := snaps[snap]; ok {
			t.Errorf("image's snapshot %s not deleted", snap)
		}
		if _, ok := snaps[keepSnap]; !ok || !kmImageExists(t, direct, keep) {
			t.Errorf("the other image %s or its snapshot %s is gone", keep, keepSnap)
		}
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ami", ID: image, Change: doomed}); !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}
	})
}

func kmTestElasticIP(t *testing.T, m *awstest.Moto) {
	const region = "us-east-1"

	t.Run("list reports unassociated and associated addresses with cost, and only reads", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		image, _ := awstest.RegisterImage(t, direct, "base", nil)
		inst := awstest.RunInstance(t, direct, image)
		free := awstest.AllocateAddress(t, direct)
		awstest.Tag(t, direct, free, map[string]string{"Name": "spare"})
		bound := awstest.AllocateAddress(t, direct)
		awstest.AssociateAddress(t, direct, bound, inst)

		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "elastic-ip", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		if diff := cmp.Diff(slices.Sorted(slices.Values([]string{free, bound})), slices.Sorted(maps.Keys(byID))); diff != "" {
			t.Fatalf("listed addresses (-want +got):\n%s", diff)
		}
		f := byID[free]
		if f.Name != "spare" || !f.Flags["unassociated"] || f.InUse != "" || f.Details["ip"] == "" || f.MonthlyCostUSD != addressPrices[region] {
			t.Errorf("free address = %+v; want Name spare, unassociated, not in use, an ip, cost %v", f, addressPrices[region])
		}
		b := byID[bound]
		if b.Flags["unassociated"] || b.InUse != "associated with "+inst || b.Details["associated"] != inst {
			t.Errorf("associated address = %+v; want InUse %q", b, "associated with "+inst)
		}
		kmNoMutation(t, rec, "List")

		rec.Reset()
		kmGetMatchesList(t, k, got, "eipalloc-0123456789abcdef0")
		kmGetMissing(t, k, "eipalloc-0123456789abcdef0")
		kmNoMutation(t, rec, "Get")
	})

	t.Run("delete releases the address, then reports gone", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		addr := awstest.AllocateAddress(t, direct)
		other := awstest.AllocateAddress(t, direct)
		k := kmKind(t, "elastic-ip", direct)
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "elastic-ip", ID: addr}); err != nil {
			t.Fatalf("Do delete %s: %v", addr, err)
		}
		kmGetMissing(t, k, addr)
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "elastic-ip", ID: addr}); !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}
		if _, found, err := k.Get(t.Context(), other); err != nil || !found {
			t.Errorf("untouched address %s: found %v, err %v", other, found, err)
		}
	})
}

// kmTestTagAction checks the tag action of every EC2 kind: it writes
// exactly the action's change plus broom:change, keeps the other tags, and
// never adds the config's tags (SPEC §1).
func kmTestTagAction(t *testing.T, m *awstest.Moto) {
	const region = "us-east-1"
	m.Reset()
	direct := m.Config(t, region)

	image, snapOfImage := awstest.RegisterImage(t, direct, "tagged", nil)
	vol := awstest.CreateVolume(t, direct, 2, region+"a")
	snap := awstest.CreateSnapshot(t, direct, vol, nil)
	addr := awstest.AllocateAddress(t, direct)
	ids := map[string]string{"ebs-volume": vol, "ami": image, "elastic-ip": addr, "ebs-snapshot": snap}
	before := map[string]string{"Name": "x", "Team": "old", "broom:change": "https://github.com/acme/infra/pull/1"}
	for _, id := range ids {
		awstest.Tag(t, direct, id, before)
	}

	for _, name := range slices.Sorted(maps.Keys(ids)) {
		id := ids[name]
		t.Run(name, func(t *testing.T) {
			k := kmKind(t, name, direct)
			change := map[string]string{"Team": "platform", "CostCenter": "42"}
			if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: name, ID: id, Change: change}); err != nil {
				t.Fatalf("Do tag %s: %v", id, err)
			}
			want := map[string]string{"Name": "x", "Team": "platform", "CostCenter": "42", "broom:change": kmChange}
			if diff := cmp.Diff(want, awstest.TagsOf(t, direct, id)); diff != "" {
				t.Errorf("tags of %s after the tag action (-want +got):\n%s", id, diff)
			}
			r, found, err := k.Get(t.Context(), id)
			if err != nil || !found {
				t.Fatalf("Get(%s): found %v, err %v", id, found, err)
			}
			if diff := cmp.Diff(want, r.Tags); diff != "" {
				t.Errorf("tags Get reads for %s (-want +got):\n%s", id, diff)
			}
			if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: name, ID: id}); !errors.Is(err, ErrConverged) {
				t.Errorf("Do tag with no change = %v, want ErrConverged", err)
			}
		})
	}
	if got := awstest.Tags(awstest.Snapshots(t, direct)[snapOfImage].Tags); len(got) != 0 {
		t.Errorf("tagging the image tagged its snapshot %s: %v", snapOfImage, got)
	}
}

// kmS3 is a client straight to moto, for seeding and inspecting buckets.
func kmS3(t *testing.T, m *awstest.Moto, region string) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(m.Config(t, region))
}

// kmBucketState reads back what ensure converges.
type kmBucketState struct {
	Location          string
	Versioning        string
	PublicAccessBlock []bool
	Encryption        string
	Tags              map[string]string
}

func kmReadBucket(t *testing.T, c *s3.Client, name string) kmBucketState {
	t.Helper()
	ctx := t.Context()
	b := aws.String(name)
	var st kmBucketState
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b})
	if err != nil {
		t.Fatalf("get location of %s: %v", name, err)
	}
	st.Location = string(loc.LocationConstraint)
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil {
		t.Fatalf("get versioning of %s: %v", name, err)
	}
	st.Versioning = string(v.Status)
	if p, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); err == nil {
		pc := p.PublicAccessBlockConfiguration
		st.PublicAccessBlock = []bool{aws.ToBool(pc.BlockPublicAcls), aws.ToBool(pc.BlockPublicPolicy), aws.ToBool(pc.IgnorePublicAcls), aws.ToBool(pc.RestrictPublicBuckets)}
	} else if !isCode(err, "NoSuchPublicAccessBlockConfiguration") {
		t.Fatalf("get public access block of %s: %v", name, err)
	}
	if e, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}); err == nil {
		for _, r := range e.ServerSideEncryptionConfiguration.Rules {
			if r.ApplyServerSideEncryptionByDefault != nil {
				st.Encryption = string(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm)
			}
		}
	} else if !isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		t.Fatalf("get encryption of %s: %v", name, err)
	}
	st.Tags = map[string]string{}
	if tg, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); err == nil {
		for _, tag := range tg.TagSet {
			st.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	} else if !isCode(err, "NoSuchTagSet", "NoSuchTagSetError") {
		t.Fatalf("get tags of %s: %v", name, err)
	}
	return st
}

// kmEnsureActions is what an ensure plan holds, without the wording.
type kmEnsureAction struct {
	Op     plan.Op
	ID     string
	Name   string
	Change map[string]string
}

func kmEnsureBriefs(as []plan.Action) []kmEnsureAction {
	out := []kmEnsureAction{}
	for _, a := range as {
		out = append(out, kmEnsureAction{Op: a.Op, ID: a.ID, Name: a.Name, Change: a.Change})
	}
	return out
}

func kmTestS3BucketEnsure(t *testing.T, m *awstest.Moto) {
	const bucket = "acme-ci-artifacts"
	settings := map[string]string{"versioning": "true", "block-public-access": "true", "encryption": "AES256"}
	desired := Desired{Name: bucket, Settings: settings, Tags: kmConfigTags}
	ensurer := func(t *testing.T, cfg aws.Config) (Kind, Ensurer) {
		t.Helper()
		k := kmKind(t, "s3-bucket", cfg)
		en, ok := k.(Ensurer)
		if !ok {
			t.Fatalf("s3-bucket kind %T is not an Ensurer", k)
		}
		return k, en
	}
	ensure := func(t *testing.T, en Ensurer) []plan.Action {
		t.Helper()
		as, _, err := en.Ensure(t.Context(), desired)
		if err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		return as
	}

	for _, region := range []string{"eu-west-1", "us-east-1"} {
		t.Run("create, converge and drift in "+region, func(t *testing.T) {
			m.Reset()
			cfg, rec := m.Recorded(t, region)
			k, en := ensurer(t, cfg)
			seed := m.Config(t, region)
			direct := s3.NewFromConfig(seed)

			// Missing: one create action with every setting and tag.
			created := ensure(t, en)
			wantCreate := []kmEnsureAction{{Op: plan.Create, ID: bucket, Name: bucket, Change: map[string]string{
				"versioning": "true", "block-public-access": "true", "encryption": "AES256",
				"tag:Owner": "platform-team", "tag:ManagedBy": "broom",
			}}}
			if diff := cmp.Diff(wantCreate, kmEnsureBriefs(created)); diff != "" {
				t.Fatalf("Ensure on a missing bucket (-want +got):\n%s", diff)
			}
			kmNoMutation(t, rec, "Ensure")
			if _, found, err := k.Get(t.Context(), bucket); err != nil || found {
				t.Errorf("Get before create: found %v, err %v", found, err)
			}

			if err := k.Do(t.Context(), created[0]); err != nil {
				t.Fatalf("Do create: %v", err)
			}
			wantLoc := region
			if region == "us-east-1" {
				wantLoc = "" // us-east-1 has no location constraint
			}
			want := kmBucketState{
				Location: wantLoc, Versioning: "Enabled", PublicAccessBlock: []bool{true, true, true, true}, Encryption: "AES256",
				Tags: map[string]string{"Owner": "platform-team", "ManagedBy": "broom", "broom:change": kmChange},
			}
			if diff := cmp.Diff(want, kmReadBucket(t, direct, bucket)); diff != "" {
				t.Errorf("bucket after create (-want +got):\n%s", diff)
			}
			if _, found, err := k.Get(t.Context(), bucket); err != nil || !found {
				t.Errorf("Get after create: found %v, err %v", found, err)
			}

			// Converged: nothing to do.
			rec.Reset()
			if got := ensure(t, en); len(got) != 0 {
				t.Errorf("Ensure on a converged bucket = %+v, want none", got)
			}
			kmNoMutation(t, rec, "Ensure")

			// A missing broom:change is no difference by itself.
			awstest.TagBucket(t, seed, bucket, map[string]string{"Owner": "platform-team", "ManagedBy": "broom"})
			if got := ensure(t, en); len(got) != 0 {
				t.Errorf("Ensure with broom:change missing = %+v, want none", got)
			}

			// Versioning turned off: exactly one update, named versioning.
			if _, err := direct.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
				t.Fatal(err)
			}
			drift := ensure(t, en)
			wantDrift := []kmEnsureAction{{Op: plan.Update, ID: bucket, Name: "versioning", Change: map[string]string{"versioning": "true"}}}
			if diff := cmp.Diff(wantDrift, kmEnsureBriefs(drift)); diff != "" {
				t.Fatalf("Ensure with versioning suspended (-want +got):\n%s", diff)
			}
			rec.Reset()
			if err := k.Do(t.Context(), drift[0]); err != nil {
				t.Fatalf("Do update versioning: %v", err)
			}
			wantCalls := []awstest.Call{{Service: "s3", Region: region, Op: "PutBucketVersioning"}, {Service: "s3", Region: region, Op: "PutBucketTagging"}}
			if diff := cmp.Diff(wantCalls, rec.Mutating()); diff != "" {
				t.Errorf("mutating calls of the versioning update (-want +got):\n%s", diff)
			}
			if got := kmReadBucket(t, direct, bucket).Versioning; got != "Enabled" {
				t.Errorf("versioning after update = %q, want Enabled", got)
			}
			if got := ensure(t, en); len(got) != 0 {
				t.Errorf("Ensure after the update = %+v, want none", got)
			}
			rec.Reset()
			if err := k.Do(t.Context(), drift[0]); !errors.Is(err, ErrConverged) {
				t.Errorf("Do update again = %v, want ErrConverged", err)
			}
			kmNoMutation(t, rec, "Do update again")

			// A changed or missing config tag on an existing bucket is no
			// difference: an update writes what the rule asks (settings)
			// and broom:change, never the config's tags (SPEC §1).
			awstest.TagBucket(t, seed, bucket, map[string]string{
				"Owner": "someone-else", "CostCenter": "42", "broom:change": "https://github.com/acme/infra/pull/1"})
			if got := ensure(t, en); len(got) != 0 {
				t.Errorf("Ensure with config tags changed and an older broom:change = %+v, want none", got)
			}
		})
	}

	// SPEC §1: a second apply of the same plan does nothing and succeeds;
	// §9: a re-run reports the done actions as already-done.
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		t.Run("a second Do of the same create changes nothing and reports converged in "+region, func(t *testing.T) {
			m.Reset()
			cfg, rec := m.Recorded(t, region)
			k, en := ensurer(t, cfg)
			created := ensure(t, en)
			if len(created) != 1 {
				t.Fatalf("Ensure = %+v, want one create", created)
			}
			if err := k.Do(t.Context(), created[0]); err != nil {
				t.Fatalf("Do create: %v", err)
			}
			rec.Reset()
			if err := k.Do(t.Context(), created[0]); !errors.Is(err, ErrConverged) {
				t.Errorf("second Do of the create = %v, want ErrConverged (already done)", err)
			}
			kmNoMutation(t, rec, "second Do of the create")
		})
	}

	// SPEC §1: what broom modifies gets broom:change and what the rule
	// asks, never the config's tags (the bucket may not be broom's).
	t.Run("an update of a bucket broom did not make stamps broom:change and none of the config's tags", func(t *testing.T) {
		m.Reset()
		const region = "eu-west-1"
		seed := m.Config(t, region)
		direct := s3.NewFromConfig(seed)
		if _, err := direct.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}}); err != nil {
			t.Fatal(err)
		}
		awstest.TagBucket(t, seed, bucket, map[string]string{"Team": "data"})
		cfg, _ := m.Recorded(t, region)
		k, en := ensurer(t, cfg)
		updates, now, err := en.Ensure(t.Context(), Desired{Name: bucket, Settings: map[string]string{"versioning": "true"}, Tags: kmConfigTags})
		wantUpdates := []kmEnsureAction{{Op: plan.Update, ID: bucket, Name: "versioning", Change: map[string]string{"versioning": "true"}}}
		if diff := cmp.Diff(wantUpdates, kmEnsureBriefs(updates)); err != nil || diff != "" {
			t.Fatalf("Ensure on an existing bucket (err %v; -want +got):\n%s", err, diff)
		}
		// What protect judges the planned update on: the bucket's own tags.
		if diff := cmp.Diff(plan.Resource{ID: bucket, Name: bucket, Tags: map[string]string{"Team": "data"}}, now); diff != "" {
			t.Errorf("the bucket as Ensure read it (-want +got):\n%s", diff)
		}
		if err := k.Do(t.Context(), updates[0]); err != nil {
			t.Fatalf("Do update: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"Team": "data", "broom:change": kmChange}, kmReadBucket(t, direct, bucket).Tags); diff != "" {
			t.Errorf("tags after the update (-want +got):\n%s", diff)
		}
	})

	t.Run("a bucket created without config tags still carries broom:change", func(t *testing.T) {
		m.Reset()
		const region = "eu-west-1"
		cfg, _ := m.Recorded(t, region)
		k, en := ensurer(t, cfg)
		created, _, err := en.Ensure(t.Context(), Desired{Name: bucket, Settings: map[string]string{"versioning": "true"}})
		if err != nil || len(created) != 1 {
			t.Fatalf("Ensure = %+v, %v; want one create", created, err)
		}
		if err := k.Do(t.Context(), created[0]); err != nil {
			t.Fatalf("Do create: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"broom:change": kmChange}, kmReadBucket(t, kmS3(t, m, region), bucket).Tags); diff != "" {
			t.Errorf("tags of a bucket broom created (-want +got):\n%s", diff)
		}
	})

	t.Run("create of an existing own bucket converges it without error", func(t *testing.T) {
		m.Reset()
		const region = "eu-west-1"
		cfg, _ := m.Recorded(t, region)
		k, en := ensurer(t, cfg)
		created := ensure(t, en)
		if len(created) != 1 {
			t.Fatalf("Ensure = %+v, want one create", created)
		}
		// Someone (an earlier, interrupted apply) made the bucket meanwhile.
		if _, err := kmS3(t, m, region).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}}); err != nil {
			t.Fatal(err)
		}
		if err := k.Do(t.Context(), created[0]); err != nil {
			t.Fatalf("Do create on an existing own bucket: %v", err)
		}
		if got := ensure(t, en); len(got) != 0 {
			t.Errorf("Ensure after create = %+v, want none", got)
		}
	})
}

// kmTestS3BucketForeign checks that a bucket of that name owned by another
// account is never taken over: Ensure reports ErrForeign and a create
// fails. It needs moto started with MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false.
func kmTestS3BucketForeign(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, bucket = "eu-west-1", "acme-ci-artifacts"
	otherCfg := cloud.AssumeRole(m.Config(t, region), "arn:aws:iam::111111111111:role/broom", "broom")
	other := s3.NewFromConfig(otherCfg)
	if _, err := other.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}}); err != nil {
		t.Fatalf("create the other account's bucket: %v", err)
	}

	cfg, rec := m.Recorded(t, region)
	k := kmKind(t, "s3-bucket", cfg)
	desired := Desired{Name: bucket, Settings: map[string]string{"versioning": "true"}, Tags: kmConfigTags}
	as, _, err := k.(Ensurer).Ensure(t.Context(), desired)
	if !errors.Is(err, ErrForeign) || len(as) != 0 {
		t.Errorf("Ensure on another account's bucket = %+v, %v; want no actions and ErrForeign", as, err)
	}
	kmNoMutation(t, rec, "Ensure")
	if _, _, err := k.Get(t.Context(), bucket); !errors.Is(err, ErrForeign) {
		t.Errorf("Get on another account's bucket: err %v, want ErrForeign", err)
	}

	// A create planned before the other account took the name fails.
	err = k.Do(t.Context(), plan.Action{Op: plan.Create, Kind: "s3-bucket", ID: bucket, Change: map[string]string{"versioning": "true", "tag:Owner": "platform-team"}})
	if err == nil || errors.Is(err, ErrConverged) {
		t.Errorf("Do create on another account's bucket = %v, want an error", err)
	}
	ver, err := other.GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if ver.Status != "" {
		t.Errorf("the other account's bucket has versioning %q: it was taken over", ver.Status)
	}
	if _, err := other.GetBucketTagging(t.Context(), &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)}); !isCode(err, "NoSuchTagSet") {
		t.Errorf("the other account's bucket has tags (err %v): it was taken over", err)
	}
}
