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

// An update whose saving is unknown (a log group's retention) shows "—":
// in the count table, and in its row's details in the markdown and the
// text report; an update that saves shows what; the flag leaves the
// fingerprint as it is.
func TestUnknownSavingIsADash(t *testing.T) {
	t.Parallel()
	retention := plan.Action{Op: plan.Update, Kind: "log-group", Account: "123456789012", Region: "us-east-1", ID: "/ci/app", Rule: "retention",
		Change: map[string]string{"retention-days": "30"}, Details: map[string]string{"stored": "1.0 MiB"}, SavingUnknown: true}
	gp3 := plan.Action{Op: plan.Update, Kind: "ebs-volume", Account: "123456789012", Region: "us-east-1", ID: "vol-1", Rule: "to-gp3",
		Change: map[string]string{"type": "gp3"}, MonthlyCostUSD: 1.6}
	tag := plan.Action{Op: plan.Tag, Kind: "ebs-volume", Account: "123456789012", Region: "us-east-1", ID: "vol-2", Rule: "owners", Change: map[string]string{"Owner": "me"}}
	p := plan.New("p", fixed, []plan.Action{retention, gp3, tag})

	// The count table is a shortened report's.
	table := countTable(p)
	for _, want := range []string{"| retention | log-group | update | 1 | — |", "| to-gp3 | ebs-volume | update | 1 | $1.60 |", "| owners | ebs-volume | tag | 1 |  |"} {
		if !strings.Contains(table, want) {
			t.Errorf("count table lacks %q:\n%s", want, table)
		}
	}
	md := Markdown(Report{Plan: p})
	if want := "| update | log-group | `/ci/app` | us-east-1 | saves: —, stored: 1.0 MiB |"; !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
	if n := strings.Count(md, "saves: —"); n != 1 {
		t.Errorf("markdown says saves: — %d times, want once (the log group's row):\n%s", n, md)
	}
	var text bytes.Buffer
	if err := Text(&text, Report{Plan: p}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(text.String(), "saves: —, stored: 1.0 MiB"); n != 1 {
		t.Errorf("text report says saves: — %d times, want once:\n%s", n, text.String())
	}
	var js bytes.Buffer
	if err := JSON(&js, plan.New("p", fixed, []plan.Action{retention})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"saving_unknown": true`) || strings.Contains(js.String(), "monthly_cost_usd") {
		t.Errorf("JSON plan of an update with an unknown saving:\n%s", js.String())
	}
	known := retention
	known.SavingUnknown = false
	if plan.Fingerprint([]plan.Action{retention}) != plan.Fingerprint([]plan.Action{known}) {
		t.Error("the unknown saving changes the fingerprint")
	}
}
