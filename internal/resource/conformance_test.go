package resource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// The conformance suite runs every registered kind against moto (SPEC §10)
// through the engine, from what the kind's entry in conformances says:
// how to seed its resources, the rules that act on them, and the op the
// plan takes. A registered kind without an entry fails. For each kind:
//
//   - List finds the seeded resources (an ensure kind lists nothing: its
//     rules name what they act on), Get and GetMany re-read them;
//   - a plan acts on Act with the entry's op, leaves the protected (by tag,
//     by id) and vetoed ones out of the plan, lists each as left alone with
//     its reason, and makes no mutating call;
//   - protect by tag and by id, set between plan and apply, skips the
//     action and leaves the resource;
//   - applying does the action; applying the same plan again is already
//     done and mutates nothing, and a new plan has nothing for Act;
//   - the policy for the rules (broom iam-policy) allows every call a plan
//     makes in its plan-only form, every call an apply makes in full, and
//     grants nothing that no call needed;
//   - schema/broom.schema.json lists the kind's actions and, per action,
//     its filters and rule options, as the registry does.

// conformance is what a kind supplies to the suite.
type conformance struct {
	// Seed creates the kind's resources in cfg's account and region, with
	// moto's clock 400 days back (so they are old): Act, which the rules
	// act on; ByTag, which carries the tag broom:keep; ByID, which the
	// config's protect.ids lists; and one resource per veto the kind has.
	Seed func(t *testing.T, cfg aws.Config) conformanceSeed
	// Rules is the config's rules: list for what Seed made, every rule
	// matching Act, ByTag, ByID and the vetoed resources.
	Rules func(s conformanceSeed) string
	// Op is what the plan does to Act.
	Op plan.Op
	// Protect tags id with broom:keep, between plan and apply.
	Protect func(t *testing.T, cfg aws.Config, id string)
}

// conformanceSeed is what a conformance Seed made.
type conformanceSeed struct {
	Act, ByTag, ByID string
	// Vetoed is the resources no rule may act on, by id, with (part of)
	// the reason the plan gives.
	Vetoed map[string]string
}

// keep is the protect tag of the suite's config.
var keep = map[string]string{"broom:keep": "conformance"}

// conformances is every kind's entry, by kind name.
var conformances = map[string]conformance{
	"ebs-snapshot": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			vol := awstest.CreateVolume(t, cfg, 8, cfg.Region+"a")
			_, backing := awstest.RegisterImage(t, cfg, "backed", nil)
			return conformanceSeed{
				Act:    awstest.CreateSnapshot(t, cfg, vol, nil),
				ByTag:  awstest.CreateSnapshot(t, cfg, vol, keep),
				ByID:   awstest.CreateSnapshot(t, cfg, vol, nil),
				Vetoed: map[string]string{backing: "in use"},
			}
		},
		Rules: oneRule("resource: ebs-snapshot\n    action: delete\n    where: {older-than: 30d}"),
		Op:    plan.Delete,
	},
	"ebs-volume": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			image, _ := awstest.RegisterImage(t, cfg, "for-instance", nil)
			inst := awstest.RunInstance(t, cfg, image)
			az := cfg.Region + "a"
			attached := awstest.CreateVolume(t, cfg, 8, az)
			awstest.AttachVolume(t, cfg, attached, inst, "/dev/sdf")
			s := conformanceSeed{
				Act:    awstest.CreateVolume(t, cfg, 8, az),
				ByTag:  awstest.CreateVolume(t, cfg, 8, az),
				ByID:   awstest.CreateVolume(t, cfg, 8, az),
				Vetoed: map[string]string{attached: "attached"},
			}
			awstest.Tag(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: oneRule("resource: ebs-volume\n    action: delete\n    where: {older-than: 14d}"),
		Op:    plan.Delete,
	},
	"ami": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			used, _ := awstest.RegisterImage(t, cfg, "used", nil)
			awstest.RunInstance(t, cfg, used)
			templated, _ := awstest.RegisterImage(t, cfg, "templated", nil)
			awstest.CreateLaunchTemplate(t, cfg, "conformance", templated)
			s := conformanceSeed{Vetoed: map[string]string{used: "used by", templated: "launch template"}}
			s.Act, _ = awstest.RegisterImage(t, cfg, "act", nil)
			s.ByTag, _ = awstest.RegisterImage(t, cfg, "by-tag", nil)
			s.ByID, _ = awstest.RegisterImage(t, cfg, "by-id", nil)
			awstest.Tag(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: oneRule("resource: ami\n    action: delete\n    where: {older-than: 90d}"),
		Op:    plan.Delete,
	},
	"elastic-ip": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			image, _ := awstest.RegisterImage(t, cfg, "for-instance", nil)
			associated := awstest.AllocateAddress(t, cfg)
			awstest.AssociateAddress(t, cfg, associated, awstest.RunInstance(t, cfg, image))
			s := conformanceSeed{
				Act:    awstest.AllocateAddress(t, cfg),
				ByTag:  awstest.AllocateAddress(t, cfg),
				ByID:   awstest.AllocateAddress(t, cfg),
				Vetoed: map[string]string{associated: "associated"},
			}
			awstest.Tag(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: oneRule("resource: elastic-ip\n    action: delete"),
		Op:    plan.Delete,
	},
	// nat-gateway's veto, a state other than available, cannot be seeded:
	// moto makes gateways available at once, and deleted ones are not
	// listed. TestNATGatewayNotAvailable tests it.
	"nat-gateway": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			_, subnet := awstest.CreateVPC(t, cfg)
			gw := func() string { return awstest.CreateNATGateway(t, cfg, subnet, awstest.AllocateAddress(t, cfg), nil) }
			s := conformanceSeed{Act: gw(), ByTag: gw(), ByID: gw()}
			awstest.Tag(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: oneRule("resource: nat-gateway\n    action: delete\n    where: {unused: true, older-than: 30d}"),
		Op:    plan.Delete,
	},
	"security-group": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			return conformanceSeed{
				Act:    awstest.CreateSecurityGroup(t, cfg, "act", nil),
				ByTag:  awstest.CreateSecurityGroup(t, cfg, "by-tag", keep),
				ByID:   awstest.CreateSecurityGroup(t, cfg, "by-id", nil),
				Vetoed: map[string]string{awstest.DefaultSecurityGroup(t, cfg): "default group"},
			}
		},
		Rules: oneRule("resource: security-group\n    action: delete\n    where: {unused: true}"),
		Op:    plan.Delete,
	},
	// moto also makes an automated snapshot of the instance: never listed.
	// moto lets the seed write an aws: tag (AWS Backup's), as AWS would not.
	"rds-snapshot": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			awstest.CreateDBInstance(t, cfg, "conformance-db", 20)
			s := conformanceSeed{Act: "conformance-act", ByTag: "conformance-by-tag", ByID: "conformance-by-id",
				Vetoed: map[string]string{"conformance-shared": "shared with", "conformance-backup": "AWS Backup"}}
			for _, id := range []string{s.Act, s.ByID, "conformance-shared"} {
				awstest.CreateDBSnapshot(t, cfg, "conformance-db", id, nil)
			}
			awstest.CreateDBSnapshot(t, cfg, "conformance-db", s.ByTag, keep)
			awstest.CreateDBSnapshot(t, cfg, "conformance-db", "conformance-backup", map[string]string{"aws:backup:source-resource": "arn:aws:rds:us-east-1:" + awstest.AccountID + ":db:conformance-db"})
			awstest.ShareDBSnapshot(t, cfg, "conformance-shared", "210987654321")
			return s
		},
		Rules:   oneRule("resource: rds-snapshot\n    action: delete\n    where: {older-than: 30d}"),
		Op:      plan.Delete,
		Protect: func(t *testing.T, cfg aws.Config, id string) { awstest.TagDBSnapshot(t, cfg, id, keep) },
	},
	// network-interface: moto cannot make a requester-managed interface or
	// one of another type (TestNetworkInterfaceFacts has AWS's); its NAT
	// gateway's interface is vetoed through the gateway.
	"network-interface": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			subnet := awstest.DefaultSubnet(t, cfg)
			image, _ := awstest.RegisterImage(t, cfg, "for-instance", nil)
			attached := awstest.CreateNetworkInterface(t, cfg, subnet, "attached", nil)
			awstest.AttachNetworkInterface(t, cfg, attached, awstest.RunInstance(t, cfg, image))
			_, nat := awstest.NATGatewayWithInterface(t, cfg, subnet)
			return conformanceSeed{
				Act:    awstest.CreateNetworkInterface(t, cfg, subnet, "act", nil),
				ByTag:  awstest.CreateNetworkInterface(t, cfg, subnet, "by-tag", keep),
				ByID:   awstest.CreateNetworkInterface(t, cfg, subnet, "by-id", nil),
				Vetoed: map[string]string{attached: "attached", nat: "NAT gateway"},
			}
		},
		Rules: oneRule("resource: network-interface\n    action: delete"),
		Op:    plan.Delete,
	},
	// ec2-instance is seen through stop (an update to stopped); its
	// delete and the vetoes' variants are in ec2_instance_test.go.
	"ec2-instance": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			image, _ := awstest.RegisterImage(t, cfg, "for-instances", nil)
			run := func(in awstest.Instance) string { in.Image = image; return awstest.RunInstanceOf(t, cfg, in) }
			return conformanceSeed{
				Act:   run(awstest.Instance{}),
				ByTag: run(awstest.Instance{Tags: keep}),
				ByID:  run(awstest.Instance{}),
				Vetoed: map[string]string{
					run(awstest.Instance{Protected: true}):                                             "termination protection",
					run(awstest.Instance{Tags: map[string]string{"aws:autoscaling:groupName": "web"}}): "Auto Scaling group",
					run(awstest.Instance{Tags: map[string]string{"eks:cluster-name": "prod"}}):         "managed by EKS",
					run(awstest.Instance{Tags: map[string]string{"AmazonECSManaged": ""}}):             "managed by ECS",
					run(awstest.Instance{Spot: true}):                                                  "spot instance",
				},
			}
		},
		Rules: oneRule("resource: ec2-instance\n    action: stop\n    where: {older-than: 30d}"),
		Op:    plan.Update,
	},
	// load-balancer: Act's listener forwards to an empty target group,
	// so that the suite sees every read the kind makes.
	"load-balancer": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			n := awstest.CreateLBNetwork(t, cfg)
			alb := elbtypes.LoadBalancerTypeEnumApplication
			protected := awstest.CreateLoadBalancer(t, cfg, n, "protected", alb, nil)
			awstest.SetDeletionProtection(t, cfg, protected, true)
			s := conformanceSeed{
				Act:    awstest.CreateLoadBalancer(t, cfg, n, "act", alb, nil),
				ByTag:  awstest.CreateLoadBalancer(t, cfg, n, "by-tag", alb, keep),
				ByID:   awstest.CreateLoadBalancer(t, cfg, n, "by-id", alb, nil),
				Vetoed: map[string]string{protected: "deletion protection"},
			}
			awstest.CreateListener(t, cfg, s.Act, awstest.CreateTargetGroup(t, cfg, n, "empty", elbtypes.ProtocolEnumHttp), elbtypes.ProtocolEnumHttp)
			return s
		},
		Rules:   oneRule("resource: load-balancer\n    action: delete\n    where: {unused: true, older-than: 30d}"),
		Op:      plan.Delete,
		Protect: func(t *testing.T, cfg aws.Config, id string) { awstest.TagLoadBalancer(t, cfg, id, keep) },
	},
	// ecr-image: an image carries its repository's tags, so each of Act,
	// ByTag and ByID has a repository of its own; keep-last 1 vetoes the
	// newest of Act's. Pushed at one clock, the two may share a second:
	// ECRImages orders them as the kind does (then by digest).
	"ecr-image": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			awstest.CreateRepository(t, cfg, "conformance-act", nil)
			awstest.CreateRepository(t, cfg, "conformance-keep", keep)
			awstest.CreateRepository(t, cfg, "conformance-by-id", nil)
			awstest.PushImage(t, cfg, "conformance-act", "", "act-1", 1<<20)
			awstest.PushImage(t, cfg, "conformance-act", "latest", "act-2", 1<<20)
			act := awstest.ECRImages(t, cfg, "conformance-act")
			return conformanceSeed{
				Act:    act[1],
				ByTag:  awstest.PushImage(t, cfg, "conformance-keep", "", "by-tag", 1<<20),
				ByID:   awstest.PushImage(t, cfg, "conformance-by-id", "", "by-id", 1<<20),
				Vetoed: map[string]string{act[0]: "one of the 1 newest in conformance-act"},
			}
		},
		Rules: oneRule("resource: ecr-image\n    action: delete\n    where: {older-than: 30d, keep-last: 1}"),
		Op:    plan.Delete,
		Protect: func(t *testing.T, cfg aws.Config, id string) {
			repo, _, _ := strings.Cut(id, "@")
			awstest.TagRepository(t, cfg, repo, keep)
		},
	},
	// log-group: the veto is an AWS-owned prefix the rule does not name;
	// deletion protection, which moto does not know, is in log_group_test.go.
	"log-group": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			s := conformanceSeed{Act: "/conformance/act", ByTag: "/conformance/by-tag", ByID: "/conformance/by-id",
				Vetoed: map[string]string{"/aws/lambda/conformance": "AWS-owned prefix /aws/"}}
			for _, g := range []string{s.Act, s.ByID, "/aws/lambda/conformance"} {
				awstest.CreateLogGroup(t, cfg, g, nil)
			}
			awstest.CreateLogGroup(t, cfg, s.ByTag, keep)
			return s
		},
		Rules:   oneRule("resource: log-group\n    action: delete\n    where: {empty: true, older-than: 30d}"),
		Op:      plan.Delete,
		Protect: func(t *testing.T, cfg aws.Config, id string) { awstest.TagLogGroup(t, cfg, id, keep) },
	},
	// s3-bucket is ensure-only: its rules name their buckets, one each,
	// and one more names a bucket that does not exist, for the plan to
	// create.
	// Its veto, another account's bucket, needs a second account, which
	// one moto server does not have: kmTestS3BucketForeign tests it.
	"s3-bucket": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			s := conformanceSeed{Act: "conformance-act", ByTag: "conformance-by-tag", ByID: "conformance-by-id"}
			for _, b := range []string{s.Act, s.ByTag, s.ByID} {
				createBucket(t, cfg, b)
			}
			awstest.TagBucket(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: func(s conformanceSeed) string {
			var b strings.Builder
			for _, name := range []string{s.Act, s.ByTag, s.ByID, "conformance-new"} {
				b.WriteString("  - name: " + name + "\n    resource: s3-bucket\n    action: ensure\n    bucket: " + name + "\n    settings: {versioning: true}\n")
			}
			return b.String()
		},
		Op:      plan.Update,
		Protect: func(t *testing.T, cfg aws.Config, id string) { awstest.TagBucket(t, cfg, id, keep) },
	},
}

// moreConformances are entries for a kind's further actions, by "kind
// action", run through the same suite as its entry in conformances.
var moreConformances = map[string]conformance{
	// ebs-volume update: gp2 to gp3. Its other veto, a recent
	// modification, needs moto's clock at now when seeding: see
	// TestVolumeUpdateMoto.
	"ebs-volume update": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			az := cfg.Region + "a"
			io1, err := ec2.NewFromConfig(cfg).CreateVolume(t.Context(), &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az),
				Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeIo1, Iops: aws.Int32(5000)})
			if err != nil {
				t.Fatal(err)
			}
			s := conformanceSeed{
				Act:    awstest.CreateVolume(t, cfg, 8, az), // gp2
				ByTag:  awstest.CreateVolume(t, cfg, 8, az),
				ByID:   awstest.CreateVolume(t, cfg, 8, az),
				Vetoed: map[string]string{aws.ToString(io1.VolumeId): "only gp2 volumes"},
			}
			awstest.Tag(t, cfg, s.ByTag, keep)
			return s
		},
		Rules: oneRule("resource: ebs-volume\n    action: update\n    where: {older-than: 14d}\n    set: {type: gp3}"),
		Op:    plan.Update,
	},
	// log-group update: a retention for groups that keep their events
	// forever; the veto is the AWS-owned prefix, as for delete.
	"log-group update": {
		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
			s := conformanceSeed{Act: "/conformance/act", ByTag: "/conformance/by-tag", ByID: "/conformance/by-id",
				Vetoed: map[string]string{"/aws/lambda/conformance": "AWS-owned prefix /aws/"}}
			for _, g := range []string{s.Act, s.ByID, "/aws/lambda/conformance"} {
				awstest.CreateLogGroup(t, cfg, g, nil)
			}
			awstest.CreateLogGroup(t, cfg, s.ByTag, keep)
			return s
		},
		Rules:   oneRule("resource: log-group\n    action: update\n    where: {older-than: 30d}\n    set: {retention-days: 30}"),
		Op:      plan.Update,
		Protect: func(t *testing.T, cfg aws.Config, id string) { awstest.TagLogGroup(t, cfg, id, keep) },
	},
}

// oneRule is Rules for a kind with one rule, given as its YAML after
// "name:", indented for a list item.
func oneRule(rule string) func(conformanceSeed) string {
	return func(conformanceSeed) string { return "  - name: conformance\n    " + rule + "\n" }
}

func createBucket(t *testing.T, cfg aws.Config, name string) {
	t.Helper()
	c := s3.NewFromConfig(cfg)
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// TestConformance runs every registered kind through the suite, one after
// the other on one moto (they share its clock).
func TestConformance(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	for _, kind := range slices.Sorted(maps.Keys(resource.Catalog())) {
		t.Run(kind, func(t *testing.T) {
			c, ok := conformances[kind]
			if !ok {
				t.Fatalf("kind %s has no entry in conformances (conformance_test.go): every kind runs the conformance suite", kind)
			}
			if c.Protect == nil {
				c.Protect = func(t *testing.T, cfg aws.Config, id string) { awstest.Tag(t, cfg, id, keep) }
			}
			conform(t, m, kind, c)
		})
	}
	for _, name := range slices.Sorted(maps.Keys(moreConformances)) {
		kind, action, _ := strings.Cut(name, " ")
		t.Run(name, func(t *testing.T) {
			c := moreConformances[name]
			if spec, err := resource.Lookup(kind); err != nil || spec.Actions[action] == nil {
				t.Fatalf("moreConformances has an entry for %s, which the registry does not know", name)
			}
			if c.Protect == nil {
				c.Protect = func(t *testing.T, cfg aws.Config, id string) { awstest.Tag(t, cfg, id, keep) }
			}
			conform(t, m, kind, c)
		})
	}
	for kind := range conformances {
		if _, err := resource.Lookup(kind); err != nil {
			t.Errorf("conformances has an entry for %s, which is not registered", kind)
		}
	}
}

const (
	cfRegion  = "us-east-1"
	cfAccount = awstest.AccountID
)

// cfRun is one moto state with what the kind's entry seeded, and an engine
// whose calls go through a recorder.
type cfRun struct {
	direct aws.Config // seeds and inspects, unrecorded
	rec    *awstest.Recorder
	e      *engine.Engine
	seed   conformanceSeed
	rules  string
}

func cfStart(t *testing.T, m *awstest.Moto, c conformance) *cfRun {
	t.Helper()
	m.Reset()
	r := &cfRun{direct: m.Config(t, cfRegion)}
	m.SetClock("-400d")
	r.seed = c.Seed(t, r.direct)
	m.SetClock("+0")
	r.rules = c.Rules(r.seed)
	rc, rec := m.Recorded(t, cfRegion)
	r.rec = rec
	load := func(_ context.Context, account, region string) (aws.Config, error) {
		if account != cfAccount || region != cfRegion {
			return aws.Config{}, fmt.Errorf("load: unexpected account %q, region %q", account, region)
		}
		return rc.Copy(), nil
	}
	r.e = engine.New(slog.New(slog.DiscardHandler), load, engine.WithChangeRef("https://github.com/acme/infra/pull/14"))
	return r
}

// config is the suite's config, protecting by tag and the listed ids.
func (r *cfRun) config(t *testing.T, ids ...string) config.Config {
	t.Helper()
	text := "version: 1\nregions: [" + cfRegion + "]\nprotect:\n  tags: {\"broom:keep\": \"*\"}\n  ids: [" + strings.Join(ids, ", ") + "]\nrules:\n" + r.rules
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatalf("parse config:\n%v\n%s", err, text)
	}
	return config.Config{File: f}
}

func (r *cfRun) plan(t *testing.T, cfg config.Config) engine.Result {
	t.Helper()
	res, err := r.e.Plan(t.Context(), cfg, cfAccount)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return res
}

// statuses are an apply's statuses by id.
func statuses(p plan.Plan) map[string]plan.Status {
	out := map[string]plan.Status{}
	for _, a := range p.Actions {
		out[a.ID] = a.Status
	}
	return out
}

func conform(t *testing.T, m *awstest.Moto, kind string, c conformance) {
	spec, err := resource.Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("schema", func(t *testing.T) { cfSchema(t, kind, spec) })

	planCalls, applyCalls := map[string]bool{}, map[string]bool{}
	record := func(into map[string]bool, rec *awstest.Recorder) {
		for _, call := range rec.Calls() {
			into[call.Service+":"+call.Op] = true
		}
		rec.Reset()
	}

	// The kind itself: List and re-read.
	r := cfStart(t, m, c)
	s := r.seed
	seeded := append([]string{s.Act, s.ByTag, s.ByID}, slices.Sorted(maps.Keys(s.Vetoed))...)
	rc := m.Config(t, cfRegion)
	rc.BaseEndpoint = aws.String(r.rec.URL())
	k := spec.New(resource.Env{AWS: rc, Account: cfAccount, Change: "local"})
	listed, err := k.List(t.Context())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if _, ensure := k.(resource.Ensurer); !ensure {
		ids := map[string]bool{}
		for _, res := range listed {
			ids[res.ID] = true
		}
		for _, id := range seeded {
			if !ids[id] {
				t.Errorf("list: %s is missing", id)
			}
		}
	}
	for _, id := range seeded {
		if got, found, err := k.Get(t.Context(), id); err != nil || !found || got.ID != id {
			t.Errorf("get %s: %s, found %v, %v", id, got.ID, found, err)
		}
	}
	if rr, ok := k.(resource.Rereader); ok {
		got, err := rr.GetMany(t.Context(), seeded)
		if err != nil {
			t.Fatalf("get many: %v", err)
		}
		if diff := cmp.Diff(slices.Sorted(slices.Values(seeded)), slices.Sorted(maps.Keys(got))); diff != "" {
			t.Errorf("get many (-want +got):\n%s", diff)
		}
	}
	record(planCalls, r.rec)

	// Plan: Act with the op; the protected and vetoed left out; nothing
	// mutated.
	cfg := r.config(t, s.ByID)
	first := r.plan(t, cfg)
	if got := r.rec.Mutating(); got != nil {
		t.Errorf("plan made mutating calls: %v", got)
	}
	record(planCalls, r.rec)
	ops := map[string]plan.Op{}
	for _, a := range first.Plan.Actions {
		ops[a.ID] = a.Op
	}
	if ops[s.Act] != c.Op {
		t.Errorf("plan: %s %v, want %v (plan %v)", s.Act, ops[s.Act], c.Op, ops)
	}
	for _, id := range seeded[1:] {
		if op, ok := ops[id]; ok {
			t.Errorf("plan: %s %v, want it left alone", id, op)
		}
	}
	left := map[string]string{}
	for _, a := range first.Protected {
		left[a.ID] = a.Reason
	}
	for id, why := range map[string]string{s.ByTag: "protected: tag broom:keep", s.ByID: "protected: id listed in protect.ids"} {
		if !strings.Contains(left[id], why) {
			t.Errorf("left alone: %s %q, want %q", id, left[id], why)
		}
	}
	for id, why := range s.Vetoed {
		if !strings.Contains(left[id], why) {
			t.Errorf("left alone: %s %q, want its reason to say %q", id, left[id], why)
		}
	}

	// Apply, twice.
	applied := r.e.Apply(t.Context(), cfg, first.Plan)
	if got := statuses(applied)[s.Act]; got != plan.Done {
		t.Errorf("apply %s: %s, want done (%v)", s.Act, got, applied.Actions)
	}
	record(applyCalls, r.rec)
	again := r.e.Apply(t.Context(), cfg, first.Plan)
	if got := statuses(again)[s.Act]; got != plan.AlreadyDone {
		t.Errorf("second apply %s: %s, want already-done", s.Act, got)
	}
	if got := r.rec.Mutating(); got != nil {
		t.Errorf("second apply made mutating calls: %v", got)
	}
	record(applyCalls, r.rec)
	next := r.plan(t, cfg)
	for _, a := range next.Plan.Actions {
		if a.ID == s.Act {
			t.Errorf("plan after apply: %s %v, want nothing", a.ID, a.Op)
		}
	}
	record(planCalls, r.rec)

	// Protect, set between plan and apply, by tag and by id.
	for _, by := range []string{"tag", "id"} {
		t.Run("protect by "+by+" at apply", func(t *testing.T) {
			r := cfStart(t, m, c)
			cfg := r.config(t, r.seed.ByID)
			first := r.plan(t, cfg)
			if got := r.rec.Mutating(); got != nil {
				t.Errorf("plan made mutating calls: %v", got)
			}
			record(planCalls, r.rec)
			if by == "tag" {
				c.Protect(t, r.direct, r.seed.Act)
			} else {
				cfg = r.config(t, r.seed.ByID, r.seed.Act)
			}
			// Act's action alone, so that any mutating call is on Act.
			only := first.Plan
			only.Actions = slices.DeleteFunc(slices.Clone(only.Actions), func(a plan.Action) bool { return a.ID != r.seed.Act })
			applied := r.e.Apply(t.Context(), cfg, only)
			if got := statuses(applied)[r.seed.Act]; got != plan.Skipped {
				t.Errorf("apply %s protected by %s since the plan: %s, want skipped", r.seed.Act, by, got)
			}
			if got := r.rec.Mutating(); got != nil {
				t.Errorf("apply of what protect keeps made mutating calls: %v", got)
			}
			record(applyCalls, r.rec)
		})
	}

	t.Run("iam", func(t *testing.T) { cfIAM(t, r.config(t, s.ByID), planCalls, applyCalls) })
}

// cfIAM checks the policy for cfg's rules against the calls the kind made
// (as IAM actions): the plan-only policy allows every call of planning, the
// full policy every call of applying, and every action the policy grants
// beyond the identity ones was needed by some call.
func cfIAM(t *testing.T, cfg config.Config, planCalls, applyCalls map[string]bool) {
	var uses []resource.Use
	for _, r := range cfg.Rules {
		u := resource.Use{Kind: r.Resource, Action: r.Action, Bucket: r.Bucket, With: slices.Sorted(maps.Keys(r.Settings)), TagKeys: slices.Sorted(maps.Keys(r.Set))}
		if r.SnapshotFirst {
			u.With = append(u.With, "snapshot-first")
		}
		uses = append(uses, u)
	}
	granted := func(planOnly bool) map[string]bool {
		doc, err := resource.Policy(uses, resource.PolicyOptions{PlanOnly: planOnly})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range doc.Statement {
			if s.Sid == "Identity" || s.Effect != "Allow" { // the driver's calls, not the kind's
				continue
			}
			for _, a := range s.Action {
				out[a] = true
			}
		}
		return out
	}
	planGrants, allGrants := granted(true), granted(false)
	needed := map[string]bool{}
	check := func(phase string, calls map[string]bool, grants map[string]bool) {
		for _, op := range slices.Sorted(maps.Keys(calls)) {
			for _, a := range resource.IAMActions(op) {
				needed[a] = true
				if !grants[a] {
					t.Errorf("%s called %s, which needs %s: the policy does not allow it", phase, op, a)
				}
			}
		}
	}
	check("planning", planCalls, planGrants)
	check("applying", applyCalls, allGrants)
	for _, a := range slices.Sorted(maps.Keys(allGrants)) {
		if !needed[a] {
			t.Errorf("the policy grants %s, which no call needed", a)
		}
	}
}

// cfSchema checks that schema/broom.schema.json knows the kind as the
// registry does: its actions, and for each its filters (where:) and rule
// options.
func cfSchema(t *testing.T, kind string, spec resource.Spec) {
	data, err := os.ReadFile("../../schema/broom.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			Properties    map[string]json.RawMessage `json:"properties"`
			PropertyNames struct {
				Enum []string `json:"enum"`
			} `json:"propertyNames"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	def, ok := doc.Defs["kind-"+kind]
	if !ok {
		t.Fatalf("the schema has no $defs.kind-%s", kind)
	}
	var action struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(def.Properties["action"], &action); err != nil {
		t.Fatalf("kind-%s.properties.action: %v", kind, err)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(spec.Actions)), slices.Sorted(slices.Values(action.Enum))); diff != "" {
		t.Errorf("schema: actions of %s (-registry +schema):\n%s", kind, diff)
	}
	for name, accepts := range spec.Actions {
		rule, where := doc.Defs["rule-"+kind+"-"+name], doc.Defs["where-"+kind+"-"+name]
		var got []string
		for _, k := range rule.PropertyNames.Enum {
			if !slices.Contains([]string{"name", "resource", "action", "where"}, k) {
				got = append(got, k)
			}
		}
		got = append(got, slices.Collect(maps.Keys(where.Properties))...)
		if diff := cmp.Diff(slices.Sorted(slices.Values(accepts)), slices.Sorted(slices.Values(got))); diff != "" {
			t.Errorf("schema: filters and options of %s %s (-registry +schema):\n%s", kind, name, diff)
		}
	}
}
