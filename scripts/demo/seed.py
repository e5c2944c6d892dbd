#!/usr/bin/env python3
"""Seed a moto_server with EBS snapshots for the broom demo.

Usage: seed.py old|young

Reads the endpoint and credentials from the environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); always works in us-east-1.

  old    a volume, then snapshots tagged Environment=ci:
           ci-build-101..103   candidates for deletion
           ci-build-keep       also broom:keep=true (protected)
           ci-ami-root         root device of AMI ci-image (in use)
         and two Application Load Balancers tagged Environment=ci with no
         listener: ci-preview (idle) and ci-preview-locked (deletion
         protection on, so broom leaves it).
         Run it while moto's clock is set back (e.g. -400d in the
         libfaketime timestamp file) so they come out old.
  young  a volume, then 2 snapshots tagged Environment=ci (ci-build-201..202).
         Run it with the clock at +0.

moto ignores RegisterImage's BlockDeviceMappings and creates a fresh snapshot
for every new AMI, so the in-use snapshot is that one, tagged afterwards.
"""

import sys

import boto3

REGION = "us-east-1"


def tags(name, extra=None):
    kv = {"Environment": "ci", "Name": name, **(extra or {})}
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def snapshot(ec2, volume_id, name, extra=None):
    t = tags(name, extra)
    s = ec2.create_snapshot(
        VolumeId=volume_id,
        Description=f"demo {name}",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": t}],
    )
    return s["SnapshotId"], s["StartTime"], t


def ami(ec2, name):
    image_id = ec2.register_image(Name=name, RootDeviceName="/dev/xvda")["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    snap_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    t = tags("ci-ami-root")
    ec2.create_tags(Resources=[snap_id], Tags=t)
    start = ec2.describe_snapshots(SnapshotIds=[snap_id])["Snapshots"][0]["StartTime"]
    return image_id, snap_id, start, t


def load_balancers(ec2):
    """Two idle ALBs in a VPC of their own; the second has deletion protection."""
    elb = boto3.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    for name in ("ci-preview", "ci-preview-locked"):
        lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application", Tags=tags(name))
        arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        if name.endswith("locked"):
            elb.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
            )
        print(f"load balancer {arn}")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("old", "young"):
        sys.exit(__doc__)
    mode = sys.argv[1]
    ec2 = boto3.client("ec2", region_name=REGION)

    vol = ec2.create_volume(Size=8, AvailabilityZone=REGION + "a")["VolumeId"]
    print(f"volume   {vol}")

    made = []
    if mode == "old":
        for n in (101, 102, 103):
            made.append(snapshot(ec2, vol, f"ci-build-{n}"))
        made.append(snapshot(ec2, vol, "ci-build-keep", {"broom:keep": "true"}))
        image_id, snap_id, start, t = ami(ec2, "ci-image")
        print(f"image    {image_id}  (root snapshot {snap_id})")
        made.append((snap_id, start, t))
        load_balancers(ec2)
    else:
        for n in (201, 202):
            made.append(snapshot(ec2, vol, f"ci-build-{n}"))

    for snap_id, start, t in made:
        tag_text = " ".join(f"{x['Key']}={x['Value']}" for x in t)
        print(f"snapshot {snap_id}  {start:%Y-%m-%d %H:%M}  {tag_text}")


if __name__ == "__main__":
    main()
