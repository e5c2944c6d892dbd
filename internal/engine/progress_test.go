package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
)

// record is one JSON log line, its attributes by key.
type record map[string]any

func (r record) str(k string) string { s, _ := r[k].(string); return s }
func (r record) num(k string) int    { f, _ := r[k].(float64); return int(f) }

// logTo points e's log at a JSON handler writing to a buffer, and returns
// a function that parses what was logged.
func logTo(t *testing.T, e *Engine) func() []record {
	t.Helper()
	var buf syncBuffer
	e.logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return func() []record {
		var out []record
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var r record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			out = append(out, r)
		}
		return out
	}
}

// A long plan is not silent: each (account, region, kind) listed is an
// Info record, numbered [n/N], with what it planned, left alone and took;
// then the totals.
func TestPlanLogsEachListing(t *testing.T) {
	t.Parallel()
	w := &world{Listed: map[string][]plan.Resource{
		"eu-west-1": {res("snap-a", 400*day, "Environment", "ci"), res("snap-b", 400*day, "Environment", "ci"), res("snap-k", 400*day, "Environment", "ci", "broom:keep", "1")},
		"us-east-1": {res("snap-young", day, "Environment", "ci")},
	}}
	e := newEngine(w)
	logged := logTo(t, e)
	cfg := cfgWith([]string{"eu-west-1", "us-east-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, rule("old-ci", 30*day, "Environment", "ci"))
	if _, err := e.Plan(t.Context(), cfg, account); err != nil {
		t.Fatal(err)
	}
	numbered := regexp.MustCompile(`^\[([12])/2\] listed$`)
	got := map[string][2]int{} // region → planned, left alone
	var seen []string
	var totals record
	for _, r := range logged() {
		switch m := numbered.FindStringSubmatch(r.str("msg")); {
		case m != nil:
			if r.str("level") != "INFO" || r.str("kind") != kind || r.str("account") != account || r["took"] == nil {
				t.Errorf("listing record %v: want INFO with kind, account and took", r)
			}
			got[r.str("region")] = [2]int{r.num("planned"), r.num("left_alone")}
			seen = append(seen, m[1])
		case r.str("msg") == "planned":
			totals = r
		}
	}
	if want := map[string][2]int{"eu-west-1": {2, 1}, "us-east-1": {0, 0}}; !maps.Equal(got, want) {
		t.Errorf("listings logged %v, want %v", got, want)
	}
	if slices.Sort(seen); !slices.Equal(seen, []string{"1", "2"}) {
		t.Errorf("listings numbered %v, want 1 and 2 of 2", seen)
	}
	if totals == nil || totals.num("actions") != 2 || totals.num("left_alone") != 1 {
		t.Errorf("totals record %v, want actions=2 left_alone=1", totals)
	}
}

// apply numbers each action's record [n/N] as it finishes, leaves out
// empty attributes (no reason=""), and ends with a tally.
func TestApplyLogsProgressAndATally(t *testing.T) {
	t.Parallel()
	listed := []plan.Resource{res("snap-a", 400*day, "Environment", "ci"), res("snap-b", 400*day, "Environment", "ci"), res("snap-c", 400*day, "Environment", "ci")}
	w := &world{Listed: map[string][]plan.Resource{"eu-west-1": listed}, Current: map[string]plan.Resource{}, DoErr: map[string]error{"snap-b": errors.New("boom")}}
	for _, r := range listed {
		w.Current[r.ID] = r
	}
	e := newEngine(w)
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	res, err := e.Plan(t.Context(), cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	logged := logTo(t, e)
	e.Apply(t.Context(), cfg, res.Plan)
	numbered := regexp.MustCompile(`^\[([123])/3\] (done|failed)$`)
	var ns []string
	var tally record
	for _, r := range logged() {
		if _, ok := r["reason"]; ok && r.str("reason") == "" {
			t.Errorf("record with an empty reason: %v", r)
		}
		switch m := numbered.FindStringSubmatch(r.str("msg")); {
		case m != nil:
			ns = append(ns, m[1])
			failed := r.str("id") == "snap-b"
			if failed != (m[2] == "failed") || failed != (r.str("level") == "ERROR") || failed != (r.str("error") == "boom") {
				t.Errorf("record %v: snap-b fails at ERROR with its error, the others are done", r)
			}
		case r.str("msg") == "applied":
			tally = r
		}
	}
	if slices.Sort(ns); !slices.Equal(ns, []string{"1", "2", "3"}) {
		t.Errorf("actions numbered %v, want 1, 2, 3 of 3", ns)
	}
	if tally == nil || tally.num("done") != 2 || tally.num("failed") != 1 || tally.num("skipped") != 0 || tally.num("already_done") != 0 || tally["took"] == nil {
		t.Errorf("tally %v, want done=2 failed=1 skipped=0 already_done=0 and took", tally)
	}
}

// syncBuffer is a bytes.Buffer safe for the engine's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
