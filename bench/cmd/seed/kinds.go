package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// estate is how many of each of the other kinds to make (bench/run.sh's
// kinds step): each kind one function below, called in kinds' order,
// since some need what an earlier one made (a VPC, groups, instances).
type estate struct {
	natGateways, securityGroups, interfaces, instances int
	dbInstances, dbSnapshots, loadBalancers            int
	repositories, images, logGroups                    int // images per repository
	bucket                                             string
}

// network is the VPC the estate lives in: two subnets in two zones (a load
// balancer needs two).
type network struct {
	vpc     string
	subnets [2]string
	groups  []string // security groups, for interfaces to use
	running []string // running instances, for target groups to register
}

func (e estate) any() bool {
	return e.natGateways+e.securityGroups+e.interfaces+e.instances+e.dbInstances+e.loadBalancers+e.repositories+e.logGroups > 0 || e.bucket != ""
}

// kinds makes the estate; each step says what it made to stdout.
func (s *seeder) kinds(ctx context.Context, e estate) error {
	if !e.any() {
		return nil
	}
	n := &network{}
	steps := []struct {
		what string
		f    func(context.Context, *network, estate) (string, error)
	}{
		{"network", s.network},
		{"security groups", s.securityGroups},
		{"network interfaces", s.interfaces},
		{"NAT gateways", s.natGateways},
		{"instances", s.instances},
		{"DB instances and snapshots", s.dbSnapshots},
		{"load balancers", s.loadBalancers},
		{"ECR repositories and images", s.ecrImages},
		{"log groups", s.logGroups},
		{"bucket", s.bucket},
	}
	for _, st := range steps {
		start := time.Now()
		made, err := st.f(ctx, n, e)
		if err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
		if made != "" {
			fmt.Printf("seeded %s: %s in %.1fs\n", s.region, made, time.Since(start).Seconds())
		}
	}
	return nil
}

func (s *seeder) network(ctx context.Context, n *network, _ estate) (string, error) {
	vpc, err := s.api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
	if err != nil {
		return "", fmt.Errorf("create vpc: %w", err)
	}
	n.vpc = aws.ToString(vpc.Vpc.VpcId)
	for i, zone := range []string{"a", "b"} {
		sub, err := s.api.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.42.%d.0/20", i*16)),
			AvailabilityZone: aws.String(s.region + zone),
		})
		if err != nil {
			return "", fmt.Errorf("create subnet: %w", err)
		}
		n.subnets[i] = aws.ToString(sub.Subnet.SubnetId)
	}
	return "1 VPC, 2 subnets", nil
}

// securityGroups makes e.securityGroups groups; every fourth is referenced
// by the next one's ingress rule (interfaces use some others).
func (s *seeder) securityGroups(ctx context.Context, n *network, e estate) (string, error) {
	stamp := time.Now().UnixNano()
	referenced := 0
	for i := range e.securityGroups {
		g, err := s.api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(fmt.Sprintf("bench-%d-%d", stamp, i)), Description: aws.String("bench"), VpcId: aws.String(n.vpc),
		})
		if err != nil {
			return "", fmt.Errorf("create security group: %w", err)
		}
		n.groups = append(n.groups, aws.ToString(g.GroupId))
		if i%4 == 1 {
			_, err := s.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
				GroupId: g.GroupId,
				IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
					UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(n.groups[i-1])}}}},
			})
			if err != nil {
				return "", fmt.Errorf("authorize ingress: %w", err)
			}
			referenced++
		}
	}
	if e.securityGroups == 0 {
		return "", nil
	}
	return fmt.Sprintf("%d security groups (%d referenced by another)", e.securityGroups, referenced), nil
}

// interfaces makes e.interfaces unattached interfaces; every other one has
// a security group (the third of every four, so not a referenced one).
func (s *seeder) interfaces(ctx context.Context, n *network, e estate) (string, error) {
	used := 0
	for i := range e.interfaces {
		in := &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(n.subnets[i%2]), Description: aws.String("bench")}
		if g := (i/2)*4 + 2; i%2 == 0 && g < len(n.groups) {
			in.Groups = []string{n.groups[g]}
			used++
		}
		if _, err := s.api.CreateNetworkInterface(ctx, in); err != nil {
			return "", fmt.Errorf("create network interface: %w", err)
		}
	}
	if e.interfaces == 0 {
		return "", nil
	}
	return fmt.Sprintf("%d network interfaces (%d in a seeded security group)", e.interfaces, used), nil
}

// natGateways makes e.natGateways gateways, each with an address of its
// own; every other one is a route table's default route.
func (s *seeder) natGateways(ctx context.Context, n *network, e estate) (string, error) {
	routed := 0
	for i := range e.natGateways {
		addr, err := s.api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		if err != nil {
			return "", fmt.Errorf("allocate address: %w", err)
		}
		nat, err := s.api.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(n.subnets[i%2]), AllocationId: addr.AllocationId})
		if err != nil {
			return "", fmt.Errorf("create NAT gateway: %w", err)
		}
		if i%2 == 1 {
			continue
		}
		rt, err := s.api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(n.vpc)})
		if err != nil {
			return "", fmt.Errorf("create route table: %w", err)
		}
		if _, err := s.api.CreateRoute(ctx, &ec2.CreateRouteInput{
			RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId,
		}); err != nil {
			return "", fmt.Errorf("create route: %w", err)
		}
		routed++
	}
	if e.natGateways == 0 {
		return "", nil
	}
	return fmt.Sprintf("%d NAT gateways with their addresses (%d routed)", e.natGateways, routed), nil
}

// instances runs e.instances instances of an image of their own, one a
// call, and stops every other one.
func (s *seeder) instances(ctx context.Context, n *network, e estate) (string, error) {
	if e.instances == 0 {
		return "", nil
	}
	img, err := s.api.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:         aws.String(fmt.Sprintf("bench-instances-%d", time.Now().UnixNano())),
		Architecture: types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"), VirtualizationType: aws.String("hvm"),
	})
	if err != nil {
		return "", fmt.Errorf("register image: %w", err)
	}
	var stop []string
	for i := range e.instances {
		out, err := s.api.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: img.ImageId, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(n.subnets[i%2]),
		})
		if err != nil {
			return "", fmt.Errorf("run instance: %w", err)
		}
		id := aws.ToString(out.Instances[0].InstanceId)
		if i%2 == 1 {
			stop = append(stop, id)
		} else {
			n.running = append(n.running, id)
		}
	}
	if len(stop) > 0 {
		if _, err := s.api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: stop}); err != nil {
			return "", fmt.Errorf("stop instances: %w", err)
		}
	}
	return fmt.Sprintf("%d instances of 1 image (%d stopped)", e.instances, len(stop)), nil
}

// dbSnapshots makes e.dbInstances DB instances and e.dbSnapshots manual
// snapshots of them, round robin.
func (s *seeder) dbSnapshots(ctx context.Context, _ *network, e estate) (string, error) {
	if e.dbInstances == 0 {
		return "", nil
	}
	api := rds.NewFromConfig(s.cfg)
	stamp := time.Now().UnixNano()
	var dbs []string
	for i := range e.dbInstances {
		id := fmt.Sprintf("bench-%d-%d", stamp, i)
		if _, err := api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"),
			AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("bench"), MasterUserPassword: aws.String("bench-password"),
		}); err != nil {
			return "", fmt.Errorf("create DB instance: %w", err)
		}
		dbs = append(dbs, id)
	}
	for i := range e.dbSnapshots {
		if _, err := api.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(dbs[i%len(dbs)]), DBSnapshotIdentifier: aws.String(fmt.Sprintf("bench-%d-snap-%d", stamp, i)),
		}); err != nil {
			return "", fmt.Errorf("create DB snapshot: %w", err)
		}
	}
	return fmt.Sprintf("%d DB instances, %d manual DB snapshots", e.dbInstances, e.dbSnapshots), nil
}

// loadBalancers makes e.loadBalancers application balancers across both
// subnets. Of every five: two forward to a target group with an instance
// in it, one to an empty target group, one only redirects, one has no
// listener.
func (s *seeder) loadBalancers(ctx context.Context, n *network, e estate) (string, error) {
	if e.loadBalancers == 0 {
		return "", nil
	}
	api := elbv2.NewFromConfig(s.cfg)
	stamp := time.Now().Unix() % 100000
	kinds := map[string]int{}
	for i := range e.loadBalancers {
		lb, err := api.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String(fmt.Sprintf("bench-%d-%d", stamp, i)), Subnets: n.subnets[:], Type: elbtypes.LoadBalancerTypeEnumApplication,
		})
		if err != nil {
			return "", fmt.Errorf("create load balancer: %w", err)
		}
		arn := lb.LoadBalancers[0].LoadBalancerArn
		var action elbtypes.Action
		switch i % 5 {
		case 0, 1, 2:
			tg, err := api.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
				Name: aws.String(fmt.Sprintf("bench-%d-%d", stamp, i)), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
				VpcId: aws.String(n.vpc), TargetType: elbtypes.TargetTypeEnumInstance,
			})
			if err != nil {
				return "", fmt.Errorf("create target group: %w", err)
			}
			tgArn := tg.TargetGroups[0].TargetGroupArn
			action = elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgArn}
			if i%5 < 2 && len(n.running) > 0 {
				if _, err := api.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
					TargetGroupArn: tgArn, Targets: []elbtypes.TargetDescription{{Id: aws.String(n.running[i%len(n.running)])}},
				}); err != nil {
					return "", fmt.Errorf("register target: %w", err)
				}
				kinds["with a target"]++
			} else {
				kinds["with an empty target group"]++
			}
		case 3:
			action = elbtypes.Action{Type: elbtypes.ActionTypeEnumRedirect, RedirectConfig: &elbtypes.RedirectActionConfig{
				Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301,
			}}
			kinds["redirecting"]++
		default:
			kinds["without a listener"]++
			continue
		}
		if _, err := api.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: arn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: []elbtypes.Action{action},
		}); err != nil {
			return "", fmt.Errorf("create listener: %w", err)
		}
	}
	return fmt.Sprintf("%d load balancers %v", e.loadBalancers, kinds), nil
}

// ecrImages makes e.repositories repositories with e.images images each,
// pushed one after the other; every other one (the first, the third …) has
// an image tag, the others none. Each image has a layer of its own: moto's
// digest hashes the layers' digests only.
func (s *seeder) ecrImages(ctx context.Context, _ *network, e estate) (string, error) {
	if e.repositories == 0 {
		return "", nil
	}
	api := ecr.NewFromConfig(s.cfg)
	stamp := time.Now().UnixNano()
	untagged := 0
	for r := range e.repositories {
		repo := fmt.Sprintf("bench-%d-%d", stamp, r)
		if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			return "", fmt.Errorf("create repository: %w", err)
		}
		for i := range e.images {
			layer := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", repo, i)))
			digest := "sha256:" + hex.EncodeToString(layer[:])
			in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(fmt.Sprintf(
				`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
					`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1048576,"digest":"%s"},`+
					`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":1048576,"digest":"%s"}]}`, digest, digest))}
			if i%2 == 0 {
				in.ImageTag = aws.String(fmt.Sprintf("v%d", i))
			} else {
				untagged++
			}
			if _, err := api.PutImage(ctx, in); err != nil {
				return "", fmt.Errorf("put image: %w", err)
			}
		}
	}
	return fmt.Sprintf("%d ECR repositories, %d images (%d untagged)", e.repositories, e.repositories*e.images, untagged), nil
}

// logGroups makes e.logGroups log groups; every other one (the second, the
// fourth …) gets one event, so that it stores bytes, the others none.
func (s *seeder) logGroups(ctx context.Context, _ *network, e estate) (string, error) {
	if e.logGroups == 0 {
		return "", nil
	}
	api := cloudwatchlogs.NewFromConfig(s.cfg)
	prefix := fmt.Sprintf("/bench/%d/", time.Now().UnixNano())
	stored := 0
	for i := range e.logGroups {
		name := aws.String(fmt.Sprintf("%s%d", prefix, i))
		if _, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: name}); err != nil {
			return "", fmt.Errorf("create log group: %w", err)
		}
		if i%2 == 0 {
			continue
		}
		// moto takes only events of its last 14 days, by its clock (which
		// bench/run.sh may have moved): the group's creation time is one.
		g, err := api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: name})
		if err != nil || len(g.LogGroups) == 0 {
			return "", fmt.Errorf("describe log group %s: %v", *name, err)
		}
		stream := aws.String("bench")
		if _, err := api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: name, LogStreamName: stream}); err != nil {
			return "", fmt.Errorf("create log stream: %w", err)
		}
		out, err := api.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: name, LogStreamName: stream,
			LogEvents: []logtypes.InputLogEvent{{Message: aws.String("bench event"), Timestamp: g.LogGroups[0].CreationTime}}})
		if err != nil {
			return "", fmt.Errorf("put log events: %w", err)
		}
		if out.RejectedLogEventsInfo != nil {
			return "", fmt.Errorf("put log events in %s: rejected %+v", *name, *out.RejectedLogEventsInfo)
		}
		stored++
	}
	return fmt.Sprintf("%d log groups (%d storing bytes)", e.logGroups, stored), nil
}

// bucket makes the bucket an ensure rule names, as it is before broom
// converges it (no versioning, no encryption set).
func (s *seeder) bucket(ctx context.Context, _ *network, e estate) (string, error) {
	if e.bucket == "" {
		return "", nil
	}
	api := s3.NewFromConfig(s.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	in := &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}
	if s.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s.region)}
	}
	if _, err := api.CreateBucket(ctx, in); err != nil {
		return "", fmt.Errorf("create bucket: %w", err)
	}
	return "bucket " + e.bucket, nil
}
