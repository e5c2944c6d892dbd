package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/faults"
)

// regions: all (SPEC §3) through the built binary: a snapshot in a far
// region (ap-southeast-2) is planned, and the report says how many regions
// broom looked in; named regions do not see it. As the operator's
// `broom plan` (regions: all in the file) and as `broom action` on a pull
// request (the regions input says all, over the file's names).
func TestRegionsAll(t *testing.T) {
	w := newWorld(t)
	ci := map[string]string{"Environment": "ci"}
	far := w.moto.Config(t, "ap-southeast-2")
	w.moto.SetClock("-400d")
	farSnap := awstest.CreateSnapshot(t, far, awstest.CreateVolume(t, far, 8, "ap-southeast-2a"), ci)
	w.moto.SetClock("+0")
	nearSnap := w.snapshot("-400d", ci)
	enabled := enabledRegions(t, w.aws)
	count := fmt.Sprintf("· %d regions", len(enabled))

	w.writeConfig(strings.Replace(defaultConfig, "regions: [us-east-1]", "regions: all", 1))
	w.rec.Reset()
	p := w.cli("plan")
	heading, _, _ := strings.Cut(p.stdout, "\n")
	if p.code != 0 || heading != "broom plan · nightly · account 123456789012 "+count {
		t.Errorf("plan over regions: all: exit %d, heading %q; want 0 and %q", p.code, heading, "… account 123456789012 "+count)
	}
	for _, s := range []string{farSnap, "ap-southeast-2", nearSnap, "Plan: 2 to delete"} {
		if !strings.Contains(p.stdout, s) {
			t.Errorf("plan over regions: all does not show %s", s)
		}
	}
	if n := w.rec.Count("DescribeRegions"); n != 1 {
		t.Errorf("DescribeRegions called %d times, want once", n)
	}
	if n := w.rec.Count("DescribeSnapshots"); n != len(enabled) {
		t.Errorf("DescribeSnapshots called %d times, want once in each of the %d enabled regions", n, len(enabled))
	}
	w.noMutatingCalls()

	named := w.cli("plan", "--region", "us-east-1")
	heading, _, _ = strings.Cut(named.stdout, "\n")
	if named.code != 0 || heading != "broom plan · nightly · account 123456789012 · 1 region" || strings.Contains(named.stdout, farSnap) {
		t.Errorf("plan --region us-east-1: exit %d, heading %q, shows %s: %v; want 0, one region, not shown",
			named.code, heading, farSnap, strings.Contains(named.stdout, farSnap))
	}

	mixed := w.cli("plan", "--region", "all", "--region", "us-east-1")
	if mixed.code != 2 || !strings.Contains(mixed.stderr, "all cannot be listed with region names") {
		t.Errorf("plan --region all --region us-east-1: exit %d, stderr %q; want 2 and why", mixed.code, mixed.stderr)
	}

	w.writeConfig(defaultConfig) // regions: [us-east-1]; the input says all
	w.rec.Reset()
	r := w.run("pull_request", w.prPayload("opened"), map[string]string{"regions": "all"})
	r.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "2"})
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	for what, body := range map[string]string{"comment": comments[0].Body, "job summary": r.summary} {
		if !strings.Contains(body, "· account 123456789012 "+count+"\n") || !strings.Contains(body, farSnap) || !strings.Contains(body, "| ap-southeast-2 |") {
			t.Errorf("%s: want the heading to say %q and a row for %s in ap-southeast-2:\n%s", what, count, farSnap, body)
		}
	}
	w.noMutatingCalls()

	// apply shows the plan, then the results, each headed with the count,
	// and deletes in the far region too.
	w.writeConfig(strings.Replace(defaultConfig, "regions: [us-east-1]", "regions: all", 1))
	a := w.cli("apply", "--yes")
	if a.code != 0 || strings.Count(a.stdout, "account 123456789012 "+count+"\n") != 2 || !strings.Contains(a.stdout, "Applied: 2 done") {
		t.Errorf("apply over regions: all: exit %d; want 0, the plan and the results each headed %q, and 2 done", a.code, count)
	}
	if _, ok := awstest.Snapshots(t, far)[farSnap]; ok {
		t.Errorf("%s in ap-southeast-2 still exists after apply", farSnap)
	}
}

// A refused DescribeRegions (the role lacks ec2:DescribeRegions) is not a
// quiet fall-back to fewer regions: the run fails before listing anything,
// naming the account, exit 1 (an AWS failure, not misuse: SPEC §8), every
// output written.
func TestRegionsAllRefused(t *testing.T) {
	w := newWorld(t)
	p, reached := w.withFaults()
	p.SetRules(faults.Rule{Op: "DescribeRegions", Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")})
	const why = "regions: all: list the regions enabled for account 123456789012: "

	c := w.cli("plan", "--region", "all")
	if c.code != 1 || !strings.Contains(c.stderr, why) || !strings.Contains(c.stderr, "UnauthorizedOperation") {
		t.Errorf("plan: exit %d, stderr %q; want 1 and %q with the AWS error", c.code, c.stderr, why)
	}
	r := w.run("pull_request", w.prPayload("opened"), map[string]string{"regions": "all"})
	r.want(t, 1, map[string]string{"result": "error", "exit-code": "1"})
	r.allOutputs(t)
	if !strings.Contains(r.stdout+r.stderr, why) {
		t.Errorf("broom action does not say %q", why)
	}
	if n := w.rec.Count("DescribeRegions"); n != 2 {
		t.Errorf("DescribeRegions asked %d times, want once a run (a permanent error: not retried)", n)
	}
	for _, c := range reached.Calls() {
		if c.Service == "ec2" && c.Op != "DescribeRegions" {
			t.Errorf("%s reached moto: nothing may be listed after DescribeRegions failed", c.Op)
		}
	}
}

// enabledRegions is what moto says is enabled: it answers every region it
// knows, those that need an opt-in marked not-opted-in.
func enabledRegions(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range out.Regions {
		if aws.ToString(r.OptInStatus) != "not-opted-in" {
			names = append(names, aws.ToString(r.RegionName))
		}
	}
	if len(names) < 17 || len(names) == len(out.Regions) {
		t.Fatalf("moto names %d regions, %d enabled: want at least 17 enabled and some not", len(out.Regions), len(names))
	}
	return names
}
