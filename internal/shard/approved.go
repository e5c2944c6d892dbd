package shard

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/broom-dev/broom/internal/plan"
)

// PlanFile is the plan file of a merged plan (broom merge --out, the merge
// job's plan-file): a plan file (SPEC §5) plus its shards and what it
// leaves alone.
type PlanFile struct {
	plan.Plan
	Shards    Shards        `json:"shards"`
	LeftAlone []plan.Action `json:"left_alone"`
}

// File is the merged plan's file.
func (m Merged) File() PlanFile {
	return PlanFile{Plan: m.Plan, Shards: m.Shards, LeftAlone: m.LeftAlone}
}

// Approval is what an apply shard needs of the approved plan: its
// fingerprint and how it splits into slices. A merged plan file and the
// gate's approved file both hold it.
type Approval struct {
	ID          string  `json:"id"`
	Fingerprint string  `json:"fingerprint"`
	Shards      *Shards `json:"shards"`
}

// ApprovedFile is the file the gate job publishes for the apply shards
// (.broom/approved-<id>.json): the plan an approver saw, by fingerprint
// and slices, and who approved it when. ParseApproval reads it, as it
// reads a merged plan file.
type ApprovedFile struct {
	Version     int       `json:"version"`
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Head        string    `json:"head"`
	ApprovedBy  string    `json:"approved_by"`
	ApprovedAt  time.Time `json:"approved_at"`
	Shards      Shards    `json:"shards"`
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseApproval reads an approved plan file (named name, for messages)
// and checks that its shards are whole: count slices, in index order, each
// with a fingerprint.
func ParseApproval(name string, b []byte) (Approval, error) {
	var a Approval
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("%s is not an approved broom plan: %v", name, err)
	}
	if !hex64.MatchString(a.Fingerprint) {
		return a, fmt.Errorf("%s is not an approved broom plan: no fingerprint", name)
	}
	if a.Shards == nil || a.Shards.Count < 1 {
		return a, fmt.Errorf("%s has no shards: the plan was not made in shards (broom merge --out writes them)", name)
	}
	s := a.Shards
	if len(s.Slices) != s.Count {
		return a, fmt.Errorf("%s has %d slices for %d shards", name, len(s.Slices), s.Count)
	}
	for i, sl := range s.Slices {
		if sl.Index != i+1 || !hex64.MatchString(sl.Fingerprint) || sl.Actions < 0 {
			return a, fmt.Errorf("%s: slice %d of its shards is not index %d with a fingerprint", name, i+1, i+1)
		}
	}
	return a, nil
}

// Check says whether this run (spec, with the config digest config) may
// apply its slice of the approval.
func (a Approval) Check(name string, spec Spec, config string) error {
	if a.Shards.Count != spec.Count {
		return fmt.Errorf("%s was approved in %d shards, not %d (shard %s)", name, a.Shards.Count, spec.Count, spec)
	}
	if a.Shards.Config != config {
		return fmt.Errorf("config changed since the plan was approved: digest %s, not %s as in %s", config, a.Shards.Config, name)
	}
	return nil
}

// Actions is how many actions the approved plan has, in all its slices.
func (a Approval) Actions() int {
	return a.Shards.Actions()
}

// Slice is the approved slice of spec's shard.
func (a Approval) Slice(spec Spec) Slice {
	s, _ := a.Shards.Slice(spec.Index)
	return s
}
