// Package shard splits a run's targets over N processes and merges what
// they planned back into the one plan a single process would have made
// (issue 16). It is pure: it imports plan only and does no I/O but JSON.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/broom-dev/broom/internal/plan"
)

// MaxCount is the most shards a run may be split into.
const MaxCount = 1000

// Spec is one shard of a run: --shard 2/4 is {2, 4}.
type Spec struct{ Index, Count int }

// errSpec is the one line a bad K/N gets.
var errSpec = errors.New("want K/N with 1 ≤ K ≤ N, e.g. 2/4")

// Parse reads "K/N", 1 ≤ K ≤ N ≤ MaxCount.
func Parse(s string) (Spec, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Spec{}, errSpec
	}
	i, err1 := strconv.Atoi(k)
	c, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || i < 1 || i > c {
		return Spec{}, errSpec
	}
	if c > MaxCount {
		return Spec{}, fmt.Errorf("%s: at most %d shards", errSpec, MaxCount)
	}
	return Spec{Index: i, Count: c}, nil
}

// String is "K/N".
func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Of is the shard (1..n) a target group falls in: 1 + the mixed FNV-1a 64
// of the group mod n, the same on every run, machine and Go version.
// FNV-1a's low bits are weak (its lowest is the parity of the bytes' low
// bits), and a shard count is often a power of two, which keeps only low
// bits: one account's regions would land together, and ids that differ
// in one repeated digit all in one shard. MurmurHash3's finalizer spreads
// every bit of the hash over the low ones.
func Of(group string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(group))
	return 1 + int(mix(h.Sum64())%uint64(n))
}

// mix is MurmurHash3's 64-bit finalizer (fmix64).
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb93e1a85ec53
	x ^= x >> 33
	return x
}

// Digest is the lowercase hex SHA-256 of the sorted keys joined by "\n":
// what every shard of one run computes alike for the whole key list.
func Digest(keys []string) string {
	sorted := slices.Sorted(slices.Values(keys))
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return hex.EncodeToString(sum[:])
}

// Coverage is what a shard covered of the run's targets.
type Coverage struct {
	Index   int      `json:"index"`
	Count   int      `json:"count"`
	Config  string   `json:"config"`  // config.Digest of the run
	Targets []string `json:"targets"` // sorted keys this shard covered
	All     string   `json:"all"`     // Digest of every shard's keys
	Total   int      `json:"total"`   // how many keys in all
}

// Spec is the shard the coverage is of.
func (c Coverage) Spec() Spec { return Spec{Index: c.Index, Count: c.Count} }

// Account is one account of the run, with its alias where it has one.
type Account struct {
	ID    string `json:"id"`
	Alias string `json:"alias,omitempty"`
}

// Phases of a shard file.
const (
	PhasePlan  = "plan"
	PhaseApply = "apply"
)

// File is the plan file a shard writes: a plan file (SPEC §5) plus what
// the shard covered and, after an apply, what it was approved for.
type File struct {
	plan.Plan
	Shard     Coverage      `json:"shard"`
	Phase     string        `json:"phase"`              // PhasePlan or PhaseApply
	Approved  string        `json:"approved,omitempty"` // apply: the slice fingerprint it was given
	Drift     bool          `json:"drift,omitempty"`    // apply: the fresh slice differed; Actions are the fresh ones, none applied
	LeftAlone []plan.Action `json:"left_alone"`
	Accounts  []Account     `json:"accounts"` // every account of the run, in run order
	Regions   []string      `json:"regions"`  // regions this shard looked in
	Error     string        `json:"error,omitempty"`
}

// Slice is one shard's part of a merged plan.
type Slice struct {
	Index       int    `json:"index"`
	Fingerprint string `json:"fingerprint"` // plan.Fingerprint of the shard's actions (what remains after an apply)
	Actions     int    `json:"actions"`
}

// Shards is how a merged plan splits into slices: what an apply shard
// compares its fresh slice with.
type Shards struct {
	Count  int     `json:"count"`
	Config string  `json:"config"`
	All    string  `json:"all"`
	Slices []Slice `json:"slices"` // one per shard, index order
}

// Actions is how many actions the slices hold together.
func (s Shards) Actions() int {
	n := 0
	for _, sl := range s.Slices {
		n += sl.Actions
	}
	return n
}

// Slice returns shard index's slice.
func (s Shards) Slice(index int) (Slice, bool) {
	for _, sl := range s.Slices {
		if sl.Index == index {
			return sl, true
		}
	}
	return Slice{}, false
}

// NamedFile is a shard file and the name it was read from, for messages.
type NamedFile struct {
	Name string
	File File
}

// ShardError is a shard whose run failed: its file holds an Error.
type ShardError struct {
	Spec Spec
	Name string
	Err  string
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("shard %s (%s) failed: %s", e.Spec, e.Name, e.Err)
}

// ShardFailure is an apply shard that failed before or while applying.
type ShardFailure struct {
	Spec  Spec
	Error string
}

// Merged is the one plan the shard files make.
type Merged struct {
	Plan      plan.Plan     // plan.New over every shard's actions: one process's fingerprint
	LeftAlone []plan.Action // sorted
	Accounts  []Account
	Regions   []string // union, sorted
	Shards    Shards
	Covered   []Coverage // each file's, index order: which targets a shard's note names
	Phase     string
	Drifted   []Spec         // apply phase
	Failed    []ShardFailure // apply phase
}

// Merge checks that files are the shards of one run, each once, covering
// every target once, and returns the one plan. Every error names what is
// wrong. A plan-phase file with Error is a *ShardError, returned once the
// set of files is known to be whole; an apply-phase one is a Failed slice.
// A file with Error may not know the run's targets (its run failed before
// listing them), so the checks of the whole key list skip it.
func Merge(files []NamedFile) (Merged, error) {
	if len(files) == 0 {
		return Merged{}, errors.New("no shard files")
	}
	sorted := slices.Clone(files)
	slices.SortStableFunc(sorted, func(a, b NamedFile) int {
		return a.File.Shard.Index - b.File.Shard.Index
	})
	for _, f := range sorted {
		if err := isShardFile(f); err != nil {
			return Merged{}, err
		}
	}
	whole := -1 // a file without Error: the reference for the key list
	for i, f := range sorted {
		if f.File.Error == "" {
			whole = i
			break
		}
	}
	for _, f := range sorted[1:] {
		if err := sameRun(sorted[0], f); err != nil {
			return Merged{}, err
		}
	}
	for _, f := range sorted {
		if whole >= 0 {
			if err := sameTargets(sorted[whole], f); err != nil {
				return Merged{}, err
			}
		}
	}
	n := sorted[0].File.Shard.Count
	seen := map[int]string{}
	for _, f := range sorted {
		i := f.File.Shard.Index
		if prev, ok := seen[i]; ok {
			return Merged{}, fmt.Errorf("shard %s is given twice: %s, %s", f.File.Shard.Spec(), prev, f.Name)
		}
		seen[i] = f.Name
	}
	for i := 1; i <= n; i++ {
		if _, ok := seen[i]; !ok {
			return Merged{}, fmt.Errorf("shard %s is missing", Spec{i, n})
		}
	}
	owner := map[string]Spec{}
	for _, f := range sorted {
		for _, key := range f.File.Shard.Targets {
			if by, ok := owner[key]; ok {
				return Merged{}, fmt.Errorf("shards %s and %s both cover %s", by, f.File.Shard.Spec(), key)
			}
			owner[key] = f.File.Shard.Spec()
		}
	}
	if whole >= 0 && !slices.ContainsFunc(sorted, func(f NamedFile) bool { return f.File.Error != "" }) {
		ref := sorted[whole].File.Shard
		if len(owner) != ref.Total {
			return Merged{}, fmt.Errorf("the shards cover %d targets, but the run has %d", len(owner), ref.Total)
		}
		keys := make([]string, 0, len(owner))
		for k := range owner {
			keys = append(keys, k)
		}
		if d := Digest(keys); d != ref.All {
			return Merged{}, fmt.Errorf("the shards' targets are not the run's: digest %s, not %s", d, ref.All)
		}
	}
	return merge(sorted)
}

// isShardFile checks that f is a broom shard file of a known phase.
func isShardFile(f NamedFile) error {
	c := f.File.Shard
	if f.File.Version != 1 || c.Count < 1 || c.Index < 1 || c.Index > c.Count || c.Config == "" ||
		(c.All == "" && f.File.Error == "") || (f.File.Phase != PhasePlan && f.File.Phase != PhaseApply) {
		return fmt.Errorf("%s is not a broom shard file", f.Name)
	}
	return nil
}

// sameRun checks that f is a shard of the same run as first.
func sameRun(first, f NamedFile) error {
	a, b := first.File, f.File
	spec := fmt.Sprintf("shard %s (%s)", b.Shard.Spec(), f.Name)
	switch {
	case a.Phase != b.Phase:
		return fmt.Errorf("the files mix plan and apply files: %s is a %s file, %s an %s file", first.Name, a.Phase, f.Name, b.Phase)
	case a.ID != b.ID:
		return fmt.Errorf("%s is of report id %q, not %q", spec, b.ID, a.ID)
	case a.Shard.Config != b.Shard.Config:
		return fmt.Errorf("%s was planned with another config: digest %s, not %s", spec, b.Shard.Config, a.Shard.Config)
	case a.Shard.Count != b.Shard.Count:
		return fmt.Errorf("%s is one of %d shards, not %d", spec, b.Shard.Count, a.Shard.Count)
	}
	return nil
}

// sameTargets checks that f saw the same key list as ref, unless f's run
// failed before it knew the list.
func sameTargets(ref, f NamedFile) error {
	a, b := ref.File.Shard, f.File.Shard
	if f.File.Error != "" && b.All == "" {
		return nil
	}
	if a.All != b.All || a.Total != b.Total {
		return fmt.Errorf("shard %s (%s) saw other targets: %d with digest %s, not %d with %s", b.Spec(), f.Name, b.Total, b.All, a.Total, a.All)
	}
	return nil
}

// merge builds the one plan from checked files, in index order.
func merge(files []NamedFile) (Merged, error) {
	first := files[0].File
	m := Merged{Accounts: first.Accounts, Phase: first.Phase,
		Shards: Shards{Count: first.Shard.Count, Config: first.Shard.Config}}
	var actions []plan.Action
	created := first.Created
	var failed error
	for _, nf := range files {
		f := nf.File
		if f.Shard.All != "" {
			m.Shards.All = f.Shard.All
		}
		if f.Created.After(created) {
			created = f.Created
		}
		if len(f.Accounts) > len(m.Accounts) { // a shard that failed early may know fewer
			m.Accounts = f.Accounts
		}
		m.Covered = append(m.Covered, f.Shard)
		m.LeftAlone = append(m.LeftAlone, f.LeftAlone...)
		m.Regions = append(m.Regions, f.Regions...)
		slice := f.Actions
		switch {
		case f.Phase == PhaseApply && f.Error != "":
			slice = nil // its fresh actions were never approved: not shown, not approvable
		case f.Phase == PhaseApply:
			slice = f.Remaining()
		}
		if f.Phase == PhasePlan || f.Error == "" {
			actions = append(actions, f.Actions...)
		}
		m.Shards.Slices = append(m.Shards.Slices, Slice{Index: f.Shard.Index, Fingerprint: plan.Fingerprint(slice), Actions: len(slice)})
		switch {
		case f.Error != "" && f.Phase == PhasePlan && failed == nil:
			failed = &ShardError{Spec: f.Shard.Spec(), Name: nf.Name, Err: f.Error}
		case f.Error != "" && f.Phase == PhaseApply:
			m.Failed = append(m.Failed, ShardFailure{Spec: f.Shard.Spec(), Error: f.Error})
		}
		if f.Drift {
			m.Drifted = append(m.Drifted, f.Shard.Spec())
		}
	}
	m.Plan = plan.New(first.ID, created, actions)
	plan.Sort(m.LeftAlone)
	if m.LeftAlone == nil {
		m.LeftAlone = []plan.Action{}
	}
	slices.Sort(m.Regions)
	m.Regions = slices.Compact(m.Regions)
	return m, failed
}

// NewFile is the plan-phase file of a shard that planned p (with left
// alone and the regions it looked in) over cov, in a run of accounts.
func NewFile(p plan.Plan, leftAlone []plan.Action, cov Coverage, accounts []Account, regions []string) File {
	f := File{Plan: p, Shard: cov, Phase: PhasePlan, LeftAlone: leftAlone, Accounts: accounts, Regions: regions}
	if f.Actions == nil {
		f.Actions = []plan.Action{}
	}
	if f.LeftAlone == nil {
		f.LeftAlone = []plan.Action{}
	}
	if f.Shard.Targets == nil {
		f.Shard.Targets = []string{}
	}
	if f.Accounts == nil {
		f.Accounts = []Account{}
	}
	if f.Regions == nil {
		f.Regions = []string{}
	}
	return f
}
