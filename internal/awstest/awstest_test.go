package awstest_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
)

const region = "us-east-1"

// TestMoto runs against one moto_server, reset between subtests.
func TestMoto(t *testing.T) {
	m := awstest.StartMoto(t)

	fresh := func(t *testing.T) {
		m.Reset()
		m.SetClock("+0")
	}

	t.Run("clock and recorder", func(t *testing.T) {
		fresh(t)
		cfg, rec := m.Recorded(t, region)

		m.SetClock("-400d")
		vol := awstest.CreateVolume(t, cfg, 8, "us-east-1a")
		old := awstest.CreateSnapshot(t, cfg, vol, map[string]string{"Environment": "ci", "Name": "old"})
		m.SetClock("+0")
		young := awstest.CreateSnapshot(t, cfg, vol, map[string]string{"Environment": "ci", "Name": "young"})

		snaps := awstest.Snapshots(t, cfg)
		if len(snaps) != 2 {
			t.Fatalf("got %d snapshots, want 2: %v", len(snaps), snaps)
		}
		now := time.Now()
		awstest.TimeNear(t, "old StartTime", aws.ToTime(snaps[old].StartTime), now.Add(-400*24*time.Hour), 5*time.Minute)
		awstest.TimeNear(t, "young StartTime", aws.ToTime(snaps[young].StartTime), now, 5*time.Minute)
		if diff := cmp.Diff(map[string]string{"Environment": "ci", "Name": "old"}, awstest.Tags(snaps[old].Tags)); diff != "" {
			t.Errorf("old snapshot tags (-want +got):\n%s", diff)
		}
		if got := aws.ToString(snaps[old].OwnerId); got != awstest.AccountID {
			t.Errorf("OwnerId = %q, want %q", got, awstest.AccountID)
		}

		for op, want := range map[string]int{"CreateVolume": 1, "CreateSnapshot": 2, "DescribeSnapshots": 1} {
			if got := rec.Count(op); got != want {
				t.Errorf("Count(%s) = %d, want %d; calls %v", op, got, want, rec.Calls())
			}
		}
		c := func(op string) awstest.Call { return awstest.Call{Service: "ec2", Region: region, Op: op} }
		want := []awstest.Call{c("CreateVolume"), c("CreateSnapshot"), c("CreateSnapshot")}
		if diff := cmp.Diff(want, rec.Mutating()); diff != "" {
			t.Errorf("Mutating() (-want +got):\n%s", diff)
		}
		rec.Reset()
		if got := rec.Calls(); len(got) != 0 {
			t.Errorf("Calls() after Reset = %v", got)
		}
	})

	t.Run("reset empties moto", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		awstest.CreateSnapshot(t, cfg, awstest.CreateVolume(t, cfg, 1, "us-east-1a"), nil)
		m.Reset()
		if got := awstest.Snapshots(t, cfg); len(got) != 0 {
			t.Errorf("after Reset: %d snapshots", len(got))
		}
	})

	t.Run("image", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		client := ec2.NewFromConfig(cfg)
		ctx := t.Context()

		m.SetClock("-400d")
		img, snap := awstest.RegisterImage(t, cfg, "ci-image", map[string]string{"Environment": "ci"})
		m.SetClock("+0")

		out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != img {
			t.Fatalf("DescribeImages(self) = %+v, want only %s", out.Images, img)
		}
		if got := awstest.RootSnapshotID(out.Images[0]); got != snap {
			t.Errorf("root snapshot of %s = %q, want %q", img, got, snap)
		}
		s, ok := awstest.Snapshots(t, cfg)[snap]
		if !ok {
			t.Fatalf("snapshot %s of image %s not listed", snap, img)
		}
		if got := awstest.Tags(s.Tags)["Environment"]; got != "ci" {
			t.Errorf("tag Environment = %q, want ci", got)
		}
		if age := time.Since(aws.ToTime(s.StartTime)); age < 399*24*time.Hour {
			t.Errorf("image snapshot age %v, want ~400 days", age)
		}

		_, err = client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
		wantCode(t, "DeleteSnapshot of an AMI's snapshot", err, "InvalidSnapshot.InUse")
		_, err = client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-0123456789abcdef0")})
		wantCode(t, "DeleteSnapshot of a missing snapshot", err, "InvalidSnapshot.NotFound")

		if _, err := client.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(img)}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil {
			t.Errorf("DeleteSnapshot after DeregisterImage: %v", err)
		}
	})

	t.Run("moto ignores RegisterImage block device mappings", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		client := ec2.NewFromConfig(cfg)
		mine := awstest.CreateSnapshot(t, cfg, awstest.CreateVolume(t, cfg, 1, "us-east-1a"), nil)
		out, err := client.RegisterImage(t.Context(), &ec2.RegisterImageInput{
			Name:           aws.String("with-bdm"),
			RootDeviceName: aws.String("/dev/xvda"),
			BlockDeviceMappings: []types.BlockDeviceMapping{{
				DeviceName: aws.String("/dev/xvda"),
				Ebs:        &types.EbsBlockDevice{SnapshotId: aws.String(mine)},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := client.DescribeImages(t.Context(), &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})
		if err != nil {
			t.Fatal(err)
		}
		// What seed.go's RegisterImage works around. If this fails, moto
		// honours the mappings now: RegisterImage could take a snapshot id.
		if got := awstest.RootSnapshotID(imgs.Images[0]); got == mine || got == "" {
			t.Errorf("RegisterImage with root snapshot %s made an image on snapshot %q, want another snapshot of moto's own", mine, got)
		}
	})

	// moto 5.2.1 does not implement this filter (AWS does): production code
	// scans BlockDeviceMappings instead. If this fails, moto implements it
	// now, and the kinds could use it.
	t.Run("moto does not implement the DescribeImages filter block-device-mapping.snapshot-id", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		_, snap := awstest.RegisterImage(t, cfg, "ci-image", nil)
		out, err := ec2.NewFromConfig(cfg).DescribeImages(t.Context(), &ec2.DescribeImagesInput{
			Owners:  []string{"self"},
			Filters: []types.Filter{{Name: aws.String("block-device-mapping.snapshot-id"), Values: []string{snap}}},
		})
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
			t.Errorf("DescribeImages with the filter = %+v, %v; want moto's 500", out, err)
		}
	})

	t.Run("snapshot filters", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		client := ec2.NewFromConfig(cfg)
		vol := awstest.CreateVolume(t, cfg, 1, "us-east-1a")
		ci := awstest.CreateSnapshot(t, cfg, vol, map[string]string{"Environment": "ci"})
		prod := awstest.CreateSnapshot(t, cfg, vol, map[string]string{"Environment": "prod"})
		bare := awstest.CreateSnapshot(t, cfg, vol, nil)

		for _, tc := range []struct {
			name string
			in   ec2.DescribeSnapshotsInput
			want []string
		}{
			{"OwnerIds self", ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}, []string{ci, prod, bare}},
			{"OwnerIds account", ec2.DescribeSnapshotsInput{OwnerIds: []string{awstest.AccountID}}, []string{ci, prod, bare}},
			{"tag:Environment=ci", ec2.DescribeSnapshotsInput{Filters: filter("tag:Environment", "ci")}, []string{ci}},
			{"tag-key Environment", ec2.DescribeSnapshotsInput{Filters: filter("tag-key", "Environment")}, []string{ci, prod}},
			{"snapshot-id", ec2.DescribeSnapshotsInput{Filters: filter("snapshot-id", prod)}, []string{prod}},
			{"SnapshotIds", ec2.DescribeSnapshotsInput{SnapshotIds: []string{bare}}, []string{bare}},
		} {
			out, err := client.DescribeSnapshots(t.Context(), &tc.in)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			var got []string
			for _, s := range out.Snapshots {
				got = append(got, aws.ToString(s.SnapshotId))
			}
			slices.Sort(got)
			slices.Sort(tc.want)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
	})

	t.Run("tags", func(t *testing.T) {
		fresh(t)
		cfg := m.Config(t, region)
		vol := awstest.CreateVolume(t, cfg, 8, "us-east-1a")
		if got := awstest.TagsOf(t, cfg, vol); len(got) != 0 {
			t.Errorf("TagsOf a new volume = %v, want none", got)
		}
		awstest.Tag(t, cfg, vol, map[string]string{"Owner": "data-team", "Environment": "ci"})
		awstest.Tag(t, cfg, vol, map[string]string{"Owner": "platform-team"})
		if diff := cmp.Diff(map[string]string{"Owner": "platform-team", "Environment": "ci"}, awstest.TagsOf(t, cfg, vol)); diff != "" {
			t.Errorf("TagsOf after two Tag calls (-want +got):\n%s", diff)
		}

		const bucket = "awstest-tags"
		c := s3.NewFromConfig(cfg)
		if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		awstest.TagBucket(t, cfg, bucket, map[string]string{"Team": "data", "broom:keep": "yes"})
		awstest.TagBucket(t, cfg, bucket, map[string]string{"Team": "web"}) // replaces the set
		out, err := c.GetBucketTagging(t.Context(), &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tag := range out.TagSet {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if diff := cmp.Diff(map[string]string{"Team": "web"}, got); diff != "" {
			t.Errorf("bucket tags after TagBucket (-want +got):\n%s", diff)
		}
	})

	t.Run("caller identity", func(t *testing.T) {
		fresh(t)
		cfg, rec := m.Recorded(t, region)
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Account); got != awstest.AccountID {
			t.Errorf("Account = %q, want %q", got, awstest.AccountID)
		}
		want := []awstest.Call{{Service: "sts", Region: region, Op: "GetCallerIdentity"}}
		if diff := cmp.Diff(want, rec.Calls()); diff != "" {
			t.Errorf("Calls() (-want +got):\n%s", diff)
		}
		if got := rec.Mutating(); got != nil {
			t.Errorf("Mutating() = %v, want none", got)
		}
	})

	t.Run("config is hermetic", func(t *testing.T) {
		fresh(t)
		home := t.TempDir()
		if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
			t.Fatal(err)
		}
		bogus := "[default]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:1\n" +
			"[profile nope]\nregion = eu-west-3\n"
		for _, f := range []string{"config", "credentials"} {
			if err := os.WriteFile(filepath.Join(home, ".aws", f), []byte(bogus), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("HOME", home)
		t.Setenv("AWS_PROFILE", "does-not-exist")
		t.Setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:1")
		t.Setenv("AWS_USE_FIPS_ENDPOINT", "true")
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "fromenv")

		cfg := m.Config(t, region)
		if cfg.Region != region {
			t.Errorf("Region = %q", cfg.Region)
		}
		creds, err := cfg.Credentials.Retrieve(t.Context())
		if err != nil || creds.AccessKeyID != awstest.AccessKeyID {
			t.Errorf("credentials = %q, %v; want %q", creds.AccessKeyID, err, awstest.AccessKeyID)
		}
		if got := awstest.Snapshots(t, cfg); len(got) != 0 {
			t.Errorf("got %d snapshots from a fresh moto", len(got))
		}
	})
}

func TestEnv(t *testing.T) {
	want := []string{
		"AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
	if diff := cmp.Diff(want, awstest.Env("http://127.0.0.1:9")); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
}

func filter(name string, values ...string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: values}}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	switch {
	case err == nil:
		t.Errorf("%s: succeeded, want %s", what, code)
	case !errors.As(err, &apiErr):
		t.Errorf("%s: %v, want API error %s", what, err, code)
	case apiErr.ErrorCode() != code:
		t.Errorf("%s: code %s (%v), want %s", what, apiErr.ErrorCode(), err, code)
	}
}
