package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
)

// Driving a GitHub Actions matrix of broom shards through the built
// binary: one process per shard, each with the inputs its job would get,
// and the files each uploads copied where the next job downloads them
// (actions/download-artifact with a pattern puts each artifact in a folder
// of its name). The decoding below is the JSON of the shard contract
// (notes: shard-design §2), written out here so the tests check the files
// as a later job reads them.

// shards is the number of shards every test here uses, as the example
// workflow does.
const shards = 4

// fleetRegions are the regions of the fleet's config, sorted.
var fleetRegions = []string{"eu-west-1", "us-east-1"}

// fleet is a world whose account manages an organization with twelve
// ACTIVE members in OU fleet, planned in two regions, with old CI
// snapshots (to delete) in two targets of three and a protected one.
type fleet struct {
	*world
	members []string              // sorted
	keys    []string              // every target, ACCOUNT/REGION, sorted
	snaps   map[string]string     // planned snapshot → its target
	kept    string                // an old CI snapshot tagged broom:keep
	cfgs    map[string]aws.Config // target → its account and region, for seeding and checking
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{world: newWorld(t), snaps: map[string]string{}, cfgs: map[string]aws.Config{}}
	root := awstest.CreateOrganization(t, f.aws)
	ou := awstest.CreateOU(t, f.aws, root, "fleet")
	for i := range 12 {
		f.members = append(f.members, awstest.CreateMemberAccount(t, f.aws, root, ou, fmt.Sprintf("member-%02d", i)))
	}
	awstest.CreateMemberAccount(t, f.aws, root, root, "outside") // not in the OU: never planned
	slices.Sort(f.members)
	for i, id := range f.members {
		for j, region := range fleetRegions {
			key := id + "/" + region
			f.keys = append(f.keys, key)
			// moto lands an assumed role in the account its ARN names.
			f.cfgs[key] = cloud.AssumeRole(f.moto.Config(t, region), "arn:aws:iam::"+id+":role/broom", "seed")
			if (i+j)%3 != 2 {
				f.snaps[f.oldSnapshot(key, nil)] = key
			}
		}
	}
	f.kept = f.oldSnapshot(f.keys[3], map[string]string{"broom:keep": "true"})
	f.writeConfig(strings.Replace(defaultConfig, "\nregions: [us-east-1]\n",
		"\nregions: [us-east-1, eu-west-1]\naccounts:\n  organization:\n    ous: ["+ou+"]\n  role: \"arn:aws:iam::{account}:role/broom\"\n", 1))
	return f
}

// oldSnapshot creates a CI snapshot 400 days old in target key, with
// extra tags.
func (f *fleet) oldSnapshot(key string, extra map[string]string) string {
	f.t.Helper()
	cfg := f.cfgs[key]
	volume := awstest.CreateVolume(f.t, cfg, 8, cfg.Region+"a")
	tags := map[string]string{"Environment": "ci"}
	for k, v := range extra {
		tags[k] = v
	}
	f.moto.SetClock("-400d")
	defer f.moto.SetClock("+0")
	return awstest.CreateSnapshot(f.t, cfg, volume, tags)
}

// gone reports whether a planned snapshot no longer exists.
func (f *fleet) gone(id string) bool {
	f.t.Helper()
	_, ok := awstest.Snapshots(f.t, f.cfgs[f.snaps[id]])[id]
	return !ok
}

// inShard returns the planned snapshots whose target falls in shard k.
func (f *fleet) inShard(k int) []string {
	var out []string
	for id, key := range f.snaps {
		if shardOf(key, shards) == k {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// busyShards returns the shards that have planned snapshots, in order.
func (f *fleet) busyShards() []int {
	var out []int
	for k := 1; k <= shards; k++ {
		if len(f.inShard(k)) > 0 {
			out = append(out, k)
		}
	}
	if len(out) < 2 {
		f.t.Fatalf("only shards %v have snapshots: the test needs two (moto chose unlucky account ids)", out)
	}
	return out
}

// shardOf is the contract's assignment of a target's group to a shard:
// 1 + FNV-1a 64 of the group passed through MurmurHash3's fmix64, mod n.
// A listing target is its own group.
func shardOf(group string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(group))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb93e1a85ec53
	x ^= x >> 33
	return 1 + int(x%uint64(n))
}

// keysDigest is the contract's digest of target keys: sha256 of the
// sorted keys joined by newlines, in hex.
func keysDigest(keys []string) string {
	sorted := slices.Sorted(slices.Values(keys))
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return hex.EncodeToString(sum[:])
}

// action is one row of a plan file.
type action struct {
	Op      string `json:"op"`
	Kind    string `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region"`
	ID      string `json:"id"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	Status  string `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
}

// shardFile is the file one shard writes (plan or apply phase).
type shardFile struct {
	Version     int      `json:"version"`
	ID          string   `json:"id"`
	Fingerprint string   `json:"fingerprint"`
	Actions     []action `json:"actions"`
	Shard       struct {
		Index   int      `json:"index"`
		Count   int      `json:"count"`
		Config  string   `json:"config"`
		Targets []string `json:"targets"`
		All     string   `json:"all"`
		Total   int      `json:"total"`
	} `json:"shard"`
	Phase     string   `json:"phase"`
	Approved  string   `json:"approved"`
	Drift     bool     `json:"drift"`
	LeftAlone []action `json:"left_alone"`
	Accounts  []struct {
		ID string `json:"id"`
	} `json:"accounts"`
	Regions []string `json:"regions"`
	Error   string   `json:"error"`
}

// slice is one shard's part of a merged plan.
type slice struct {
	Index       int    `json:"index"`
	Fingerprint string `json:"fingerprint"`
	Actions     int    `json:"actions"`
}

// mergedFile is the plan file a merge writes.
type mergedFile struct {
	ID          string   `json:"id"`
	Fingerprint string   `json:"fingerprint"`
	Actions     []action `json:"actions"`
	LeftAlone   []action `json:"left_alone"`
	Shards      struct {
		Count  int     `json:"count"`
		Config string  `json:"config"`
		All    string  `json:"all"`
		Slices []slice `json:"slices"`
	} `json:"shards"`
}

func decodeFile[T any](t *testing.T, name string, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, data)
	}
	return v
}

func readFile[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeFile[T](t, path, data)
}

// actionIDs returns the ids of actions, sorted.
func actionIDs(actions []action) []string {
	var out []string
	for _, a := range actions {
		out = append(out, a.ID)
	}
	slices.Sort(out)
	return out
}

// cliShards runs `broom plan --shard K/4 --out F` for every K and returns
// the files' paths, in shard order.
func (f *fleet) cliShards() []string {
	f.t.Helper()
	dir := f.t.TempDir()
	var files []string
	for k := 1; k <= shards; k++ {
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		r := f.cli("plan", "--shard", fmt.Sprintf("%d/%d", k, shards), "--out", file)
		if r.code != 0 {
			f.t.Fatalf("broom plan --shard %d/%d: exit %d: %s", k, shards, r.code, r.stderr)
		}
		files = append(files, file)
	}
	return files
}

// job is one matrix job's broom step: its result and the file it
// uploaded (its plan-file output, "" if it wrote none).
type job struct {
	result
	uploaded string
}

// matrix runs the broom step of each job of a matrix of four: `broom
// action` for event with inputs plus shard K/4, and with env(K) when env
// is not nil (say, another AWS endpoint for one shard). Each job's
// plan-file goes to folder/artifact-K/ in the workspace, as the next job's
// download-artifact puts it; a job that wrote none uploads nothing.
func (f *fleet) matrix(folder, artifact, event string, payload map[string]any, inputs map[string]string, env func(k int) []string) []job {
	f.t.Helper()
	var jobs []job
	for k := 1; k <= shards; k++ {
		in := map[string]string{"shard": fmt.Sprintf("%d/%d", k, shards)}
		for name, v := range inputs {
			in[name] = v
		}
		// Each job has a fresh checkout: no file of another shard's.
		if err := os.RemoveAll(filepath.Join(f.dir, ".broom")); err != nil {
			f.t.Fatal(err)
		}
		var extra []string
		if env != nil {
			extra = env(k)
		}
		j := job{result: f.runEnv(event, payload, in, extra...)}
		if rel := j.outputs["plan-file"]; rel != "" {
			if data, err := os.ReadFile(filepath.Join(f.dir, rel)); err == nil {
				j.uploaded = filepath.Join(folder, fmt.Sprintf("%s-%d", artifact, k), filepath.Base(rel))
				f.put(j.uploaded, data)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// put writes a file at rel in the workspace.
func (f *fleet) put(rel string, data []byte) {
	f.t.Helper()
	path := filepath.Join(f.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// planShards is the plan matrix of the example workflow on event: each
// shard's plan file in shards/broom-shard-K/.
func (f *fleet) planShards(event string, payload map[string]any) []job {
	f.t.Helper()
	jobs := f.matrix("shards", "broom-shard", event, payload, nil, nil)
	for k, j := range jobs {
		if j.code != 0 || j.uploaded == "" {
			f.t.Fatalf("plan shard %d/%d: exit %d, plan file %q; want 0 and a file", k+1, shards, j.code, j.uploaded)
		}
	}
	return jobs
}

// gate runs the gate job on the labeled payload and returns the approved
// file, downloaded to approved/ as the apply jobs get it.
func (f *fleet) gate(labeled map[string]any) string {
	f.t.Helper()
	r := f.run("pull_request", labeled, map[string]string{"mode": "gate"})
	r.want(f.t, 0, map[string]string{"result": "approved"})
	rel := "approved/" + filepath.Base(r.outputs["approved-file"])
	f.put(rel, r.file(f.t, "approved-file"))
	return rel
}

// applyShards is the apply matrix: every shard with the approved file, its
// result in results/broom-result-K/; env(K) as for matrix.
func (f *fleet) applyShards(labeled map[string]any, approved string, env func(k int) []string) []job {
	f.t.Helper()
	return f.matrix("results", "broom-result", "pull_request", labeled, map[string]string{"approved": approved}, env)
}

// markerPattern and shardsPattern find the sticky comment's hidden lines.
var (
	markerPattern = regexp.MustCompile(`(?m)^<!-- broom:plan id=\S+ fingerprint=([0-9a-f]{64}) head=\S* -->$`)
	shardsPattern = regexp.MustCompile(`(?m)^<!-- broom:shards count=(\d+) config=([0-9a-f]{64}) all=([0-9a-f]{64})((?: \d+=[0-9a-f]{64}:\d+)*) -->$`)
)

// comment returns the one sticky comment's body.
func (f *fleet) comment() string {
	f.t.Helper()
	c := f.stickyComments()
	if len(c) != 1 {
		f.t.Fatalf("%d sticky comments, want 1", len(c))
	}
	return c[0].Body
}

// shownShards reads the comment's marker fingerprint and its shards line
// as slices; ok is false when it has no shards line.
func shownShards(t *testing.T, body string) (fingerprint string, shown []slice, ok bool) {
	t.Helper()
	m := markerPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no marker in the comment:\n%s", body)
	}
	s := shardsPattern.FindStringSubmatch(body)
	if s == nil {
		return m[1], nil, false
	}
	for _, field := range strings.Fields(s[4]) {
		k, rest, _ := strings.Cut(field, "=")
		fp, n, _ := strings.Cut(rest, ":")
		index, _ := strconv.Atoi(k)
		count, _ := strconv.Atoi(n)
		shown = append(shown, slice{Index: index, Fingerprint: fp, Actions: count})
	}
	return m[1], shown, true
}

// shardsLine is the shards line with its newline.
var shardsLine = regexp.MustCompile(`(?m)^<!-- broom:shards [^\n]*-->\n`)

// withoutShardsLine is a comment body without its shards line: what a
// single process would have written.
func withoutShardsLine(body string) string { return shardsLine.ReplaceAllString(body, "") }
