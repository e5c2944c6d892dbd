package resource

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/faults"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// TestLogGroupMoto checks the log-group kind against moto: the facts each
// filter and the veto decide on, which groups' tags are read, the re-read
// and the delete. One moto, subtests one after the other (they share its
// clock).
func TestLogGroupMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	t.Run("list reports empty, age, tags, name, veto and cost, and only reads", func(t *testing.T) { lgTestList(t, m) })
	t.Run("each filter and the veto decide through policy", func(t *testing.T) { lgTestFilters(t, m) })
	t.Run("tags are read only where a rule could act", func(t *testing.T) { lgTestNarrow(t, m) })
	t.Run("get re-reads by exact name; delete or update of a gone group is gone", func(t *testing.T) { lgTestGetAndDelete(t, m) })
	t.Run("a group deleted while listed is left out", func(t *testing.T) { lgTestGoneWhileListed(t, m) })
}

const lgRegion = "us-east-1"

// lgMessage is the one event written to the full group: moto counts its
// length as the group's storedBytes (AWS counts compressed archived
// bytes, some time after ingestion).
const lgMessage = "hello from broom"

// lgSeed makes, 400 days ago, an empty tagged group, a full one and an
// empty one under /aws/lambda/, and now an empty young one.
func lgSeed(t *testing.T, m *awstest.Moto) {
	t.Helper()
	m.Reset()
	direct := m.Config(t, lgRegion)
	m.SetClock("-400d")
	awstest.CreateLogGroup(t, direct, "/ci/old-empty", map[string]string{"Team": "ci"})
	awstest.CreateLogGroup(t, direct, "/ci/old-full", nil)
	awstest.CreateLogGroup(t, direct, "/aws/lambda/old-fn", nil)
	m.SetClock("+0")
	awstest.CreateLogGroup(t, direct, "/ci/young", nil)
	awstest.PutLogEvent(t, direct, "/ci/old-full", lgMessage)
}

func lgTestList(t *testing.T, m *awstest.Moto) {
	lgSeed(t, m)
	cfg, rec := m.Recorded(t, lgRegion)
	got, err := kmKind(t, "log-group", cfg).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kmNoMutation(t, rec, "List")
	if n := rec.Count("ListTagsForResource"); n != 4 {
		t.Errorf("ListTagsForResource called %d times, want once per group (4)", n)
	}
	byID := kmByID(got)
	old := time.Now().Add(-400 * 24 * time.Hour)
	for id, want := range map[string]struct {
		empty  bool
		old    bool
		tags   map[string]string
		prefix string
		stored string
	}{
		"/ci/old-empty":      {empty: true, old: true, tags: map[string]string{"Team": "ci"}, stored: "0 B"},
		"/ci/old-full":       {old: true, tags: map[string]string{}, stored: "16 B"},
		"/aws/lambda/old-fn": {empty: true, old: true, tags: map[string]string{}, prefix: "/aws/"},
		"/ci/young":          {empty: true, tags: map[string]string{}, stored: "0 B"},
	} {
		r, ok := byID[id]
		if !ok {
			t.Errorf("%s not listed", id)
			continue
		}
		if r.Name != id || r.Flags["empty"] != want.empty || r.AWSPrefix != want.prefix {
			t.Errorf("%s: name %q, empty %v, AWS prefix %q; want %q, %v, %q", id, r.Name, r.Flags["empty"], r.AWSPrefix, id, want.empty, want.prefix)
		}
		if isOld := r.Created.Sub(old).Abs() < time.Hour; isOld != want.old {
			t.Errorf("%s: created %v, want 400 days ago: %v", id, r.Created, want.old)
		}
		if diff := cmp.Diff(want.tags, r.Tags); diff != "" {
			t.Errorf("%s: tags (-want +got):\n%s", id, diff)
		}
		if want.stored != "" && r.Details["stored"] != want.stored {
			t.Errorf("%s: stored %q, want %q", id, r.Details["stored"], want.stored)
		}
	}
	// The saving: what it stores × $0.03 per GB-month.
	if got, want := byID["/ci/old-full"].MonthlyCostUSD, float64(len(lgMessage))/(1<<30)*0.03; math.Abs(got-want) > 1e-15 {
		t.Errorf("/ci/old-full saves %g a month, want %g", got, want)
	}
	if got := byID["/ci/old-empty"].MonthlyCostUSD; got != 0 {
		t.Errorf("an empty group saves %g, want 0", got)
	}
}

func lgTestFilters(t *testing.T, m *awstest.Moto) {
	lgSeed(t, m)
	rs, err := kmKind(t, "log-group", m.Config(t, lgRegion)).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const lambda = "/aws/lambda/old-fn"
	tests := map[string]struct {
		where string
		act   []string
		// vetoed: the /aws/ group matches but is left alone.
		vetoed bool
	}{
		"empty":                   {where: "{empty: true}", act: []string{"/ci/old-empty", "/ci/young"}, vetoed: true},
		"not empty":               {where: "{empty: false}", act: []string{"/ci/old-full"}},
		"older than":              {where: "{older-than: 30d}", act: []string{"/ci/old-empty", "/ci/old-full"}, vetoed: true},
		"tags":                    {where: "{tags: {Team: ci}}", act: []string{"/ci/old-empty"}},
		"name within one level":   {where: `{name: "/ci/old-*"}`, act: []string{"/ci/old-empty", "/ci/old-full"}},
		"star does not cross /":   {where: `{name: "*"}`},
		"a glob that is not /aws": {where: `{name: "/*/*/old-*"}`, vetoed: true},
		"a name under /aws/":      {where: `{name: "/aws/lambda/old-*"}`, act: []string{lambda}},
		"another name under /aws": {where: `{name: "/aws/lambda/new-*"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := lbVerdicts(t, "resource: log-group\n    action: delete\n    where: "+tc.where, rs)
			if diff := cmp.Diff(tc.act, acting(v)); diff != "" {
				t.Errorf("acted on (-want +got):\n%s", diff)
			}
			got := v[lambda]
			if vetoed := got.Outcome == policy.Protect; vetoed != tc.vetoed {
				t.Errorf("%s: %v %q, want vetoed %v", lambda, got.Outcome, got.Reason, tc.vetoed)
			}
			if tc.vetoed && got.Reason != "AWS-owned prefix /aws/ (a rule acts on it only with a name that starts with /aws/)" {
				t.Errorf("%s: reason %q", lambda, got.Reason)
			}
		})
	}
}

// lgTestNarrow: when every rule of the listing wants empty groups, a full
// group's tags are not read (no rule acts on it whatever they say).
func lgTestNarrow(t *testing.T, m *awstest.Moto) {
	lgSeed(t, m)
	cfg, rec := m.Recorded(t, lgRegion)
	k := newLogGroups(Env{AWS: cfg, Narrow: Narrow{Flags: map[string]bool{"empty": true}}})
	got, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.Count("ListTagsForResource"); n != 3 {
		t.Errorf("ListTagsForResource called %d times, want once per empty group (3)", n)
	}
	byID := kmByID(got)
	if full, ok := byID["/ci/old-full"]; !ok || full.Tags != nil {
		t.Errorf("/ci/old-full: listed %v, tags %v; want listed without tags read", ok, full.Tags)
	}
	if diff := cmp.Diff(map[string]string{"Team": "ci"}, byID["/ci/old-empty"].Tags); diff != "" {
		t.Errorf("/ci/old-empty tags (-want +got):\n%s", diff)
	}
}

func lgTestGetAndDelete(t *testing.T, m *awstest.Moto) {
	lgSeed(t, m)
	direct := m.Config(t, lgRegion)
	cfg, rec := m.Recorded(t, lgRegion)
	// A narrowed kind, as the engine builds for apply: Get reads tags anyway.
	k := newLogGroups(Env{AWS: cfg, Narrow: Narrow{Flags: map[string]bool{"empty": true}}})
	listed, err := kmKind(t, "log-group", direct).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range listed {
		got, found, err := k.Get(t.Context(), want.ID)
		if err != nil || !found {
			t.Errorf("Get(%s) = found %v, err %v; want found", want.ID, found, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%s) differs from List (-list +get):\n%s", want.ID, diff)
		}
	}
	kmGetMissing(t, k, "/ci/old")    // a prefix of two groups, itself none
	kmGetMissing(t, k, "/ci/absent") // nothing at all
	kmNoMutation(t, rec, "Get")

	del := plan.Action{Op: plan.Delete, Kind: "log-group", ID: "/ci/old-empty"}
	if err := k.Do(t.Context(), del); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if left := awstest.LogGroups(t, direct); left["/ci/old-empty"] || !left["/ci/old-full"] {
		t.Errorf("groups left %v, want /ci/old-empty deleted and the others kept", left)
	}
	kmGetMissing(t, k, "/ci/old-empty")
	if err := k.Do(t.Context(), del); !errors.Is(err, ErrGone) {
		t.Errorf("second delete: %v, want ErrGone", err)
	}
	set := plan.Action{Op: plan.Update, Kind: "log-group", ID: "/ci/old-empty", Change: map[string]string{"retention-days": "30"}}
	if err := k.Do(t.Context(), set); !errors.Is(err, ErrGone) {
		t.Errorf("update of a gone group: %v, want ErrGone", err)
	}
	if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, ID: "/ci/young"}); err == nil || !strings.Contains(err.Error(), "cannot tag") {
		t.Errorf("tag: %v, want cannot tag", err)
	}
}

// lgTestGoneWhileListed: AWS answers ListTagsForResource for a group
// deleted since DescribeLogGroups with ResourceNotFoundException (moto
// answers no tags), which a proxy plays; another error fails the listing.
func lgTestGoneWhileListed(t *testing.T, m *awstest.Moto) {
	lgSeed(t, m)
	p, err := faults.New(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg := m.Config(t, lgRegion)
	cfg.BaseEndpoint = aws.String(p.URL())
	arn := func(name string) string {
		return "arn:aws:logs:" + lgRegion + ":" + awstest.AccountID + ":log-group:" + name
	}
	p.SetRules(faults.Rule{Service: "logs", Op: "ListTagsForResource", IDs: []string{arn("/ci/young")},
		Fault: faults.APIError(400, "ResourceNotFoundException", "The specified log group does not exist.")})
	got, err := newLogGroups(Env{AWS: cfg}).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if byID := kmByID(got); len(byID) != 3 || byID["/ci/young"].ID != "" {
		t.Errorf("listed %v, want the three groups other than /ci/young", ids(got))
	}
	p.SetRules(faults.Rule{Service: "logs", Op: "ListTagsForResource", IDs: []string{arn("/ci/young")},
		Fault: faults.APIError(400, "AccessDeniedException", "not allowed")})
	if _, err := newLogGroups(Env{AWS: cfg}).List(t.Context()); err == nil || !strings.Contains(err.Error(), "list tags of log group /ci/young") {
		t.Errorf("list with tags refused: %v, want the error naming the group", err)
	}
}

// TestLogGroupFacts covers what moto cannot show: AWS's deletion
// protection, retention, the other AWS-owned prefixes, and prices.
func TestLogGroupFacts(t *testing.T) {
	t.Parallel()
	gib := int64(1 << 30)
	tests := map[string]struct {
		g      logtypes.LogGroup
		region string
		check  func(t *testing.T, r plan.Resource)
	}{
		"deletion protection is in use": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), DeletionProtectionEnabled: aws.Bool(true)},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "in use", r.InUse, "deletion protection enabled") }},
		"without deletion protection, not in use": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), DeletionProtectionEnabled: aws.Bool(false)},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "in use", r.InUse, "") }},
		"retention in days": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), RetentionInDays: aws.Int32(30)},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "retention", r.Details["retention"], "30 days") }},
		"no retention never expires": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api")},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "retention", r.Details["retention"], "never expires") }},
		"Glue's groups are AWS-owned": {g: logtypes.LogGroup{LogGroupName: aws.String("/aws-glue/jobs/output")},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "prefix", r.AWSPrefix, "/aws-glue/") }},
		"RDS Enhanced Monitoring's group is AWS-owned": {g: logtypes.LogGroup{LogGroupName: aws.String("RDSOSMetrics")},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "prefix", r.AWSPrefix, "RDSOSMetrics") }},
		"a look-alike is not": {g: logtypes.LogGroup{LogGroupName: aws.String("/awsome/app")},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "prefix", r.AWSPrefix, "") }},
		"a GiB a month in us-east-1": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), StoredBytes: aws.Int64(gib)}, region: "us-east-1",
			check: func(t *testing.T, r plan.Resource) {
				if r.MonthlyCostUSD != 0.03 || r.Details["stored"] != "1.0 GiB" || r.Details["price"] != "" || r.Flags["empty"] {
					t.Errorf("saves %g, stored %q, price %q, empty %v; want 0.03, 1.0 GiB, no note, not empty",
						r.MonthlyCostUSD, r.Details["stored"], r.Details["price"], r.Flags["empty"])
				}
			}},
		"a region without a price says so": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), StoredBytes: aws.Int64(3 * gib / 2)}, region: "ap-south-1",
			check: func(t *testing.T, r plan.Resource) {
				wantEq(t, "price", r.Details["price"], "us-east-1 price (none listed for ap-south-1)")
				wantEq(t, "stored", r.Details["stored"], "1.5 GiB")
			}},
		"kibibytes": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), StoredBytes: aws.Int64(1536)},
			check: func(t *testing.T, r plan.Resource) { wantEq(t, "stored", r.Details["stored"], "1.5 KiB") }},
		"no creation time is unknown, never old": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api")},
			check: func(t *testing.T, r plan.Resource) {
				if !r.Created.IsZero() || r.Details["created"] != "" {
					t.Errorf("created %v (%q), want unknown", r.Created, r.Details["created"])
				}
			}},
		"creation time in milliseconds": {g: logtypes.LogGroup{LogGroupName: aws.String("/app/api"), CreationTime: aws.Int64(1764849600123)},
			check: func(t *testing.T, r plan.Resource) {
				if want := time.UnixMilli(1764849600123).UTC(); !r.Created.Equal(want) || r.Details["created"] != "2025-12-04" {
					t.Errorf("created %v (%q), want %v", r.Created, r.Details["created"], want)
				}
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, logGroupResource(tc.g, tc.region))
		})
	}
}

func wantEq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s %q, want %q", what, got, want)
	}
}

// A log group delete is allowed only on groups with the rule's where-tags.
func TestPolicyLimitsLogGroupDeletesToTheRulesTags(t *testing.T) {
	t.Parallel()
	doc, err := Policy([]Use{{Kind: "log-group", Action: "delete", WhereTags: map[string]string{"Team": "ci"}}}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Statement{Sid: "DeleteLogGroupsTaggedTeamCi", Effect: "Allow", Action: Values{"logs:DeleteLogGroup"},
		Resource: Values{"arn:aws:logs:*:*:log-group:*"}, Condition: Condition{"StringEquals": {"aws:ResourceTag/Team": {"ci"}}}}
	for _, s := range doc.Statement {
		if strings.HasPrefix(s.Sid, "DeleteLogGroups") {
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("delete statement (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Errorf("no DeleteLogGroups statement in %+v", doc.Statement)
}
