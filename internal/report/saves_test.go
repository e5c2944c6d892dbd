package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/plan"
)

// A delete with no price (a security group's: hygiene) shows its saving as
// "—", never "$0.00": in the count table, the summary and the JSON plan.
func TestNoSavingIsADash(t *testing.T) {
	t.Parallel()
	sg := func(id string) plan.Action {
		return plan.Action{Op: plan.Delete, Kind: "security-group", Account: "123456789012", Region: "us-east-1", ID: id, Rule: "idle-groups"}
	}
	eip := plan.Action{Op: plan.Delete, Kind: "elastic-ip", Account: "123456789012", Region: "us-east-1", ID: "eipalloc-1", Rule: "idle-eips", MonthlyCostUSD: 3.65}
	tag := plan.Action{Op: plan.Tag, Kind: "ebs-volume", Account: "123456789012", Region: "us-east-1", ID: "vol-1", Rule: "owners", Change: map[string]string{"Owner": "me"}}
	p := plan.New("p", fixed, []plan.Action{sg("sg-1"), sg("sg-2"), eip, tag})

	table := countTable(p)
	for _, want := range []string{"| idle-groups | security-group | delete | 2 | — |", "| idle-eips | elastic-ip | delete | 1 | $3.65 |", "| owners | ebs-volume | tag | 1 |  |"} {
		if !strings.Contains(table, want) {
			t.Errorf("count table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "$0.00") {
		t.Errorf("count table shows $0.00:\n%s", table)
	}

	hygiene := plan.New("p", fixed, []plan.Action{sg("sg-1")})
	if got := Summary(hygiene); strings.Contains(got, "saves") || strings.Contains(got, "$") {
		t.Errorf("Summary = %q, want no saving", got)
	}
	var b bytes.Buffer
	if err := JSON(&b, hygiene); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "monthly_cost_usd") {
		t.Errorf("JSON plan has a saving for a delete with no price:\n%s", b.String())
	}
}
