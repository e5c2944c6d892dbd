package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/plan"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Spec{"2/4": {2, 4}, " 1/1 ": {1, 1}, "1000/1000": {1000, 1000}} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
		if strings.TrimSpace(in) != got.String() {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), strings.TrimSpace(in))
		}
	}
	for _, in := range []string{"", "2", "0/4", "5/4", "-1/4", "a/4", "2/b", "2/4/1", "1/0"} {
		if _, err := Parse(in); err == nil || err.Error() != "want K/N with 1 ≤ K ≤ N, e.g. 2/4" {
			t.Errorf("Parse(%q) error = %v", in, err)
		}
	}
	if _, err := Parse("1/1001"); err == nil || !strings.Contains(err.Error(), "at most 1000 shards") {
		t.Errorf("Parse(1/1001) error = %v", err)
	}
}

func TestOf(t *testing.T) {
	// Pinned values: a change of hash would move targets between the
	// shards of runs that are merged together.
	for _, c := range []struct {
		group string
		n     int
		want  int
	}{{"", 4, 3}, {"a", 1000, 244}} {
		if got := Of(c.group, c.n); got != c.want {
			t.Errorf("Of(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
	hit := map[int]int{}
	for i := range 400 {
		s := Of(fmt.Sprintf("1111111111%02d/eu-west-%d", i%100, i/100), 4)
		if s < 1 || s > 4 {
			t.Fatalf("Of = %d, out of 1..4", s)
		}
		hit[s]++
	}
	for s := 1; s <= 4; s++ {
		if hit[s] < 50 {
			t.Errorf("shard %d got %d of 400 keys: %v", s, hit[s], hit)
		}
	}
	// Keys alike but for one repeated digit, in four regions: FNV-1a's
	// low bits alone put all 36 in shards 2 and 3 of 4 (its lowest bit is
	// the parity of the bytes' low bits); mixed, every shard has some.
	hit = map[int]int{}
	for d := '1'; d <= '9'; d++ {
		for _, r := range []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"} {
			hit[Of(strings.Repeat(string(d), 12)+"/"+r, 4)]++
		}
	}
	for s := 1; s <= 4; s++ {
		if hit[s] < 5 {
			t.Errorf("shard %d got %d of 36 similar keys: %v", s, hit[s], hit)
		}
	}
}

func TestDigest(t *testing.T) {
	a := Digest([]string{"b", "a"})
	if a != Digest([]string{"a", "b"}) || len(a) != 64 {
		t.Errorf("Digest depends on order or is not hex: %s", a)
	}
	if a == Digest([]string{"a", "b", "c"}) || a == Digest([]string{"ab"}) {
		t.Error("Digest equal for other keys")
	}
}

// run is a fake run: its keys, the actions and left-alone of each key.
type run struct {
	keys      []string
	actions   map[string][]plan.Action
	leftAlone map[string][]plan.Action
}

func newRun() run {
	r := run{actions: map[string][]plan.Action{}, leftAlone: map[string][]plan.Action{}}
	for _, acc := range []string{"111111111111", "222222222222", "333333333333"} {
		for _, reg := range []string{"eu-west-1", "ap-southeast-2"} {
			key := acc + "/" + reg
			r.keys = append(r.keys, key)
			r.actions[key] = []plan.Action{
				{Op: plan.Delete, Kind: "ebs-snapshot", Account: acc, Region: reg, ID: "snap-" + acc[:3] + reg, Rule: "old"},
				{Op: plan.Tag, Kind: "ebs-volume", Account: acc, Region: reg, ID: "vol-" + acc[:3] + reg, Rule: "tag", Change: map[string]string{"owner": "x"}},
			}
			r.leftAlone[key] = []plan.Action{{Op: plan.Delete, Kind: "ebs-snapshot", Account: acc, Region: reg, ID: "snap-keep", Reason: "tag broom:keep"}}
		}
		key := acc + "/eu-west-1/ensure:s3-bucket/acme"
		r.keys = append(r.keys, key)
		r.actions[key] = nil
	}
	r.actions["111111111111/eu-west-1/ensure:s3-bucket/acme"] = []plan.Action{{Op: plan.Create, Kind: "s3-bucket", Account: "111111111111", Region: "eu-west-1", ID: "acme", Rule: "bucket"}}
	return r
}

// group is the key's hash group: an ensure key's ensure:KIND/NAME.
func group(key string) string {
	if i := strings.Index(key, "/ensure:"); i >= 0 {
		return key[i+1:]
	}
	return key
}

// files splits the run into n shard files, as n shards would write them.
func (r run) files(n int) []NamedFile {
	var out []NamedFile
	all := Digest(r.keys)
	for i := 1; i <= n; i++ {
		f := File{Shard: Coverage{Index: i, Count: n, Config: strings.Repeat("c", 64), Targets: []string{}, All: all, Total: len(r.keys)},
			Phase: PhasePlan, LeftAlone: []plan.Action{}, Accounts: []Account{{ID: "111111111111", Alias: "prod"}, {ID: "222222222222"}, {ID: "333333333333"}}}
		var actions []plan.Action
		for _, key := range r.keys {
			if Of(group(key), n) != i {
				continue
			}
			f.Shard.Targets = append(f.Shard.Targets, key)
			actions = append(actions, r.actions[key]...)
			f.LeftAlone = append(f.LeftAlone, r.leftAlone[key]...)
			f.Regions = append(f.Regions, strings.Split(key, "/")[1])
		}
		slices.Sort(f.Shard.Targets)
		slices.Sort(f.Regions)
		f.Regions = slices.Compact(f.Regions)
		f.Plan = plan.New("prod", time.Date(2026, 12, 4, 12, 0, i, 0, time.UTC), actions)
		out = append(out, NamedFile{Name: fmt.Sprintf("shard-%d.json", i), File: f})
	}
	return out
}

// roundTrip writes and reads files as JSON, as they travel between jobs.
func roundTrip(t *testing.T, files []NamedFile) []NamedFile {
	t.Helper()
	out := make([]NamedFile, len(files))
	for i, f := range files {
		b, err := json.Marshal(f.File)
		if err != nil {
			t.Fatal(err)
		}
		out[i].Name = f.Name
		if err := json.Unmarshal(b, &out[i].File); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestMergeIsTheSingleProcessPlan(t *testing.T) {
	r := newRun()
	var all, alone []plan.Action
	for _, k := range r.keys {
		all, alone = append(all, r.actions[k]...), append(alone, r.leftAlone[k]...)
	}
	single := plan.New("prod", time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), all)
	plan.Sort(alone)
	for _, n := range []int{1, 2, 4, 50} {
		files := roundTrip(t, r.files(n))
		for try := range 3 { // any order
			rand.New(rand.NewPCG(uint64(n), uint64(try))).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
			m, err := Merge(files)
			if err != nil {
				t.Fatalf("%d shards: %v", n, err)
			}
			if m.Plan.Fingerprint != single.Fingerprint || len(m.Plan.Actions) != len(single.Actions) {
				t.Fatalf("%d shards: fingerprint %s with %d actions, want %s with %d", n, m.Plan.Fingerprint, len(m.Plan.Actions), single.Fingerprint, len(single.Actions))
			}
			if m.Plan.Fingerprint != plan.New("x", time.Time{}, slices.Clone(m.Plan.Actions)).Fingerprint {
				t.Fatal("merged fingerprint is not that of its actions")
			}
			if len(m.LeftAlone) != len(alone) || !slices.EqualFunc(m.LeftAlone, alone, func(a, b plan.Action) bool { return a.Key() == b.Key() }) {
				t.Fatalf("%d shards: left alone %v, want %v", n, m.LeftAlone, alone)
			}
			if !slices.Equal(m.Regions, []string{"ap-southeast-2", "eu-west-1"}) || len(m.Accounts) != 3 || m.Accounts[0].Alias != "prod" {
				t.Fatalf("%d shards: regions %v, accounts %v", n, m.Regions, m.Accounts)
			}
			if want := time.Date(2026, 12, 4, 12, 0, n, 0, time.UTC); !m.Plan.Created.Equal(want) {
				t.Fatalf("created %v, want the latest %v", m.Plan.Created, want)
			}
			sum := 0
			for i, s := range m.Shards.Slices {
				f := files[slices.IndexFunc(files, func(f NamedFile) bool { return f.File.Shard.Index == i+1 })].File
				if s.Index != i+1 || s.Fingerprint != plan.Fingerprint(f.Actions) || s.Actions != len(f.Actions) {
					t.Fatalf("slice %d = %+v, want that of %v", i+1, s, f.Actions)
				}
				sum += s.Actions
			}
			if len(m.Shards.Slices) != n || sum != len(all) || m.Shards.Count != n || m.Shards.All != Digest(r.keys) || m.Shards.Config != strings.Repeat("c", 64) {
				t.Fatalf("shards %+v", m.Shards)
			}
		}
	}
}

// The ensure of one bucket name in every account lands in one shard, so
// the shard sees every account's create of it.
func TestEnsureGroupIsOneShard(t *testing.T) {
	for _, f := range newRun().files(4) {
		n := 0
		for _, k := range f.File.Shard.Targets {
			if strings.Contains(k, "/ensure:") {
				n++
			}
		}
		if n != 0 && n != 3 {
			t.Errorf("%s covers %d of the 3 ensures of one bucket: %v", f.Name, n, f.File.Shard.Targets)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func([]NamedFile) []NamedFile
		want string
	}{
		{"none", func([]NamedFile) []NamedFile { return nil }, "no shard files"},
		{"missing", func(f []NamedFile) []NamedFile { return slices.Delete(f, 2, 3) }, "shard 3/4 is missing"},
		{"duplicate", func(f []NamedFile) []NamedFile {
			return append(f, NamedFile{Name: "again.json", File: f[1].File})
		}, "shard 2/4 is given twice: shard-2.json, again.json"},
		{"not a shard file", func(f []NamedFile) []NamedFile {
			f[1].File.Shard = Coverage{}
			return f
		}, "shard-2.json is not a broom shard file"},
		{"a plain plan file", func(f []NamedFile) []NamedFile {
			f[0].File.Phase = ""
			return f
		}, "shard-1.json is not a broom shard file"},
		{"mixed phases", func(f []NamedFile) []NamedFile {
			f[3].File.Phase = PhaseApply
			return f
		}, "mix plan and apply files: shard-1.json is a plan file, shard-4.json an apply file"},
		{"other id", func(f []NamedFile) []NamedFile {
			f[1].File.ID = "staging"
			return f
		}, `shard 2/4 (shard-2.json) is of report id "staging", not "prod"`},
		{"other config", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.Config = strings.Repeat("d", 64)
			return f
		}, "shard 2/4 (shard-2.json) was planned with another config: digest " + strings.Repeat("d", 64) + ", not " + strings.Repeat("c", 64)},
		{"other count", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.Count = 5
			return f
		}, "shard 2/5 (shard-2.json) is one of 5 shards, not 4"},
		{"other key list", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.All = Digest([]string{"x"})
			return f
		}, "shard 2/4 (shard-2.json) saw other targets: 9 with digest " + Digest([]string{"x"})},
		{"other total", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.Total = 8
			return f
		}, "shard 2/4 (shard-2.json) saw other targets: 8 with"},
		{"overlap", func(f []NamedFile) []NamedFile {
			f[0].File.Shard.Targets = append(f[0].File.Shard.Targets, f[2].File.Shard.Targets[0])
			return f
		}, "shards 1/4 and 3/4 both cover " + newRun().files(4)[2].File.Shard.Targets[0]},
		{"too few targets", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.Targets = f[1].File.Shard.Targets[1:]
			return f
		}, "the shards cover 8 targets, but the run has 9"},
		{"other targets", func(f []NamedFile) []NamedFile {
			f[1].File.Shard.Targets[0] = "999999999999/eu-west-1"
			return f
		}, "the shards' targets are not the run's: digest"},
		{"the first shard failed and saw other targets", func(f []NamedFile) []NamedFile {
			f[0].File.Error = "list ebs-snapshot in eu-west-1: AccessDenied"
			f[0].File.Shard.All, f[0].File.Shard.Total = Digest([]string{"x"}), 1
			return f
		}, "shard 1/4 (shard-1.json) saw other targets: 1 with digest " + Digest([]string{"x"})},
		{"a shard failed", func(f []NamedFile) []NamedFile {
			f[2].File.Error = "list ebs-snapshot in eu-west-1: AccessDenied"
			f[2].File.Actions = nil
			return f
		}, "shard 3/4 (shard-3.json) failed: list ebs-snapshot in eu-west-1: AccessDenied"},
		{"a shard failed before knowing the targets, one missing", func(f []NamedFile) []NamedFile {
			f[2].File.Error = "connect: ExpiredToken"
			f[2].File.Shard.All, f[2].File.Shard.Total, f[2].File.Shard.Targets = "", 0, nil
			return slices.Delete(f, 3, 4)
		}, "shard 4/4 is missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := c.edit(newRun().files(4))
			_, err := Merge(files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Merge error = %v, want %q", err, c.want)
			}
		})
	}
}

func TestMergePlanShardErrorIsTyped(t *testing.T) {
	files := newRun().files(4)
	files[1].File.Error = "connect: ExpiredToken"
	files[1].File.Shard.All, files[1].File.Shard.Total, files[1].File.Shard.Targets = "", 0, nil
	_, err := Merge(files)
	var se *ShardError
	if !errors.As(err, &se) || se.Spec != (Spec{2, 4}) || se.Err != "connect: ExpiredToken" || se.Name != "shard-2.json" {
		t.Fatalf("Merge error = %#v, want a ShardError of shard 2/4", err)
	}
}

func TestMergeApplyFiles(t *testing.T) {
	var files []NamedFile
	var busy []int // shards with actions, to play each part
	n := 3
	for ; len(busy) < 3 && n < 20; n++ {
		files, busy = newRun().files(n), nil
		for i, f := range files {
			if len(f.File.Actions) > 0 {
				busy = append(busy, i)
			}
		}
	}
	if len(busy) < 3 {
		t.Fatal("the fake run never puts actions in 3 shards")
	}
	n--
	var applied, drifted int
	for i := range files {
		f := &files[i].File
		f.Phase, f.Approved = PhaseApply, plan.Fingerprint(f.Actions)
		switch slices.Index(busy, i) {
		case 0: // applied, one action failed
			for j := range f.Actions {
				f.Actions[j].Status = plan.Done
			}
			f.Actions[0].Status, f.Actions[0].Error = plan.Failed, "boom"
			applied = len(f.Actions)
		case 1: // drift: fresh actions, none applied
			f.Drift = true
			f.Actions = append(f.Actions, plan.Action{Op: plan.Delete, Kind: "ebs-snapshot", Account: "111111111111", Region: "eu-west-1", ID: "snap-new"})
			drifted = len(f.Actions)
		case 2: // failed while re-planning: its partial actions were never approved
			f.Error = "list ebs-snapshot in us-east-1: AccessDenied"

		}
	}
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Drifted, []Spec{{busy[1] + 1, n}}) || len(m.Failed) != 1 ||
		m.Failed[0] != (ShardFailure{Spec{busy[2] + 1, n}, "list ebs-snapshot in us-east-1: AccessDenied"}) {
		t.Fatalf("drifted %v, failed %v", m.Drifted, m.Failed)
	}
	s1, _ := m.Shards.Slice(busy[0] + 1)
	s2, _ := m.Shards.Slice(busy[1] + 1)
	s3, _ := m.Shards.Slice(busy[2] + 1)
	if s1.Actions != 1 || s1.Fingerprint != plan.Fingerprint(files[busy[0]].File.Actions[:1]) {
		t.Errorf("applied slice = %+v, want what remains: the failed action", s1)
	}
	if s2.Actions != drifted || s2.Fingerprint != plan.Fingerprint(files[busy[1]].File.Actions) {
		t.Errorf("drifted slice = %+v, want the fresh actions", s2)
	}
	if s3.Actions != 0 || s3.Fingerprint != plan.Fingerprint(nil) {
		t.Errorf("failed slice = %+v, want empty", s3)
	}
	rest := 0
	for i, f := range files {
		if !slices.Contains(busy[:3], i) {
			rest += len(f.File.Actions)
		}
	}
	if want := applied + drifted + rest; len(m.Plan.Actions) != want {
		t.Errorf("merged %d actions, want %d (none of the failed shard's)", len(m.Plan.Actions), want)
	}
}
