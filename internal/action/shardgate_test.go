package action

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/shard"
)

// shownShards is a plan of 3 actions in two shards, as a merge job shows it.
func shownShards() shard.Shards {
	return shard.Shards{Count: 2, Config: strings.Repeat("c", 64), All: strings.Repeat("a", 64), Slices: []shard.Slice{
		{Index: 1, Fingerprint: strings.Repeat("1", 64), Actions: 2}, {Index: 2, Fingerprint: strings.Repeat("2", 64), Actions: 1}}}
}

// shownBody is a comment as broom writes it: the marker, the shards line
// (when s is set) and the hidden list of n actions.
func shownBody(fp string, s *shard.Shards, n int) string {
	b := pr.Marker{ID: "nightly", Fingerprint: fp, Head: shardHead}.String() + "\n"
	if s != nil {
		b += pr.ShardsLine(*s) + "\n"
	}
	actions := make([]plan.Action, n)
	for i := range actions {
		actions[i] = plan.Action{Op: plan.Delete, Kind: "ebs-snapshot", Account: "123456789012", Region: "us-east-1", ID: fmt.Sprintf("snap-%d", i)}
	}
	return b + "### broom plan · `nightly`\n\n<!-- broom:notes -->\n<!-- /broom:notes -->\n\n" + report.KeysBlock(plan.New("nightly", time.Now(), actions))
}

var shownFP = strings.Repeat("f", 64)

// A gate that passes publishes the approved plan, as the comment shows
// it, and changes nothing: the label stays for the apply shards.
func TestGatePublishesTheApprovedPlan(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, driverConfig)
	s := shownShards()
	body := shownBody(shownFP, &s, 3)
	w.gh.AddComment(shardPR, prtest.DefaultLogin, body)
	j := w.run(w.labeled("alice"), map[string]string{"mode": "gate"}, nil)
	if j.code != ExitOK || j.out["result"] != "approved" || j.out["approved-file"] != ".broom/approved-nightly.json" {
		t.Fatalf("exit %d, outputs %v; want 0, approved, .broom/approved-nightly.json", j.code, j.out)
	}
	var rec shard.ApprovedFile
	decode(t, w.file(j, "approved-file"), &rec)
	want := shard.ApprovedFile{Version: 1, ID: "nightly", Fingerprint: shownFP, Head: shardHead, ApprovedBy: "alice", Shards: s}
	if diff := cmp.Diff(want, rec, cmpIgnoreTime()); diff != "" {
		t.Errorf("approved file (-want +got):\n%s", diff)
	}
	if time.Since(rec.ApprovedAt) > time.Hour {
		t.Errorf("approved_at %v is not now", rec.ApprovedAt)
	}
	if j.out["fingerprint"] != shownFP {
		t.Errorf("fingerprint output %q, want the approved %q", j.out["fingerprint"], shownFP)
	}
	if !hasLabel(w.gh) {
		t.Errorf("the gate removed the approve label: the apply shards need it")
	}
	if got := w.sticky().Body; got != body {
		t.Errorf("the gate changed the comment:\n%s", got)
	}
	if !strings.Contains(j.summary, "**Approved: 3 actions in 2 shards · fingerprint ffffffffffff**") || strings.Contains(j.summary, "nothing to do") {
		t.Errorf("the job summary's headline is not the approval:\n%s", j.summary)
	}
	if !j.says("Approved by alice at ") || !j.says("3 actions in 2 shards") {
		t.Errorf("the job summary does not say who approved what:\n%s", j.stdout)
	}
}

// Every way a gate can refuse, each pinned by its message, exit code and
// what it leaves of the label and the comment.
func TestGateRefusals(t *testing.T) {
	t.Parallel()
	s := shownShards()
	tests := map[string]struct {
		body     string
		labeler  string
		inputs   map[string]string
		edit     bool // someone else edits the comment before the label
		code     int
		message  string // in the job summary
		labelOff bool
		note     string // in the comment afterwards; "" = comment unchanged
	}{
		"a plan not made in shards": {body: shownBody(shownFP, nil, 3), labeler: "alice", code: ExitMisuse,
			message: "the plan shown was not made in shards (its comment has no broom:shards line)"},
		"a shards line that counts more actions than shown": {body: shownBody(shownFP, &s, 2), labeler: "alice", code: ExitMisuse,
			message: "the plan shown has 2 actions but its shards line counts 3: plan again"},
		"more actions than max-actions": {body: shownBody(shownFP, &s, 3), labeler: "alice", inputs: map[string]string{"max-actions": "2"},
			code: ExitOverLimit, message: "The plan has 3 actions, more than max-actions (2). Nothing was applied.", labelOff: true,
			note: "more than max-actions (2)"},
		"the author approving": {body: shownBody(shownFP, &s, 3), labeler: "dana", code: ExitRefused,
			message: "Approval by dana refused: dana opened this pull request and cannot approve their own plan", labelOff: true,
			note: "Approval by dana refused"},
		"a plan edited by someone else": {body: shownBody(shownFP, &s, 3), labeler: "alice", edit: true, code: ExitRefused,
			message: "Approval by alice refused", labelOff: true, note: "so it is withdrawn: push a commit or re-run the plan jobs"},
		"no plan comment at all": {labeler: "alice", code: ExitRefused, message: "Approval by alice refused", labelOff: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newShardWorld(t, driverConfig)
			var before string
			if tc.body != "" {
				id := w.gh.AddComment(shardPR, prtest.DefaultLogin, tc.body)
				if tc.edit {
					w.gh.Advance(time.Second)
					w.gh.EditCommentAs(id, "mallory", strings.Replace(tc.body, "### broom plan", "### broom plan (trust me)", 1))
				}
				before = w.sticky().Body
			}
			inputs := map[string]string{"mode": "gate"}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			j := w.run(w.labeled(tc.labeler), inputs, nil)
			if j.code != tc.code || j.out["approved-file"] != "" {
				t.Errorf("exit %d, approved-file %q; want %d and none", j.code, j.out["approved-file"], tc.code)
			}
			if !j.says(tc.message) {
				t.Errorf("the summary does not say %q:\n%s", tc.message, j.stdout)
			}
			if hasLabel(w.gh) == tc.labelOff {
				t.Errorf("label on: %v, want %v", hasLabel(w.gh), !tc.labelOff)
			}
			if tc.body == "" {
				if n := len(w.gh.Comments(shardPR)); n != 0 {
					t.Errorf("a refusal without a plan wrote %d comments", n)
				}
				return
			}
			after := w.sticky().Body
			if tc.note != "" && j.out["comment-url"] == "" {
				t.Errorf("no comment-url output for the comment written")
			}
			if tc.note == "" && after != before {
				t.Errorf("the comment changed:\n%s", after)
			}
			if tc.note != "" && !strings.Contains(after, tc.note) {
				t.Errorf("the comment does not say %q:\n%s", tc.note, after)
			}
		})
	}
}

// A plan someone else edited is withdrawn: the comment no longer approves
// anything (the empty plan's fingerprint, no shards line), so approving it
// again is refused by the next gate, not published.
func TestGateWithdrawsAnEditedPlan(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, driverConfig)
	s := shownShards()
	body := shownBody(shownFP, &s, 3)
	id := w.gh.AddComment(shardPR, prtest.DefaultLogin, body)
	w.gh.Advance(time.Second)
	w.gh.EditCommentAs(id, "mallory", body+"\nextra")
	if j := w.run(w.labeled("alice"), map[string]string{"mode": "gate"}, nil); j.code != ExitRefused {
		t.Fatalf("first gate: exit %d, want %d", j.code, ExitRefused)
	}
	after := w.sticky().Body
	m, ok := pr.ParseMarker(after)
	if !ok || m.Fingerprint != plan.Fingerprint(nil) {
		t.Errorf("marker %+v after withdrawal; want the empty plan's fingerprint", m)
	}
	if _, ok := pr.ParseShards(after); ok {
		t.Errorf("the withdrawn comment still has a shards line:\n%s", after)
	}
	j := w.run(w.labeled("alice"), map[string]string{"mode": "gate"}, nil)
	if j.code != ExitMisuse || !j.says("the plan shown was not made in shards") {
		t.Errorf("second gate: exit %d; want %d, not made in shards:\n%s", j.code, ExitMisuse, j.stdout)
	}
}

// mode gate on any event but the approve label of a pull request is
// misuse, before GitHub or AWS is asked anything.
func TestGateOnlyOnTheApproveLabel(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, driverConfig)
	j := w.run(w.payload("synchronize"), map[string]string{"mode": "gate"}, nil)
	if j.code != ExitMisuse || !j.says("mode gate runs only when the broom:approved label is added to a pull request") {
		t.Errorf("exit %d; want %d and why:\n%s", j.code, ExitMisuse, j.stdout)
	}
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests; want none", n)
	}
}

// A plan of exactly max-actions actions passes the gate.
func TestGatePassesExactlyMaxActions(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, driverConfig)
	s := shownShards()
	w.gh.AddComment(shardPR, prtest.DefaultLogin, shownBody(shownFP, &s, 3))
	j := w.run(w.labeled("alice"), map[string]string{"mode": "gate", "max-actions": "3"}, nil)
	if j.code != ExitOK || j.out["result"] != "approved" {
		t.Errorf("exit %d, outputs %v; want 0 and approved", j.code, j.out)
	}
}
