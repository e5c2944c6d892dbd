// Package resource knows AWS resource kinds: how to list each in a region,
// re-read one, and carry out an action on it idempotently. A kind reports
// facts (plan.Resource); whether to act is decided by package policy.
//
// A kind is one file. To add one, write kind_name.go (elastic_ip.go is the
// smallest to copy) with:
//
//   - a type that implements Kind (and Rereader when it can re-read many
//     resources at once, BatchDeleter when its API deletes many with one
//     call, Ensurer when its rules name what they converge):
//     use the SDK's paginators, a narrow client interface, and treat "not
//     found" on an action as ErrGone;
//   - its Spec, var kindNameSpec = Spec{…}: the name, the actions with the
//     filters and options each accepts, New, and IAM, the grants each
//     action needs to plan (reads only) and to apply (iam.go only
//     assembles the policy from them); the grant of an action that removes
//     or changes the resource sets RuleResourceTags, so the policy narrows
//     it to the rule's where-tags and denies it on protected resources
//     (TestDestructiveGrantsFollowTags fails for one that does not); IAMNames for any API operation whose
//     IAM action is named otherwise (S3's are); Moves for an action that
//     moves a resource to a state (ec2-instance's stop: an update to
//     stopped, with plan.Resource.State the fact it compares); Sets for
//     an update action, the settings its set: takes and their values
//     (checked at config load), with plan.Resource.Settings the facts an
//     update compares, or a Converge method (Converger) when the change
//     is worked out from them (ebs-volume's gp2 to gp3);
//   - its price table, a regionPrices looked up with price (prices.go),
//     which says when a region falls back to the us-east-1 price.
//
// Then add the Spec to the registry in registry.go (one line), and the
// kind's entry to conformances in conformance_test.go, for instance:
//
//	"elastic-ip": {
//		Seed: func(t *testing.T, cfg aws.Config) conformanceSeed {
//			… // allocate Act, ByTag (tagged broom:keep), ByID, and an associated one
//			return conformanceSeed{Act: a, ByTag: b, ByID: c, Vetoed: map[string]string{d: "associated"}}
//		},
//		Rules: oneRule("resource: elastic-ip\n    action: delete"),
//		Op:    plan.Delete,
//	},
//
// TestConformance runs every registered kind through the engine against
// moto from its entry (list, re-read, plan without mutating, protect by tag
// and id at plan and apply, vetoes, apply and re-apply, IAM grants against
// the calls made, the JSON Schema) and fails for a kind without one. The
// kind's actions and filters go in schema/broom.schema.json too, which the
// suite and internal/config's schema tests check against the registry.
package resource
