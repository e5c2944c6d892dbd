package shard

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseApproval(t *testing.T) {
	m, err := Merge(newRun().files(3))
	if err != nil {
		t.Fatal(err)
	}
	good, err := json.Marshal(m.File())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseApproval("merged.json", good)
	if err != nil || a.Fingerprint != m.Plan.Fingerprint || a.Shards.Count != 3 || a.Slice(Spec{2, 3}) != m.Shards.Slices[1] {
		t.Fatalf("ParseApproval of a merged plan file = %+v, %v", a, err)
	}
	if err := a.Check("merged.json", Spec{2, 3}, m.Shards.Config); err != nil {
		t.Errorf("Check of its own run: %v", err)
	}
	if err := a.Check("merged.json", Spec{2, 4}, m.Shards.Config); err == nil || err.Error() != "merged.json was approved in 3 shards, not 4 (shard 2/4)" {
		t.Errorf("Check of another count: %v", err)
	}
	other := strings.Repeat("e", 64)
	if err := a.Check("merged.json", Spec{2, 3}, other); err == nil ||
		err.Error() != "config changed since the plan was approved: digest "+other+", not "+m.Shards.Config+" as in merged.json" {
		t.Errorf("Check of another config: %v", err)
	}

	edit := func(f func(map[string]any)) []byte {
		var v map[string]any
		if err := json.Unmarshal(good, &v); err != nil {
			t.Fatal(err)
		}
		f(v)
		b, _ := json.Marshal(v)
		return b
	}
	slices := func(v map[string]any) []any { return v["shards"].(map[string]any)["slices"].([]any) }
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"not JSON":       {[]byte("version: 1"), "merged.json is not an approved broom plan: invalid character"},
		"no fingerprint": {edit(func(v map[string]any) { delete(v, "fingerprint") }), "merged.json is not an approved broom plan: no fingerprint"},
		"no shards":      {edit(func(v map[string]any) { delete(v, "shards") }), "merged.json has no shards: the plan was not made in shards"},
		"a slice short": {edit(func(v map[string]any) {
			v["shards"].(map[string]any)["slices"] = slices(v)[:2]
		}), "merged.json has 2 slices for 3 shards"},
		"slices out of order": {edit(func(v map[string]any) {
			s := slices(v)
			s[0], s[1] = s[1], s[0]
		}), "merged.json: slice 1 of its shards is not index 1 with a fingerprint"},
		"a slice without fingerprint": {edit(func(v map[string]any) {
			slices(v)[2].(map[string]any)["fingerprint"] = ""
		}), "merged.json: slice 3 of its shards is not index 3 with a fingerprint"},
	} {
		if _, err := ParseApproval("merged.json", c.b); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}
