package resource

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An ecr-image delete is allowed only in repositories that carry the
// rule's where-tags: ECR's BatchDeleteImage takes aws:ResourceTag, the
// repository's.
func TestPolicyLimitsECRImageDeletesToTheRulesTags(t *testing.T) {
	t.Parallel()
	doc, err := Policy([]Use{{Kind: "ecr-image", Action: "delete", WhereTags: map[string]string{"Team": "ci"}}}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Statement{Sid: "DeleteECRImagesTaggedTeamCi", Effect: "Allow", Action: Values{"ecr:BatchDeleteImage"},
		Resource: Values{"arn:aws:ecr:*:*:repository/*"}, Condition: Condition{"StringEquals": {"aws:ResourceTag/Team": {"ci"}}}}
	var got []Statement
	for _, s := range doc.Statement {
		if s.Sid == want.Sid || s.Sid == "DeleteECRImages" {
			got = append(got, s)
		}
	}
	if diff := cmp.Diff([]Statement{want}, got); diff != "" {
		t.Errorf("delete statements (-want +got):\n%s", diff)
	}
}
