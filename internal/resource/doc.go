// Package resource knows AWS resource kinds: how to list each in a region,
// re-read one, and carry out an action on it idempotently. A kind reports
// facts (plan.Resource); whether to act is decided by package policy.
//
// A kind is one file. To add one, write kind_name.go with:
//
//   - a type that implements Kind (and Rereader when it can re-read many
//     resources at once): use the SDK's paginators, a narrow client
//     interface, and treat "not found" on an action as ErrGone;
//   - its Spec (var kindNameSpec = Spec{…}): the name, the actions with
//     the filters and options each accepts, New, and IAM, what each action
//     needs to plan and to apply (iam.go only assembles the policy), with
//     IAMNames for any API operation whose IAM action is named otherwise;
//   - its price table, a regionPrices looked up with price (prices.go);
//
// then add one line to the registry in registry.go, and the kind's
// conformance entry to conformance_test.go: how to seed one resource a rule
// acts on, one protected by tag, one by id and (if the kind has vetoes) a
// vetoed one, the rule, and what the plan should do. The conformance suite
// fails for a registered kind without an entry.
package resource
