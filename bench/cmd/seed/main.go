// Command seed fills moto with the resources the benchmarks plan over, in
// one region, through the SDK: unattached volumes, snapshots of one of
// them, registered images (moto gives each its own root snapshot) and
// Elastic IP addresses; and for the kinds step an estate of every other
// kind (kinds.go): NAT gateways, security groups, network interfaces,
// instances, DB instances with manual snapshots, load balancers, ECR
// images, log groups and a bucket. Their creation time is moto's clock, which
// bench/run.sh moves with libfaketime. It prints what it made and how long
// that took. (The SDK may retry a call whose answer was lost, so moto may
// hold one snapshot more than asked for; see BENCHMARKS.md.) With -roles,
// it makes them in each role's account in turn: moto lands an assumed role
// in the account its ARN names.
//
//	seed -endpoint http://127.0.0.1:PORT -region us-east-1 -volumes 300 -snapshots 1000 -amis 20 -addresses 20
//	seed -endpoint … -roles arn:aws:iam::200000000001:role/broom,arn:aws:iam::200000000002:role/broom -volumes 4
//	seed -endpoint … -nat-gateways 5 -security-groups 20 -interfaces 20 -instances 10 \
//		-db-instances 3 -db-snapshots 10 -load-balancers 5 -repositories 3 -images 6 -log-groups 20 -bucket bench-logs
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"
)

func main() {
	endpoint := flag.String("endpoint", "", "moto's URL (required)")
	region := flag.String("region", "us-east-1", "region to seed")
	volumes := flag.Int("volumes", 0, "unattached volumes to create")
	snapshots := flag.Int("snapshots", 0, "snapshots to create, of a volume made now or earlier")
	amis := flag.Int("amis", 0, "images to register")
	addresses := flag.Int("addresses", 0, "Elastic IP addresses to allocate")
	var e estate
	flag.IntVar(&e.natGateways, "nat-gateways", 0, "NAT gateways to create (each with an address; every other one routed)")
	flag.IntVar(&e.securityGroups, "security-groups", 0, "security groups to create (every fourth referenced by another)")
	flag.IntVar(&e.interfaces, "interfaces", 0, "unattached network interfaces to create (every other one in a seeded group)")
	flag.IntVar(&e.instances, "instances", 0, "instances to run (every other one stopped)")
	flag.IntVar(&e.dbInstances, "db-instances", 0, "DB instances to create")
	flag.IntVar(&e.dbSnapshots, "db-snapshots", 0, "manual DB snapshots to create, of the DB instances in turn")
	flag.IntVar(&e.loadBalancers, "load-balancers", 0, "application load balancers to create (with listeners and target groups)")
	flag.IntVar(&e.repositories, "repositories", 0, "ECR repositories to create")
	flag.IntVar(&e.images, "images", 0, "images to push into each ECR repository (every other one untagged)")
	flag.IntVar(&e.logGroups, "log-groups", 0, "log groups to create (every other one storing an event)")
	flag.StringVar(&e.bucket, "bucket", "", "bucket to create")
	// moto answers one call at a time: 8 in flight made 1,000 snapshots in
	// 19.5 s, 1 in 21 s.
	roles := flag.String("roles", "", "comma-separated role ARNs: seed each one's account in turn (default: the credentials' own)")
	workers := flag.Int("workers", 1, "calls in flight while making volumes, snapshots, images and addresses (the other kinds are made one call at a time)")
	flag.Parse()
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "seed: -endpoint is required")
		os.Exit(2)
	}
	if e.dbSnapshots > 0 && e.dbInstances == 0 {
		fmt.Fprintln(os.Stderr, "seed: -db-snapshots needs -db-instances")
		os.Exit(2)
	}
	if e.images > 0 && e.repositories == 0 {
		fmt.Fprintln(os.Stderr, "seed: -images needs -repositories")
		os.Exit(2)
	}
	for _, role := range strings.Split(*roles, ",") {
		start := time.Now()
		s, err := newSeeder(*endpoint, *region, role, *workers)
		if err == nil {
			err = s.seed(*volumes, *snapshots, *amis, *addresses)
		}
		if err == nil {
			err = s.kinds(context.Background(), e)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "seed %s %s: %v\n", *region, role, err)
			os.Exit(1)
		}
		who := ""
		if role != "" {
			who = " as " + role
		}
		fmt.Printf("seeded %s%s: %d volumes, %d snapshots, %d images, %d addresses in %.1fs\n",
			*region, who, *volumes, *snapshots, *amis, *addresses, time.Since(start).Seconds())
	}
}

type seeder struct {
	cfg     aws.Config
	api     *ec2.Client
	region  string
	workers int
}

func newSeeder(endpoint, region, role string, workers int) (*seeder, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role))
	}
	return &seeder{cfg: cfg, api: ec2.NewFromConfig(cfg), region: region, workers: workers}, nil
}

func (s *seeder) seed(volumes, snapshots, amis, addresses int) error {
	ctx := context.Background()
	var source string
	if volumes == 0 && snapshots > 0 {
		// Snapshot a volume made earlier, else make one (not counted).
		out, err := s.api.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
		if err != nil {
			return fmt.Errorf("describe volumes: %w", err)
		}
		if len(out.Volumes) > 0 {
			source = aws.ToString(out.Volumes[0].VolumeId)
		} else {
			volumes = 1
		}
	}
	err := s.times(volumes, func(i int) error {
		out, err := s.api.CreateVolume(ctx, &ec2.CreateVolumeInput{
			AvailabilityZone: aws.String(s.region + "a"), Size: aws.Int32(8),
		})
		if err == nil && i == 0 {
			source = aws.ToString(out.VolumeId)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	if err := s.times(snapshots, func(int) error {
		// Untagged: moto finds each snapshot's tags by scanning every tag
		// in the region, so listing tagged snapshots takes quadratic time
		// (2,000 took 4 times as long).
		_, err := s.api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(source)})
		return err
	}); err != nil {
		return fmt.Errorf("create snapshot: %w", err)
	}
	stamp := time.Now().UnixNano()
	if err := s.times(amis, func(i int) error {
		_, err := s.api.RegisterImage(ctx, &ec2.RegisterImageInput{
			Name:           aws.String(fmt.Sprintf("bench-%d-%d", stamp, i)),
			Architecture:   types.ArchitectureValuesX8664,
			RootDeviceName: aws.String("/dev/xvda"), VirtualizationType: aws.String("hvm"),
		})
		return err
	}); err != nil {
		return fmt.Errorf("register image: %w", err)
	}
	if err := s.times(addresses, func(int) error {
		_, err := s.api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		return err
	}); err != nil {
		return fmt.Errorf("allocate address: %w", err)
	}
	return nil
}

// times calls f(0) alone, then f(1) … f(n-1) with s.workers in flight.
func (s *seeder) times(n int, f func(i int) error) error {
	if n == 0 {
		return nil
	}
	if err := f(0); err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(s.workers)
	for i := 1; i < n; i++ {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}
