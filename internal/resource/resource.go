package resource

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// Kind is one resource kind in one region.
type Kind interface {
	// List returns every resource of the kind in its region that the
	// account owns, with facts filled in (tags, creation time, in-use).
	List(ctx context.Context) ([]plan.Resource, error)
	// Get re-reads one resource just before it is acted on; found is false
	// when it no longer exists.
	Get(ctx context.Context, id string) (r plan.Resource, found bool, err error)
	// Do carries out the action. A resource that is already gone returns
	// an error wrapping ErrGone.
	Do(ctx context.Context, a plan.Action) error
}

// Rereader is a kind that re-reads many resources with a few calls, so
// that applying thousands of actions spends the API's allowance on the
// actions rather than on one check before each.
type Rereader interface {
	// GetMany re-reads the resources with the given ids, at most
	// RereadBatch of them; an id missing from the answer no longer exists.
	GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error)
}

// Pager is a kind whose regions may hold tens of thousands of resources,
// listed page by page: the engine decides each page as it arrives and
// keeps only what the rules act on or leave alone, so a listing holds one
// page rather than the region's inventory (BENCHMARKS.md).
type Pager interface {
	// ListPages calls page with what List returns, a page at a time, in
	// order; an error from page ends the listing with it.
	ListPages(ctx context.Context, page func([]plan.Resource) error) error
}

// RereadBatch is the most ids one GetMany takes. EC2 accepts up to 200
// values in a filter; 100 keeps each answer, and the time its facts age
// before the last of the batch is acted on, small.
const RereadBatch = 100

// BatchDeleter is a kind whose API deletes many resources with one call
// (ECR's BatchDeleteImage). The engine re-reads and re-judges each delete
// as for any kind, then hands those still approved, of one BatchKey, to
// one DeleteMany, and records each action's outcome from its answer. It
// returns outcomes by id, not one error, because such APIs succeed for
// some ids and fail for others in one answer; a whole call's failure is
// every id's.
type BatchDeleter interface {
	// BatchKey names what one DeleteMany call can take together (ECR:
	// the image's repository, as BatchDeleteImage takes one); "" when
	// the action goes alone through Do.
	BatchKey(a plan.Action) string
	// DeleteMany carries out actions, deletes of one BatchKey and at most
	// DeleteBatch ids, and returns each id's outcome as Do would: nil, an
	// error wrapping ErrGone, or why it failed.
	DeleteMany(ctx context.Context, actions []plan.Action) map[string]error
}

// DeleteBatch is the most ids one DeleteMany takes: BatchDeleteImage's
// limit.
const DeleteBatch = 100

// getOne is Get for a kind that re-reads in batches.
func getOne(ctx context.Context, k Rereader, id string) (plan.Resource, bool, error) {
	got, err := k.GetMany(ctx, []string{id})
	if err != nil {
		return plan.Resource{}, false, err
	}
	r, found := got[id]
	return r, found, nil
}

// ErrGone means the resource no longer exists: a delete is already done.
var ErrGone = errors.New("resource no longer exists")

// ErrConverged means the resource is already as the action would make it.
var ErrConverged = errors.New("already as desired")

// ErrChanged means the resource changed since the plan in a way the action
// must not ignore (a snapshot to be deleted with an AMI became protected):
// nothing was done, and the action is skipped for the next plan to decide.
var ErrChanged = errors.New("changed since the plan")

// Env is what a kind is built with: the AWS configuration of one account
// and region, and how to tag what broom creates or modifies.
type Env struct {
	AWS     aws.Config
	Account string // the account id the credentials were checked against
	// Tags are the config's tags, stamped on what broom creates.
	Tags map[string]string
	// Change is the value of the broom:change tag: the PR or run URL, or
	// "local". It goes on everything broom creates or modifies.
	Change string
	// Narrow is what every rule of a listing requires, for the kind to
	// ask the API to filter server-side; List may still return more.
	Narrow Narrow
	// Actions are the actions of the rules the kind is built for (delete,
	// update, …), for it to read the facts only some actions need (an
	// update's vetoes) only when one of them is there.
	Actions []string
	// Protected says why the config's protect keeps r, or "" (the engine
	// passes policy.Protected with the config's protect; nil protects
	// nothing). A kind asks it about what an action touches besides the
	// resource itself, such as the snapshots behind an AMI: the decision
	// stays in policy, the facts in the kind.
	Protected func(r plan.Resource) string
}

// protected is env.Protected, or nothing protected when it is nil.
func (env Env) protected() func(plan.Resource) string {
	if env.Protected == nil {
		return func(plan.Resource) string { return "" }
	}
	return env.Protected
}

// Narrow is a listing's server-side filter: tags every rule requires
// (value "*" means the key only), yes/no facts and the state every rule
// requires ("" for any).
type Narrow struct {
	Tags  map[string]string
	Flags map[string]bool
	State string
}

// ec2Filters turns the narrowing tags into EC2 filters.
func (n Narrow) ec2Filters() []types.Filter {
	var out []types.Filter
	for _, k := range sortedKeys(n.Tags) {
		if v := n.Tags[k]; v == "*" {
			out = append(out, types.Filter{Name: aws.String("tag-key"), Values: []string{k}})
		} else {
			out = append(out, types.Filter{Name: aws.String("tag:" + k), Values: []string{v}})
		}
	}
	return out
}

// Ensurer is a kind whose rules name one resource and its desired state
// (action ensure) instead of filtering a listing.
type Ensurer interface {
	// Ensure compares the named resource with what is desired and returns
	// the create and update actions that would converge it (none when it
	// already is), with Op, ID, Change and Reason set, and the resource as
	// it read it, for protect: its ID, and, when it exists and actions are
	// planned, its tags. (The engine judges protect on that, so the plan
	// reads the resource once.)
	Ensure(ctx context.Context, d Desired) (actions []plan.Action, now plan.Resource, err error)
}

// Converger is a kind that works out itself what an update rule's set
// changes on a resource: settings it derives from those set (a gp3
// volume's IOPS from the gp2 volume's), and what converging saves. For a
// kind without it, the settings of set that differ from the resource's
// Settings are the change.
type Converger interface {
	// Converge returns what set (checked against the kind's Sets) changes
	// on r; a nil Change when r is already as set.
	Converge(r plan.Resource, set map[string]string) Converged
}

// Converged is what an update changes on one resource.
type Converged struct {
	// Change is the settings that differ, as the action's change: nil
	// when the resource is already as the rule sets.
	Change map[string]string
	// Why, when not empty, is the reason to leave the resource alone.
	Why string
	// MonthlyCostUSD is what the change saves, where known.
	MonthlyCostUSD float64
	// SavingUnknown says the change may save, but by how much the kind
	// cannot know (the action's saving then shows "—").
	SavingUnknown bool
}

// Desired is what an ensure rule asks for.
type Desired struct {
	Name     string
	Settings map[string]string
	Tags     map[string]string
}

// Spec describes a kind: its name, the actions it supports with the filters
// and options each accepts, and how to build it for an account and region.
type Spec struct {
	Name    string
	Actions map[string][]string // action → accepted where-filters and rule options
	New     func(env Env) Kind
	// IAM is what each action needs of IAM, to plan and to apply (iam.go
	// assembles the policy from it).
	IAM map[string]Access
	// Moves are the actions that move a resource to a state, by action
	// name, with the state (ec2-instance's stop: "stopped"). Such an
	// action's op is update and its change {"state": the state}; a
	// resource already in that state is left alone, and at apply is
	// already done.
	Moves map[string]string
	// Sets are the settings an update action's set: accepts, by action
	// name; the config loader checks rules against them.
	Sets map[string][]Setting
	// IAMNames maps the kind's API operations ("service:Operation", by
	// SigV4 signing name) whose IAM actions are not named alike to the
	// actions they need; every other operation needs the action of its name.
	IAMNames map[string][]string
}

// Setting is one setting of an update's set: its key, and the values it
// takes: one of Values, or else a whole number from Min to Max.
type Setting struct {
	Key      string
	Values   []string
	Min, Max int
	Required bool
}

// option is the setting as the config loader reads it among a rule's
// options (config.Catalog): set.KEY=V1|V2 or set.KEY=MIN..MAX, with "?"
// after KEY when the setting is optional.
func (s Setting) option() string {
	key := "set." + s.Key
	if !s.Required {
		key += "?"
	}
	if len(s.Values) > 0 {
		return key + "=" + strings.Join(s.Values, "|")
	}
	return fmt.Sprintf("%s=%d..%d", key, s.Min, s.Max)
}

// Lookup returns the spec of the named kind.
func Lookup(name string) (Spec, error) {
	for _, s := range registry {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(registry))
	for i, s := range registry {
		names[i] = s.Name
	}
	sort.Strings(names)
	return Spec{}, fmt.Errorf("unknown resource kind %q, valid kinds are %s", name, strings.Join(names, ", "))
}

// Catalog is what the config loader needs to check rules: kind → action →
// accepted filters and options (a config.Catalog), an update's settings
// among them (Setting.option).
func Catalog() map[string]map[string][]string {
	c := map[string]map[string][]string{}
	for _, s := range registry {
		c[s.Name] = s.Actions
		for action, sets := range s.Sets {
			actions := maps.Clone(c[s.Name])
			accepted := slices.Clone(actions[action])
			for _, set := range sets {
				accepted = append(accepted, set.option())
			}
			actions[action] = accepted
			c[s.Name] = actions
		}
	}
	return c
}
