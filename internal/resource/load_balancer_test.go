package resource

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// TestLoadBalancerMoto checks the load-balancer kind against moto: the
// facts each filter and the veto decide on, the calls per balancer, the
// re-read at apply and the delete. One moto, subtests one after the other
// (they share its clock).
func TestLoadBalancerMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	t.Run("list reports use, age, tags, veto and cost, and only reads", func(t *testing.T) { lbTestList(t, m) })
	t.Run("each filter and the veto decide through policy", func(t *testing.T) { lbTestFilters(t, m) })
	t.Run("calls stay near the floor", func(t *testing.T) { lbTestCalls(t, m) })
	t.Run("deletion protection turned on after the plan vetoes at apply", func(t *testing.T) { lbTestVetoAtApply(t, m) })
	t.Run("a re-read ignores the listing's narrowing", func(t *testing.T) { lbTestRereadWhole(t, m) })
	t.Run("only active balancers are acted on", func(t *testing.T) { lbTestNotActive(t, m) })
	t.Run("delete removes the balancer and nothing else", func(t *testing.T) { lbTestDelete(t, m) })
}

const lbRegion = "us-east-1"

// lbMissing is a well-formed ARN of no balancer.
const lbMissing = "arn:aws:elasticloadbalancing:us-east-1:" + awstest.AccountID + ":loadbalancer/app/gone/0123456789abcdef"

var (
	alb = elbtypes.LoadBalancerTypeEnumApplication
	nlb = elbtypes.LoadBalancerTypeEnumNetwork
)

// lbSeed is one balancer of each kind of use, made 400 days ago.
type lbSeed struct {
	idle, emptyTG, served, redirect, protected string
}

func lbSeedAll(t *testing.T, m *awstest.Moto, cfg aws.Config) lbSeed {
	t.Helper()
	m.Reset()
	m.SetClock("-400d")
	defer m.SetClock("+0")
	n := awstest.CreateLBNetwork(t, cfg)
	s := lbSeed{
		idle:      awstest.CreateLoadBalancer(t, cfg, n, "idle", alb, map[string]string{"Environment": "ci", "Team": "web"}),
		emptyTG:   awstest.CreateLoadBalancer(t, cfg, n, "empty-tg", nlb, nil),
		served:    awstest.CreateLoadBalancer(t, cfg, n, "served", alb, map[string]string{"Environment": "ci"}),
		redirect:  awstest.CreateLoadBalancer(t, cfg, n, "redirect", alb, nil),
		protected: awstest.CreateLoadBalancer(t, cfg, n, "protected", alb, nil),
	}
	awstest.CreateListener(t, cfg, s.emptyTG, awstest.CreateTargetGroup(t, cfg, n, "nothing", elbtypes.ProtocolEnumTcp), elbtypes.ProtocolEnumTcp)
	// served forwards to an empty group and to one with a target: any
	// group with a target is use.
	awstest.CreateListener(t, cfg, s.served, awstest.CreateTargetGroup(t, cfg, n, "spare", elbtypes.ProtocolEnumHttp), elbtypes.ProtocolEnumHttp)
	web := awstest.CreateTargetGroup(t, cfg, n, "web", elbtypes.ProtocolEnumHttp)
	lbListener(t, cfg, s.served, web, 8080)
	awstest.RegisterTarget(t, cfg, web, "10.0.0.10")
	awstest.CreateRedirectListener(t, cfg, s.redirect)
	awstest.SetDeletionProtection(t, cfg, s.protected, true)
	return s
}

// lbListener adds a second HTTP listener, on port, forwarding to tg.
func lbListener(t *testing.T, cfg aws.Config, lb, tg string, port int32) {
	t.Helper()
	_, err := elbv2.NewFromConfig(cfg).CreateListener(t.Context(), &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
	})
	if err != nil {
		t.Fatalf("create listener on %s: %v", lb, err)
	}
}

func lbTestList(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	cfg, rec := m.Recorded(t, lbRegion)
	k := kmKind(t, "load-balancer", cfg)
	got, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byID := kmByID(got)
	if diff := cmp.Diff(slices.Sorted(slices.Values([]string{s.idle, s.emptyTG, s.served, s.redirect, s.protected})), slices.Sorted(maps.Keys(byID))); diff != "" {
		t.Fatalf("listed balancers (-want +got):\n%s", diff)
	}
	idle := byID[s.idle]
	awstest.TimeNear(t, "idle balancer's Created", idle.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
	wantIdle := plan.Resource{
		ID: s.idle, Name: "idle", Created: idle.Created,
		Tags:           map[string]string{"Environment": "ci", "Team": "web"},
		Flags:          map[string]bool{"unused": true},
		Details:        map[string]string{"type": "application", "created": idle.Created.UTC().Format("2006-01-02"), "use": "no listener"},
		MonthlyCostUSD: 0.0225 * 730,
	}
	if diff := cmp.Diff(wantIdle, idle); diff != "" {
		t.Errorf("idle balancer (-want +got):\n%s", diff)
	}
	for id, want := range map[string]struct {
		unused    bool
		use, veto string
	}{
		s.emptyTG:   {true, "no registered target", ""},
		s.served:    {false, "registered targets in web: 1", ""},
		s.redirect:  {false, "listener on port 80 answers with redirect", ""},
		s.protected: {true, "no listener", "deletion protection enabled"},
	} {
		r := byID[id]
		if r.Flags["unused"] != want.unused || r.Details["use"] != want.use || r.InUse != want.veto {
			t.Errorf("%s: unused %v, use %q, in use %q; want %v, %q, %q", r.Name, r.Flags["unused"], r.Details["use"], r.InUse, want.unused, want.use, want.veto)
		}
	}
	if r := byID[s.emptyTG]; r.Details["type"] != "network" || r.MonthlyCostUSD != lbHourly["network"][lbRegion]*730 {
		t.Errorf("network balancer: type %q, cost %v", r.Details["type"], r.MonthlyCostUSD)
	}
	kmNoMutation(t, rec, "List")

	rec.Reset()
	kmGetMatchesList(t, k, got, lbMissing)
	kmGetMissing(t, k, lbMissing)
	kmNoMutation(t, rec, "Get")
}

// lbVerdicts evaluates one rule (YAML after "name:") on rs as the engine
// does, and returns each resource's outcome and reason.
func lbVerdicts(t *testing.T, rule string, rs []plan.Resource) map[string]policy.Verdict {
	t.Helper()
	f, err := config.Parse("broom.yml", []byte("version: 1\nregions: [us-east-1]\nrules:\n  - name: r\n    "+rule+"\n"), Catalog())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]policy.Verdict{}
	for _, r := range rs {
		out[r.ID] = policy.Evaluate(f.Rules[0], f.Protect, time.Now(), r)
	}
	return out
}

// acting returns the ids whose verdict is Act, sorted.
func acting(v map[string]policy.Verdict) []string {
	var out []string
	for id, verdict := range v {
		if verdict.Outcome == policy.Act {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func lbTestFilters(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	// fresh is made now: older-than leaves it.
	fresh := awstest.CreateLoadBalancer(t, direct, awstest.CreateLBNetwork(t, direct), "fresh", alb, map[string]string{"Environment": "ci"})
	k := kmKind(t, "load-balancer", direct)
	rs, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	for name, c := range map[string]struct {
		rule string
		want []string
	}{
		"unused acts on no listener and no target, not on targets or a redirect": {"where: {unused: true}", sorted(s.idle, s.emptyTG, fresh)},
		"unused false acts on the balancers in use":                              {"where: {unused: false}", sorted(s.served, s.redirect)},
		"older-than leaves the new balancer":                                     {"where: {older-than: 30d}", sorted(s.idle, s.emptyTG, s.served, s.redirect)},
		"tags acts on the tagged balancers":                                      {"where: {tags: {Environment: ci}}", sorted(s.idle, s.served, fresh)},
		"filters combine":                                                        {"where: {unused: true, older-than: 30d, tags: {Team: web}}", sorted(s.idle)},
	} {
		t.Run(name, func(t *testing.T) {
			v := lbVerdicts(t, "resource: load-balancer\n    action: delete\n    "+c.rule, rs)
			if diff := cmp.Diff(c.want, acting(v)); diff != "" {
				t.Errorf("acted on (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("deletion protection vetoes a balancer every filter matches", func(t *testing.T) {
		v := lbVerdicts(t, "resource: load-balancer\n    action: delete\n    where: {unused: true, older-than: 30d}", rs)
		if got := v[s.protected]; got.Outcome != policy.Protect || got.Reason != "in use: deletion protection enabled" {
			t.Errorf("protected balancer: %+v, want left alone for deletion protection", got)
		}
	})
}

func lbTestCalls(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	lbSeedAll(t, m, direct)
	// 17 more idle balancers make 22: DescribeTags takes 20 ARNs.
	n := awstest.CreateLBNetwork(t, direct)
	for i := range 17 {
		awstest.CreateLoadBalancer(t, direct, n, fmt.Sprintf("extra-%d", i), alb, nil)
	}
	count := func(narrow Narrow, list func(Kind) error) map[string]int {
		t.Helper()
		cfg, rec := m.Recorded(t, lbRegion)
		if err := list(&loadBalancers{api: elbv2.NewFromConfig(cfg), region: lbRegion, narrow: narrow}); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range rec.Calls() {
			out[c.Op]++
		}
		return out
	}
	list := func(k Kind) error { _, err := k.List(t.Context()); return err }
	// 22 active balancers: listeners and attributes of each; the region's
	// target groups once, for emptyTG and served, the two that forward (one
	// call per forwarding balancer would be 2; redirect answers itself);
	// served's first group is empty, so two health reads; emptyTG one.
	want := map[string]int{"DescribeLoadBalancers": 1, "DescribeTags": 2, "DescribeListeners": 22,
		"DescribeLoadBalancerAttributes": 22, "DescribeTargetGroups": 1, "DescribeTargetHealth": 3}
	if diff := cmp.Diff(want, count(Narrow{}, list)); diff != "" {
		t.Errorf("calls of a listing (-want +got):\n%s", diff)
	}
	// When every rule wants unused, a balancer in use needs no veto read.
	want["DescribeLoadBalancerAttributes"] = 20
	if diff := cmp.Diff(want, count(Narrow{Flags: map[string]bool{"unused": true}}, list)); diff != "" {
		t.Errorf("calls of a listing for unused: true (-want +got):\n%s", diff)
	}
	// Tags every rule requires spare the per-balancer calls of the others.
	tagged := map[string]int{"DescribeLoadBalancers": 1, "DescribeTags": 2, "DescribeListeners": 2,
		"DescribeLoadBalancerAttributes": 2, "DescribeTargetGroups": 1, "DescribeTargetHealth": 2}
	if diff := cmp.Diff(tagged, count(Narrow{Tags: map[string]string{"Environment": "ci"}}, list)); diff != "" {
		t.Errorf("calls of a listing for Environment=ci (-want +got):\n%s", diff)
	}
	// No balancer let through forwards (idle has no listener): no target
	// groups to read.
	idle := map[string]int{"DescribeLoadBalancers": 1, "DescribeTags": 2, "DescribeListeners": 1, "DescribeLoadBalancerAttributes": 1}
	if diff := cmp.Diff(idle, count(Narrow{Tags: map[string]string{"Team": "web"}}, list)); diff != "" {
		t.Errorf("calls of a listing for Team=web (-want +got):\n%s", diff)
	}
	// A re-read asks for 20 ARNs a call.
	reread := count(Narrow{}, func(k Kind) error {
		got, err := k.(Rereader).GetMany(t.Context(), slices.Collect(maps.Keys(awstest.LoadBalancers(t, direct))))
		if len(got) != 22 {
			t.Errorf("GetMany found %d balancers, want 22", len(got))
		}
		return err
	})
	if reread["DescribeLoadBalancers"] != 2 || reread["DescribeTags"] != 2 || reread["DescribeTargetGroups"] != 1 {
		t.Errorf("re-read of 22: %v, want 2 DescribeLoadBalancers, 2 DescribeTags and 1 DescribeTargetGroups", reread)
	}
}

// lbTestVetoAtApply: moto deletes a balancer whose deletion protection is
// on (SPEC §11; AWS refuses), so nothing but broom's re-read stands between
// a protection turned on after the plan and the delete.
func lbTestVetoAtApply(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	k := kmKind(t, "load-balancer", direct)
	rule := "resource: load-balancer\n    action: delete\n    where: {unused: true}"
	rs, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v := lbVerdicts(t, rule, rs)[s.idle]; v.Outcome != policy.Act {
		t.Fatalf("plan: idle balancer %+v, want acted on", v)
	}
	awstest.SetDeletionProtection(t, direct, s.idle, true)
	for name, reread := range map[string]func() (plan.Resource, bool, error){
		"Get": func() (plan.Resource, bool, error) { return k.Get(t.Context(), s.idle) },
		"GetMany": func() (plan.Resource, bool, error) {
			got, err := k.(Rereader).GetMany(t.Context(), []string{s.idle})
			r, ok := got[s.idle]
			return r, ok, err
		},
	} {
		r, found, err := reread()
		if err != nil || !found {
			t.Fatalf("%s: found %v, %v", name, found, err)
		}
		if v := lbVerdicts(t, rule, []plan.Resource{r})[s.idle]; v.Outcome != policy.Protect || v.Reason != "in use: deletion protection enabled" {
			t.Errorf("apply after %s: %+v, want left alone for deletion protection", name, v)
		}
	}
}

// notActive is moto's ELBv2 with every balancer in state provisioning:
// moto makes a balancer active as soon as it is described, and AWS does
// not, so this is AWS's behaviour on moto's answer.
type notActive struct{ *elbv2.Client }

func (c notActive) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	out, err := c.Client.DescribeLoadBalancers(ctx, in, opts...)
	if out != nil {
		for i := range out.LoadBalancers {
			out.LoadBalancers[i].State = &elbtypes.LoadBalancerState{Code: elbtypes.LoadBalancerStateEnumProvisioning}
		}
	}
	return out, err
}

func lbTestNotActive(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	cfg, rec := m.Recorded(t, lbRegion)
	k := &loadBalancers{api: notActive{elbv2.NewFromConfig(cfg)}, region: lbRegion}
	rs, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v := lbVerdicts(t, "resource: load-balancer\n    action: delete\n    where: {tags: {Environment: ci}}", rs)
	if got := v[s.idle]; got.Outcome != policy.Protect || got.Reason != "in use: state provisioning" {
		t.Errorf("provisioning balancer: %+v, want left alone for its state", got)
	}
	if n := rec.Count("DescribeListeners") + rec.Count("DescribeLoadBalancerAttributes"); n != 0 {
		t.Errorf("%d per-balancer reads of balancers not active, want none", n)
	}
}

func lbTestDelete(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	k := kmKind(t, "load-balancer", direct)
	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "load-balancer", ID: s.idle}); err != nil {
		t.Fatalf("Do delete: %v", err)
	}
	kmGetMissing(t, k, s.idle)
	left := awstest.LoadBalancers(t, direct)
	if left[s.idle] || len(left) != 4 {
		t.Errorf("balancers left %v, want all but %s", left, s.idle)
	}
	// AWS answers a delete of a gone balancer with success, moto too; the
	// engine's re-read finds it gone first and reports already-done.
	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "load-balancer", ID: s.idle}); err != nil {
		t.Errorf("second Do = %v, want success", err)
	}
	if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: "load-balancer", ID: s.served}); err == nil {
		t.Error("Do tag succeeded, want an error: load-balancer only deletes")
	}
}

// lbTestRereadWhole: a kind built with a listing's narrowing still re-reads
// every balancer asked for, with its veto; else a balancer the narrowing
// leaves out would read as gone.
func lbTestRereadWhole(t *testing.T, m *awstest.Moto) {
	direct := m.Config(t, lbRegion)
	s := lbSeedAll(t, m, direct)
	k := &loadBalancers{api: elbv2.NewFromConfig(direct), region: lbRegion,
		narrow: Narrow{Tags: map[string]string{"Environment": "prod"}, Flags: map[string]bool{"unused": false}}}
	got, err := k.GetMany(t.Context(), []string{s.idle, s.protected})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[s.idle]; !ok {
		t.Errorf("GetMany left out %s, which the narrowing excludes", s.idle)
	}
	if r := got[s.protected]; r.InUse != "deletion protection enabled" {
		t.Errorf("GetMany: protected balancer in use %q, want its deletion protection read", r.InUse)
	}
}
