package resource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// TestEC2InstanceMoto checks the ec2-instance kind against one moto, its
// subtests one after the other (they share moto's clock): what it lists,
// each filter and each veto through the engine's plan, and apply.
func TestEC2InstanceMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	t.Run("list", func(t *testing.T) { instTestList(t, m) })
	t.Run("filters", func(t *testing.T) { instTestFilters(t, m) })
	t.Run("vetoes", func(t *testing.T) { instTestVetoes(t, m) })
	t.Run("apply", func(t *testing.T) { instTestApply(t, m) })
	t.Run("do", func(t *testing.T) { instTestDo(t, m) })
}

const instRegion = "us-east-1"

// instSeed is a moto reset for one subtest, with an image to launch.
type instSeed struct {
	m     *awstest.Moto
	cfg   aws.Config
	image string
}

func instStart(t *testing.T, m *awstest.Moto) *instSeed {
	t.Helper()
	m.Reset()
	s := &instSeed{m: m, cfg: m.Config(t, instRegion)}
	s.image, _ = awstest.RegisterImage(t, s.cfg, "for-instances", nil)
	return s
}

// run launches an instance at the clock offset launched ("+0" for now)
// and, when stopped is not "", stops it at that offset.
func (s *instSeed) run(t *testing.T, in awstest.Instance, launched, stopped string) string {
	t.Helper()
	in.Image = s.image
	s.m.SetClock(launched)
	id := awstest.RunInstanceOf(t, s.cfg, in)
	if stopped != "" {
		s.m.SetClock(stopped)
		awstest.StopInstance(t, s.cfg, id)
	}
	s.m.SetClock("+0")
	return id
}

func (s *instSeed) kind(t *testing.T, narrow resource.Narrow) resource.Kind {
	t.Helper()
	spec, err := resource.Lookup("ec2-instance")
	if err != nil {
		t.Fatal(err)
	}
	return spec.New(resource.Env{AWS: s.cfg, Account: awstest.AccountID, Change: "local", Narrow: narrow})
}

// engine is an engine on s's moto, through a recorder.
func (s *instSeed) engine(t *testing.T) (*engine.Engine, *awstest.Recorder) {
	t.Helper()
	rc, rec := s.m.Recorded(t, instRegion)
	load := func(context.Context, string, string) (aws.Config, error) { return rc.Copy(), nil }
	return engine.New(slog.New(slog.DiscardHandler), load, engine.WithChangeRef("https://github.com/acme/infra/pull/14")), rec
}

// instConfig is a config with rules (YAML list items) and broom:keep as
// protect's tag.
func instConfig(t *testing.T, rules string) config.Config {
	t.Helper()
	text := "version: 1\nregions: [" + instRegion + "]\nprotect:\n  tags: {\"broom:keep\": \"*\"}\nrules:\n" + rules
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatalf("parse config:\n%v\n%s", err, text)
	}
	return config.Config{File: f}
}

// planned plans cfg and returns what it does by id ("update state=stopped",
// "delete", "tag Owner=…") and what it leaves alone, by id, with the
// reason. A plan makes no mutating call.
func instPlan(t *testing.T, s *instSeed, cfg config.Config) (acts, left map[string]string) {
	t.Helper()
	e, rec := s.engine(t)
	res, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("plan made mutating calls: %v", got)
	}
	acts, left = map[string]string{}, map[string]string{}
	for _, a := range res.Plan.Actions {
		what := a.Op.String()
		for _, k := range slices.Sorted(maps.Keys(a.Change)) {
			what += " " + k + "=" + a.Change[k]
		}
		acts[a.ID] = what
	}
	for _, a := range res.Protected {
		left[a.ID] = a.Reason
	}
	return acts, left
}

func instTestList(t *testing.T, m *awstest.Moto) {
	s := instStart(t, m)
	running := s.run(t, awstest.Instance{Tags: map[string]string{"Name": "web"}}, "-400d", "")
	stopped := s.run(t, awstest.Instance{Type: types.InstanceTypeM5Large}, "-400d", "-10d")
	gone := s.run(t, awstest.Instance{}, "-400d", "")
	ec2c := ec2.NewFromConfig(s.cfg)
	if _, err := ec2c.TerminateInstances(t.Context(), &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	k := s.kind(t, resource.Narrow{})
	listed, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]plan.Resource{}
	for _, r := range listed {
		byID[r.ID] = r
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values([]string{running, stopped})), slices.Sorted(maps.Keys(byID))); diff != "" {
		t.Errorf("listed (-want +got), want the running and the stopped, not the terminated:\n%s", diff)
	}

	now := time.Now()
	r := byID[running]
	if r.State != "running" || r.Name != "web" || r.InUse != "" {
		t.Errorf("running: state %q, name %q, in use %q", r.State, r.Name, r.InUse)
	}
	awstest.TimeNear(t, "running instance's age (its launch)", r.Created, now.Add(-400*24*time.Hour), time.Hour)
	if want := 0.0104 * 730; math.Abs(r.MonthlyCostUSD-want) > 1e-9 {
		t.Errorf("running t3.micro saves %v a month, want %v (On-Demand × 730 h)", r.MonthlyCostUSD, want)
	}
	if got := r.Vetoes["delete"]; got != "running: stop it first" {
		t.Errorf("running: delete veto %q", got)
	}
	st := byID[stopped]
	if st.State != "stopped" || len(st.Vetoes) != 0 {
		t.Errorf("stopped: state %q, vetoes %v", st.State, st.Vetoes)
	}
	awstest.TimeNear(t, "stopped instance's age (since it stopped)", st.Created, now.Add(-10*24*time.Hour), time.Hour)
	// Stopped, its saving is the 8 GiB root volume (gp2 in moto) deleted
	// with it, not its m5.large price.
	if want := 8 * 0.10; math.Abs(st.MonthlyCostUSD-want) > 1e-9 {
		t.Errorf("stopped instance saves %v a month, want %v (its volumes)", st.MonthlyCostUSD, want)
	}

	// Re-reads answer as List; the terminated one is not found.
	for _, id := range []string{running, stopped} {
		got, found, err := k.Get(t.Context(), id)
		if err != nil || !found {
			t.Fatalf("Get(%s): found %v, %v", id, found, err)
		}
		if diff := cmp.Diff(byID[id], got); diff != "" {
			t.Errorf("Get(%s) differs from List (-list +get):\n%s", id, diff)
		}
	}
	if _, found, err := k.Get(t.Context(), gone); err != nil || found {
		t.Errorf("Get(terminated %s): found %v, %v; want not found", gone, found, err)
	}
	many, err := k.(resource.Rereader).GetMany(t.Context(), []string{running, stopped, gone, "i-0123456789abcdef0"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byID, many); diff != "" {
		t.Errorf("GetMany (-list +got):\n%s", diff)
	}

	// The state every rule asks for is filtered server-side.
	rk := s.kind(t, resource.Narrow{State: "stopped"})
	only, err := rk.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 1 || only[0].ID != stopped {
		t.Errorf("List narrowed to stopped = %v, want %s alone", only, stopped)
	}
}

func instTestFilters(t *testing.T, m *awstest.Moto) {
	s := instStart(t, m)
	oldRunning := s.run(t, awstest.Instance{Tags: map[string]string{"Environment": "ci"}}, "-400d", "")
	newRunning := s.run(t, awstest.Instance{Tags: map[string]string{"Environment": "ci"}}, "+0", "")
	otherEnv := s.run(t, awstest.Instance{Tags: map[string]string{"Environment": "prod", "Owner": "a"}}, "-400d", "")
	// Launched long ago both; one stopped long ago, one lately: a stopped
	// instance's age is since it stopped.
	stoppedLongAgo := s.run(t, awstest.Instance{Tags: map[string]string{"Environment": "ci"}}, "-400d", "-100d")
	stoppedLately := s.run(t, awstest.Instance{Tags: map[string]string{"Environment": "ci"}}, "-400d", "-5d")

	tests := map[string]struct {
		rules string
		want  map[string]string
	}{
		"state running": {
			rules: "  - {name: r, resource: ec2-instance, action: stop, where: {state: running}}\n",
			want:  map[string]string{oldRunning: "update state=stopped", newRunning: "update state=stopped", otherEnv: "update state=stopped"},
		},
		"state stopped": {
			rules: "  - {name: r, resource: ec2-instance, action: delete, where: {state: stopped}}\n",
			want:  map[string]string{stoppedLongAgo: "delete", stoppedLately: "delete"},
		},
		"older-than, since launch when running": {
			rules: "  - {name: r, resource: ec2-instance, action: stop, where: {older-than: 30d}}\n",
			want:  map[string]string{oldRunning: "update state=stopped", otherEnv: "update state=stopped"},
		},
		"older-than, since it stopped when stopped": {
			rules: "  - {name: r, resource: ec2-instance, action: delete, where: {state: stopped, older-than: 30d}}\n",
			want:  map[string]string{stoppedLongAgo: "delete"},
		},
		"tags": {
			rules: "  - {name: r, resource: ec2-instance, action: stop, where: {tags: {Environment: prod}}}\n",
			want:  map[string]string{otherEnv: "update state=stopped"},
		},
		// Rules that ask for different states list both: policy keeps
		// each rule to its own (else the running would be left alone
		// by the delete rule, "running: stop it first").
		"each rule its own state": {
			rules: "  - {name: a, resource: ec2-instance, action: stop, where: {state: running, tags: {Environment: prod}}}\n" +
				"  - {name: b, resource: ec2-instance, action: delete, where: {state: stopped}}\n",
			want: map[string]string{otherEnv: "update state=stopped", stoppedLongAgo: "delete", stoppedLately: "delete"},
		},
		"missing-tags": {
			rules: "  - {name: r, resource: ec2-instance, action: tag, where: {state: running, missing-tags: [Owner]}, set: {Owner: platform}}\n",
			want:  map[string]string{oldRunning: "tag Owner=platform", newRunning: "tag Owner=platform"},
		},
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			acts, left := instPlan(t, s, instConfig(t, tc.rules))
			if diff := cmp.Diff(tc.want, acts); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if len(left) > 0 {
				t.Errorf("left alone %v, want none", left)
			}
		})
	}
}

func instTestVetoes(t *testing.T, m *awstest.Moto) {
	s := instStart(t, m)
	vetoed := map[string]string{}
	veto := func(in awstest.Instance, why string) {
		vetoed[s.run(t, in, "-400d", "")] = why
		vetoed[s.run(t, in, "-400d", "-100d")] = why
	}
	// AWS reserves the aws: tag prefix (only Auto Scaling or ECS set those
	// tags); moto lets RunInstances set them, which is how these are made.
	veto(awstest.Instance{Protected: true}, "in use: termination protection is on")
	veto(awstest.Instance{Tags: map[string]string{"aws:autoscaling:groupName": "web"}}, "in use: member of an Auto Scaling group (tag aws:autoscaling:groupName=web)")
	veto(awstest.Instance{Tags: map[string]string{"eks:cluster-name": "prod"}}, "in use: managed by EKS (tag eks:cluster-name=prod)")
	veto(awstest.Instance{Tags: map[string]string{"eks:nodegroup-name": "ng-1"}}, "in use: managed by EKS (tag eks:nodegroup-name=ng-1)")
	veto(awstest.Instance{Tags: map[string]string{"kubernetes.io/cluster/prod": "owned"}}, "in use: in Kubernetes cluster prod (tag kubernetes.io/cluster/prod)")
	veto(awstest.Instance{Tags: map[string]string{"aws:ecs:cluster-name": "jobs"}}, "in use: managed by ECS (tag aws:ecs:cluster-name=jobs)")
	veto(awstest.Instance{Tags: map[string]string{"AmazonECSManaged": ""}}, "in use: managed by ECS (tag AmazonECSManaged=)")
	veto(awstest.Instance{Spot: true}, "in use: spot instance")
	free := s.run(t, awstest.Instance{}, "-400d", "")
	freeStopped := s.run(t, awstest.Instance{}, "-400d", "-100d")

	// Stop and delete leave every vetoed instance alone with its reason;
	// delete also the running one, which must be stopped first.
	for _, action := range []string{"stop", "delete"} {
		t.Run(action, func(t *testing.T) {
			acts, left := instPlan(t, s, instConfig(t, "  - {name: r, resource: ec2-instance, action: "+action+"}\n"))
			want := map[string]string{freeStopped: "delete"}
			wantLeft := map[string]string{}
			for id, why := range vetoed {
				wantLeft[id] = why
			}
			if action == "stop" {
				want = map[string]string{free: "update state=stopped"}
			} else {
				wantLeft[free] = "running: stop it first"
			}
			if diff := cmp.Diff(want, acts); diff != "" {
				t.Errorf("planned (-want +got):\n%s", diff)
			}
			for id, why := range wantLeft {
				if action == "stop" && vetoedStopped(t, s, id) {
					continue // already stopped: not planned, nor left alone
				}
				if left[id] != why {
					t.Errorf("left alone: %s %q, want %q", id, left[id], why)
				}
			}
		})
	}
	// Tagging is allowed whatever the vetoes (as for other kinds' in use).
	t.Run("tag", func(t *testing.T) {
		acts, left := instPlan(t, s, instConfig(t, "  - {name: r, resource: ec2-instance, action: tag, set: {Owner: platform}}\n"))
		for id := range vetoed {
			if acts[id] != "tag Owner=platform" {
				t.Errorf("tag %s: %q (left alone %q), want tagged", id, acts[id], left[id])
			}
		}
	})
}

func vetoedStopped(t *testing.T, s *instSeed, id string) bool {
	t.Helper()
	return awstest.InstanceState(t, s.cfg, id) == "stopped"
}

func instTestApply(t *testing.T, m *awstest.Moto) {
	s := instStart(t, m)
	toStop := s.run(t, awstest.Instance{}, "-400d", "")
	protectedLater := s.run(t, awstest.Instance{}, "-400d", "")
	toTerminate := s.run(t, awstest.Instance{}, "-400d", "-100d")
	startedLater := s.run(t, awstest.Instance{}, "-400d", "-100d")
	cfg := instConfig(t, "  - {name: stop-old, resource: ec2-instance, action: stop, where: {state: running, older-than: 30d}}\n"+
		"  - {name: terminate-stopped, resource: ec2-instance, action: delete, where: {state: stopped, older-than: 30d}}\n")
	e, rec := s.engine(t)
	first, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(first.Plan.Actions); n != 4 {
		t.Fatalf("plan: %d actions, want 4: %v", n, first.Plan.Actions)
	}

	// Since the plan: termination protection turned on; an instance
	// started again. Apply re-reads both and skips them.
	ec2c := ec2.NewFromConfig(s.cfg)
	if _, err := ec2c.ModifyInstanceAttribute(t.Context(), &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(protectedLater), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec2c.StartInstances(t.Context(), &ec2.StartInstancesInput{InstanceIds: []string{startedLater}}); err != nil {
		t.Fatal(err)
	}
	rec.Reset()
	applied := e.Apply(t.Context(), cfg, first.Plan)
	want := map[string]plan.Status{toStop: plan.Done, toTerminate: plan.Done, protectedLater: plan.Skipped, startedLater: plan.Skipped}
	if diff := cmp.Diff(want, statuses(applied)); diff != "" {
		t.Errorf("apply (-want +got):\n%s\n%v", diff, applied.Actions)
	}
	for id, state := range map[string]string{toStop: "stopped", toTerminate: "terminated", protectedLater: "running", startedLater: "running"} {
		if got := awstest.InstanceState(t, s.cfg, id); got != state {
			t.Errorf("after apply %s is %s, want %s", id, got, state)
		}
	}
	for _, c := range rec.Mutating() {
		if c.Op != "StopInstances" && c.Op != "TerminateInstances" {
			t.Errorf("apply called %s", c.Op)
		}
	}

	// Applying the same plan again: already done, nothing called that
	// changes anything (moto would move a stopped instance's stop time).
	rec.Reset()
	again := e.Apply(t.Context(), cfg, first.Plan)
	for _, id := range []string{toStop, toTerminate} {
		if got := statuses(again)[id]; got != plan.AlreadyDone {
			t.Errorf("second apply %s: %s, want already-done", id, got)
		}
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("second apply made mutating calls: %v", got)
	}
}

func instTestDo(t *testing.T, m *awstest.Moto) {
	s := instStart(t, m)
	stopped := s.run(t, awstest.Instance{}, "+0", "+0")
	k := s.kind(t, resource.Narrow{})
	stop := plan.Action{Op: plan.Update, Kind: "ec2-instance", ID: stopped, Change: map[string]string{"state": "stopped"}}
	if err := k.Do(t.Context(), stop); !errors.Is(err, resource.ErrConverged) {
		t.Errorf("stop a stopped instance: %v, want ErrConverged", err)
	}
	del := plan.Action{Op: plan.Delete, Kind: "ec2-instance", ID: stopped}
	if err := k.Do(t.Context(), del); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if err := k.Do(t.Context(), del); !errors.Is(err, resource.ErrGone) {
		t.Errorf("terminate a terminated instance: %v, want ErrGone", err)
	}
	missing := "i-0123456789abcdef0"
	for _, a := range []plan.Action{{Op: plan.Delete, ID: missing}, {Op: plan.Update, ID: missing, Change: map[string]string{"state": "stopped"}}} {
		if err := k.Do(t.Context(), a); !errors.Is(err, resource.ErrGone) {
			t.Errorf("%s of an unknown instance: %v, want ErrGone", a.Op, err)
		}
	}
	if err := k.Do(t.Context(), plan.Action{Op: plan.Update, ID: stopped, Change: map[string]string{"state": "running"}}); err == nil {
		t.Error("an update to running: no error")
	}
}

// TestEC2InstancePolicy checks that stop and terminate are allowed only
// on instances without the tags of Auto Scaling, EKS and ECS.
func TestEC2InstancePolicy(t *testing.T) {
	t.Parallel()
	for action, sid := range map[string]string{"stop": "StopInstances", "delete": "TerminateInstances"} {
		doc, err := resource.Policy([]resource.Use{{Kind: "ec2-instance", Action: action}}, resource.PolicyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got resource.Statement
		for _, st := range doc.Statement {
			if st.Sid == sid {
				got = st
			}
		}
		want := resource.Statement{Sid: sid, Effect: "Allow", Action: resource.Values{"ec2:" + sid}, Resource: resource.Values{"arn:aws:ec2:*:*:instance/*"},
			Condition: resource.Condition{"Null": {
				"aws:ResourceTag/aws:autoscaling:groupName": {"true"},
				"aws:ResourceTag/eks:cluster-name":          {"true"},
				"aws:ResourceTag/eks:nodegroup-name":        {"true"},
				"aws:ResourceTag/aws:ecs:cluster-name":      {"true"},
				"aws:ResourceTag/AmazonECSManaged":          {"true"},
			}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: statement (-want +got):\n%s", action, diff)
		}
	}
}

// TestEC2InstanceFacts checks what moto cannot make: a scheduled
// instance, AWS's GMT stop time, a stop time the reason does not give, an
// instance type and a region without a price.
func TestEC2InstanceFacts(t *testing.T) {
	t.Parallel()
	launched := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	inst := func(state types.InstanceStateName, reason string, typ types.InstanceType, lifecycle types.InstanceLifecycleType) types.Instance {
		return types.Instance{InstanceId: aws.String("i-1"), InstanceType: typ, LaunchTime: &launched, InstanceLifecycle: lifecycle,
			State: &types.InstanceState{Name: state}, StateTransitionReason: aws.String(reason)}
	}
	tests := map[string]struct {
		inst         types.Instance
		region       string
		created      time.Time
		inUse, price string
		monthly      float64
	}{
		"scheduled is vetoed": {inst: inst("running", "", "t3.micro", types.InstanceLifecycleTypeScheduled), region: "us-east-1",
			created: launched, inUse: "scheduled instance", monthly: 0.0104 * 730},
		"AWS's stop time in GMT": {inst: inst("stopped", "User initiated (2026-11-01 10:00:00 GMT)", "t3.micro", ""), region: "us-east-1",
			created: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
		"no stop time: age unknown": {inst: inst("stopped", "Server.ScheduledStop: Stopped due to scheduled retirement", "t3.micro", ""), region: "us-east-1"},
		"a type without a price": {inst: inst("running", "", "x2iedn.32xlarge", ""), region: "us-east-1",
			created: launched, price: "no price listed for x2iedn.32xlarge"},
		"a region without a price uses us-east-1's": {inst: inst("running", "", "m5.large", ""), region: "ap-south-2",
			created: launched, price: "us-east-1 price (none listed for ap-south-2)", monthly: 0.096 * 730},
		"eu-west-1's own price": {inst: inst("running", "", "m5.large", ""), region: "eu-west-1",
			created: launched, monthly: 0.107 * 730},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := resource.InstanceResource(tc.inst, nil, tc.region)
			got := fmt.Sprintf("created %v, in use %q, price %q, monthly %.4f", r.Created, r.InUse, r.Details["price"], r.MonthlyCostUSD)
			want := fmt.Sprintf("created %v, in use %q, price %q, monthly %.4f", tc.created, tc.inUse, tc.price, tc.monthly)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	if !strings.Contains(resource.InstanceResource(inst("running", "", "t3.micro", types.InstanceLifecycleTypeSpot), nil, "us-east-1").InUse, "spot") {
		t.Error("a spot instance is not vetoed")
	}
}

// TestEveryActionIsAnOpOrAMove: the engine makes a rule's action into
// the op of that name, or an update for a move (Spec.Moves); a name that
// is neither would fall to op 0, which is delete.
func TestEveryActionIsAnOpOrAMove(t *testing.T) {
	t.Parallel()
	for kind, actions := range resource.Catalog() {
		spec, err := resource.Lookup(kind)
		if err != nil {
			t.Fatal(err)
		}
		for action := range actions {
			_, err := plan.ParseOp(action)
			_, move := spec.Moves[action]
			if (err == nil) == move && action != "ensure" {
				t.Errorf("%s %s: want an op's name or a move, not both or neither", kind, action)
			}
		}
	}
}
