package resource

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// TestECRImageMoto checks ecr-image against moto (SPEC §10): its facts,
// each filter and the keep-last veto as policy reads those facts, and its
// delete. Subtests share one moto and its clock, so they run in turn.
func TestECRImageMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const region = "us-east-1"
	const mib = 1 << 20

	// seed pushes into ci-app (tagged Team=ci) an untagged image 400 days
	// ago, v1 300 days ago, another untagged one 200 days ago and v3 now;
	// and into prod-app (untagged repository) one untagged image 400 days
	// ago. Each a different clock, so moto's to-the-second push times
	// differ, and different layers, so the digests do (SPEC §11).
	type seeded struct {
		direct                          aws.Config
		ci400, ci300, ci200, ci0, prod0 string
	}
	seed := func(t *testing.T) seeded {
		m.Reset()
		s := seeded{direct: m.Config(t, region)}
		awstest.CreateRepository(t, s.direct, "ci-app", map[string]string{"Team": "ci"})
		awstest.CreateRepository(t, s.direct, "prod-app", nil)
		m.SetClock("-400d")
		s.ci400 = awstest.PushImage(t, s.direct, "ci-app", "", "ci-400", 2*mib)
		s.prod0 = awstest.PushImage(t, s.direct, "prod-app", "", "prod-400", mib)
		m.SetClock("-300d")
		s.ci300 = awstest.PushImage(t, s.direct, "ci-app", "v1", "ci-300", mib)
		m.SetClock("-200d")
		s.ci200 = awstest.PushImage(t, s.direct, "ci-app", "", "ci-200", mib)
		m.SetClock("+0")
		s.ci0 = awstest.PushImage(t, s.direct, "ci-app", "v3", "ci-0", mib)
		return s
	}
	missing := "ci-app@sha256:" + strings.Repeat("0", 64)

	t.Run("list reports each image with its repository's tags, its place among the newest, size and cost, and only reads", func(t *testing.T) {
		s := seed(t)
		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ecr-image", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		if diff := cmp.Diff(ecrSorted(s.ci0, s.ci200, s.ci300, s.ci400, s.prod0), slices.Sorted(maps.Keys(byID))); diff != "" {
			t.Errorf("listed (-want +got):\n%s", diff)
		}
		newer := map[string]int{}
		for id, r := range byID {
			newer[id] = r.Newer
		}
		if diff := cmp.Diff(map[string]int{s.ci0: 0, s.ci200: 1, s.ci300: 2, s.ci400: 3, s.prod0: 0}, newer); diff != "" {
			t.Errorf("Newer (-want +got):\n%s", diff)
		}
		old := byID[s.ci400]
		awstest.TimeNear(t, "oldest image's Created", old.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
		want := plan.Resource{
			ID: s.ci400, Name: "ci-app", Created: old.Created,
			Tags:       map[string]string{"Team": "ci"},
			Flags:      map[string]bool{"untagged": true},
			Repository: "ci-app", Newer: 3,
			Details:        map[string]string{"repository": "ci-app", "size": "2.0 MiB", "pushed": old.Created.UTC().Format("2006-01-02")},
			MonthlyCostUSD: 2.0 / 1024 * 0.10,
		}
		if diff := cmp.Diff(want, old); diff != "" {
			t.Errorf("oldest image (-want +got):\n%s", diff)
		}
		v1 := byID[s.ci300]
		if v1.Name != "ci-app:v1" || v1.Flags["untagged"] || v1.Details["image tags"] != "v1" {
			t.Errorf("tagged image: name %q, flags %v, details %v; want ci-app:v1, not untagged, image tags v1", v1.Name, v1.Flags, v1.Details)
		}
		if p := byID[s.prod0]; len(p.Tags) != 0 || p.Repository != "prod-app" {
			t.Errorf("prod-app image: tags %v, repository %q; want none, prod-app", p.Tags, p.Repository)
		}
		kmNoMutation(t, rec, "List")

		rec.Reset()
		kmGetMatchesList(t, k, got, "gone-repo@sha256:"+strings.Repeat("0", 64))
		kmGetMissing(t, k, missing)
		// A repository is read whole; only the ids asked for are answered.
		one, err := k.(Rereader).GetMany(t.Context(), []string{s.ci400})
		if err != nil || len(one) != 1 || one[s.ci400].ID != s.ci400 {
			t.Errorf("GetMany(%s) = %v, %v; want that image alone", s.ci400, slices.Sorted(maps.Keys(one)), err)
		}
		kmGetMissing(t, k, "not-an-image-id")
		kmNoMutation(t, rec, "Get")
	})

	t.Run("filters: repository globs the name, untagged and older-than read the image, tags the repository's", func(t *testing.T) {
		s := seed(t)
		got, err := kmKind(t, "ecr-image", s.direct).List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tests := map[string]struct {
			where string
			want  []string // what the rule acts on
		}{
			"repository":      {"{repository: ci-*}", []string{s.ci0, s.ci200, s.ci300, s.ci400}},
			"repository none": {"{repository: app-*}", nil},
			"untagged":        {"{untagged: true}", []string{s.ci200, s.ci400, s.prod0}},
			"tagged":          {"{untagged: false}", []string{s.ci0, s.ci300}},
			"older-than":      {"{older-than: 250d}", []string{s.ci300, s.ci400, s.prod0}},
			"tags":            {"{tags: {Team: ci}}", []string{s.ci0, s.ci200, s.ci300, s.ci400}},
			"keep-last":       {"{keep-last: 2}", []string{s.ci300, s.ci400}},
			"all of them":     {"{repository: ci-*, untagged: true, older-than: 30d, keep-last: 2}", []string{s.ci400}},
		}
		for name, tc := range tests {
			rule := ecrRule(t, tc.where)
			var acts []string
			for _, r := range got {
				if policy.Evaluate(rule, config.Protect{}, time.Now(), r).Outcome == policy.Act {
					acts = append(acts, r.ID)
				}
			}
			slices.Sort(acts)
			if diff := cmp.Diff(ecrSorted(tc.want...), acts); diff != "" {
				t.Errorf("%s acts on (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("keep-last vetoes the newest of each repository, whatever else matches, saying so", func(t *testing.T) {
		s := seed(t)
		got, err := kmKind(t, "ecr-image", s.direct).List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		rule := ecrRule(t, "{untagged: true, keep-last: 2}")
		want := map[string]string{s.ci200: "one of the 2 newest in ci-app", s.prod0: "one of the 2 newest in prod-app"}
		kept := map[string]string{}
		for _, r := range got {
			if v := policy.Evaluate(rule, config.Protect{}, time.Now(), r); v.Outcome == policy.Protect {
				kept[r.ID] = v.Reason
			}
		}
		if diff := cmp.Diff(want, kept); diff != "" {
			t.Errorf("vetoed (-want +got):\n%s", diff)
		}
	})

	t.Run("a re-read ranks the image against its repository as it is now", func(t *testing.T) {
		s := seed(t)
		k := kmKind(t, "ecr-image", s.direct)
		rule := ecrRule(t, "{keep-last: 2}")
		before, found, err := k.Get(t.Context(), s.ci300)
		if err != nil || !found || policy.Evaluate(rule, config.Protect{}, time.Now(), before).Outcome != policy.Act {
			t.Fatalf("Get(%s) before = %+v, found %v, err %v; want it acted on", s.ci300, before, found, err)
		}
		// The newest goes meanwhile: v1 is now one of the two newest.
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: s.ci0}); err != nil {
			t.Fatal(err)
		}
		after, found, err := k.Get(t.Context(), s.ci300)
		if err != nil || !found {
			t.Fatalf("Get(%s) after = found %v, err %v", s.ci300, found, err)
		}
		if v := policy.Evaluate(rule, config.Protect{}, time.Now(), after); v.Outcome != policy.Protect || v.Reason != "one of the 2 newest in ci-app" {
			t.Errorf("after the newest went: %v %q, want protected: one of the 2 newest in ci-app", v.Outcome, v.Reason)
		}
	})

	t.Run("protect judges the repository's tags, and protect.ids takes REPO@DIGEST", func(t *testing.T) {
		s := seed(t)
		awstest.TagRepository(t, s.direct, "prod-app", map[string]string{"broom:keep": "yes"})
		got, err := kmKind(t, "ecr-image", s.direct).List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		protect := config.Protect{Tags: map[string]string{"broom:keep": "*"}, IDs: []string{s.ci400}}
		rule := ecrRule(t, "{older-than: 30d}")
		want := map[string]string{s.ci400: "protected: id listed in protect.ids", s.prod0: "protected: tag broom:keep=yes"}
		kept := map[string]string{}
		for _, r := range got {
			if v := policy.Evaluate(rule, protect, time.Now(), r); v.Outcome == policy.Protect {
				kept[r.ID] = v.Reason
			}
		}
		if diff := cmp.Diff(want, kept); diff != "" {
			t.Errorf("protected (-want +got):\n%s", diff)
		}
	})

	t.Run("a listing narrowed by tags skips the images of repositories without them", func(t *testing.T) {
		s := seed(t)
		cfg, rec := m.Recorded(t, region)
		spec, _ := Lookup("ecr-image")
		k := spec.New(Env{AWS: cfg, Account: awstest.AccountID, Narrow: Narrow{Tags: map[string]string{"Team": "ci"}}})
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ecrSorted(s.ci0, s.ci200, s.ci300, s.ci400), slices.Sorted(maps.Keys(kmByID(got)))); diff != "" {
			t.Errorf("listed (-want +got):\n%s", diff)
		}
		if n := rec.Count("DescribeImages"); n != 1 {
			t.Errorf("DescribeImages calls = %d, want 1 (prod-app's images are not read)", n)
		}
		// A re-read ignores the narrowing: prod-app's image is still there.
		if _, found, err := k.Get(t.Context(), s.prod0); err != nil || !found {
			t.Errorf("Get(%s) with a narrowed kind = found %v, err %v; want found", s.prod0, found, err)
		}
	})

	t.Run("delete removes the image by digest, then reports gone; another failure is an error", func(t *testing.T) {
		s := seed(t)
		k := kmKind(t, "ecr-image", s.direct)
		for _, id := range []string{s.ci400, s.ci300} { // untagged, and tagged
			if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: id}); err != nil {
				t.Fatalf("Do delete %s: %v", id, err)
			}
			kmGetMissing(t, k, id)
			if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: id}); !errors.Is(err, ErrGone) {
				t.Errorf("second Do %s = %v, want ErrGone", id, err)
			}
		}
		if diff := cmp.Diff([]string{s.ci0, s.ci200}, awstest.ECRImages(t, s.direct, "ci-app")); diff != "" {
			t.Errorf("ci-app's images after the deletes (-want +got):\n%s", diff)
		}
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: "gone-repo@sha256:" + strings.Repeat("0", 64)}); !errors.Is(err, ErrGone) {
			t.Errorf("Do in a missing repository = %v, want ErrGone", err)
		}
		// BatchDeleteImage answers a bad digest in its failures, too.
		err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: "ci-app@sha256:xyz"})
		if err == nil || errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "InvalidImageDigest") {
			t.Errorf("Do with a bad digest = %v, want an InvalidImageDigest error", err)
		}
		if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: "ecr-image", ID: s.ci0}); err == nil {
			t.Error("Do tag = nil, want an error: ecr-image only deletes")
		}
		if got := awstest.ECRImages(t, s.direct, "prod-app"); len(got) != 1 {
			t.Errorf("prod-app's images = %v, want its one image untouched", got)
		}
	})

	t.Run("DeleteMany deletes a repository's images with one call and answers each: deleted, gone, or its failure", func(t *testing.T) {
		s := seed(t)
		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "ecr-image", cfg).(BatchDeleter)
		del := func(ids ...string) []plan.Action {
			var out []plan.Action
			for _, id := range ids {
				out = append(out, plan.Action{Op: plan.Delete, Kind: "ecr-image", ID: id})
			}
			return out
		}
		if got := k.BatchKey(del(s.ci400)[0]); got != "ci-app" {
			t.Errorf("BatchKey(%s) = %q, want ci-app", s.ci400, got)
		}
		if got := k.BatchKey(plan.Action{Op: plan.Delete, ID: "not-an-image-id"}); got != "" {
			t.Errorf("BatchKey of a malformed id = %q, want \"\": it goes alone", got)
		}
		// moto answers a malformed digest in the failures, as it would
		// ImageReferencedByManifestList: a failure of that image alone.
		bad := "ci-app@sha256:xyz"
		got := k.DeleteMany(t.Context(), del(s.ci400, s.ci300, missing, bad, s.ci400, s.prod0))
		if n := rec.Count("BatchDeleteImage"); n != 1 {
			t.Errorf("BatchDeleteImage calls = %d, want 1", n)
		}
		if len(got) != 5 || got[s.ci400] != nil || got[s.ci300] != nil {
			t.Errorf("DeleteMany = %v, want 5 answers, %s and %s deleted", got, s.ci400, s.ci300)
		}
		if err := got[missing]; !errors.Is(err, ErrGone) {
			t.Errorf("DeleteMany of an image gone = %v, want ErrGone", err)
		}
		if err := got[bad]; err == nil || errors.Is(err, ErrGone) || err.Error() != "delete image "+bad+": InvalidImageDigest: "+
			"Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'" {
			t.Errorf("DeleteMany of a bad digest = %v, want its failure code and reason", err)
		}
		if err := got[s.prod0]; err == nil || err.Error() != "delete image "+s.prod0+": not in ci-app, the repository of its batch" {
			t.Errorf("DeleteMany of another repository's image = %v, want it refused", err)
		}
		if diff := cmp.Diff([]string{s.ci0, s.ci200}, awstest.ECRImages(t, s.direct, "ci-app")); diff != "" {
			t.Errorf("ci-app's images after DeleteMany (-want +got):\n%s", diff)
		}
		if got := awstest.ECRImages(t, s.direct, "prod-app"); len(got) != 1 {
			t.Errorf("prod-app's images = %v, want its one image untouched", got)
		}
		got = k.DeleteMany(t.Context(), del("gone-repo@"+strings.TrimPrefix(missing, "ci-app@")))
		if err := got["gone-repo@"+strings.TrimPrefix(missing, "ci-app@")]; !errors.Is(err, ErrGone) {
			t.Errorf("DeleteMany in a missing repository = %v, want ErrGone", err)
		}
	})
}

// TestECRImageOrder pins the order keep-last counts in: newest push first,
// and the digest between images pushed in the same instant, so that a
// plan and its re-read rank alike. moto keeps push times to the second.
func TestECRImageOrder(t *testing.T) {
	t.Parallel()
	at := func(s int) *time.Time { v := time.Unix(int64(s), 0); return &v }
	details := []ecrtypes.ImageDetail{
		{ImageDigest: aws.String("sha256:b"), ImagePushedAt: at(10)},
		{ImageDigest: aws.String("sha256:c"), ImagePushedAt: at(20)},
		{ImageDigest: aws.String("sha256:a"), ImagePushedAt: at(10)},
	}
	newestFirst(details)
	var got []string
	for _, d := range details {
		got = append(got, aws.ToString(d.ImageDigest))
	}
	if diff := cmp.Diff([]string{"sha256:c", "sha256:a", "sha256:b"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func ecrRule(t *testing.T, where string) config.Rule {
	t.Helper()
	f, err := config.Parse("broom.yml", []byte("version: 1\nrules:\n  - name: r\n    resource: ecr-image\n    action: delete\n    where: "+where+"\n"), Catalog())
	if err != nil {
		t.Fatalf("parse where %q: %v", where, err)
	}
	return f.Rules[0]
}

func ecrSorted(ids ...string) []string {
	if len(ids) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(ids))
}
