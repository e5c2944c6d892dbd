package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Op is what an action does to a resource.
type Op int

// The operations of SPEC §5, in the order a report lists them.
const (
	Delete Op = iota
	Create
	Update
	Tag
)

var opNames = [...]string{Delete: "delete", Create: "create", Update: "update", Tag: "tag"}

// String returns the op's name as written in config files and reports.
func (o Op) String() string {
	if o < 0 || int(o) >= len(opNames) {
		return fmt.Sprintf("op(%d)", int(o))
	}
	return opNames[o]
}

// ParseOp is the inverse of Op.String.
func ParseOp(s string) (Op, error) {
	for i, n := range opNames {
		if n == s {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("unknown op %q", s)
}

// MarshalText writes the op's name.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an op's name.
func (o *Op) UnmarshalText(b []byte) error {
	v, err := ParseOp(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Status is the outcome of one action after apply; empty before.
type Status string

// The statuses of SPEC §5.
const (
	Pending     Status = ""
	Done        Status = "done"
	AlreadyDone Status = "already-done"
	Failed      Status = "failed"
	Skipped     Status = "skipped"
)

// Action is one change broom proposes.
type Action struct {
	Op      Op     `json:"op"`
	Kind    string `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	// Details are kind-specific facts for the report (size, created, …).
	Details map[string]string `json:"details,omitempty"`
	// Change is the desired state for tag, create and update actions
	// (tags to set, settings); it is part of the fingerprint.
	Change map[string]string `json:"change,omitempty"`
	// MonthlyCostUSD is what the action saves (a delete; an instance's
	// stop), where known.
	MonthlyCostUSD float64 `json:"monthly_cost_usd,omitempty"`
	// SavingUnknown says the action may save, but by how much is not
	// known (a log group's new retention: the bytes it expires); reports
	// show "—". Like the saving, it is not part of the fingerprint.
	SavingUnknown bool   `json:"saving_unknown,omitempty"`
	Status        Status `json:"status,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Key identifies the action's target and op; no two actions of a plan share it.
func (a Action) Key() string {
	return a.Account + "/" + a.Region + "/" + a.Kind + "/" + a.ID + "/" + a.Op.String()
}

// Plan is a report id, its actions in canonical order, and their fingerprint.
type Plan struct {
	Version     int       `json:"version"`
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Actions     []Action  `json:"actions"`
}

// New sorts the actions and returns a plan with its fingerprint.
func New(id string, created time.Time, actions []Action) Plan {
	if actions == nil {
		actions = []Action{}
	}
	Sort(actions)
	return Plan{Version: 1, ID: id, Fingerprint: Fingerprint(actions), Created: created.UTC(), Actions: actions}
}

// Sort orders actions by (account, region, kind, id, op), the canonical
// order, then by name where one resource has several actions of an op.
func Sort(actions []Action) { slices.SortStableFunc(actions, compare) }

// compare is the canonical order: the first key that differs decides.
func compare(a, b Action) int {
	return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region),
		strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID), cmp.Compare(a.Op, b.Op),
		strings.Compare(a.Name, b.Name)) // e.g. one bucket's several updates
}

// canonical is the part of an action that the fingerprint covers: what is
// done to which resource, not the wording of reasons or details.
type canonical struct {
	Op      string            `json:"op"`
	Kind    string            `json:"kind"`
	Account string            `json:"account"`
	Region  string            `json:"region"`
	ID      string            `json:"id"`
	Change  map[string]string `json:"change,omitempty"`
}

// Fingerprint is the lowercase hex SHA-256 of the canonical JSON of the
// actions in canonical order. It does not depend on the input order.
func Fingerprint(actions []Action) string {
	sorted := append([]Action(nil), actions...)
	Sort(sorted)
	c := make([]canonical, len(sorted))
	for i, a := range sorted {
		c[i] = canonical{Op: a.Op.String(), Kind: a.Kind, Account: a.Account, Region: a.Region, ID: a.ID, Change: a.Change}
	}
	b, err := json.Marshal(c) // maps marshal with sorted keys, so this is canonical
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Remaining returns the actions still to do after an apply: those that
// failed, were skipped or never ran (SPEC §7).
func (p Plan) Remaining() []Action {
	var out []Action
	for _, a := range p.Actions {
		if a.Status != Done && a.Status != AlreadyDone {
			out = append(out, a)
		}
	}
	return out
}

// Counts is how many actions a plan holds per op and per status.
type Counts struct {
	ByOp                               map[Op]int
	Done, AlreadyDone, Failed, Skipped int
	MonthlyCostUSD                     float64
}

// Count tallies the plan's actions.
func (p Plan) Count() Counts {
	c := Counts{ByOp: map[Op]int{}}
	for _, a := range p.Actions {
		c.ByOp[a.Op]++
		if a.Op == Delete || a.Op == Update { // an update saves when it stops an instance
			c.MonthlyCostUSD += a.MonthlyCostUSD
		}
		switch a.Status {
		case Done:
			c.Done++
		case AlreadyDone:
			c.AlreadyDone++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		}
	}
	return c
}

// Applied reports whether any action of the plan has a result.
func (p Plan) Applied() bool {
	for _, a := range p.Actions {
		if a.Status != Pending {
			return true
		}
	}
	return false
}

// Resource is what a resource kind reports about one resource it listed:
// facts only. Whether a rule acts on it is decided by package policy.
type Resource struct {
	ID      string
	Name    string
	Created time.Time
	Tags    map[string]string
	// InUse, when set, says why the resource must not be deleted
	// (e.g. "backs AMI ami-0123"); it is a veto no rule overrides.
	InUse string
	// Flags are yes/no facts that where-filters test, by filter name:
	// "unattached", "unused", "unassociated", "untagged".
	Flags map[string]bool
	// State is the resource's lifecycle state, which the state filter
	// tests ("running", "stopped"); "" for kinds without one.
	State string
	// Vetoes are vetoes of one action only, by action name, with the
	// reason: an instance that runs is not terminated ("delete").
	Vetoes map[string]string
	// Settings are the current values of what an update rule's set: may
	// name ("type": "gp2"); a setting the resource does not have is absent.
	Settings       map[string]string
	Details        map[string]string
	MonthlyCostUSD float64
	// DeleteChange is what deleting the resource also changes, for a
	// delete action's Change, so that it enters the fingerprint: the
	// snapshots deleted with an AMI ("delete-snapshots"). Apply skips a
	// delete whose re-read DeleteChange differs from the plan's.
	DeleteChange map[string]string
	// Repository is the repository an ecr-image is in, which the
	// repository filter globs; Newer is how many images of it were pushed
	// after this one, which keep-last counts against.
	Repository string
	Newer      int
	// AWSPrefix is the name prefix by which AWS services own the resource
	// ("/aws/" for a log group): a veto that only a rule whose name glob
	// starts with the prefix lifts, naming the resources it acts on.
	AWSPrefix string
}
