package resource

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/plan"
)

// iamRun is one scenario of TestIAMCoversCalls: a kind that reaches moto
// through a recorder, and the calls it made, split by phase.
type iamRun struct {
	t      *testing.T
	rec    *awstest.Recorder
	direct aws.Config // straight to moto, unrecorded: for seeding
	k      Kind
	// planCalls are made by List and Ensure (what broom plan runs);
	// applyCalls by Get and Do (what apply adds).
	planCalls, applyCalls []awstest.Call
}

// plan runs fn and files its calls under planning.
func (r *iamRun) plan(fn func()) { r.planCalls = append(r.planCalls, r.record(fn)...) }

// apply runs fn and files its calls under applying.
func (r *iamRun) apply(fn func()) { r.applyCalls = append(r.applyCalls, r.record(fn)...) }

func (r *iamRun) record(fn func()) []awstest.Call {
	r.rec.Reset()
	fn()
	return r.rec.Calls()
}

func (r *iamRun) list() []plan.Resource {
	r.t.Helper()
	got, err := r.k.List(r.t.Context())
	if err != nil {
		r.t.Fatalf("List: %v", err)
	}
	return got
}

// getAndDo is what the engine does per action: re-read, then act.
func (r *iamRun) getAndDo(a plan.Action) {
	r.t.Helper()
	if _, found, err := r.k.Get(r.t.Context(), a.ID); err != nil || !found {
		r.t.Fatalf("Get(%s): found %v, err %v", a.ID, found, err)
	}
	if err := r.k.Do(r.t.Context(), a); err != nil {
		r.t.Fatalf("Do %s %s: %v", a.Op, a.ID, err)
	}
}

func (r *iamRun) ensure(d Desired) []plan.Action {
	r.t.Helper()
	en, ok := r.k.(Ensurer)
	if !ok {
		r.t.Fatalf("%T is not an Ensurer", r.k)
	}
	as, _, err := en.Ensure(r.t.Context(), d)
	if err != nil {
		r.t.Fatalf("Ensure: %v", err)
	}
	return as
}

func iamRunInstance(t *testing.T, cfg aws.Config, image string) {
	t.Helper()
	_, err := ec2.NewFromConfig(cfg).RunInstances(t.Context(), &ec2.RunInstancesInput{
		ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &types.Placement{AvailabilityZone: aws.String(cfg.Region + "a")},
	})
	if err != nil {
		t.Fatalf("run instance of %s: %v", image, err)
	}
}

func iamLaunchTemplate(t *testing.T, cfg aws.Config, image string) {
	t.Helper()
	_, err := ec2.NewFromConfig(cfg).CreateLaunchTemplate(t.Context(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("iam-test"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("create launch template: %v", err)
	}
}

func iamAllocate(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).AllocateAddress(t.Context(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatalf("allocate address: %v", err)
	}
	return aws.ToString(out.AllocationId)
}

// iamActionsIn returns the IAM actions a policy allows, each with the
// resources of the statements that allow it.
func iamActionsIn(doc PolicyDocument) map[string][]string {
	out := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			out[a] = append(out[a], s.Resource...)
		}
	}
	return out
}

// iamCheckCovered fails for each recorded call whose IAM actions doc does not
// allow.
func iamCheckCovered(t *testing.T, phase string, calls []awstest.Call, doc PolicyDocument, bucket string) map[string]bool {
	t.Helper()
	allowed := iamActionsIn(doc)
	seen := map[string]bool{}
	for _, c := range calls {
		op := c.Service + ":" + c.Op
		actions := iamActions(op)
		for _, a := range actions {
			seen[a] = true
			resources, ok := allowed[a]
			switch {
			case !ok:
				t.Errorf("%s called %s, which needs %s: the policy does not allow it", phase, op, a)
			case c.Service == "s3" && !slices.Contains(resources, "arn:aws:s3:::"+bucket):
				t.Errorf("%s called %s on bucket %s, but %s is allowed only on %v", phase, op, bucket, a, resources)
			}
		}
	}
	return seen
}

// TestIAMCoversCalls runs every kind and action, with each option that
// changes what it calls, against moto through a recorder, and checks the
// policy for a config with just that rule: every call planning makes is in
// the plan-only policy, every call applying adds is in the full policy, a
// call is checked under its own name unless the kind's Spec.IAMNames maps
// it, and the policy allows nothing the kind never called.
func TestIAMCoversCalls(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const (
		region = "us-east-1"
		bucket = "acme-iam-test"
	)
	settings := map[string]string{"versioning": "true", "block-public-access": "true", "encryption": "AES256"}

	// seedSnapshot makes a volume, a snapshot of it and an AMI (which
	// ebs-snapshot reads to find the snapshots behind AMIs).
	seedSnapshot := func(r *iamRun) string {
		vol := awstest.CreateVolume(r.t, r.direct, 8, region+"a")
		awstest.RegisterImage(r.t, r.direct, "base", nil)
		return awstest.CreateSnapshot(r.t, r.direct, vol, map[string]string{"Environment": "ci"})
	}
	// seedImage makes an unused AMI, and others used by an instance and by
	// a launch template, so that every call that finds users is made.
	seedImage := func(r *iamRun) string {
		used, _ := awstest.RegisterImage(r.t, r.direct, "used", nil)
		templated, _ := awstest.RegisterImage(r.t, r.direct, "templated", nil)
		iamRunInstance(r.t, r.direct, used)
		iamLaunchTemplate(r.t, r.direct, templated)
		id, _ := awstest.RegisterImage(r.t, r.direct, "stale", nil)
		return id
	}
	// seedInstances runs an instance and stops another, whose volumes
	// planning reads for the saving.
	seedInstances := func(r *iamRun) (running, stopped string) {
		image, _ := awstest.RegisterImage(r.t, r.direct, "for-instances", nil)
		running = awstest.RunInstanceOf(r.t, r.direct, awstest.Instance{Image: image})
		stopped = awstest.RunInstanceOf(r.t, r.direct, awstest.Instance{Image: image})
		awstest.StopInstance(r.t, r.direct, stopped)
		return running, stopped
	}
	// ensureBucket runs an ensure as the engine does: plan is Ensure, then
	// (when it plans anything) Get, for protect; apply is Get, then Do.
	ensureBucket := func(r *iamRun, want map[string]string) {
		d := Desired{Name: bucket, Settings: want, Tags: map[string]string{"Owner": "platform-team"}}
		planned := func() []plan.Action {
			var as []plan.Action
			r.plan(func() {
				if as = r.ensure(d); len(as) > 0 {
					if _, _, err := r.k.Get(r.t.Context(), bucket); err != nil {
						r.t.Fatalf("Get: %v", err)
					}
				}
			})
			return as
		}
		applied := func(a plan.Action) {
			r.apply(func() {
				if _, _, err := r.k.Get(r.t.Context(), bucket); err != nil {
					r.t.Fatalf("Get: %v", err)
				}
				if err := r.k.Do(r.t.Context(), a); err != nil {
					r.t.Fatalf("Do %s: %v", a.Op, err)
				}
			})
		}
		create := planned()
		if len(create) != 1 || create[0].Op != plan.Create {
			r.t.Fatalf("Ensure on a missing bucket = %+v, want one create", create)
		}
		applied(create[0])
		if got := planned(); len(got) != 0 {
			r.t.Errorf("Ensure after create = %+v, want none", got)
		}
		if want["versioning"] != "true" {
			return
		}
		// Drift in a setting: one update (which stamps broom:change).
		s3c := s3.NewFromConfig(r.direct)
		if _, err := s3c.PutBucketVersioning(r.t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
			r.t.Fatal(err)
		}
		update := planned()
		if len(update) != 1 {
			r.t.Fatalf("Ensure after versioning drifted = %+v, want one update", update)
		}
		applied(update[0])
	}

	scenarios := map[string]struct {
		use    Use
		region string
		run    func(r *iamRun)
	}{
		"ebs-snapshot delete": {use: Use{Kind: "ebs-snapshot", Action: "delete"}, run: func(r *iamRun) {
			id := seedSnapshot(r)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ebs-snapshot", ID: id}) })
		}},
		"ebs-snapshot tag": {use: Use{Kind: "ebs-snapshot", Action: "tag", TagKeys: []string{"Team"}}, run: func(r *iamRun) {
			id := seedSnapshot(r)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "ebs-snapshot", ID: id, Change: map[string]string{"Team": "data"}})
			})
		}},
		"ebs-volume delete": {use: Use{Kind: "ebs-volume", Action: "delete"}, run: func(r *iamRun) {
			id := awstest.CreateVolume(r.t, r.direct, 4, region+"a")
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: id}) })
		}},
		"ebs-volume delete with snapshot-first": {use: Use{Kind: "ebs-volume", Action: "delete", With: []string{"snapshot-first"}}, run: func(r *iamRun) {
			id := awstest.CreateVolume(r.t, r.direct, 4, region+"a")
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ebs-volume", ID: id, Change: map[string]string{"snapshot-first": "true"}})
			})
		}},
		"ebs-volume tag": {use: Use{Kind: "ebs-volume", Action: "tag", TagKeys: []string{"Owner"}}, run: func(r *iamRun) {
			id := awstest.CreateVolume(r.t, r.direct, 4, region+"a")
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "ebs-volume", ID: id, Change: map[string]string{"Owner": "platform-team"}})
			})
		}},
		"ebs-volume update": {use: Use{Kind: "ebs-volume", Action: "update"}, run: func(r *iamRun) {
			id := awstest.CreateVolume(r.t, r.direct, 4, region+"a") // gp2
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Update, Kind: "ebs-volume", ID: id, Change: map[string]string{"type": "gp3", "iops": "3000", "throughput": "128"}})
			})
		}},
		"ami delete": {use: Use{Kind: "ami", Action: "delete"}, run: func(r *iamRun) {
			id := seedImage(r)
			var listed []plan.Resource
			r.plan(func() { listed = r.list() })
			var change map[string]string // the snapshots deleted with it, as planned
			for _, l := range listed {
				if l.ID == id {
					change = l.DeleteChange
				}
			}
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ami", ID: id, Change: change}) })
		}},
		"ami tag": {use: Use{Kind: "ami", Action: "tag", TagKeys: []string{"Owner"}}, run: func(r *iamRun) {
			id := seedImage(r)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "ami", ID: id, Change: map[string]string{"Owner": "platform-team"}})
			})
		}},
		"elastic-ip delete": {use: Use{Kind: "elastic-ip", Action: "delete"}, run: func(r *iamRun) {
			id := iamAllocate(r.t, r.direct)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "elastic-ip", ID: id}) })
		}},
		"elastic-ip tag": {use: Use{Kind: "elastic-ip", Action: "tag", TagKeys: []string{"Owner"}}, run: func(r *iamRun) {
			id := iamAllocate(r.t, r.direct)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "elastic-ip", ID: id, Change: map[string]string{"Owner": "platform-team"}})
			})
		}},
		"nat-gateway delete": {use: Use{Kind: "nat-gateway", Action: "delete"}, run: func(r *iamRun) {
			_, subnet := awstest.CreateVPC(r.t, r.direct)
			id := awstest.CreateNATGateway(r.t, r.direct, subnet, awstest.AllocateAddress(r.t, r.direct), nil)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "nat-gateway", ID: id}) })
		}},
		"security-group delete": {use: Use{Kind: "security-group", Action: "delete"}, run: func(r *iamRun) {
			id := awstest.CreateSecurityGroup(r.t, r.direct, "idle", nil)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "security-group", ID: id}) })
		}},
		"rds-snapshot delete": {use: Use{Kind: "rds-snapshot", Action: "delete"}, run: func(r *iamRun) {
			awstest.CreateDBInstance(r.t, r.direct, "orders", 20)
			awstest.CreateDBSnapshot(r.t, r.direct, "orders", "iam-test", nil)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "rds-snapshot", ID: "iam-test"}) })
		}},
		"rds-snapshot tag": {use: Use{Kind: "rds-snapshot", Action: "tag", TagKeys: []string{"Owner"}}, run: func(r *iamRun) {
			awstest.CreateDBInstance(r.t, r.direct, "orders", 20)
			awstest.CreateDBSnapshot(r.t, r.direct, "orders", "iam-test", nil)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "rds-snapshot", ID: "iam-test", Change: map[string]string{"Owner": "platform-team"}})
			})
		}},
		"network-interface delete": {use: Use{Kind: "network-interface", Action: "delete"}, run: func(r *iamRun) {
			id := awstest.CreateNetworkInterface(r.t, r.direct, awstest.DefaultSubnet(r.t, r.direct), "idle", nil)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "network-interface", ID: id}) })
		}},
		"ec2-instance stop": {use: Use{Kind: "ec2-instance", Action: "stop"}, run: func(r *iamRun) {
			running, _ := seedInstances(r)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Update, Kind: "ec2-instance", ID: running, Change: map[string]string{"state": "stopped"}})
			})
		}},
		"ec2-instance delete": {use: Use{Kind: "ec2-instance", Action: "delete"}, run: func(r *iamRun) {
			_, stopped := seedInstances(r)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ec2-instance", ID: stopped}) })
		}},
		"ec2-instance tag": {use: Use{Kind: "ec2-instance", Action: "tag", TagKeys: []string{"Owner"}}, run: func(r *iamRun) {
			running, _ := seedInstances(r)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Tag, Kind: "ec2-instance", ID: running, Change: map[string]string{"Owner": "platform-team"}})
			})
		}},
		"load-balancer delete": {use: Use{Kind: "load-balancer", Action: "delete"}, run: func(r *iamRun) {
			// A listener to an empty target group: every read is made.
			n := awstest.CreateLBNetwork(r.t, r.direct)
			id := awstest.CreateLoadBalancer(r.t, r.direct, n, "idle", "application", nil)
			awstest.CreateListener(r.t, r.direct, id, awstest.CreateTargetGroup(r.t, r.direct, n, "empty", "HTTP"), "HTTP")
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "load-balancer", ID: id}) })
		}},
		"ecr-image delete": {use: Use{Kind: "ecr-image", Action: "delete"}, run: func(r *iamRun) {
			awstest.CreateRepository(r.t, r.direct, "ci-app", map[string]string{"Team": "ci"})
			id := awstest.PushImage(r.t, r.direct, "ci-app", "", "iam", 1<<20)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: id}) })
		}},
		"log-group delete": {use: Use{Kind: "log-group", Action: "delete"}, run: func(r *iamRun) {
			awstest.CreateLogGroup(r.t, r.direct, "/iam/test", nil)
			r.plan(func() { r.list() })
			r.apply(func() { r.getAndDo(plan.Action{Op: plan.Delete, Kind: "log-group", ID: "/iam/test"}) })
		}},
		"log-group update": {use: Use{Kind: "log-group", Action: "update"}, run: func(r *iamRun) {
			awstest.CreateLogGroup(r.t, r.direct, "/iam/retention", nil)
			r.plan(func() { r.list() })
			r.apply(func() {
				r.getAndDo(plan.Action{Op: plan.Update, Kind: "log-group", ID: "/iam/retention", Change: map[string]string{"retention-days": "30"}})
			})
		}},
		"s3-bucket ensure with every setting": {
			use:    Use{Kind: "s3-bucket", Action: "ensure", Bucket: bucket, With: slices.Sorted(maps.Keys(settings))},
			region: "eu-west-1",
			run:    func(r *iamRun) { ensureBucket(r, settings) },
		},
		"s3-bucket ensure with versioning only": {
			use:    Use{Kind: "s3-bucket", Action: "ensure", Bucket: bucket, With: []string{"versioning"}},
			region: "us-east-1",
			run:    func(r *iamRun) { ensureBucket(r, map[string]string{"versioning": "true"}) },
		},
		"s3-bucket ensure with no settings": {
			use:    Use{Kind: "s3-bucket", Action: "ensure", Bucket: bucket},
			region: "eu-west-1",
			run:    func(r *iamRun) { ensureBucket(r, nil) },
		},
	}

	covered := map[string]bool{} // kind/action pairs the scenarios ran
	for _, name := range slices.Sorted(maps.Keys(scenarios)) {
		sc := scenarios[name]
		covered[sc.use.Kind+"/"+sc.use.Action] = true
		t.Run(name, func(t *testing.T) {
			m.Reset()
			reg := region
			if sc.region != "" {
				reg = sc.region
			}
			cfg, rec := m.Recorded(t, reg)
			spec, err := Lookup(sc.use.Kind)
			if err != nil {
				t.Fatal(err)
			}
			r := &iamRun{t: t, rec: rec, direct: m.Config(t, reg),
				k: spec.New(Env{AWS: cfg, Tags: map[string]string{"ManagedBy": "broom"}, Change: "https://github.com/acme/infra/pull/9", Actions: []string{sc.use.Action}})}
			sc.run(r)

			planDoc, err := Policy([]Use{sc.use}, PolicyOptions{PlanOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			fullDoc, err := Policy([]Use{sc.use}, PolicyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			seenPlan := iamCheckCovered(t, "planning", r.planCalls, planDoc, bucket)
			seenAll := iamCheckCovered(t, "applying", r.applyCalls, fullDoc, bucket)
			maps.Copy(seenAll, seenPlan)

			// Least privilege: what the policy allows was needed. (Checking
			// who broom is, and the account's alias, goes through package
			// cloud, not the kinds.)
			unused := func(doc PolicyDocument, seen map[string]bool) []string {
				var out []string
				for a := range iamActionsIn(doc) {
					if !seen[a] && !slices.Contains(identityActions, a) {
						out = append(out, a)
					}
				}
				slices.Sort(out)
				return out
			}
			if got := unused(planDoc, seenPlan); len(got) > 0 {
				t.Errorf("the plan-only policy allows %v, which planning never called", got)
			}
			if got := unused(fullDoc, seenAll); len(got) > 0 {
				t.Errorf("the policy allows %v, which neither planning nor applying called", got)
			}
		})
	}

	// Every kind and action of the registry has a scenario.
	for kind, actions := range Catalog() {
		for action := range actions {
			if !covered[kind+"/"+action] {
				t.Errorf("no scenario runs %s %s: add one, so its IAM grants are checked", kind, action)
			}
		}
	}
}

// iamSpecUses are the rules of SPEC §3's example config.
var iamSpecUses = []Use{
	{Kind: "ebs-snapshot", Action: "delete"},
	{Kind: "ebs-volume", Action: "delete"},
	{Kind: "ami", Action: "delete"},
	{Kind: "elastic-ip", Action: "delete"},
	{Kind: "s3-bucket", Action: "ensure", Bucket: "acme-ci-artifacts", With: []string{"block-public-access", "encryption", "versioning"}},
	{Kind: "ebs-volume", Action: "tag", TagKeys: []string{"Owner"}},
}

func iamJSON(t *testing.T, doc PolicyDocument) string {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPolicyIsDeterministic(t *testing.T) {
	t.Parallel()
	want, err := Policy(iamSpecUses, PolicyOptions{Roles: []string{"arn:aws:iam::2:role/b", "arn:aws:iam::1:role/a"}})
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(iamSpecUses)
	slices.Reverse(reversed)
	for range 5 {
		got, err := Policy(reversed, PolicyOptions{Roles: []string{"arn:aws:iam::1:role/a", "arn:aws:iam::2:role/b"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(iamJSON(t, want), iamJSON(t, got)); diff != "" {
			t.Fatalf("policy depends on the order of rules and roles (-first +again):\n%s", diff)
		}
	}
}

func TestPolicyStatements(t *testing.T) {
	t.Parallel()
	doc, err := Policy(iamSpecUses, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version = %q", doc.Version)
	}
	sid := regexp.MustCompile(`^[A-Za-z0-9]+$`) // what IAM accepts in a Sid
	var sids []string
	for _, s := range doc.Statement {
		sids = append(sids, s.Sid)
		if !sid.MatchString(s.Sid) {
			t.Errorf("Sid %q is not alphanumeric", s.Sid)
		}
		if s.Effect != "Allow" || len(s.Action) == 0 || len(s.Resource) == 0 {
			t.Errorf("statement %s = %+v; want Allow with actions and resources", s.Sid, s)
		}
		if !slices.IsSorted(s.Action) || !slices.IsSorted(s.Resource) {
			t.Errorf("statement %s: actions %v or resources %v not sorted", s.Sid, s.Action, s.Resource)
		}
		for _, a := range s.Action {
			// Only EC2's Describe calls and the identity actions need every resource.
			if slices.Contains(s.Resource, "*") && !strings.HasPrefix(a, "ec2:Describe") && !slices.Contains(identityActions, a) {
				t.Errorf("statement %s allows %s on every resource", s.Sid, a)
			}
			if strings.HasPrefix(a, "s3:") && !slices.Equal(s.Resource, []string{"arn:aws:s3:::acme-ci-artifacts"}) {
				t.Errorf("statement %s allows %s on %v, want the bucket only", s.Sid, a, s.Resource)
			}
		}
	}
	if !slices.IsSorted(sids) || len(slices.Compact(slices.Clone(sids))) != len(sids) {
		t.Errorf("Sids %v are not sorted and unique", sids)
	}
	var tag Statement
	for _, s := range doc.Statement {
		if s.Sid == "TagVolumes" {
			tag = s
		}
	}
	wantTag := Statement{Sid: "TagVolumes", Effect: "Allow", Action: Values{"ec2:CreateTags"}, Resource: Values{arnVolume},
		Condition: Condition{
			"Null":                      {"aws:RequestTag/broom:change": {"false"}},
			"ForAllValues:StringEquals": {"aws:TagKeys": {"Owner", "broom:change"}},
		}}
	if diff := cmp.Diff(wantTag, tag); diff != "" {
		t.Errorf("tag statement (-want +got):\n%s", diff)
	}
}

func TestPolicyOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		uses []Use
		opts PolicyOptions
		want map[string][]string // Sid → actions
	}{
		"no rules: only who broom is, and the account's alias": {
			want: map[string][]string{"Identity": {"iam:ListAccountAliases", "sts:GetCallerIdentity"}},
		},
		"accounts: assume each role": {
			opts: PolicyOptions{Roles: []string{"arn:aws:iam::222222222222:role/broom", "arn:aws:iam::111111111111:role/broom"}},
			want: map[string][]string{"Identity": {"iam:ListAccountAliases", "sts:GetCallerIdentity"}, "AssumeAccountRoles": {"sts:AssumeRole"}},
		},
		"plan-only leaves out every write": {
			uses: iamSpecUses,
			opts: PolicyOptions{PlanOnly: true},
			want: map[string][]string{
				"Identity":                  {"iam:ListAccountAliases", "sts:GetCallerIdentity"},
				"ReadBucketAcmeCiArtifacts": {"s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListBucket"},
				"ReadEC2": {"ec2:DescribeAddresses", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions",
					"ec2:DescribeLaunchTemplates", "ec2:DescribeSnapshots", "ec2:DescribeVolumes"},
			},
		},
		"snapshot-first adds a tagged CreateSnapshot": {
			uses: []Use{{Kind: "ebs-volume", Action: "delete", With: []string{"snapshot-first"}}},
			want: map[string][]string{
				"Identity":                 {"iam:ListAccountAliases", "sts:GetCallerIdentity"},
				"ReadEC2":                  {"ec2:DescribeSnapshots", "ec2:DescribeVolumes"},
				"DeleteVolumes":            {"ec2:DeleteVolume"},
				"SnapshotFirstOfVolumes":   {"ec2:CreateSnapshot"},
				"SnapshotFirstTagged":      {"ec2:CreateSnapshot"},
				"SnapshotFirstTagOnCreate": {"ec2:CreateTags"},
			},
		},
		"two buckets get a statement each": {
			uses: []Use{
				{Kind: "s3-bucket", Action: "ensure", Bucket: "logs.example.com"},
				{Kind: "s3-bucket", Action: "ensure", Bucket: "acme-ci", With: []string{"versioning"}},
			},
			opts: PolicyOptions{PlanOnly: true},
			want: map[string][]string{
				"Identity":         {"iam:ListAccountAliases", "sts:GetCallerIdentity"},
				"ReadBucketAcmeCi": {"s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:ListBucket"},
				// No setting to converge: planning never reads its tags.
				"ReadBucketLogsExampleCom": {"s3:ListBucket"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := Policy(tc.uses, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, s := range doc.Statement {
				got[s.Sid] = s.Action
				if tc.opts.PlanOnly {
					for _, a := range s.Action {
						if _, op, _ := strings.Cut(a, ":"); !awstest.IsRead(op) {
							t.Errorf("plan-only statement %s allows %s, not a read", s.Sid, a)
						}
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyAssumesTheConfiguredRoles(t *testing.T) {
	t.Parallel()
	doc, err := Policy(nil, PolicyOptions{Roles: []string{"arn:aws:iam::222222222222:role/broom", "arn:aws:iam::111111111111:role/broom"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"arn:aws:iam::111111111111:role/broom", "arn:aws:iam::222222222222:role/broom"}
	if diff := cmp.Diff(want, doc.Statement[0].Resource); diff != "" || doc.Statement[0].Sid != "AssumeAccountRoles" {
		t.Errorf("first statement %s, resources (-want +got):\n%s", doc.Statement[0].Sid, diff)
	}
}

func TestPolicyJoinsTheTagKeysOfRulesOnOneKind(t *testing.T) {
	t.Parallel()
	doc, err := Policy([]Use{
		{Kind: "ami", Action: "tag", TagKeys: []string{"Team"}},
		{Kind: "ami", Action: "tag", TagKeys: []string{"Owner", "Team"}},
	}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Statement {
		if s.Sid == "TagImages" {
			if diff := cmp.Diff(Values{"Owner", "Team", "broom:change"}, s.Condition["ForAllValues:StringEquals"]["aws:TagKeys"]); diff != "" {
				t.Errorf("tag keys (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Fatalf("no TagImages statement in %+v", doc.Statement)
}

func TestPolicyRejectsWhatNoKindDoes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		use  Use
		want string
	}{
		"unknown kind":          {use: Use{Kind: "rds-instance", Action: "delete"}, want: `unknown resource kind "rds-instance"`},
		"action the kind lacks": {use: Use{Kind: "s3-bucket", Action: "delete"}, want: `resource kind s3-bucket has no action "delete"`},
		"ensure without bucket": {use: Use{Kind: "s3-bucket", Action: "ensure"}, want: "s3-bucket ensure names no bucket"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Policy([]Use{tc.use}, PolicyOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Policy error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestEveryActionHasIAM keeps the registry's IAM in step with its actions,
// and the options IAM knows with those the actions accept.
func TestEveryActionHasIAM(t *testing.T) {
	t.Parallel()
	settings := []string{"versioning", "block-public-access", "encryption"} // config's bucket settings
	for _, s := range registry {
		if diff := cmp.Diff(slices.Sorted(maps.Keys(s.Actions)), slices.Sorted(maps.Keys(s.IAM))); diff != "" {
			t.Errorf("%s: actions and IAM differ (-actions +IAM):\n%s", s.Name, diff)
		}
		for action, acc := range s.IAM {
			if len(acc.Plan) == 0 || len(acc.Apply) == 0 {
				t.Errorf("%s %s: IAM must say what planning and applying need", s.Name, action)
			}
			for opt := range acc.With {
				if !slices.Contains(s.Actions[action], opt) && !(slices.Contains(s.Actions[action], "settings") && slices.Contains(settings, opt)) {
					t.Errorf("%s %s: IAM for option %q, which the action does not accept", s.Name, action, opt)
				}
			}
		}
	}
}

func TestValuesMarshalOneAsAString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   Values
		want string
	}{
		{Values{"a"}, `"a"`},
		{Values{"a", "b"}, `["a","b"]`},
	} {
		got, err := json.Marshal(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// A delete whose IAM action takes aws:ResourceTag (load-balancer) is
// allowed only on what carries the rule's where-tags, in a statement per
// set of tags; a rule without tags gets the plain grant.
func TestPolicyLimitsDeletesToTheRulesTags(t *testing.T) {
	t.Parallel()
	lb := func(tags map[string]string) Use { return Use{Kind: "load-balancer", Action: "delete", WhereTags: tags} }
	doc, err := Policy([]Use{
		lb(map[string]string{"Environment": "ci", "Team": "*"}),
		lb(map[string]string{"Team": "*", "Environment": "ci"}), // the same set: one statement
		lb(map[string]string{"Environment": "dev"}),
	}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	arns := Values{"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*"}
	del := Values{"elasticloadbalancing:DeleteLoadBalancer"}
	want := []Statement{
		{Sid: "DeleteLoadBalancersTaggedEnvironmentCiTeamAny", Effect: "Allow", Action: del, Resource: arns, Condition: Condition{
			"StringEquals": {"aws:ResourceTag/Environment": {"ci"}},
			"Null":         {"aws:ResourceTag/Team": {"false"}},
		}},
		{Sid: "DeleteLoadBalancersTaggedEnvironmentDev", Effect: "Allow", Action: del, Resource: arns, Condition: Condition{
			"StringEquals": {"aws:ResourceTag/Environment": {"dev"}},
		}},
	}
	var got []Statement
	for _, s := range doc.Statement {
		if strings.HasPrefix(s.Sid, "DeleteLoadBalancers") {
			got = append(got, s)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delete statements (-want +got):\n%s", diff)
	}

	untagged, err := Policy([]Use{lb(nil)}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range untagged.Statement {
		if strings.HasPrefix(s.Sid, "DeleteLoadBalancers") && (s.Sid != "DeleteLoadBalancers" || s.Condition != nil) {
			t.Errorf("a rule without tags: statement %s with condition %v, want DeleteLoadBalancers without one", s.Sid, s.Condition)
		}
	}
}

// Every action that removes or changes a resource (all but tag and ensure)
// is allowed only on resources with the rule's where-tags, and denied on
// resources with a protect tag: what broom decides by tags, IAM enforces
// too, for every kind.
func TestDestructiveGrantsFollowTags(t *testing.T) {
	t.Parallel()
	for kind, actions := range Catalog() {
		for action, accepts := range actions {
			if action == "tag" || action == "ensure" {
				continue
			}
			t.Run(kind+"/"+action, func(t *testing.T) {
				t.Parallel()
				if !slices.Contains(accepts, "tags") {
					t.Fatalf("%s %s does not take a tags filter", kind, action)
				}
				u := Use{Kind: kind, Action: action, WhereTags: map[string]string{"Environment": "ci"}}
				protect := map[string]string{"broom:keep": "*", "DoNotDelete": "yes"}
				doc, err := Policy([]Use{u}, PolicyOptions{ProtectTags: protect})
				if err != nil {
					t.Fatal(err)
				}
				var narrowed []string
				denied := map[string][]string{}
				for _, s := range doc.Statement {
					switch {
					case s.Effect == "Allow" && slices.Equal(s.Condition["StringEquals"]["aws:ResourceTag/Environment"], Values{"ci"}):
						narrowed = append(narrowed, s.Action...)
					case s.Effect == "Deny":
						if !slices.Equal(s.Resource, Values{"*"}) {
							t.Errorf("%s denies on %v, want *", s.Sid, s.Resource)
						}
						for op, keys := range s.Condition {
							for key, v := range keys {
								denied[op+" "+key+"="+strings.Join(v, ",")] = s.Action
							}
						}
					}
				}
				if len(narrowed) == 0 {
					t.Fatalf("no statement allows %s %s only on resources tagged Environment=ci:\n%s", kind, action, iamJSON(t, doc))
				}
				want := map[string][]string{
					"Null aws:ResourceTag/broom:keep=false":        narrowed,
					"StringEquals aws:ResourceTag/DoNotDelete=yes": narrowed,
				}
				if diff := cmp.Diff(want, denied); diff != "" {
					t.Errorf("protect's Deny statements (-want +got):\n%s", diff)
				}

				// A plan-only policy allows no change, so it denies none.
				plan, err := Policy([]Use{u}, PolicyOptions{ProtectTags: protect, PlanOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range plan.Statement {
					if s.Effect != "Allow" {
						t.Errorf("plan-only policy has %s %s", s.Effect, s.Sid)
					}
				}
			})
		}
	}
}

// A where-tag of any value and a kind's own Null condition (ec2-instance:
// no Auto Scaling tag) are both kept in one statement.
func TestWhereTagsJoinAKindsCondition(t *testing.T) {
	t.Parallel()
	doc, err := Policy([]Use{{Kind: "ec2-instance", Action: "stop", WhereTags: map[string]string{"Team": "*"}}}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Statement {
		if !slices.Contains(s.Action, "ec2:StopInstances") {
			continue
		}
		null := s.Condition["Null"]
		if !slices.Equal(null["aws:ResourceTag/Team"], Values{"false"}) || !slices.Equal(null["aws:ResourceTag/aws:autoscaling:groupName"], Values{"true"}) {
			t.Errorf("StopInstances condition %v, want Team present and no Auto Scaling tag", s.Condition)
		}
		return
	}
	t.Fatalf("no statement allows ec2:StopInstances:\n%s", iamJSON(t, doc))
}
