package prtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Event is an issue event (labeled or unlabeled), as Events returns it and
// GET /repos/{owner}/{repo}/issues/{issue_number}/events lists it.
type Event struct {
	// ID is its REST ID.
	ID int64
	// Event is "labeled" or "unlabeled".
	Event string
	// Actor is the login that added or removed the label, in REST form
	// (github-actions[bot] for the workflow's token).
	Actor string
	// Label is the label's name.
	Label string
	// CreatedAt is when it happened, on the fake's clock.
	CreatedAt time.Time
}

type event struct {
	id           int64
	number       int
	kind         string // labeled, unlabeled
	actor, label string
	at           time.Time
}

// recordEvent appends an issue event on n by actor at the fake's now. f.mu is
// held.
func (f *Fake) recordEvent(n int, kind, actor, label string) {
	e := &event{id: f.nextEvent, number: n, kind: kind, actor: actor, label: label, at: f.now()}
	f.nextEvent++
	f.events[n] = append(f.events[n], e)
}

// labelOn adds label to it as actor did, recording a labeled event, and
// reports whether it was added: a label already on it (names compare
// ignoring case) is left as it is, with no event, as on GitHub. f.mu is
// held.
func (f *Fake) labelOn(it *item, actor, label string) bool {
	if containsFold(it.labels, label) {
		return false
	}
	it.labels = append(it.labels, label)
	f.ensureRepoLabel(label)
	f.recordEvent(it.number, "labeled", actor, label)
	return true
}

// labelOff removes label from it as actor did, recording an unlabeled
// event, and reports whether it was there. f.mu is held.
func (f *Fake) labelOff(it *item, actor, label string) bool {
	kept := []string{}
	var removed string
	for _, l := range it.labels {
		if strings.EqualFold(l, label) {
			removed = l
			continue
		}
		kept = append(kept, l)
	}
	if removed == "" {
		return false
	}
	it.labels = kept
	f.recordEvent(it.number, "unlabeled", actor, removed)
	return true
}

// AddLabel adds label to issue or pull request n (which must exist) as
// actor, a person or app acting outside broom (e.g. a reviewer in the web
// UI), at the fake's now: a labeled event by actor is recorded. A label
// already on it is left alone and records nothing, as on GitHub. To seed
// labels without events, use SetLabels or the Labels of PR and Issue.
func (f *Fake) AddLabel(n int, actor, label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.mustItem("AddLabel", n)
	if f.labelOn(it, actor, label) {
		it.updated = f.now()
	}
}

// RemoveLabelAs removes label from issue or pull request n (which must
// exist) as actor at the fake's now, recording an unlabeled event. A label
// not on it is a no-op.
func (f *Fake) RemoveLabelAs(n int, actor, label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.mustItem("RemoveLabelAs", n)
	if f.labelOff(it, actor, label) {
		it.updated = f.now()
	}
}

// Events returns the issue events of issue or pull request n, oldest first:
// labels added and removed through the REST API (actor: the token's login),
// by AddLabel and by RemoveLabelAs.
func (f *Fake) Events(n int) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, e := range f.events[n] {
		out = append(out, Event{ID: e.id, Event: e.kind, Actor: e.actor, Label: e.label, CreatedAt: e.at})
	}
	return out
}

// mustItem returns issue or pull request n, or panics naming the helper
// that needed it. f.mu is held.
func (f *Fake) mustItem(helper string, n int) *item {
	it, ok := f.items[n]
	if !ok {
		panic(fmt.Sprintf("prtest: %s: no issue or pull request %d", helper, n))
	}
	return it
}

// eventNodeID is an issue event's node ID: LabeledEvent and UnlabeledEvent
// are LE_… and UNLE_… on GitHub.
func eventNodeID(e *event) string {
	if e.kind == "unlabeled" {
		return fmt.Sprintf("UNLE_%d", e.id)
	}
	return fmt.Sprintf("LE_%d", e.id)
}

// eventJSON is an issue event as GitHub's labeled-issue-event and
// unlabeled-issue-event schemas describe it.
func (f *Fake) eventJSON(e *event) map[string]any {
	return map[string]any{
		"id":                       e.id,
		"node_id":                  eventNodeID(e),
		"url":                      fmt.Sprintf("%s/issues/events/%d", f.repoAPI(), e.id),
		"actor":                    f.userJSON(e.actor),
		"event":                    e.kind,
		"commit_id":                nil,
		"commit_url":               nil,
		"created_at":               timestamp(e.at),
		"label":                    map[string]any{"name": e.label, "color": labelColor},
		"performed_via_github_app": nil,
	}
}

// listEvents serves GET /repos/{owner}/{repo}/issues/{issue_number}/events,
// oldest first, paged as GitHub does.
func (f *Fake) listEvents(c *call) reply {
	n := c.intParam("issue_number")
	if _, ok := f.items[n]; !ok {
		return notFound()
	}
	all := f.events[n]
	lo, hi, header := f.page(c, len(all))
	out := []any{}
	for _, e := range all[lo:hi] {
		out = append(out, f.eventJSON(e))
	}
	return reply{status: http.StatusOK, header: header, body: out}
}
