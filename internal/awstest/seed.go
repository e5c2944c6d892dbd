package awstest

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func callCtx(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), callTimeout)
}

// CreateVolume creates an EBS volume of sizeGiB in availability zone az (for
// example "us-east-1a") and returns its id.
func CreateVolume(t testing.TB, cfg aws.Config, sizeGiB int32, az string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(az),
		Size:             aws.Int32(sizeGiB),
	})
	if err != nil {
		t.Fatalf("awstest: create volume: %v", err)
	}
	return aws.ToString(out.VolumeId)
}

// CreateSnapshot snapshots volumeID with the given tags (none if empty) and
// returns the snapshot id. Its StartTime is moto's clock at the call (see
// Moto.SetClock).
func CreateSnapshot(t testing.TB, cfg aws.Config, volumeID string, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &ec2.CreateSnapshotInput{
		VolumeId:    aws.String(volumeID),
		Description: aws.String("awstest snapshot of " + volumeID),
	}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{
			ResourceType: types.ResourceTypeSnapshot,
			Tags:         EC2Tags(tags),
		}}
	}
	out, err := ec2.NewFromConfig(cfg).CreateSnapshot(ctx, in)
	if err != nil {
		t.Fatalf("awstest: create snapshot of %s: %v", volumeID, err)
	}
	return aws.ToString(out.SnapshotId)
}

// RunInstance starts one t3.micro instance of image in availability zone
// cfg.Region+"a" and returns its id. moto gives it a root volume, attached.
func RunInstance(t testing.TB, cfg aws.Config, image string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &types.Placement{AvailabilityZone: aws.String(cfg.Region + "a")},
	})
	if err != nil {
		t.Fatalf("awstest: run instance of %s: %v", image, err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// AttachVolume attaches volume to instance as device (e.g. "/dev/sdf").
func AttachVolume(t testing.TB, cfg aws.Config, volume, instance, device string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AttachVolume(ctx, &ec2.AttachVolumeInput{
		VolumeId: aws.String(volume), InstanceId: aws.String(instance), Device: aws.String(device),
	})
	if err != nil {
		t.Fatalf("awstest: attach %s to %s as %s: %v", volume, instance, device, err)
	}
}

// AllocateAddress allocates a VPC Elastic IP address and returns its
// allocation id.
func AllocateAddress(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatalf("awstest: allocate address: %v", err)
	}
	return aws.ToString(out.AllocationId)
}

// AssociateAddress associates the address of allocation with instance.
func AssociateAddress(t testing.TB, cfg aws.Config, allocation, instance string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AssociateAddress(ctx, &ec2.AssociateAddressInput{
		AllocationId: aws.String(allocation), InstanceId: aws.String(instance),
	})
	if err != nil {
		t.Fatalf("awstest: associate %s with %s: %v", allocation, instance, err)
	}
}

// CreateLaunchTemplate creates a launch template called name whose
// version launches image (a t3.micro), which makes image "in use".
func CreateLaunchTemplate(t testing.TB, cfg aws.Config, name, image string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("awstest: create launch template %s: %v", name, err)
	}
}

// RegisterImage registers an AMI called name and returns its id and the id
// of the snapshot behind its root device, which it tags with snapshotTags
// (none if empty). The snapshot is "in use": DeleteSnapshot on it fails with
// InvalidSnapshot.InUse until the image is deregistered.
//
// moto ignores RegisterImage's BlockDeviceMappings and always creates a fresh
// snapshot for a new image (CreateImage does the same), so an image cannot be
// put on top of an existing snapshot. To get an old, tagged snapshot behind
// an AMI, call RegisterImage while the clock is set back.
func RegisterImage(t testing.TB, cfg aws.Config, name string, snapshotTags map[string]string) (imageID, snapshotID string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	client := ec2.NewFromConfig(cfg)
	out, err := client.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(name),
		Description:        aws.String("awstest image " + name),
		Architecture:       types.ArchitectureValuesX8664,
		RootDeviceName:     aws.String("/dev/xvda"),
		VirtualizationType: aws.String("hvm"),
	})
	if err != nil {
		t.Fatalf("awstest: register image %s: %v", name, err)
	}
	imageID = aws.ToString(out.ImageId)
	img, err := describeImage(ctx, client, imageID)
	if err != nil {
		t.Fatalf("awstest: %v", err)
	}
	snapshotID = RootSnapshotID(img)
	if snapshotID == "" {
		t.Fatalf("awstest: image %s has no EBS root snapshot: %+v", imageID, img.BlockDeviceMappings)
	}
	if len(snapshotTags) > 0 {
		_, err := client.CreateTags(ctx, &ec2.CreateTagsInput{
			Resources: []string{snapshotID},
			Tags:      EC2Tags(snapshotTags),
		})
		if err != nil {
			t.Fatalf("awstest: tag snapshot %s of image %s: %v", snapshotID, imageID, err)
		}
	}
	return imageID, snapshotID
}

func describeImage(ctx context.Context, client *ec2.Client, imageID string) (types.Image, error) {
	out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if err != nil {
		return types.Image{}, fmt.Errorf("describe image %s: %w", imageID, err)
	}
	if len(out.Images) != 1 {
		return types.Image{}, fmt.Errorf("describe image %s: got %d images, want 1", imageID, len(out.Images))
	}
	return out.Images[0], nil
}

// RootSnapshotID is the snapshot behind img's root device ("" if none): the
// EBS mapping whose device is the root device, or failing that the first
// EBS mapping with a snapshot.
func RootSnapshotID(img types.Image) string {
	first := ""
	for _, bdm := range img.BlockDeviceMappings {
		if bdm.Ebs == nil || aws.ToString(bdm.Ebs.SnapshotId) == "" {
			continue
		}
		id := aws.ToString(bdm.Ebs.SnapshotId)
		if aws.ToString(bdm.DeviceName) == aws.ToString(img.RootDeviceName) {
			return id
		}
		if first == "" {
			first = id
		}
	}
	return first
}

// Snapshots lists the account's own snapshots (OwnerIds ["self"]) by id.
func Snapshots(t testing.TB, cfg aws.Config) map[string]types.Snapshot {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	snaps := map[string]types.Snapshot{}
	p := ec2.NewDescribeSnapshotsPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("awstest: describe snapshots: %v", err)
		}
		for _, s := range page.Snapshots {
			snaps[aws.ToString(s.SnapshotId)] = s
		}
	}
	return snaps
}
