// Package plan is broom's plan model: pure data, no I/O, and nothing else of
// broom imported. A Plan is a sorted list of Actions; its Fingerprint is what
// an approver approves (SPEC §5). Rendering lives in package report, execution
// in package engine.
package plan
