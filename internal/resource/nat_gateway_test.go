package resource

import (
	"errors"
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
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// This file checks the nat-gateway kind against a real moto_server (SPEC
// §10), one server for its subtests, which run one after the other (they
// share moto's clock).
func TestNATGatewayMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	t.Run("list", func(t *testing.T) { natTestList(t, m) })
	t.Run("filters", func(t *testing.T) { natTestFilters(t, m) })
	t.Run("delete", func(t *testing.T) { natTestDelete(t, m) })
}

const natRegion = "us-east-1"

// natAddressIP is the public IP of the Elastic IP allocation, "" when it is
// no longer allocated.
func natAddressIP(t *testing.T, cfg aws.Config, allocation string) string {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeAddresses(t.Context(), &ec2.DescribeAddressesInput{Filters: byFilter("allocation-id", allocation)})
	if err != nil {
		t.Fatalf("describe address %s: %v", allocation, err)
	}
	if len(out.Addresses) == 0 {
		return ""
	}
	return aws.ToString(out.Addresses[0].PublicIp)
}

func natDelete(t *testing.T, cfg aws.Config, id string) {
	t.Helper()
	if _, err := ec2.NewFromConfig(cfg).DeleteNatGateway(t.Context(), &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(id)}); err != nil {
		t.Fatalf("delete NAT gateway %s: %v", id, err)
	}
}

func natTestList(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, natRegion)
	m.SetClock("-400d")
	vpc, subnet := awstest.CreateVPC(t, direct)
	eip := awstest.AllocateAddress(t, direct)
	idle := awstest.CreateNATGateway(t, direct, subnet, eip, map[string]string{"Name": "egress-old", "Team": "data"})
	routed := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), nil)
	table := awstest.RouteToNATGateway(t, direct, vpc, routed)
	deleted := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), nil)
	m.SetClock("+0")
	natDelete(t, direct, deleted)
	if got := awstest.NATGatewayState(t, direct, deleted); got != "deleted" {
		t.Fatalf("seed: deleted gateway is %q, want deleted", got)
	}

	cfg, rec := m.Recorded(t, natRegion)
	k := kmKind(t, "nat-gateway", cfg)
	got, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byID := kmByID(got)
	// A deleted gateway (AWS lists one for about an hour) is never listed.
	if diff := cmp.Diff(slices.Sorted(slices.Values([]string{idle, routed})), slices.Sorted(maps.Keys(byID))); diff != "" {
		t.Fatalf("listed gateways (-want +got):\n%s", diff)
	}
	i := byID[idle]
	awstest.TimeNear(t, "idle gateway's Created", i.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
	want := plan.Resource{
		ID: idle, Name: "egress-old", Created: i.Created,
		Tags:  map[string]string{"Name": "egress-old", "Team": "data"},
		Flags: map[string]bool{"unused": true},
		Details: map[string]string{"vpc": vpc, "created": i.Created.UTC().Format("2006-01-02"),
			"leaves Elastic IP": eip + " (" + natAddressIP(t, direct, eip) + ")"},
		MonthlyCostUSD: natPrices[natRegion],
	}
	if diff := cmp.Diff(want, i); diff != "" {
		t.Errorf("idle gateway (-want +got):\n%s", diff)
	}
	if math.Abs(natPrices[natRegion]-32.85) > 0.005 {
		t.Errorf("us-east-1 price %v a month, want $0.045 × 730 h = 32.85", natPrices[natRegion])
	}
	// A route to it makes it used; that is a filter's fact, not a veto.
	r := byID[routed]
	if r.Flags["unused"] || r.Details["routed by"] != table || r.InUse != "" {
		t.Errorf("routed gateway = %+v; want not unused, routed by %s, not in use", r, table)
	}
	// The routes are one listing for the region, not one per gateway.
	if n := rec.Count("DescribeRouteTables"); n != 1 {
		t.Errorf("List made %d DescribeRouteTables calls for 2 gateways, want 1", n)
	}
	kmNoMutation(t, rec, "List")

	rec.Reset()
	kmGetMatchesList(t, k, got, "nat-0123456789abcdef0")
	kmGetMissing(t, k, deleted) // deleted is gone, though AWS still lists it
	kmNoMutation(t, rec, "Get")
	rec.Reset()
	if _, err := k.(Rereader).GetMany(t.Context(), []string{idle, routed, deleted}); err != nil {
		t.Fatal(err)
	}
	if n := rec.Count("DescribeRouteTables"); n != 1 {
		t.Errorf("GetMany of 3 gateways made %d DescribeRouteTables calls, want 1", n)
	}
}

// natTestFilters checks the facts each filter of the kind tests, through
// the policy that evaluates them: unused, older-than and tags.
func natTestFilters(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, natRegion)
	m.SetClock("-400d")
	vpc, subnet := awstest.CreateVPC(t, direct)
	old := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), map[string]string{"Environment": "ci"})
	oldRouted := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), nil)
	awstest.RouteToNATGateway(t, direct, vpc, oldRouted)
	m.SetClock("+0")
	fresh := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), map[string]string{"Environment": "prod"})

	k := kmKind(t, "nat-gateway", direct)
	listed, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for where, want := range map[string][]string{
		"{unused: true}":                 {old, fresh},
		"{unused: false}":                {oldRouted},
		"{older-than: 30d}":              {old, oldRouted},
		"{tags: {Environment: ci}}":      {old},
		"{tags: {Environment: \"*\"}}":   {old, fresh},
		"{unused: true, older-than: 1d}": {old},
	} {
		rule := natRule(t, where)
		var got []string
		for _, r := range listed {
			if policy.Evaluate(rule, config.Protect{}, time.Now(), r).Outcome == policy.Act {
				got = append(got, r.ID)
			}
		}
		if diff := cmp.Diff(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))); diff != "" {
			t.Errorf("where %s matches (-want +got):\n%s", where, diff)
		}
	}

	// A route added since the listing is seen by the re-read before acting.
	awstest.RouteToNATGateway(t, direct, vpc, fresh)
	if r, found, err := k.Get(t.Context(), fresh); err != nil || !found || r.Flags["unused"] {
		t.Errorf("Get(%s) after a route to it = %+v, found %v, err %v; want found, not unused", fresh, r, found, err)
	}
}

// natRule is the nat-gateway delete rule with the given where, as the
// loader reads it.
func natRule(t *testing.T, where string) config.Rule {
	t.Helper()
	text := "version: 1\nregions: [us-east-1]\nrules:\n  - name: idle-nat\n    resource: nat-gateway\n    action: delete\n    where: " + where + "\n"
	f, err := config.Parse("broom.yml", []byte(text), Catalog())
	if err != nil {
		t.Fatalf("parse rule where %s: %v", where, err)
	}
	return f.Rules[0]
}

func natTestDelete(t *testing.T, m *awstest.Moto) {
	m.Reset()
	direct := m.Config(t, natRegion)
	_, subnet := awstest.CreateVPC(t, direct)
	eip := awstest.AllocateAddress(t, direct)
	gw := awstest.CreateNATGateway(t, direct, subnet, eip, nil)
	other := awstest.CreateNATGateway(t, direct, subnet, awstest.AllocateAddress(t, direct), nil)
	cfg, rec := m.Recorded(t, natRegion)
	k := kmKind(t, "nat-gateway", cfg)

	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "nat-gateway", ID: gw}); err != nil {
		t.Fatalf("Do delete %s: %v", gw, err)
	}
	if got := awstest.NATGatewayState(t, direct, gw); got != "deleted" {
		t.Errorf("gateway %s is %q after the delete, want deleted", gw, got)
	}
	kmGetMissing(t, k, gw)
	// Its Elastic IP stays allocated: only an elastic-ip rule releases it.
	// (moto also leaves it associated with the gateway's network
	// interface; AWS disassociates it, so only the allocation is checked.)
	if natAddressIP(t, direct, eip) == "" {
		t.Errorf("the Elastic IP %s of the deleted gateway was released", eip)
	}

	// Deleting a deleted gateway is already done, and deletes nothing:
	// moto would accept a second DeleteNatGateway, AWS may not.
	rec.Reset()
	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "nat-gateway", ID: gw}); !errors.Is(err, ErrGone) {
		t.Errorf("second Do = %v, want ErrGone", err)
	}
	if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "nat-gateway", ID: "nat-0123456789abcdef0"}); !errors.Is(err, ErrGone) {
		t.Errorf("Do on a gateway that never existed = %v, want ErrGone", err)
	}
	kmNoMutation(t, rec, "Do on gone gateways")
	if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: "nat-gateway", ID: other, Change: map[string]string{"Owner": "x"}}); err == nil {
		t.Errorf("Do tag = nil, want an error: nat-gateway only deletes")
	}
	if got := awstest.NATGatewayState(t, direct, other); got != "available" {
		t.Errorf("untouched gateway %s is %q, want available", other, got)
	}
}

// TestNATGatewayNotAvailable pins the veto moto cannot seed: a gateway in
// any state but available (pending, failed) is in use, whatever a rule
// says; deleting and deleted ones are gone. moto makes a gateway available
// at once and deleted on delete, never pending, failed or deleting.
func TestNATGatewayNotAvailable(t *testing.T) {
	t.Parallel()
	k := &natGateways{region: natRegion}
	rule := natRule(t, "{unused: true}")
	for _, state := range types.NatGatewayStateAvailable.Values() {
		g := types.NatGateway{NatGatewayId: aws.String("nat-0123456789abcdef0"), State: state}
		r := k.gatewayResource(g, nil)
		v := policy.Evaluate(rule, config.Protect{}, time.Now(), r)
		gone := state == types.NatGatewayStateDeleting || state == types.NatGatewayStateDeleted
		switch {
		case state == types.NatGatewayStateAvailable:
			if v.Outcome != policy.Act || natGone(g) {
				t.Errorf("available gateway: %+v, gone %v; want it acted on", v, natGone(g))
			}
		case !strings.Contains(v.Reason, "not available") || v.Outcome != policy.Protect:
			t.Errorf("gateway %s: %+v; want it left alone as not available", state, v)
		case natGone(g) != gone:
			t.Errorf("gateway %s: gone %v, want %v", state, natGone(g), gone)
		}
	}
}
