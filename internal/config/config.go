// Package config holds broom's configuration: the policy file (SPEC §3) read
// with line numbers, and the run settings layered from flags or action inputs,
// BROOM_* environment variables, the file and built-in defaults (SPEC §1).
package config

import (
	"fmt"
	"strings"
	"time"
)

// DefaultFile is where broom looks for its policy file.
const DefaultFile = ".github/broom.yml"

// Config is everything a run needs, built once at the edge.
type Config struct {
	File     // the policy file, with settings from higher layers applied
	Settings // run settings
}

// File is the policy file's content.
type File struct {
	Path    string
	Version int
	ID      string
	Regions []string
	// AllRegions is `regions: all`: every region enabled for each account,
	// which the engine asks EC2 for. Regions is then empty in the file;
	// action.ResolveRegions puts in it the one region broom connects in.
	AllRegions bool
	MaxActions int
	Timeout    time.Duration
	AWS        AWS
	Protect    Protect
	Tags       map[string]string
	Accounts   []Account // empty: the account of the current credentials
	// Organization, when set, stands for Accounts: the accounts are
	// discovered in AWS Organizations when the run connects.
	Organization *Organization
	// AllowedAccounts, when set, are the only accounts broom may act in:
	// the credentials' own and each of Accounts is checked against it
	// before anything is listed (SPEC §9). Empty: any account.
	AllowedAccounts []string
	Rules           []Rule
}

// AWS tunes the SDK clients broom builds: retries, the per-call timeout and
// the client-side rate limits. A zero field means the built-in default
// (package cloud holds them, with EC2's published request-rate limits).
type AWS struct {
	RetryMode   string        // "standard" or "adaptive"
	MaxAttempts int           // per call, the first included
	MaxBackoff  time.Duration // longest wait between two attempts
	CallTimeout time.Duration // each HTTP attempt
	// MaxListings bounds the (account, region, kind) listings a plan runs
	// at once, over every account and region (and the accounts checked at
	// once): each holds what it has read until it is judged, and its calls
	// wait for their rate limits. 0: DefaultMaxListings.
	MaxListings int
	// RateLimits overrides the token buckets, by API action name
	// (DeleteSnapshot) or by class: RateMutating, RateNonMutating.
	RateLimits map[string]RateLimit
}

// DefaultMaxListings is aws.max-listings when the config does not set it.
const DefaultMaxListings = 8

// The classes of API actions a rate limit can be set for besides single
// actions: EC2's own categories.
const (
	RateMutating    = "mutating"     // any action that changes something
	RateNonMutating = "non-mutating" // Describe*, Get*, List*, Search*, Head*
)

// RateLimit is a token bucket: Burst calls at once, refilled at PerSecond.
type RateLimit struct {
	Burst     int
	PerSecond float64
}

// Account is one AWS account broom works in, reached by assuming Role, or
// PlanRole in a run that can only plan.
type Account struct {
	ID   string
	Role string
	// PlanRole, when set, is the role a run that can only plan assumes:
	// a read-only role, so that a workflow changed to misuse the plan
	// job's credentials cannot delete in the account. Empty: Role.
	// (omitempty: a config without it keeps the Digest it had before.)
	PlanRole string `json:",omitempty"`
}

// RoleFor is the role to assume in the account: Role in a run that may
// change something; PlanRole, when set, in one that can only plan.
func (a Account) RoleFor(mayChange bool) string {
	if mayChange || a.PlanRole == "" {
		return a.Role
	}
	return a.PlanRole
}

// Organization is accounts: in its organization form: the ACTIVE accounts
// of OUs (and their child OUs), or of the whole organization, less Exclude,
// each reached by assuming Role (or PlanRole, in a run that can only plan)
// with AccountPlaceholder replaced by its id.
type Organization struct {
	OUs      []string // empty: the whole organization
	Exclude  []string
	Role     string
	PlanRole string `json:",omitempty"` // empty: Role (see Account.PlanRole)
}

// AccountPlaceholder is what Organization.Role names the account by.
const AccountPlaceholder = "{account}"

// RoleFor is the role to assume in account.
func (o Organization) RoleFor(account string) string {
	return strings.ReplaceAll(o.Role, AccountPlaceholder, account)
}

// Account is the organization's account id with its roles.
func (o Organization) Account(id string) Account {
	return Account{ID: id, Role: o.RoleFor(id), PlanRole: strings.ReplaceAll(o.PlanRole, AccountPlaceholder, id)}
}

// Protect lists what no rule may touch.
type Protect struct {
	Tags map[string]string // value "*" matches any value
	IDs  []string
}

// Rule is one entry of the file's rules list.
type Rule struct {
	Name     string
	Resource string
	Action   string
	Where    Where
	// Set is the tags a tag action writes, or the settings an update
	// action converges.
	Set map[string]string
	// Bucket, Region and Settings describe what an ensure action converges.
	Bucket   string
	Region   string
	Settings map[string]string
	// SnapshotFirst asks a volume delete to snapshot the volume first.
	SnapshotFirst bool
	Line          int // where the rule starts, for messages
}

// Where holds a rule's filters. Which ones a rule may use depends on its
// resource kind and action (see Catalog).
type Where struct {
	OlderThan time.Duration     // zero: no age filter
	Tags      map[string]string // all must match; "*" = any value
	// Flags are yes/no facts a kind reports, by filter name: unattached,
	// unused, unassociated, untagged, empty. A filter set to true matches only resources
	// with the fact; false, only those without.
	Flags       map[string]bool
	MissingTags []string // matches when any of these tag keys is absent
	State       string   // "" for any; else one of States (ec2-instance)
	// Repository is a glob (path.Match) on an ecr-image's repository
	// name; "" for any.
	Repository string
	// KeepLast spares the N most recently pushed images of each
	// repository (ecr-image); 0 spares none.
	KeepLast int
	// Name is a glob (path.Match: `*` and `?` stop at `/`) on the Name tag
	// or the resource's own name; "" for any.
	Name string
}

// States are the values the state filter takes.
var States = []string{"running", "stopped"}

// FlagFilters are the where-filters that test a yes/no fact of a resource.
var FlagFilters = []string{"unattached", "unused", "unassociated", "untagged", "empty"}

// Catalog tells the loader which resource kinds exist, the actions each
// accepts and, for each, the where-filters and rule options (OptionKeys) it
// accepts, so that a typo is caught before any API call. Package resource
// provides it. An update action lists the settings its set: takes among
// its options, each as set.KEY=V1|V2 (one of the values) or
// set.KEY=MIN..MAX (a whole number in the range), with "?" after KEY when
// the setting may be left out: set.type=gp3, set.iops?=3000..16000.
type Catalog map[string]map[string][]string // kind → action → filters and options

// Error is a problem in a file at a line; it prints as file:line: message.
// A problem with a setting (a flag, input or BROOM_* variable) has no file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" {
		return e.Msg
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
