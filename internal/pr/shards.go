package pr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/broom-dev/broom/internal/shard"
)

// maxShards is the most shards a run may have (--shard K/N, N ≤ 1000).
const maxShards = 1000

// ShardsLine renders the hidden line that follows the marker of a sharded
// plan's comment (SPEC §6): the config and key digests the shards were
// planned with, and each shard's slice of the plan.
func ShardsLine(s shard.Shards) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- broom:shards count=%d config=%s all=%s", s.Count, s.Config, s.All)
	for _, sl := range s.Slices {
		fmt.Fprintf(&b, " %d=%s:%d", sl.Index, sl.Fingerprint, sl.Actions)
	}
	b.WriteString(" -->")
	return b.String()
}

var (
	// shardsPattern matches the line; a line that starts like it but does
	// not match is refused rather than skipped (see ParseShards).
	shardsPattern = regexp.MustCompile(`^<!-- broom:shards count=([1-9][0-9]{0,3}) config=([0-9a-f]{64}) all=([0-9a-f]{64})((?: [1-9][0-9]{0,3}=[0-9a-f]{64}:[0-9]{1,7})*) -->$`)
	slicePattern  = regexp.MustCompile(`^([1-9][0-9]{0,3})=([0-9a-f]{64}):([0-9]{1,7})$`)
)

// ParseShards finds the shards line in a comment or issue body. It is
// found only when exactly one line starts as a shards line and that line
// is well formed: count between 1 and 1000 and one slice per shard, in
// index order. Two such lines, or a malformed one, say nothing: an
// approval must never pick one of two stories.
func ParseShards(body string) (shard.Shards, bool) {
	var found string
	n := 0
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "<!-- broom:shards") {
			found = line
			n++
		}
	}
	if n != 1 {
		return shard.Shards{}, false
	}
	m := shardsPattern.FindStringSubmatch(found)
	if m == nil {
		return shard.Shards{}, false
	}
	count, _ := strconv.Atoi(m[1])
	if count > maxShards {
		return shard.Shards{}, false
	}
	s := shard.Shards{Count: count, Config: m[2], All: m[3]}
	for i, f := range strings.Fields(m[4]) {
		sm := slicePattern.FindStringSubmatch(f)
		index, _ := strconv.Atoi(sm[1])
		actions, _ := strconv.Atoi(sm[3])
		if index != i+1 {
			return shard.Shards{}, false
		}
		s.Slices = append(s.Slices, shard.Slice{Index: index, Fingerprint: sm[2], Actions: actions})
	}
	if len(s.Slices) != count {
		return shard.Shards{}, false
	}
	return s, true
}
