package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

// orgWorld is a world whose account manages an organization of four:
// itself and a loose member at the root, two members in OU prod (one in a
// child OU, team), each with an old CI snapshot, and a closed member in
// prod. It returns the sorted prod members, their snapshots by account and
// the prod OU's id.
func orgWorld(t *testing.T) (w *world, members []string, snaps map[string]string, prod string) {
	w = newWorld(t)
	root := awstest.CreateOrganization(t, w.aws)
	prod = awstest.CreateOU(t, w.aws, root, "prod")
	team := awstest.CreateOU(t, w.aws, prod, "team")
	members = []string{awstest.CreateMemberAccount(t, w.aws, root, prod, "billing"), awstest.CreateMemberAccount(t, w.aws, root, team, "search")}
	awstest.CreateMemberAccount(t, w.aws, root, root, "sandbox")
	awstest.CloseAccount(t, w.aws, awstest.CreateMemberAccount(t, w.aws, root, prod, "retired"))
	slices.Sort(members)
	snaps = map[string]string{}
	w.moto.SetClock("-400d")
	for _, id := range members {
		// moto lands an assumed role in the account its ARN names.
		in := cloud.AssumeRole(w.aws, "arn:aws:iam::"+id+":role/broom", "seed")
		snaps[id] = awstest.CreateSnapshot(t, in, awstest.CreateVolume(t, in, 8, "us-east-1a"), map[string]string{"Environment": "ci"})
	}
	w.moto.SetClock("+0")
	w.snapshot("-400d", map[string]string{"Environment": "ci"}) // in the management account, which prod leaves out
	return w, members, snaps, prod
}

func orgConfig(ou, allowed string) string {
	return strings.Replace(defaultConfig, "\nregions: [us-east-1]\n", "\nregions: [us-east-1]\n"+allowed+
		"accounts:\n  organization:\n    ous: ["+ou+"]\n  role: \"arn:aws:iam::{account}:role/broom\"\n", 1)
}

// accounts: organization through the built binary: the ACTIVE accounts of
// an OU and its child OU are planned, each in its own account, the
// heading naming them in order; the management account, a member outside
// the OU and a closed one are not.
func TestOrganizationPlansEachAccountOfAnOU(t *testing.T) {
	w, members, snaps, prod := orgWorld(t)
	w.writeConfig(orgConfig(prod, ""))
	w.rec.Reset()
	p := w.cli("plan")
	heading, _, _ := strings.Cut(p.stdout, "\n")
	want := "broom plan · nightly · 2 accounts: " + members[0] + ", " + members[1] + " · 1 region"
	if p.code != 0 || heading != want {
		t.Errorf("plan: exit %d, heading %q; want 0 and %q", p.code, heading, want)
	}
	for _, id := range members {
		if !strings.Contains(p.stdout, snaps[id]) {
			t.Errorf("plan does not show %s of account %s", snaps[id], id)
		}
	}
	if !strings.Contains(p.stdout, "Plan: 2 to delete") {
		t.Errorf("plan does not say Plan: 2 to delete")
	}
	if n := w.rec.Count("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole called %d times, want once for each of the 2 accounts", n)
	}
	for _, c := range w.rec.Mutating() {
		if c.Op != "AssumeRole" {
			t.Errorf("plan made the mutating call %s:%s", c.Service, c.Op)
		}
	}

	// The same organization, the same plan: as JSON, twice.
	first, again := w.cli("plan", "--format", "json"), w.cli("plan", "--format", "json")
	fp := func(out string) string {
		_, rest, _ := strings.Cut(out, `"fingerprint": "`)
		return strings.SplitN(rest, `"`, 2)[0]
	}
	if fp(first.stdout) == "" || fp(first.stdout) != fp(again.stdout) {
		t.Errorf("fingerprints %q and %q: want the same, not empty", fp(first.stdout), fp(again.stdout))
	}

	// broom action on a pull request: the comment and the summary show both.
	r := w.run("pull_request", w.prPayload("opened"), nil)
	r.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "2", "fingerprint": fp(first.stdout)})
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	for what, body := range map[string]string{"comment": comments[0].Body, "job summary": r.summary} {
		if !strings.Contains(body, "· 2 accounts: "+members[0]+", "+members[1]+" ·") {
			t.Errorf("%s: heading does not name %v:\n%s", what, members, body)
		}
		for _, id := range members {
			if !strings.Contains(body, snaps[id]) {
				t.Errorf("%s: no row for %s of %s", what, snaps[id], id)
			}
		}
	}
}

// An OU that does not exist is an AWS error (exit 1) naming it, with every
// output written, and nothing listed.
func TestOrganizationUnknownOUFails(t *testing.T) {
	w, _, _, prod := orgWorld(t)
	const missing = "ou-zzzz-zzzzzzzz"
	w.writeConfig(strings.Replace(orgConfig(prod, ""), "ous: ["+prod+"]", "ous: ["+prod+", "+missing+"]", 1))
	w.rec.Reset()
	r := w.run("schedule", prtest.Payload(t, "schedule", ""), nil)
	r.want(t, 1, map[string]string{"result": "error", "mode": "plan"})
	for what, text := range map[string]string{"log": r.stderr + r.stdout, "job summary": r.summary} {
		if !strings.Contains(text, "OU "+missing) || !strings.Contains(text, "ParentNotFoundException") {
			t.Errorf("the %s does not name %s and ParentNotFoundException:\n%s", what, missing, text)
		}
	}
	if n := w.rec.Count("DescribeSnapshots") + w.rec.Count("AssumeRole"); n != 0 {
		t.Errorf("%d roles assumed or listings made after a failed discovery, want none", n)
	}
	c := w.cli("plan")
	if c.code != 1 || !strings.Contains(c.stderr, "OU "+missing) {
		t.Errorf("broom plan: exit %d, stderr %q; want 1 naming %s", c.code, c.stderr, missing)
	}
}

// A discovered account that allowed-accounts leaves out: exit 2 naming
// it, before any role is assumed or anything listed.
func TestOrganizationAccountNotAllowed(t *testing.T) {
	w, members, _, prod := orgWorld(t)
	w.writeConfig(orgConfig(prod, "allowed-accounts: [\""+motoAccount+"\", \""+members[0]+"\"]\n"))
	w.rec.Reset()
	r := w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"mode": "apply"})
	r.want(t, 2, map[string]string{"result": "error", "mode": "plan"})
	want := "account " + members[1] + " is not in allowed-accounts (" + motoAccount + ", " + members[0] + "): accounts: organization has it"
	if !strings.Contains(r.stderr+r.stdout, want) || !strings.Contains(r.summary, want) {
		t.Errorf("the run or its summary does not say %q:\n%s", want, r.summary)
	}
	if m := w.rec.Mutating(); len(m) > 0 {
		t.Errorf("calls that change or assume: %v, want none", m)
	}
	if n := w.rec.Count("DescribeSnapshots"); n != 0 {
		t.Errorf("DescribeSnapshots called %d times, want none", n)
	}
}

// With plan-role, a run that can only plan assumes each member's plan-role
// (session broom-plan) and never its role: the plan job's credentials then
// need no trust of the role that deletes. A run that may change something,
// an approval, assumes role (session broom-apply). A refused approval that
// writes an edited plan again only plans: plan-role.
func TestOrganizationPlanRoleForRunsThatOnlyPlan(t *testing.T) {
	w, members, snaps, prod := orgWorld(t)
	w.writeConfig(strings.Replace(orgConfig(prod, ""), "  role: \"arn:aws:iam::{account}:role/broom\"\n",
		"  role: \"arn:aws:iam::{account}:role/broom\"\n  plan-role: \"arn:aws:iam::{account}:role/broom-plan\"\n", 1))
	assumed := func(what, role, session string) {
		t.Helper()
		var want, got []awstest.AssumedRole
		for _, id := range members {
			want = append(want, awstest.AssumedRole{RoleArn: "arn:aws:iam::" + id + ":role/" + role, SessionName: session})
		}
		got = w.rec.AssumedRoles()
		slices.SortFunc(got, func(a, b awstest.AssumedRole) int { return strings.Compare(a.RoleArn, b.RoleArn) })
		if !slices.Equal(got, want) {
			t.Errorf("%s assumed %v, want %v", what, got, want)
		}
		w.rec.Reset()
	}

	w.rec.Reset()
	if p := w.cli("plan"); p.code != 0 || !strings.Contains(p.stdout, "Plan: 2 to delete") {
		t.Fatalf("broom plan: exit %d, want 0 and 2 to delete:\n%s%s", p.code, p.stdout, p.stderr)
	}
	assumed("broom plan", "broom-plan", "broom-plan")
	if p := w.cli("apply", "--dry-run"); p.code != 0 {
		t.Fatalf("broom apply --dry-run: exit %d:\n%s", p.code, p.stderr)
	}
	assumed("broom apply --dry-run", "broom-plan", "broom-plan")

	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, map[string]string{"result": "planned", "planned": "2"})
	assumed("the pull request's plan", "broom-plan", "broom-plan")

	// Someone edits the plan shown: the refusal plans again, and only plans.
	sticky := w.stickyComments()[0]
	w.gh.Advance(time.Minute)
	w.gh.EditCommentAs(sticky.ID, author, strings.Replace(sticky.Body, "Plan: 2 to delete", "Plan: 1 to delete", 1))
	w.gh.Advance(time.Minute)
	w.rec.Reset()
	w.run("pull_request", w.labeled("alice", label), nil).want(t, 5, map[string]string{"result": "refused"})
	assumed("the refusal that wrote the plan again", "broom-plan", "broom-plan")

	w.gh.Advance(time.Minute)
	w.run("pull_request", w.labeled("alice", label), nil).want(t, 0, map[string]string{"result": "applied", "applied": "2"})
	assumed("the approval", "broom", "broom-apply")
	for _, id := range members {
		in := cloud.AssumeRole(w.aws, "arn:aws:iam::"+id+":role/broom", "check")
		if _, ok := awstest.Snapshots(t, in)[snaps[id]]; ok {
			t.Errorf("%s of %s still exists after the approval", snaps[id], id)
		}
	}
}
