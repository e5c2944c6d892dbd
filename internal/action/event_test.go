package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

// eventSummary is what the action reads from a payload, flattened for
// comparison.
type eventSummary struct {
	Action      string
	Label       string
	Sender      string
	PRNumber    int
	PRAuthor    string
	HeadSHA     string
	HeadRepo    string
	IssueNumber int
}

func summarize(p payload) eventSummary {
	s := eventSummary{Action: p.Action, Label: p.label(), Sender: p.Sender.Login}
	if p.PullRequest != nil {
		s.PRNumber, s.PRAuthor, s.HeadSHA = p.PullRequest.Number, p.PullRequest.User.Login, p.PullRequest.Head.SHA
		if p.PullRequest.Head.Repo != nil {
			s.HeadRepo = p.PullRequest.Head.Repo.FullName
		}
	}
	if p.Issue != nil {
		s.IssueNumber = p.Issue.Number
	}
	return s
}

// eventGet returns the value at path in payload, as a string or an int.
func eventGet(t *testing.T, payload map[string]any, path string) any {
	t.Helper()
	v, ok := prtest.Get(payload, path)
	if !ok {
		t.Fatalf("example payload has no %s", path)
	}
	if n, ok := v.(float64); ok {
		return int(n)
	}
	return v
}

func TestReadEvent(t *testing.T) {
	t.Parallel()
	const sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	tests := map[string]struct {
		event string
		// path returns the payload's path and the summary readEvent should
		// give for it.
		path func(t *testing.T) (string, eventSummary)
	}{
		"pull_request opened": {
			event: "pull_request",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "pull_request", "opened")
				return prtest.WritePayload(t, p), eventSummary{
					Action:   "opened",
					Sender:   eventGet(t, p, "sender.login").(string),
					PRNumber: eventGet(t, p, "pull_request.number").(int),
					PRAuthor: eventGet(t, p, "pull_request.user.login").(string),
					HeadSHA:  eventGet(t, p, "pull_request.head.sha").(string),
					HeadRepo: eventGet(t, p, "pull_request.head.repo.full_name").(string),
				}
			},
		},
		"pull_request synchronize with a chosen number and head": {
			event: "pull_request",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "pull_request", "synchronize")
				prtest.Set(p, "pull_request.number", 42)
				prtest.Set(p, "pull_request.head.sha", sha)
				return prtest.WritePayload(t, p), eventSummary{
					Action:   "synchronize",
					Sender:   eventGet(t, p, "sender.login").(string),
					PRNumber: 42,
					PRAuthor: eventGet(t, p, "pull_request.user.login").(string),
					HeadSHA:  sha,
					HeadRepo: eventGet(t, p, "pull_request.head.repo.full_name").(string),
				}
			},
		},
		"pull_request labeled gives the label and the sender": {
			event: "pull_request",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "pull_request", "labeled")
				prtest.Set(p, "label.name", "broom:approved")
				prtest.Set(p, "sender.login", "alice")
				return prtest.WritePayload(t, p), eventSummary{
					Action:   "labeled",
					Label:    "broom:approved",
					Sender:   "alice",
					PRNumber: eventGet(t, p, "pull_request.number").(int),
					PRAuthor: eventGet(t, p, "pull_request.user.login").(string),
					HeadSHA:  eventGet(t, p, "pull_request.head.sha").(string),
					HeadRepo: eventGet(t, p, "pull_request.head.repo.full_name").(string),
				}
			},
		},
		"pull_request labeled, as the example has it": {
			event: "pull_request",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "pull_request", "labeled")
				return prtest.WritePayload(t, p), eventSummary{
					Action:   "labeled",
					Label:    eventGet(t, p, "label.name").(string),
					Sender:   eventGet(t, p, "sender.login").(string),
					PRNumber: eventGet(t, p, "pull_request.number").(int),
					PRAuthor: eventGet(t, p, "pull_request.user.login").(string),
					HeadSHA:  eventGet(t, p, "pull_request.head.sha").(string),
					HeadRepo: eventGet(t, p, "pull_request.head.repo.full_name").(string),
				}
			},
		},
		"issues labeled": {
			event: "issues",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "issues", "labeled")
				prtest.Set(p, "label.name", "broom:approved")
				return prtest.WritePayload(t, p), eventSummary{
					Action:      "labeled",
					Label:       "broom:approved",
					Sender:      eventGet(t, p, "sender.login").(string),
					IssueNumber: eventGet(t, p, "issue.number").(int),
				}
			},
		},
		"schedule with no payload path": {
			event: "schedule",
			path:  func(t *testing.T) (string, eventSummary) { return "", eventSummary{} },
		},
		"schedule with GitHub's payload": {
			event: "schedule",
			path: func(t *testing.T) (string, eventSummary) {
				return prtest.WritePayload(t, prtest.Payload(t, "schedule", "")), eventSummary{}
			},
		},
		"workflow_dispatch": {
			event: "workflow_dispatch",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "workflow_dispatch", "")
				return prtest.WritePayload(t, p), eventSummary{Sender: eventGet(t, p, "sender.login").(string)}
			},
		},
		"push": {
			event: "push",
			path: func(t *testing.T) (string, eventSummary) {
				p := prtest.Payload(t, "push", "")
				return prtest.WritePayload(t, p), eventSummary{Sender: eventGet(t, p, "sender.login").(string)}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path, want := tc.path(t)
			p, err := readEvent(tc.event, path)
			if err != nil {
				t.Fatalf("readEvent(%q, %q): %v", tc.event, path, err)
			}
			if diff := cmp.Diff(want, summarize(p)); diff != "" {
				t.Errorf("readEvent(%q) mismatch (-want +got):\n%s", tc.event, diff)
			}
		})
	}
}

func TestReadEventErrors(t *testing.T) {
	t.Parallel()
	// edit returns a payload file made from the example for event and
	// action, changed by change.
	edit := func(event, action string, change func(p map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			p := prtest.Payload(t, event, action)
			change(p)
			return prtest.WritePayload(t, p)
		}
	}
	raw := func(data string) func(t *testing.T) string {
		return func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	tests := map[string]struct {
		event   string
		path    func(t *testing.T) string
		wantErr []string // substrings of the message
	}{
		"pull_request without a payload path": {
			event:   "pull_request",
			path:    func(*testing.T) string { return "" },
			wantErr: []string{"GITHUB_EVENT_PATH is not set", "pull_request"},
		},
		"workflow_dispatch without a payload path": {
			event:   "workflow_dispatch",
			path:    func(*testing.T) string { return "" },
			wantErr: []string{"GITHUB_EVENT_PATH is not set", "workflow_dispatch"},
		},
		"a path that does not exist": {
			event:   "pull_request",
			path:    func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.json") },
			wantErr: []string{"read event payload", "missing.json"},
		},
		"a path that is a directory": {
			event:   "pull_request",
			path:    func(t *testing.T) string { return t.TempDir() },
			wantErr: []string{"read event payload"},
		},
		"invalid JSON": {
			event:   "pull_request",
			path:    raw(`{"action": "opened",`),
			wantErr: []string{"is not valid JSON", "event.json"},
		},
		"a JSON array": {
			event:   "pull_request",
			path:    raw(`[]`),
			wantErr: []string{"is not valid JSON"},
		},
		"pull_request without the pull_request object": {
			event:   "pull_request",
			path:    edit("pull_request", "opened", func(p map[string]any) { delete(p, "pull_request") }),
			wantErr: []string{"pull_request event without pull_request.number"},
		},
		"pull_request with number zero": {
			event:   "pull_request",
			path:    edit("pull_request", "opened", func(p map[string]any) { prtest.Set(p, "pull_request.number", 0) }),
			wantErr: []string{"pull_request event without pull_request.number"},
		},
		"an issues payload for a pull_request event": {
			event:   "pull_request",
			path:    edit("issues", "labeled", func(map[string]any) {}),
			wantErr: []string{"pull_request event without pull_request.number"},
		},
		"pull_request without action": {
			event:   "pull_request",
			path:    edit("pull_request", "opened", func(p map[string]any) { delete(p, "action") }),
			wantErr: []string{"pull_request event without action"},
		},
		"pull_request labeled without label": {
			event:   "pull_request",
			path:    edit("pull_request", "labeled", func(p map[string]any) { delete(p, "label") }),
			wantErr: []string{"labeled event without label.name or sender.login"},
		},
		"pull_request labeled with an empty label name": {
			event:   "pull_request",
			path:    edit("pull_request", "labeled", func(p map[string]any) { prtest.Set(p, "label.name", "") }),
			wantErr: []string{"labeled event without label.name or sender.login"},
		},
		"pull_request labeled without sender": {
			event:   "pull_request",
			path:    edit("pull_request", "labeled", func(p map[string]any) { delete(p, "sender") }),
			wantErr: []string{"labeled event without label.name or sender.login"},
		},
		"issues labeled without sender": {
			event:   "issues",
			path:    edit("issues", "labeled", func(p map[string]any) { delete(p, "sender") }),
			wantErr: []string{"labeled event without label.name or sender.login"},
		},
		"issues without issue": {
			event:   "issues",
			path:    edit("issues", "labeled", func(p map[string]any) { delete(p, "issue") }),
			wantErr: []string{"issues event without issue.number"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := tc.path(t)
			p, err := readEvent(tc.event, path)
			if err == nil {
				t.Fatalf("readEvent(%q, %q) = %+v, want an error", tc.event, path, summarize(p))
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("readEvent(%q, %q) error = %q, want it to contain %q", tc.event, path, err, want)
				}
			}
		})
	}
}

func TestPRHasLabel(t *testing.T) {
	t.Parallel()
	labels := func(names ...string) []any {
		out := []any{}
		for _, n := range names {
			out = append(out, map[string]any{"name": n, "color": "ededed"})
		}
		return out
	}
	tests := map[string]struct {
		event, action string
		labels        []any // pull_request.labels; nil keeps the example's
		name          string
		want          bool
	}{
		"the label is on the PR": {
			event: "pull_request", action: "synchronize", labels: labels("bug", "broom:approved"), name: "broom:approved", want: true,
		},
		"another label is on the PR": {
			event: "pull_request", action: "synchronize", labels: labels("bug"), name: "broom:approved",
		},
		"a label whose name only starts the same": {
			event: "pull_request", action: "synchronize", labels: labels("broom:approved-later"), name: "broom:approved",
		},
		"no labels": {
			event: "pull_request", action: "synchronize", labels: labels(), name: "broom:approved",
		},
		"an issues event has no pull request": {
			event: "issues", action: "labeled", name: "broom:approved",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := prtest.Payload(t, tc.event, tc.action)
			if tc.labels != nil {
				prtest.Set(p, "pull_request.labels", tc.labels)
			}
			if tc.event == "issues" {
				prtest.Set(p, "issue.labels", labels(tc.name)) // on the issue, not a PR
			}
			got, err := readEvent(tc.event, prtest.WritePayload(t, p))
			if err != nil {
				t.Fatalf("readEvent: %v", err)
			}
			if has := got.prHasLabel(tc.name); has != tc.want {
				t.Errorf("prHasLabel(%q) = %v, want %v", tc.name, has, tc.want)
			}
		})
	}
}
