// Package resource knows AWS resource kinds: how to list each in a region,
// re-read one, and carry out an action on it idempotently. A kind reports
// facts (plan.Resource); whether to act is decided by package policy.
//
// To add a kind: write one file with a type that implements Kind (use the
// SDK's paginators, a narrow client interface, and treat "not found" on an
// action as ErrGone), then add one line to the registry in registry.go.
package resource
