package resource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/faults"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// TestSecurityGroupMoto checks the security-group kind against moto: what
// makes a group used, the default group's veto, re-reads that recompute
// use, and deletes. One moto, reset between subtests, which run in turn.
func TestSecurityGroupMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	t.Run("unused unless an interface uses it or another group's rule references it", func(t *testing.T) { sgTestUse(t, m) })
	t.Run("a narrowed listing still sees references from groups outside it", func(t *testing.T) { sgTestNarrowed(t, m) })
	t.Run("delete, then gone", func(t *testing.T) { sgTestDelete(t, m) })
	t.Run("a group used since the plan is skipped", func(t *testing.T) { sgTestUsedSincePlan(t, m) })
	t.Run("AWS refusing a group in use is a failed action that says why", func(t *testing.T) { sgTestDependencyViolation(t, m) })
}

const sgRegion = "us-east-1"

func sgKind(t *testing.T, cfg aws.Config, narrow resource.Narrow) resource.Kind {
	t.Helper()
	spec, err := resource.Lookup("security-group")
	if err != nil {
		t.Fatal(err)
	}
	return spec.New(resource.Env{AWS: cfg, Account: cfAccount, Change: "local", Narrow: narrow})
}

func sgList(t *testing.T, k resource.Kind) map[string]plan.Resource {
	t.Helper()
	got, err := k.List(t.Context())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	out := map[string]plan.Resource{}
	for _, r := range got {
		out[r.ID] = r
	}
	return out
}

func sgTestUse(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, sgRegion)
	g := func(name string) string { return awstest.CreateSecurityGroup(t, direct, name, nil) }
	idle, self, onENI, inRef, outRef, from, to := g("idle"), g("self"), g("on-eni"), g("in-ref"), g("out-ref"), g("from"), g("to")
	def := awstest.DefaultSecurityGroup(t, direct)
	awstest.AllowIngressFrom(t, direct, self, self)
	awstest.AllowEgressTo(t, direct, self, self)
	eni := awstest.InterfaceInGroups(t, direct, onENI)
	awstest.AllowIngressFrom(t, direct, from, inRef) // from's ingress references in-ref
	awstest.AllowEgressTo(t, direct, to, outRef)     // to's egress references out-ref

	cfg, rec := m.Recorded(t, sgRegion)
	k := sgKind(t, cfg, resource.Narrow{})
	listed := sgList(t, k)
	if got := rec.Mutating(); got != nil {
		t.Errorf("list made mutating calls: %v", got)
	}
	type facts struct {
		Unused         bool
		UsedBy, RefdBy string
		DefaultVeto    bool
		InUse          string // a used group is vetoed: AWS would refuse it
	}
	fact := func(r plan.Resource) facts {
		f := facts{r.Flags["unused"], r.Details["used by"], r.Details["referenced by"], strings.Contains(r.InUse, "default group"), r.InUse}
		if f.DefaultVeto {
			f.InUse = ""
		}
		return f
	}
	want := map[string]facts{
		idle:   {Unused: true},
		self:   {Unused: true}, // its own rules only
		onENI:  {UsedBy: eni, InUse: "used by " + eni},
		inRef:  {RefdBy: from, InUse: "referenced by the rules of " + from},
		outRef: {RefdBy: to, InUse: "referenced by the rules of " + to},
		from:   {Unused: true}, // referencing makes the other used, not this one
		to:     {Unused: true},
	}
	for id, w := range want {
		r, ok := listed[id]
		if !ok {
			t.Errorf("list: %s is missing", id)
			continue
		}
		if diff := cmp.Diff(w, fact(r)); diff != "" {
			t.Errorf("list: %s (%s) facts (-want +got):\n%s", id, r.Name, diff)
		}
	}
	if r := listed[def]; !fact(r).DefaultVeto || r.MonthlyCostUSD != 0 {
		t.Errorf("list: default group %s = %+v, want the default-group veto and no saving", def, r)
	}

	// The re-reads recompute the same facts, for the ids asked about alone,
	// in a few calls, and leave a missing id out.
	ids := append(slices.Sorted(maps.Keys(want)), def)
	for _, id := range ids {
		got, found, err := k.Get(t.Context(), id)
		if err != nil || !found {
			t.Errorf("get %s: found %v, %v", id, found, err)
		} else if diff := cmp.Diff(listed[id], got); diff != "" {
			t.Errorf("get %s differs from list (-list +get):\n%s", id, diff)
		}
	}
	rec.Reset()
	got, err := k.(resource.Rereader).GetMany(t.Context(), append([]string{"sg-0123456789abcdef0"}, ids...))
	if err != nil {
		t.Fatalf("get many: %v", err)
	}
	wantMany := map[string]plan.Resource{}
	for _, id := range ids {
		wantMany[id] = listed[id]
	}
	if diff := cmp.Diff(wantMany, got); diff != "" {
		t.Errorf("get many differs from list (-list +get):\n%s", diff)
	}
	if n := len(rec.Calls()); n > 4 {
		t.Errorf("get many of %d groups made %d calls, want at most 4: %v", len(ids), n, rec.Calls())
	}
}

func sgTestNarrowed(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, sgRegion)
	team := map[string]string{"team": "ci"}
	ingress := awstest.CreateSecurityGroup(t, direct, "ingress", team)
	egress := awstest.CreateSecurityGroup(t, direct, "egress", team)
	idle := awstest.CreateSecurityGroup(t, direct, "idle", team)
	untagged := awstest.CreateSecurityGroup(t, direct, "untagged", nil)
	awstest.AllowIngressFrom(t, direct, untagged, ingress)
	awstest.AllowEgressTo(t, direct, untagged, egress)

	listed := sgList(t, sgKind(t, direct, resource.Narrow{Tags: team}))
	if diff := cmp.Diff(slices.Sorted(slices.Values([]string{egress, idle, ingress})), slices.Sorted(maps.Keys(listed))); diff != "" {
		t.Errorf("narrowed list (-want +got):\n%s", diff)
	}
	for id, unused := range map[string]bool{ingress: false, egress: false, idle: true} {
		if got := listed[id].Flags["unused"]; got != unused {
			t.Errorf("narrowed list: %s (%s) unused %v, want %v", id, listed[id].Name, got, unused)
		}
	}
}

func sgTestDelete(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, sgRegion)
	idle := awstest.CreateSecurityGroup(t, direct, "idle", nil)
	other := awstest.CreateSecurityGroup(t, direct, "other", nil)
	k := sgKind(t, direct, resource.Narrow{})
	del := plan.Action{Op: plan.Delete, Kind: "security-group", ID: idle}
	if err := k.Do(t.Context(), del); err != nil {
		t.Fatalf("delete %s: %v", idle, err)
	}
	if _, found, err := k.Get(t.Context(), idle); err != nil || found {
		t.Errorf("get %s after delete: found %v, %v; want gone", idle, found, err)
	}
	if err := k.Do(t.Context(), del); !errors.Is(err, resource.ErrGone) {
		t.Errorf("second delete = %v, want ErrGone", err)
	}
	if _, found, err := k.Get(t.Context(), other); err != nil || !found {
		t.Errorf("untouched %s: found %v, %v", other, found, err)
	}
}

// sgEngine is an engine on cfg, and the config of one rule deleting
// unused security groups, with broom:keep protecting.
func sgEngine(t *testing.T, cfg aws.Config) (*engine.Engine, config.Config) {
	t.Helper()
	load := func(_ context.Context, account, region string) (aws.Config, error) {
		if account != cfAccount || region != sgRegion {
			return aws.Config{}, fmt.Errorf("load: unexpected account %q, region %q", account, region)
		}
		return cfg.Copy(), nil
	}
	e := engine.New(slog.New(slog.DiscardHandler), load, engine.WithChangeRef("https://github.com/acme/infra/pull/14"))
	text := "version: 1\nregions: [" + sgRegion + "]\nprotect:\n  tags: {\"broom:keep\": \"*\"}\nrules:\n" +
		"  - name: idle-groups\n    resource: security-group\n    action: delete\n    where: {unused: true}\n"
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	return e, config.Config{File: f}
}

// sgPlanned plans and checks that exactly ids are to be deleted.
func sgPlanned(t *testing.T, e *engine.Engine, cfg config.Config, ids ...string) plan.Plan {
	t.Helper()
	res, err := e.Plan(t.Context(), cfg, cfAccount)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var got []string
	for _, a := range res.Plan.Actions {
		got = append(got, a.ID)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Fatalf("planned deletes (-want +got):\n%s", diff)
	}
	return res.Plan
}

func sgTestUsedSincePlan(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, sgRegion)
	g := func(name string) string { return awstest.CreateSecurityGroup(t, direct, name, nil) }
	onENI, inRef, outRef, still := g("on-eni"), g("in-ref"), g("out-ref"), g("still-idle")
	e, cfg := sgEngine(t, direct)
	p := sgPlanned(t, e, cfg, onENI, inRef, outRef, still)

	// moto would delete them all: it does not refuse a group in use, so
	// only the re-read can keep them.
	awstest.InterfaceInGroups(t, direct, onENI)
	awstest.AllowIngressFrom(t, direct, g("new-from"), inRef)
	awstest.AllowEgressTo(t, direct, g("new-to"), outRef)
	applied := statuses(e.Apply(t.Context(), cfg, p))
	want := map[string]plan.Status{onENI: plan.Skipped, inRef: plan.Skipped, outRef: plan.Skipped, still: plan.Done}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("apply after use changed (-want +got):\n%s", diff)
	}
}

func sgTestDependencyViolation(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, sgRegion)
	refused := awstest.CreateSecurityGroup(t, direct, "refused", nil)
	idle := awstest.CreateSecurityGroup(t, direct, "idle", nil)
	// moto deletes a group in use without a word; AWS answers this, e.g.
	// for a reference from a peered VPC that the listing cannot see.
	p, err := faults.New(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.SetRules(faults.Rule{Op: "DeleteSecurityGroup", IDs: []string{refused},
		Fault: faults.APIError(400, "DependencyViolation", "resource "+refused+" has a dependent object")})
	cfg := m.Config(t, sgRegion)
	cfg.BaseEndpoint = aws.String(p.URL())

	e, conf := sgEngine(t, cfg)
	applied := e.Apply(t.Context(), conf, sgPlanned(t, e, conf, refused, idle))
	for _, a := range applied.Actions {
		switch a.ID {
		case idle:
			if a.Status != plan.Done {
				t.Errorf("apply %s: %s %q, want done", a.ID, a.Status, a.Error)
			}
		case refused:
			if a.Status != plan.Failed || !strings.Contains(a.Error, "DependencyViolation: resource "+refused+" has a dependent object") || !strings.Contains(a.Error, "still in use") || strings.Contains(a.Error, "RequestID") {
				t.Errorf("apply %s: %s %q, want failed, saying it is still in use, with AWS's code and message and not the SDK's request details", a.ID, a.Status, a.Error)
			}
		}
	}
	if _, found, err := sgKind(t, direct, resource.Narrow{}).Get(t.Context(), refused); err != nil || !found {
		t.Errorf("refused group %s: found %v, %v; want it still there", refused, found, err)
	}
}
