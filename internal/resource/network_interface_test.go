package resource

import (
	"errors"
	"maps"
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

// TestNetworkInterfaceFacts states interfaces as AWS describes them,
// including what moto cannot make: requester-managed interfaces and types
// other than "interface" (moto gives every interface type "interface",
// requester-managed false).
func TestNetworkInterfaceFacts(t *testing.T) {
	t.Parallel()
	iface := func(f func(*types.NetworkInterface)) types.NetworkInterface {
		n := types.NetworkInterface{
			NetworkInterfaceId: aws.String("eni-1"),
			Status:             types.NetworkInterfaceStatusAvailable,
			InterfaceType:      types.NetworkInterfaceTypeInterface,
			RequesterManaged:   aws.Bool(false),
			SubnetId:           aws.String("subnet-1"),
		}
		f(&n)
		return n
	}
	type want struct {
		inUse      string // "" or what the veto must say
		unattached bool
		usd        float64
	}
	cases := map[string]struct {
		in   types.NetworkInterface
		want want
	}{
		"an unattached interface is deletable and saves nothing": {
			iface(func(*types.NetworkInterface) {}), want{unattached: true}},
		// As AWS shows a NAT gateway's interface (moto shows it like the case above).
		"a NAT gateway's interface as AWS shows it is requester-managed": {
			iface(func(n *types.NetworkInterface) {
				n.Status, n.InterfaceType = types.NetworkInterfaceStatusInUse, "nat_gateway"
				n.RequesterManaged, n.RequesterId = aws.Bool(true), aws.String("AIDAI2ZRD4MZF5EXAMPLE")
				n.Description = aws.String("Interface for NAT Gateway nat-0123456789abcdef0")
				n.Attachment = &types.NetworkInterfaceAttachment{InstanceOwnerId: aws.String("amazon-aws"), Status: types.AttachmentStatusAttached}
			}),
			want{inUse: "requester-managed by AIDAI2ZRD4MZF5EXAMPLE"}},
		"a requester-managed interface is vetoed even when available and of type interface": {
			iface(func(n *types.NetworkInterface) {
				n.RequesterManaged, n.RequesterId = aws.Bool(true), aws.String("amazon-elb")
			}),
			want{inUse: "requester-managed by amazon-elb", unattached: true}},
		"a type other than interface is vetoed, requester-managed or not": {
			iface(func(n *types.NetworkInterface) { n.InterfaceType = "trunk" }),
			want{inUse: "type trunk", unattached: true}},
		"an interface of no stated type is vetoed": {
			iface(func(n *types.NetworkInterface) { n.InterfaceType = "" }),
			want{inUse: "type not stated", unattached: true}},
		"an interface attached to an instance": {
			iface(func(n *types.NetworkInterface) {
				n.Status = types.NetworkInterfaceStatusInUse
				n.Attachment = &types.NetworkInterfaceAttachment{InstanceId: aws.String("i-1"), InstanceOwnerId: aws.String("123456789012")}
			}),
			want{inUse: "attached to i-1"}},
		"an interface attached to a service names its owner": {
			iface(func(n *types.NetworkInterface) {
				n.Status = types.NetworkInterfaceStatusInUse
				n.Attachment = &types.NetworkInterfaceAttachment{InstanceOwnerId: aws.String("amazon-aws")}
			}),
			want{inUse: "attached to amazon-aws"}},
		"an interface being attached is not unattached": {
			iface(func(n *types.NetworkInterface) { n.Status = types.NetworkInterfaceStatusAttaching }),
			want{inUse: "status attaching"}},
		"a public address of its own goes with it: the public IPv4 price": {
			iface(func(n *types.NetworkInterface) {
				n.Association = &types.NetworkInterfaceAssociation{PublicIp: aws.String("203.0.113.7")}
			}),
			want{unattached: true, usd: addressPrices["us-east-1"]}},
		"an Elastic IP outlives it: nothing saved": {
			iface(func(n *types.NetworkInterface) {
				n.Association = &types.NetworkInterfaceAssociation{PublicIp: aws.String("203.0.113.8"), AllocationId: aws.String("eipalloc-1")}
			}),
			want{unattached: true}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := interfaceResource(c.in, "eu-west-1")
			got := want{inUse: r.InUse, unattached: r.Flags["unattached"], usd: r.MonthlyCostUSD}
			if c.want.inUse != "" && strings.HasPrefix(got.inUse, c.want.inUse) {
				got.inUse = c.want.inUse // the veto's reason may say more
			}
			if diff := cmp.Diff(c.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetworkInterfaceMoto runs the kind against moto: listing and its
// vetoes, the server-side filters, the re-read at apply, and delete.
func TestNetworkInterfaceMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const region = "us-east-1"
	const missing = "eni-0123456789abcdef0"

	t.Run("list states each interface's facts and vetoes, and only reads", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		subnet := awstest.DefaultSubnet(t, direct)
		image, _ := awstest.RegisterImage(t, direct, "base", nil)
		inst := awstest.RunInstance(t, direct, image)
		free := awstest.CreateNetworkInterface(t, direct, subnet, "spare", map[string]string{"Name": "spare"})
		attached := awstest.CreateNetworkInterface(t, direct, subnet, "attached", nil)
		awstest.AttachNetworkInterface(t, direct, attached, inst)
		withEIP := awstest.CreateNetworkInterface(t, direct, subnet, "with an Elastic IP", nil)
		eip := awstest.AllocateAddress(t, direct)
		awstest.AssociateAddressWithInterface(t, direct, eip, withEIP)
		nat, natENI := awstest.NATGatewayWithInterface(t, direct, subnet)

		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "network-interface", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		for _, id := range []string{free, attached, withEIP, natENI} {
			if _, ok := byID[id]; !ok {
				t.Fatalf("list: %s missing from %v", id, slices.Sorted(maps.Keys(byID)))
			}
		}
		f := byID[free]
		if f.Name != "spare" || !f.Flags["unattached"] || f.InUse != "" || f.MonthlyCostUSD != 0 || f.Details["subnet"] != subnet || f.Details["description"] != "spare" {
			t.Errorf("free interface = %+v; want Name spare, unattached, not in use, $0, subnet %s", f, subnet)
		}
		if a := byID[attached]; a.Flags["unattached"] || a.InUse != "attached to "+inst {
			t.Errorf("attached interface = %+v; want InUse %q", a, "attached to "+inst)
		}
		if e := byID[withEIP]; e.InUse != "" || e.MonthlyCostUSD != 0 || !strings.Contains(e.Details["public-ip"], eip) {
			t.Errorf("interface with an Elastic IP = %+v; want deletable, $0, the address named in public-ip", e)
		}
		if n := byID[natENI]; n.InUse != "interface of NAT gateway "+nat {
			t.Errorf("NAT gateway's interface = %+v; want InUse %q", n, "interface of NAT gateway "+nat)
		}
		kmNoMutation(t, rec, "List")

		rec.Reset()
		kmGetMatchesList(t, k, got, missing)
		kmGetMissing(t, k, missing)
		kmNoMutation(t, rec, "Get")
	})

	// What moto says of a NAT gateway's interface, unlike AWS (SPEC §11):
	// should moto start telling the truth, the NAT gateway lookup in
	// network_interface.go is no longer all that vetoes it here.
	t.Run("moto shows a NAT gateway's interface as an ordinary available one", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		_, natENI := awstest.NATGatewayWithInterface(t, direct, awstest.DefaultSubnet(t, direct))
		out, err := ec2.NewFromConfig(direct).DescribeNetworkInterfaces(t.Context(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{natENI}})
		if err != nil || len(out.NetworkInterfaces) != 1 {
			t.Fatalf("describe %s: %v, %d interfaces", natENI, err, len(out.NetworkInterfaces))
		}
		n := out.NetworkInterfaces[0]
		if n.Status != types.NetworkInterfaceStatusAvailable || aws.ToBool(n.RequesterManaged) || n.InterfaceType != types.NetworkInterfaceTypeInterface || n.Attachment != nil {
			t.Errorf("moto's NAT gateway interface: status %s, requester-managed %v, type %s, attachment %v; the quirk this kind works around has changed",
				n.Status, aws.ToBool(n.RequesterManaged), n.InterfaceType, n.Attachment)
		}
	})

	t.Run("narrowed listings ask the API for unattached and tagged interfaces only", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		subnet := awstest.DefaultSubnet(t, direct)
		image, _ := awstest.RegisterImage(t, direct, "base", nil)
		inst := awstest.RunInstance(t, direct, image)
		team := map[string]string{"Team": "a"}
		free := awstest.CreateNetworkInterface(t, direct, subnet, "free", team)
		untagged := awstest.CreateNetworkInterface(t, direct, subnet, "untagged", nil)
		attached := awstest.CreateNetworkInterface(t, direct, subnet, "attached", team)
		awstest.AttachNetworkInterface(t, direct, attached, inst)

		for name, c := range map[string]struct {
			narrow Narrow
			want   []string
		}{
			"unattached": {Narrow{Flags: map[string]bool{"unattached": true}}, []string{free, untagged}},
			"tags":       {Narrow{Tags: team}, []string{free, attached}},
			"both":       {Narrow{Tags: map[string]string{"Team": "*"}, Flags: map[string]bool{"unattached": true}}, []string{free}},
		} {
			k := &networkInterfaces{api: ec2.NewFromConfig(direct), region: region, narrow: c.narrow}
			got, err := k.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(c.want)), slices.Sorted(maps.Keys(kmByID(got)))); diff != "" {
				t.Errorf("%s: listed (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("an interface attached since the plan is in use when re-read", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		subnet := awstest.DefaultSubnet(t, direct)
		eni := awstest.CreateNetworkInterface(t, direct, subnet, "soon attached", nil)
		rule := config.Rule{Name: "idle-enis", Resource: "network-interface", Action: "delete", Where: config.Where{Flags: map[string]bool{"unattached": true}}}
		k := kmKind(t, "network-interface", direct)
		verdict := func() policy.Verdict {
			t.Helper()
			r, found, err := k.Get(t.Context(), eni)
			if err != nil || !found {
				t.Fatalf("get %s: found %v, %v", eni, found, err)
			}
			return policy.Evaluate(rule, config.Protect{}, time.Now(), r)
		}
		if v := verdict(); v.Outcome != policy.Act {
			t.Fatalf("before attaching: %+v, want act", v)
		}
		image, _ := awstest.RegisterImage(t, direct, "base", nil)
		inst := awstest.RunInstance(t, direct, image)
		awstest.AttachNetworkInterface(t, direct, eni, inst)
		// unattached no longer matches, and a rule without the filter
		// meets the veto.
		if v := verdict(); v.Outcome == policy.Act {
			t.Errorf("after attaching to %s: %+v, want not act", inst, v)
		}
		rule.Where.Flags = nil
		if v := verdict(); v.Outcome != policy.Protect || !strings.Contains(v.Reason, "attached to "+inst) {
			t.Errorf("after attaching, a rule without unattached: %+v, want protect, attached to %s", v, inst)
		}
	})

	t.Run("delete deletes the interface, then reports gone", func(t *testing.T) {
		m.Reset()
		direct := m.Config(t, region)
		subnet := awstest.DefaultSubnet(t, direct)
		eni := awstest.CreateNetworkInterface(t, direct, subnet, "doomed", nil)
		other := awstest.CreateNetworkInterface(t, direct, subnet, "other", nil)
		k := kmKind(t, "network-interface", direct)
		del := plan.Action{Op: plan.Delete, Kind: "network-interface", ID: eni}
		if err := k.Do(t.Context(), del); err != nil {
			t.Fatalf("Do delete %s: %v", eni, err)
		}
		kmGetMissing(t, k, eni)
		if err := k.Do(t.Context(), del); !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}
		if _, found, err := k.Get(t.Context(), other); err != nil || !found {
			t.Errorf("untouched interface %s: found %v, err %v", other, found, err)
		}
		if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: "network-interface", ID: other}); err == nil {
			t.Errorf("Do tag = nil, want an error: the kind only deletes")
		}
	})
}
