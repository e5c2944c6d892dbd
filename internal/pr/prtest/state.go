package prtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PR is a pull request to seed with AddPR. Zero fields get defaults.
type PR struct {
	// Number is the PR's number; 0 picks the next free one.
	Number int
	// Author is the login that opened it (default "octocat").
	Author string
	// Title and Body are its text (default title "Pull request N").
	Title, Body string
	// HeadSHA is the head commit (default a SHA derived from Number).
	HeadSHA string
	// HeadRef is the head branch (default "feature-N").
	HeadRef string
	// HeadRepo is the head repository's full name (default Owner/Repo); any
	// other value makes the PR come from a fork.
	HeadRepo string
	// BaseRef is the base branch (default "main").
	BaseRef string
	// Labels are the names of the labels on it.
	Labels []string
	// State is "open" (default) or "closed".
	State string
}

// Issue is an issue to seed with AddIssue, and what Issue returns.
type Issue struct {
	// Number is the issue's number; 0 picks the next free one.
	Number int
	// Author is the login that opened it (default "octocat").
	Author string
	// Title and Body are its text (default title "Issue N").
	Title, Body string
	// Labels are the names of the labels on it.
	Labels []string
	// State is "open" (default) or "closed".
	State string
	// PullRequest is true when the number is a pull request's.
	PullRequest bool

	// The fields below are set by Issue and Issues and ignored by AddIssue.

	// NodeID is its GraphQL global ID, as node_id in REST (I_… for an issue,
	// PR_… for a pull request).
	NodeID string
	// CreatedAt is when it was created, on the fake's clock.
	CreatedAt time.Time
	// LastEditedAt is when its body was last changed by an edit (REST PATCH
	// or EditIssueAs); zero when never edited.
	LastEditedAt time.Time
	// Editor is the login that made the last edit, in REST form
	// (github-actions[bot]); empty when never edited.
	Editor string
}

// Comment is an issue or pull request comment, as Comments returns it.
type Comment struct {
	// ID is the comment's ID, as in PATCH .../issues/comments/{ID}.
	ID int64
	// Author is the login that wrote it: the token's user for comments
	// created through the API.
	Author string
	// Body is its text.
	Body string
	// CreatedAt and UpdatedAt are its timestamps, to the second.
	CreatedAt, UpdatedAt time.Time
	// NodeID is its GraphQL global ID, as node_id in REST (IC_…).
	NodeID string
	// LastEditedAt is when its body was last changed by an edit (REST PATCH
	// or EditCommentAs); zero when never edited.
	LastEditedAt time.Time
	// Editor is the login that made the last edit, in REST form
	// (github-actions[bot]); empty when never edited.
	Editor string
}

// item is an issue or a pull request: they share one number space.
type item struct {
	number                   int
	id                       int64
	pr                       bool
	author, title, body      string
	state, stateReason       string
	labels                   []string
	created, updated, closed time.Time
	headSHA, headRef         string
	headRepo, baseRef        string
	edit                     edit // of the body
}

type comment struct {
	id               int64
	number           int
	author, body     string
	created, updated time.Time
	edit             edit
}

// edit is who last changed a body by an edit, and when: what GraphQL
// reports as editor and lastEditedAt. The zero edit is "never edited".
type edit struct {
	at     time.Time
	editor string // REST form: github-actions[bot]
}

// setBody changes *body to newBody as editor did at t, and reports whether
// it changed. An edit that leaves the body as it was records nothing: GitHub
// keeps a body's edit history (userContentEdits, from which lastEditedAt and
// editor come) as a list of changes, and an unchanged body is no change.
// (Not verified against github.com; broom never relies on the difference,
// as an unchanged body still shows the plan broom wrote.)
func (e *edit) setBody(body *string, newBody, editor string, t time.Time) bool {
	if *body == newBody {
		return false
	}
	*body = newBody
	e.at, e.editor = t, editor
	return true
}

// now is the fake's clock: frozen at the second New was called, and moved
// only by Advance, so that tests of timing are deterministic. To the second,
// as GitHub's timestamps are. f.mu is held.
func (f *Fake) now() time.Time { return f.clock }

// Now returns the fake's current time (see Advance).
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

// Advance moves the fake's clock forward by d, truncated to the second (a
// negative d panics). The clock does not move by itself: everything the fake
// stamps (comments, issues, events, edits) gets the current fake time, so a
// test makes "later" with Advance instead of sleeping.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("prtest: Advance(%v): the clock only moves forward", d))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(d).Truncate(time.Second)
}

// AddPR adds a pull request, or replaces the one with the same number
// (keeping its comments), and returns its number.
func (f *Fake) AddPR(pr PR) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.number(pr.Number)
	it := f.newItem(n, true, pr.Author, pr.Title, pr.Body, pr.State, pr.Labels)
	it.headSHA = pr.HeadSHA
	if it.headSHA == "" {
		sum := sha1.Sum([]byte(fmt.Sprintf("head of pull request %d", n)))
		it.headSHA = hex.EncodeToString(sum[:])
	}
	it.headRef = pr.HeadRef
	if it.headRef == "" {
		it.headRef = fmt.Sprintf("feature-%d", n)
	}
	it.headRepo = pr.HeadRepo
	if it.headRepo == "" {
		it.headRepo = f.Owner + "/" + f.Repo
	}
	it.baseRef = pr.BaseRef
	if it.baseRef == "" {
		it.baseRef = "main"
	}
	f.items[n] = it
	return n
}

// AddIssue adds an issue, or replaces the one with the same number (keeping
// its comments), and returns its number.
func (f *Fake) AddIssue(is Issue) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.number(is.Number)
	f.items[n] = f.newItem(n, false, is.Author, is.Title, is.Body, is.State, is.Labels)
	return n
}

// Issue returns issue or pull request number n as an Issue.
func (f *Fake) Issue(n int) (Issue, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[n]
	if !ok {
		return Issue{}, false
	}
	return Issue{
		Number: it.number, Author: it.author, Title: it.title, Body: it.body,
		Labels: append([]string(nil), it.labels...), State: it.state, PullRequest: it.pr,
		NodeID: itemNodeID(it), CreatedAt: it.created, LastEditedAt: it.edit.at, Editor: it.edit.editor,
	}, true
}

// Issues returns every issue and pull request, by number.
func (f *Fake) Issues() []Issue {
	f.mu.Lock()
	nums := sortedKeys(f.items)
	f.mu.Unlock()
	out := make([]Issue, 0, len(nums))
	for _, n := range nums {
		if is, ok := f.Issue(n); ok {
			out = append(out, is)
		}
	}
	return out
}

// number returns n, or the next free number when n is 0. f.mu is held.
func (f *Fake) number(n int) int {
	if n > 0 {
		return n
	}
	next := 1
	for k := range f.items {
		if k >= next {
			next = k + 1
		}
	}
	return next
}

// newItem builds an issue or PR with defaults. f.mu is held.
func (f *Fake) newItem(n int, pr bool, author, title, body, state string, labels []string) *item {
	if author == "" {
		author = "octocat"
	}
	if title == "" {
		if pr {
			title = fmt.Sprintf("Pull request %d", n)
		} else {
			title = fmt.Sprintf("Issue %d", n)
		}
	}
	if state == "" {
		state = "open"
	}
	t := f.now()
	it := &item{
		number: n, pr: pr, author: author, title: title, body: body, state: state,
		labels: dedupe(labels), created: t, updated: t,
	}
	if old, ok := f.items[n]; ok {
		it.id, it.created = old.id, old.created
	} else {
		it.id = f.nextItemID
		f.nextItemID++
	}
	if state == "closed" {
		it.closed = t
	}
	return it
}

// AddComment seeds a comment by login on issue or pull request n and returns
// its ID. The issue need not exist.
func (f *Fake) AddComment(n int, login, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addComment(n, login, body).id
}

func (f *Fake) addComment(n int, login, body string) *comment {
	t := f.now()
	c := &comment{id: f.nextComment, number: n, author: login, body: body, created: t, updated: t}
	f.nextComment++
	f.comments[c.id] = c
	return c
}

// Comments returns the comments on issue or pull request n, oldest first.
func (f *Fake) Comments(n int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Comment
	for _, c := range f.commentsOn(n) {
		out = append(out, Comment{
			ID: c.id, Author: c.author, Body: c.body, CreatedAt: c.created, UpdatedAt: c.updated,
			NodeID: commentNodeID(c), LastEditedAt: c.edit.at, Editor: c.edit.editor,
		})
	}
	return out
}

// commentsOn returns the comments on n by ID. f.mu is held.
func (f *Fake) commentsOn(n int) []*comment {
	var out []*comment
	for _, c := range f.comments {
		if c.number == n {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Labels returns the names of the labels on issue or pull request n.
func (f *Fake) Labels(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if it, ok := f.items[n]; ok {
		return append([]string(nil), it.labels...)
	}
	return nil
}

// SetLabels replaces the labels on issue or pull request n, which must
// exist. It seeds state: no events are recorded (see AddLabel).
func (f *Fake) SetLabels(n int, labels ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustItem("SetLabels", n).labels = dedupe(labels)
}

// EditCommentAs changes the body of comment id (which must exist) as editor,
// a person editing it in the web UI, at the fake's now: GraphQL then reports
// editor and lastEditedAt for it. A body left as it was records nothing (see
// edit.setBody).
func (f *Fake) EditCommentAs(id int64, editor, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.comments[id]
	if !ok {
		panic(fmt.Sprintf("prtest: EditCommentAs: no comment %d", id))
	}
	if c.edit.setBody(&c.body, body, editor, f.now()) {
		c.updated = f.now()
	}
}

// EditIssueAs changes the body of issue or pull request n (which must exist)
// as editor at the fake's now, like EditCommentAs.
func (f *Fake) EditIssueAs(n int, editor, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.mustItem("EditIssueAs", n)
	if it.edit.setBody(&it.body, body, editor, f.now()) {
		it.updated = f.now()
	}
}

func dedupe(labels []string) []string {
	out := []string{}
	for _, l := range labels {
		if !containsFold(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// containsFold reports whether list holds s; label names are
// case-insensitive on GitHub.
func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// call is a validated REST request, as handlers see it.
type call struct {
	login  string
	method string
	op     string            // the description's path template
	params map[string]string // path parameters, still escaped
	rawSeg []string          // the escaped path's segments
	path   string            // the unescaped path
	query  url.Values
	body   []byte
}

func (c *call) intParam(name string) int {
	n, _ := strconv.Atoi(c.params[name]) // validated as an integer
	return n
}

// dispatch runs the handler of a validated call. f.mu is held.
func (f *Fake) dispatch(c *call) reply {
	owner, _ := url.PathUnescape(c.params["owner"])
	repo, _ := url.PathUnescape(c.params["repo"])
	if !strings.EqualFold(owner, f.Owner) || !strings.EqualFold(repo, f.Repo) {
		return notFound()
	}
	switch c.method + " " + c.op {
	case "GET /repos/{owner}/{repo}/issues/{issue_number}/comments":
		return f.listComments(c)
	case "POST /repos/{owner}/{repo}/issues/{issue_number}/comments":
		return f.createComment(c)
	case "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":
		return f.editComment(c)
	case "GET /repos/{owner}/{repo}/pulls/{pull_number}":
		return f.getPR(c)
	case "GET /repos/{owner}/{repo}/issues/{issue_number}":
		return f.getIssue(c)
	case "POST /repos/{owner}/{repo}/issues":
		return f.createIssue(c)
	case "PATCH /repos/{owner}/{repo}/issues/{issue_number}":
		return f.editIssue(c)
	case "GET /repos/{owner}/{repo}/issues":
		return f.listIssues(c)
	case "GET /repos/{owner}/{repo}/issues/{issue_number}/events":
		return f.listEvents(c)
	case "POST /repos/{owner}/{repo}/issues/{issue_number}/labels":
		return f.addLabels(c)
	case "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}":
		return f.removeLabel(c)
	case "GET /repos/{owner}/{repo}/collaborators/{username}/permission":
		return f.permission(c)
	case "GET /repos/{owner}/{repo}/labels/{name}":
		return f.getRepoLabel(c)
	case "POST /repos/{owner}/{repo}/labels":
		return f.createRepoLabel(c)
	}
	f.violate("%s %s: in the description but not implemented by prtest", c.method, c.path)
	return errorReply(http.StatusNotImplemented, "prtest: not implemented")
}

// page slices n results by the per_page (default 30, at most 100) and page
// (default 1) parameters and returns the slice bounds and the Link header.
func (f *Fake) page(c *call, n int) (lo, hi int, header http.Header) {
	perPage := 30
	if v, err := strconv.Atoi(c.query.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	pageNo := 1
	if v, err := strconv.Atoi(c.query.Get("page")); err == nil && v > 0 {
		pageNo = v
	}
	last := max(1, (n+perPage-1)/perPage)
	lo = min(n, (pageNo-1)*perPage)
	hi = min(n, lo+perPage)

	link := func(p int, rel string) string {
		q := url.Values{}
		for k, vs := range c.query {
			q[k] = vs
		}
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel=%q`, f.APIURL(), c.path, q.Encode(), rel)
	}
	var links []string
	if pageNo > 1 {
		links = append(links, link(min(pageNo-1, last), "prev"))
	}
	if pageNo < last {
		links = append(links, link(pageNo+1, "next"), link(last, "last"))
	}
	if pageNo > 1 {
		links = append(links, link(1, "first"))
	}
	header = http.Header{}
	if len(links) > 0 {
		header.Set("Link", strings.Join(links, ", "))
	}
	return lo, hi, header
}

func (f *Fake) listComments(c *call) reply {
	n := c.intParam("issue_number")
	if _, ok := f.items[n]; !ok {
		return notFound()
	}
	all := f.commentsOn(n)
	if s := c.query.Get("since"); s != "" {
		since, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errorReply(http.StatusUnprocessableEntity, "Validation Failed")
		}
		var kept []*comment
		for _, cm := range all {
			if !cm.updated.Before(since) {
				kept = append(kept, cm)
			}
		}
		all = kept
	}
	lo, hi, header := f.page(c, len(all))
	out := []any{}
	for _, cm := range all[lo:hi] {
		out = append(out, f.commentJSON(cm))
	}
	return reply{status: http.StatusOK, header: header, body: out}
}

// decode unmarshals a validated request body.
func decode[T any](c *call) (T, *reply) {
	var v T
	if err := json.Unmarshal(c.body, &v); err != nil {
		rp := errorReply(http.StatusBadRequest, "Problems parsing JSON")
		return v, &rp
	}
	return v, nil
}

func (f *Fake) createComment(c *call) reply {
	n := c.intParam("issue_number")
	if _, ok := f.items[n]; !ok {
		return notFound()
	}
	in, rp := decode[struct{ Body string }](c)
	if rp != nil {
		return *rp
	}
	cm := f.addComment(n, c.login, in.Body)
	return jsonReply(http.StatusCreated, f.commentJSON(cm))
}

func (f *Fake) editComment(c *call) reply {
	id, _ := strconv.ParseInt(c.params["comment_id"], 10, 64)
	cm, ok := f.comments[id]
	if !ok {
		return notFound()
	}
	in, rp := decode[struct{ Body string }](c)
	if rp != nil {
		return *rp
	}
	// The edit facts change only with the body (see edit.setBody);
	// updated_at moves on every PATCH, as it always did in the fake.
	cm.edit.setBody(&cm.body, in.Body, c.login, f.now())
	cm.updated = f.now()
	return jsonReply(http.StatusOK, f.commentJSON(cm))
}

func (f *Fake) getPR(c *call) reply {
	it, ok := f.items[c.intParam("pull_number")]
	if !ok || !it.pr {
		return notFound()
	}
	return jsonReply(http.StatusOK, f.prJSON(it))
}

func (f *Fake) getIssue(c *call) reply {
	it, ok := f.items[c.intParam("issue_number")]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, f.issueJSON(it))
}

// issueInput is the body of create and update issue. Title may be a string
// or an integer; labels strings or objects with a name.
type issueInput struct {
	Title       any               `json:"title"`
	Body        *string           `json:"body"`
	State       *string           `json:"state"`
	StateReason *string           `json:"state_reason"`
	Labels      []json.RawMessage `json:"labels"`
	HasLabels   bool              `json:"-"`
}

func (in *issueInput) labelNames() []string {
	var names []string
	for _, raw := range in.Labels {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			names = append(names, s)
			continue
		}
		var obj struct{ Name string }
		if json.Unmarshal(raw, &obj) == nil && obj.Name != "" {
			names = append(names, obj.Name)
		}
	}
	return names
}

func decodeIssueInput(c *call) (issueInput, *reply) {
	in, rp := decode[issueInput](c)
	if rp != nil {
		return in, rp
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(c.body, &keys)
	_, in.HasLabels = keys["labels"]
	return in, nil
}

func titleString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

func (f *Fake) createIssue(c *call) reply {
	in, rp := decodeIssueInput(c)
	if rp != nil {
		return *rp
	}
	title, ok := titleString(in.Title)
	if !ok || title == "" {
		return errorReply(http.StatusUnprocessableEntity, "Validation Failed")
	}
	n := f.number(0)
	it := f.newItem(n, false, c.login, title, "", "open", nil)
	if in.Body != nil {
		it.body = *in.Body
	}
	f.items[n] = it
	// Labels given at creation are added by the creator, each with its event.
	for _, l := range in.labelNames() {
		f.labelOn(it, c.login, l)
	}
	return jsonReply(http.StatusCreated, f.issueJSON(it))
}

func (f *Fake) editIssue(c *call) reply {
	it, ok := f.items[c.intParam("issue_number")]
	if !ok {
		return notFound()
	}
	in, rp := decodeIssueInput(c)
	if rp != nil {
		return *rp
	}
	if title, ok := titleString(in.Title); ok {
		it.title = title
	}
	if in.Body != nil {
		it.edit.setBody(&it.body, *in.Body, c.login, f.now())
	}
	if in.State != nil && *in.State != it.state {
		it.state = *in.State
		if it.state == "closed" {
			it.closed = f.now()
			it.stateReason = "completed"
		} else {
			it.closed = time.Time{}
			it.stateReason = "reopened"
		}
	}
	if in.StateReason != nil {
		it.stateReason = *in.StateReason
	}
	if in.HasLabels {
		// Replace the set: an event for each label removed and added.
		want := dedupe(in.labelNames())
		for _, l := range append([]string(nil), it.labels...) {
			if !containsFold(want, l) {
				f.labelOff(it, c.login, l)
			}
		}
		for _, l := range want {
			f.labelOn(it, c.login, l)
		}
		it.labels = want // in the order given
	}
	it.updated = f.now()
	return jsonReply(http.StatusOK, f.issueJSON(it))
}

func (f *Fake) listIssues(c *call) reply {
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := c.query.Get("labels"); l != "" {
		for _, name := range strings.Split(l, ",") {
			if name = strings.TrimSpace(name); name != "" {
				want = append(want, name)
			}
		}
	}
	creator := c.query.Get("creator")

	var matched []*item
	for _, n := range sortedKeys(f.items) {
		it := f.items[n]
		if state != "all" && it.state != state {
			continue
		}
		if creator != "" && !strings.EqualFold(creator, it.author) {
			continue
		}
		all := true
		for _, w := range want {
			all = all && containsFold(it.labels, w)
		}
		if all {
			matched = append(matched, it)
		}
	}
	sortKey := func(it *item) int64 {
		switch c.query.Get("sort") {
		case "updated":
			return it.updated.UnixNano()
		case "comments":
			return int64(len(f.commentsOn(it.number)))
		}
		return it.created.UnixNano()
	}
	asc := c.query.Get("direction") == "asc"
	sort.SliceStable(matched, func(i, j int) bool {
		a, b := sortKey(matched[i]), sortKey(matched[j])
		if a == b { // same second: newest number first, as GitHub's order by creation
			if asc {
				return matched[i].number < matched[j].number
			}
			return matched[i].number > matched[j].number
		}
		if asc {
			return a < b
		}
		return a > b
	})

	lo, hi, header := f.page(c, len(matched))
	out := []any{}
	for _, it := range matched[lo:hi] {
		out = append(out, f.issueJSON(it))
	}
	return reply{status: http.StatusOK, header: header, body: out}
}

func (f *Fake) addLabels(c *call) reply {
	it, ok := f.items[c.intParam("issue_number")]
	if !ok {
		return notFound()
	}
	in, rp := decodeIssueInput(c)
	if rp != nil {
		return *rp
	}
	for _, l := range in.labelNames() {
		f.labelOn(it, c.login, l)
	}
	it.updated = f.now()
	return jsonReply(http.StatusOK, f.labelsJSON(it.labels))
}

func (f *Fake) removeLabel(c *call) reply {
	it, ok := f.items[c.intParam("issue_number")]
	if !ok {
		return notFound()
	}
	// Routing saw the escaped path: unescape the name's segment.
	name, err := url.PathUnescape(c.rawSeg[len(c.rawSeg)-1])
	if err != nil {
		return errorReply(http.StatusBadRequest, "prtest: bad label name in the path")
	}
	if !f.labelOff(it, c.login, name) {
		return errorReply(http.StatusNotFound, "Label does not exist")
	}
	it.updated = f.now()
	return jsonReply(http.StatusOK, f.labelsJSON(it.labels))
}

// legacyPermission maps a role to the legacy permission GitHub reports in
// "permission": maintain reads as write and triage as read.
var legacyPermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write",
	"triage": "read", "read": "read", "none": "none",
}

func (f *Fake) permission(c *call) reply {
	login, _ := url.PathUnescape(c.params["username"])
	var role string
	for l, r := range f.perms {
		if strings.EqualFold(l, login) {
			login, role = l, r
		}
	}
	if role == "" {
		return notFound()
	}
	user := f.userJSON(login)
	user["role_name"] = role
	user["permissions"] = map[string]any{
		"admin":    role == "admin",
		"maintain": role == "admin" || role == "maintain",
		"push":     role == "admin" || role == "maintain" || role == "write",
		"triage":   role != "read" && role != "none",
		"pull":     role != "none",
	}
	return jsonReply(http.StatusOK, map[string]any{
		"permission": legacyPermission[role],
		"role_name":  role,
		"user":       user,
	})
}
