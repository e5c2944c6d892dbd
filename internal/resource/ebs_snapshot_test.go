package resource

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/plan"
)

// fakeEC2 implements ec2SnapshotAPI. DescribeSnapshots hands out Pages one
// at a time, linked by NextToken "page-2", "page-3", …; a snapshot-id filter
// (what Get and GetMany send) searches every page at once.
type fakeEC2 struct {
	Pages  [][]types.Snapshot
	Images []types.Image

	SnapshotsErr   error // returned by DescribeSnapshots for page SnapshotsErrAt (1-based)
	SnapshotsErrAt int
	ImagesErr      error
	DeleteErr      error // returned by DeleteSnapshot for an existing snapshot

	mu      sync.Mutex
	tokens  []string // NextToken of each paginated DescribeSnapshots call, "" for the first
	deleted []string
	tagged  map[string]map[string]string // id → tags written by CreateTags
}

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tagged == nil {
		f.tagged = map[string]map[string]string{}
	}
	for _, id := range in.Resources {
		f.tagged[id] = tagMap(in.Tags)
	}
	return &ec2.CreateTagsOutput{}, nil
}

var _ ec2SnapshotAPI = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(in.OwnerIds, []string{"self"}) {
		return nil, fmt.Errorf("fake: OwnerIds = %q, want [self]", in.OwnerIds)
	}
	if len(in.Filters) > 0 {
		if f.SnapshotsErr != nil {
			return nil, f.SnapshotsErr
		}
		var out []types.Snapshot
		for _, p := range f.Pages {
			for _, s := range p {
				if aws.ToString(in.Filters[0].Name) == "snapshot-id" && slices.Contains(in.Filters[0].Values, aws.ToString(s.SnapshotId)) {
					out = append(out, s)
				}
			}
		}
		return &ec2.DescribeSnapshotsOutput{Snapshots: out}, nil
	}
	token := aws.ToString(in.NextToken)
	f.tokens = append(f.tokens, token)
	page := 1
	if token != "" {
		if _, err := fmt.Sscanf(token, "page-%d", &page); err != nil {
			return nil, fmt.Errorf("fake: bad NextToken %q", token)
		}
	}
	if page == f.SnapshotsErrAt {
		return nil, f.SnapshotsErr
	}
	out := &ec2.DescribeSnapshotsOutput{}
	if page <= len(f.Pages) {
		out.Snapshots = f.Pages[page-1]
	}
	if page < len(f.Pages) {
		out.NextToken = aws.String(fmt.Sprintf("page-%d", page+1))
	}
	return out, nil
}

func (f *fakeEC2) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	if !slices.Equal(in.Owners, []string{"self"}) {
		return nil, fmt.Errorf("fake: Owners = %q, want [self]", in.Owners)
	}
	if f.ImagesErr != nil {
		return nil, f.ImagesErr
	}
	return &ec2.DescribeImagesOutput{Images: f.Images}, nil
}

func (f *fakeEC2) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.SnapshotId)
	for p := range f.Pages {
		for i, s := range f.Pages[p] {
			if aws.ToString(s.SnapshotId) != id {
				continue
			}
			if f.DeleteErr != nil {
				return nil, f.DeleteErr
			}
			f.Pages[p] = slices.Delete(f.Pages[p], i, i+1)
			f.deleted = append(f.deleted, id)
			return &ec2.DeleteSnapshotOutput{}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "InvalidSnapshot.NotFound", Message: fmt.Sprintf("Snapshot %s does not exist.", id)}
}

var created = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// snap is a snapshot as DescribeSnapshots describes it, tagged with the
// key, value pairs in tags.
func snap(id string, size int32, tags ...string) types.Snapshot {
	return types.Snapshot{SnapshotId: aws.String(id), VolumeSize: aws.Int32(size), StartTime: aws.Time(created), OwnerId: aws.String("111122223333"),
		Tags: awstest.EC2Tags(awstest.TagMap(tags...))}
}

func image(id string, snapshots ...string) types.Image {
	img := types.Image{ImageId: aws.String(id)}
	for i, s := range snapshots {
		img.BlockDeviceMappings = append(img.BlockDeviceMappings, types.BlockDeviceMapping{
			DeviceName: aws.String(fmt.Sprintf("/dev/sd%c", 'a'+i)),
			Ebs:        &types.EbsBlockDevice{SnapshotId: aws.String(s)},
		})
	}
	// An instance-store mapping has no Ebs: it must not trip the scan.
	img.BlockDeviceMappings = append(img.BlockDeviceMappings, types.BlockDeviceMapping{DeviceName: aws.String("/dev/sdz"), VirtualName: aws.String("ephemeral0")})
	return img
}

func ids(rs []plan.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestListReadsEveryPage(t *testing.T) {
	t.Parallel()
	f := &fakeEC2{Pages: [][]types.Snapshot{
		{snap("snap-1", 1), snap("snap-2", 1)},
		{snap("snap-3", 1)},
		{snap("snap-4", 1), snap("snap-5", 1)},
	}}
	got, err := (&ebsSnapshots{api: f}).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"snap-1", "snap-2", "snap-3", "snap-4", "snap-5"}, ids(got)); diff != "" {
		t.Errorf("listed ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "page-2", "page-3"}, f.tokens); diff != "" {
		t.Errorf("NextTokens sent (-want +got):\n%s", diff)
	}
}

func TestListReportsFacts(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		snapshot types.Snapshot
		images   []types.Image
		want     plan.Resource
	}{
		"plain snapshot: name from Name tag, size, created, cost": {
			snapshot: snap("snap-plain", 8, "Name", "nightly", "Environment", "ci"),
			want: plan.Resource{
				ID: "snap-plain", Name: "nightly", Created: created,
				Tags:           map[string]string{"Name": "nightly", "Environment": "ci"},
				Details:        map[string]string{"size": "8 GiB", "created": "2025-03-04"},
				MonthlyCostUSD: 8 * 0.05,
			},
		},
		"snapshot behind an AMI is in use": {
			snapshot: snap("snap-ami", 20),
			images:   []types.Image{image("ami-other", "snap-x"), image("ami-0123456789abcdef0", "snap-y", "snap-ami")},
			want: plan.Resource{
				ID: "snap-ami", Created: created, Tags: map[string]string{},
				InUse:          "backs AMI ami-0123456789abcdef0",
				Details:        map[string]string{"size": "20 GiB", "created": "2025-03-04"},
				MonthlyCostUSD: 20 * 0.05,
			},
		},
		"snapshot made by AWS Backup is in use": {
			snapshot: snap("snap-backup", 100, "aws:backup:source-resource", "arn:aws:ec2:us-east-1::volume/vol-1"),
			want: plan.Resource{
				ID: "snap-backup", Created: created,
				Tags:           map[string]string{"aws:backup:source-resource": "arn:aws:ec2:us-east-1::volume/vol-1"},
				InUse:          "managed by AWS Backup",
				Details:        map[string]string{"size": "100 GiB", "created": "2025-03-04"},
				MonthlyCostUSD: 100 * 0.05,
			},
		},
		"AMI wins over AWS Backup as the in-use reason": {
			snapshot: snap("snap-both", 1, "aws:backup:source-resource", "x"),
			images:   []types.Image{image("ami-1", "snap-both")},
			want: plan.Resource{
				ID: "snap-both", Created: created,
				Tags:           map[string]string{"aws:backup:source-resource": "x"},
				InUse:          "backs AMI ami-1",
				Details:        map[string]string{"size": "1 GiB", "created": "2025-03-04"},
				MonthlyCostUSD: 0.05,
			},
		},
		"snapshot with no start time has no created detail": {
			snapshot: types.Snapshot{SnapshotId: aws.String("snap-notime"), VolumeSize: aws.Int32(2)},
			want: plan.Resource{
				ID: "snap-notime", Tags: map[string]string{},
				Details:        map[string]string{"size": "2 GiB"},
				MonthlyCostUSD: 0.1,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeEC2{Pages: [][]types.Snapshot{{tc.snapshot}}, Images: tc.images}
			got, err := (&ebsSnapshots{api: f}).List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]plan.Resource{tc.want}, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListWrapsErrors(t *testing.T) {
	t.Parallel()
	cause := &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "slow down"}
	tests := map[string]struct {
		fake       *fakeEC2
		wantPrefix string
	}{
		"describe images fails": {
			fake:       &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}}, ImagesErr: cause},
			wantPrefix: "describe images: ",
		},
		"first page of snapshots fails": {
			fake:       &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}}, SnapshotsErr: cause, SnapshotsErrAt: 1},
			wantPrefix: "describe snapshots: ",
		},
		"a later page of snapshots fails": {
			fake:       &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}, {snap("snap-2", 1)}, {snap("snap-3", 1)}}, SnapshotsErr: cause, SnapshotsErrAt: 3},
			wantPrefix: "describe snapshots: ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := (&ebsSnapshots{api: tc.fake}).List(t.Context())
			if err == nil {
				t.Fatalf("List = %v, want an error", ids(got))
			}
			if !strings.HasPrefix(err.Error(), tc.wantPrefix) {
				t.Errorf("error %q, want prefix %q", err, tc.wantPrefix)
			}
			if !errors.Is(err, cause) {
				t.Errorf("error %q does not wrap the API error", err)
			}
			if got != nil {
				t.Errorf("List returned %v with its error, want nil", ids(got))
			}
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	pages := func() [][]types.Snapshot {
		return [][]types.Snapshot{{snap("snap-1", 4, "Name", "one")}, {snap("snap-ami", 8)}}
	}
	images := []types.Image{image("ami-9", "snap-ami")}
	tests := map[string]struct {
		fake      *fakeEC2
		id        string
		want      plan.Resource
		wantFound bool
		wantErr   string
	}{
		"existing snapshot on a later page": {
			fake: &fakeEC2{Pages: pages(), Images: images}, id: "snap-1", wantFound: true,
			want: plan.Resource{ID: "snap-1", Name: "one", Created: created, Tags: map[string]string{"Name": "one"},
				Details: map[string]string{"size": "4 GiB", "created": "2025-03-04"}, MonthlyCostUSD: 0.2},
		},
		"snapshot behind an AMI is re-read as in use": {
			fake: &fakeEC2{Pages: pages(), Images: images}, id: "snap-ami", wantFound: true,
			want: plan.Resource{ID: "snap-ami", Created: created, Tags: map[string]string{}, InUse: "backs AMI ami-9",
				Details: map[string]string{"size": "8 GiB", "created": "2025-03-04"}, MonthlyCostUSD: 0.4},
		},
		"missing snapshot is not found, without error": {
			fake: &fakeEC2{Pages: pages(), Images: images}, id: "snap-gone",
		},
		"describe error is wrapped with the id": {
			fake: &fakeEC2{Pages: pages(), SnapshotsErr: errors.New("connection reset")}, id: "snap-1",
			wantErr: "describe snapshot snap-1: connection reset",
		},
		"describe images error is reported": {
			fake: &fakeEC2{Pages: pages(), ImagesErr: errors.New("connection reset")}, id: "snap-1",
			wantErr: "describe images: connection reset",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, found, err := (&ebsSnapshots{api: tc.fake}).Get(t.Context(), tc.id)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Get error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tc.wantFound {
				t.Errorf("found = %v, want %v", found, tc.wantFound)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetMany(t *testing.T) {
	t.Parallel()
	fake := &fakeEC2{
		Pages:  [][]types.Snapshot{{snap("snap-1", 4), snap("snap-2", 2)}, {snap("snap-ami", 8)}},
		Images: []types.Image{image("ami-9", "snap-ami")},
	}
	got, err := (&ebsSnapshots{api: fake}).GetMany(t.Context(), []string{"snap-1", "snap-ami", "snap-gone"})
	if err != nil {
		t.Fatal(err)
	}
	inUse := map[string]string{}
	for id, r := range got {
		inUse[id] = r.InUse
	}
	if diff := cmp.Diff(map[string]string{"snap-1": "", "snap-ami": "backs AMI ami-9"}, inUse); diff != "" {
		t.Errorf("re-read ids and what uses them (-want +got):\n%s", diff)
	}

	fake.SnapshotsErr = errors.New("connection reset")
	_, err = (&ebsSnapshots{api: fake}).GetMany(t.Context(), []string{"snap-1", "snap-2"})
	if want := "describe 2 snapshots: connection reset"; err == nil || err.Error() != want {
		t.Errorf("GetMany error = %v, want %q", err, want)
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	inUse := &smithy.GenericAPIError{Code: "InvalidSnapshot.InUse", Message: "in use by ami-1"}
	tests := map[string]struct {
		fake        *fakeEC2
		action      plan.Action
		wantErr     string // "" for success
		wantGone    bool
		wantCode    string // API error code that must survive wrapping
		wantDeleted []string
	}{
		"deletes an existing snapshot": {
			fake:        &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}}},
			action:      plan.Action{Op: plan.Delete, ID: "snap-1"},
			wantDeleted: []string{"snap-1"},
		},
		"missing snapshot is gone": {
			fake:     &fakeEC2{},
			action:   plan.Action{Op: plan.Delete, ID: "snap-missing"},
			wantErr:  "delete snapshot snap-missing: resource no longer exists",
			wantGone: true,
		},
		"another API error passes through": {
			fake:     &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}}, DeleteErr: inUse},
			action:   plan.Action{Op: plan.Delete, ID: "snap-1"},
			wantErr:  "delete snapshot snap-1: api error InvalidSnapshot.InUse: in use by ami-1",
			wantCode: "InvalidSnapshot.InUse",
		},
		"an op the kind has not is refused without a call": {
			fake:    &fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 1)}}},
			action:  plan.Action{Op: plan.Update, ID: "snap-1"},
			wantErr: "ebs-snapshot cannot update",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := (&ebsSnapshots{api: tc.fake}).Do(t.Context(), tc.action)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Do: %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("Do error = %v, want %q", err, tc.wantErr)
			}
			if got := errors.Is(err, ErrGone); got != tc.wantGone {
				t.Errorf("errors.Is(%v, ErrGone) = %v, want %v", err, got, tc.wantGone)
			}
			if tc.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
					t.Errorf("error %v does not carry API code %s", err, tc.wantCode)
				}
			}
			if diff := cmp.Diff(tc.wantDeleted, tc.fake.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	got := Catalog()
	if diff := cmp.Diff([]string{"older-than", "tags", "name"}, got["ebs-snapshot"]["delete"]); diff != "" {
		t.Errorf("ebs-snapshot delete filters (-want +got):\n%s", diff)
	}
	for kind, actions := range got {
		if len(actions) == 0 {
			t.Errorf("kind %s has no actions", kind)
		}
	}
	if _, ok := got["s3-bucket"]["delete"]; ok {
		t.Error("s3-bucket must only be ensured, never deleted")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	// Every kind, sorted: the list grows with each kind added.
	kinds := slices.Sorted(maps.Keys(Catalog()))
	valid := strings.Join(kinds, ", ")
	if len(kinds) < 5 || valid != strings.ToLower(valid) || !slices.Contains(kinds, "ebs-snapshot") {
		t.Fatalf("Catalog kinds %v", kinds)
	}
	tests := map[string]struct {
		name    string
		wantErr string
	}{
		"known kind":                         {name: "ebs-snapshot"},
		"unknown kind lists the valid kinds": {name: "rds-instance", wantErr: `unknown resource kind "rds-instance", valid kinds are ` + valid},
		"empty name is unknown":              {name: "", wantErr: `unknown resource kind "", valid kinds are ` + valid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec, err := Lookup(tc.name)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Lookup(%q) error = %v, want %q", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Name != tc.name || spec.New == nil {
				t.Fatalf("Lookup(%q) = %+v", tc.name, spec)
			}
			if _, ok := spec.New(Env{AWS: aws.Config{Region: "us-east-1"}}).(*ebsSnapshots); !ok {
				t.Errorf("New built %T, want *ebsSnapshots", spec.New(Env{}))
			}
		})
	}
}

// TestMoto checks the kind against a real moto_server, reset between subtests.
func TestMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const region = "us-east-1"
	const day = 24 * time.Hour

	type seeded struct {
		old, young, ami, image string
	}
	// seed makes an old tagged snapshot, an old AMI (with its snapshot) and
	// a young untagged snapshot, straight to moto.
	seed := func(t *testing.T) seeded {
		t.Helper()
		m.Reset()
		cfg := m.Config(t, region)
		var s seeded
		m.SetClock("-400d")
		vol := awstest.CreateVolume(t, cfg, 8, "us-east-1a")
		s.old = awstest.CreateSnapshot(t, cfg, vol, map[string]string{"Name": "old-ci", "Environment": "ci"})
		s.image, s.ami = awstest.RegisterImage(t, cfg, "ci-image", map[string]string{"Environment": "ci"})
		m.SetClock("+0")
		s.young = awstest.CreateSnapshot(t, cfg, vol, nil)
		return s
	}
	recorded := func(t *testing.T) (Kind, *awstest.Recorder) {
		cfg, rec := m.Recorded(t, region)
		return newEBSSnapshots(Env{AWS: cfg}), rec
	}

	t.Run("list reads the account's snapshots with facts and makes only reads", func(t *testing.T) {
		s := seed(t)
		k, rec := recorded(t)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]plan.Resource{}
		for _, r := range got {
			byID[r.ID] = r
		}
		want := []string{s.ami, s.old, s.young}
		slices.Sort(want)
		gotIDs := ids(got)
		slices.Sort(gotIDs)
		if diff := cmp.Diff(want, gotIDs); diff != "" {
			t.Fatalf("listed ids (-want +got):\n%s", diff)
		}
		now := time.Now()
		awstest.TimeNear(t, "old Created", byID[s.old].Created, now.Add(-400*day), 10*time.Minute)
		awstest.TimeNear(t, "AMI's Created", byID[s.ami].Created, now.Add(-400*day), 10*time.Minute)
		awstest.TimeNear(t, "young Created", byID[s.young].Created, now, 10*time.Minute)
		if diff := cmp.Diff(map[string]string{"Name": "old-ci", "Environment": "ci"}, byID[s.old].Tags); diff != "" {
			t.Errorf("old tags (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"Environment": "ci"}, byID[s.ami].Tags); diff != "" {
			t.Errorf("AMI's snapshot tags (-want +got):\n%s", diff)
		}
		if got := byID[s.old].Name; got != "old-ci" {
			t.Errorf("old Name = %q, want old-ci", got)
		}
		if got := byID[s.old].Details["size"]; got != "8 GiB" {
			t.Errorf("old size = %q, want 8 GiB", got)
		}
		inUse := map[string]string{}
		for id, r := range byID {
			inUse[id] = r.InUse
		}
		wantInUse := map[string]string{s.old: "", s.young: "", s.ami: "backs AMI " + s.image}
		if diff := cmp.Diff(wantInUse, inUse); diff != "" {
			t.Errorf("InUse (-want +got):\n%s", diff)
		}

		c := func(op string) awstest.Call { return awstest.Call{Service: "ec2", Region: region, Op: op} }
		if diff := cmp.Diff([]awstest.Call{c("DescribeImages"), c("DescribeSnapshots")}, rec.Calls()); diff != "" {
			t.Errorf("calls List made (-want +got):\n%s", diff)
		}
		if got := rec.Mutating(); got != nil {
			t.Errorf("List made mutating calls: %v", got)
		}
	})

	t.Run("get re-reads an existing snapshot and misses a deleted or unknown one", func(t *testing.T) {
		s := seed(t)
		k, rec := recorded(t)
		listed, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range listed {
			got, found, err := k.Get(t.Context(), want.ID)
			if err != nil || !found {
				t.Fatalf("Get(%s) = found %v, err %v; want found", want.ID, found, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get(%s) differs from List (-list +get):\n%s", want.ID, diff)
			}
		}

		if _, err := ec2.NewFromConfig(m.Config(t, region)).DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s.young)}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{s.young, "snap-0123456789abcdef0"} {
			got, found, err := k.Get(t.Context(), id)
			if err != nil || found {
				t.Errorf("Get(%s) = %+v, found %v, err %v; want not found, no error", id, got, found, err)
			}
		}
		if got := rec.Mutating(); got != nil {
			t.Errorf("Get made mutating calls: %v", got)
		}
	})

	t.Run("get-many re-reads a batch with one call of each kind", func(t *testing.T) {
		s := seed(t)
		k, rec := recorded(t)
		listed, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ec2.NewFromConfig(m.Config(t, region)).DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s.young)}); err != nil {
			t.Fatal(err)
		}
		want := map[string]plan.Resource{}
		for _, r := range listed {
			if r.ID != s.young {
				want[r.ID] = r
			}
		}
		rec.Reset()
		got, err := k.(Rereader).GetMany(t.Context(), append(ids(listed), "snap-0123456789abcdef0"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetMany differs from List less the deleted snapshot (-want +got):\n%s", diff)
		}
		c := func(op string) awstest.Call { return awstest.Call{Service: "ec2", Region: region, Op: op} }
		if diff := cmp.Diff([]awstest.Call{c("DescribeSnapshots"), c("DescribeImages")}, rec.Calls()); diff != "" {
			t.Errorf("calls GetMany made (-want +got):\n%s", diff)
		}
	})

	t.Run("do deletes, then reports gone, and never deletes an AMI's snapshot", func(t *testing.T) {
		s := seed(t)
		k, rec := recorded(t)
		direct := m.Config(t, region)

		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, ID: s.old}); err != nil {
			t.Fatalf("Do delete %s: %v", s.old, err)
		}
		if _, ok := awstest.Snapshots(t, direct)[s.old]; ok {
			t.Errorf("%s still exists after Do", s.old)
		}

		err := k.Do(t.Context(), plan.Action{Op: plan.Delete, ID: s.old})
		if !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}

		err = k.Do(t.Context(), plan.Action{Op: plan.Delete, ID: s.ami})
		if err == nil || !strings.Contains(err.Error(), "InvalidSnapshot.InUse") {
			t.Errorf("Do on the AMI's snapshot = %v, want InvalidSnapshot.InUse", err)
		}
		if errors.Is(err, ErrGone) {
			t.Errorf("Do on the AMI's snapshot = %v, must not be ErrGone", err)
		}
		if _, ok := awstest.Snapshots(t, direct)[s.ami]; !ok {
			t.Errorf("AMI's snapshot %s was deleted", s.ami)
		}
		if _, ok := awstest.Snapshots(t, direct)[s.young]; !ok {
			t.Errorf("untouched snapshot %s was deleted", s.young)
		}
		if got := rec.Count("DeleteSnapshot"); got != 3 {
			t.Errorf("DeleteSnapshot calls = %d, want 3; calls %v", got, rec.Calls())
		}
	})
}
