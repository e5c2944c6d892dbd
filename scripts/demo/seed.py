#!/usr/bin/env python3
"""Seed a moto_server with EBS snapshots for the broom demo.

Usage: seed.py old|young

Reads the endpoint and credentials from the environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); always works in us-east-1.

  old    a volume, then snapshots tagged Environment=ci:
           ci-build-101..103   candidates for deletion
           ci-build-keep       also broom:keep=true (protected)
           ci-ami-root         root device of AMI ci-image (in use)
         and, in a VPC, two NAT gateways, each with an Elastic IP:
           demo-nat-idle       no route targets it: a candidate
           demo-nat-routed     the private subnet's default route
         and two security groups tagged Environment=ci: ci-idle-sg, which
         nothing uses, and ci-web-sg, on a network interface (in use);
         two unattached network interfaces tagged Environment=ci,
         demo-idle-eni and demo-kept-eni (broom:keep=true);
         and two t3.micro instances of ci-image, running, tagged Environment=ci:
           ci-runner           candidate for stopping
           ci-asg-node         in an Auto Scaling group (left alone);
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


def nat_gateways(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    made = {}
    for name in ("demo-nat-idle", "demo-nat-routed"):
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        made[name] = ec2.create_nat_gateway(
            SubnetId=subnet,
            AllocationId=eip,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": name}]}],
        )["NatGateway"]["NatGatewayId"]
        print(f"nat      {made[name]}  {name}  (Elastic IP {eip})")
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=made["demo-nat-routed"])


def security_groups(ec2):
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    for name in ("ci-idle-sg", "ci-web-sg"):
        g = ec2.create_security_group(
            GroupName=name,
            Description=f"demo {name}",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags(name)}],
        )["GroupId"]
        used = ""
        if name == "ci-web-sg":
            eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Groups=[g])
            used = f"  (on {eni['NetworkInterface']['NetworkInterfaceId']})"
        print(f"group    {g}  {name}{used}")


def interface(ec2, name, extra=None):
    subnet = ec2.describe_subnets(
        Filters=[
            {"Name": "default-for-az", "Values": ["true"]},
            {"Name": "availability-zone", "Values": [REGION + "a"]},
        ]
    )["Subnets"][0]["SubnetId"]
    kv = {"Name": name, "Environment": "ci", **(extra or {})}
    eni = ec2.create_network_interface(
        SubnetId=subnet,
        Description="left behind (broom demo)",
        TagSpecifications=[
            {
                "ResourceType": "network-interface",
                "Tags": [{"Key": k, "Value": v} for k, v in kv.items()],
            }
        ],
    )["NetworkInterface"]["NetworkInterfaceId"]
    print(f"interface {eni}  " + " ".join(f"{k}={v}" for k, v in kv.items()))


def instances(ec2, image_id):
    for name, extra in (("ci-runner", None), ("ci-asg-node", {"aws:autoscaling:groupName": "ci-nodes"})):
        inst = ec2.run_instances(
            ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags(name, extra)}],
        )["Instances"][0]
        print(f"instance {inst['InstanceId']}  {name}")
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
        nat_gateways(ec2)
        security_groups(ec2)
        interface(ec2, "demo-idle-eni")
        interface(ec2, "demo-kept-eni", {"broom:keep": "true"})
        instances(ec2, image_id)
        load_balancers(ec2)
    else:
        for n in (201, 202):
            made.append(snapshot(ec2, vol, f"ci-build-{n}"))

    for snap_id, start, t in made:
        tag_text = " ".join(f"{x['Key']}={x['Value']}" for x in t)
        print(f"snapshot {snap_id}  {start:%Y-%m-%d %H:%M}  {tag_text}")


if __name__ == "__main__":
    main()
