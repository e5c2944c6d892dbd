// Package prtest is a stateful in-process fake of the GitHub REST and GraphQL
// endpoints broom uses, for tests.
//
// A Fake listens on 127.0.0.1 and serves the REST API under /api/v3/ and
// GraphQL at /api/graphql, as GitHub Enterprise Server does, so that
// GITHUB_API_URL and GITHUB_GRAPHQL_URL can point at it. Every REST request is
// checked against GitHub's official OpenAPI description (testdata, from the
// npm package @octokit/openapi; see scripts/openapi): a request the
// description does not allow is answered 400 (404 for an unknown route) and
// recorded as a violation, and the test fails when it ends. The fake's own
// responses are checked against the description too.
//
// Every GraphQL request is parsed and validated against GitHub's published
// GraphQL schema (npm package @octokit/graphql-schema, installed by
// scripts/test-deps.sh): one that does not parse or validate is answered 200
// with "errors", as GitHub answers it, and is a violation. The fake answers
// the queries broom sends, { viewer { login } } and node(id:) with the edit
// facts of a comment or issue (see graphql.go); any other valid request (a
// mutation, another top-level field) is a violation, answered 400.
//
// The fake keeps its own clock (Now, Advance): it stands still unless a test
// moves it, and stamps everything with it. Besides seeding helpers (AddPR,
// AddIssue, AddComment, SetLabels, which record no history), it has helpers
// for what people do in the web UI while broom runs: AddLabel and
// RemoveLabelAs (recorded as issue events, listed by
// GET .../issues/{n}/events and Events), EditCommentAs and EditIssueAs
// (recorded as the body's last edit, which GraphQL reports).
//
// The repository's labels (GET and POST /repos/{owner}/{repo}/labels…) are
// kept too: seed them with AddRepoLabel, read them with RepoLabels. As on
// GitHub, a label added to an issue through the REST API (or AddLabel) is
// created in the repository when it has none of that name; SetLabels and the
// Labels of PR and Issue seed labels without creating any.
//
// It also loads real webhook payloads from @octokit/webhooks-examples (see
// Payload), installed by scripts/test-deps.sh.
package prtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

// Defaults of a new Fake.
const (
	// DefaultOwner and DefaultRepo name the fake's repository.
	DefaultOwner = "acme"
	DefaultRepo  = "infra"
	// DefaultToken is accepted as the identity DefaultLogin.
	DefaultToken = "test-token"
	// DefaultLogin is the login of DefaultToken, the workflow's GITHUB_TOKEN.
	DefaultLogin = "github-actions[bot]"
)

const (
	restPrefix  = "/api/v3"
	graphQLPath = "/api/graphql"
)

// Option configures a Fake.
type Option func(*Fake)

// WithRepo sets the repository the fake serves (default acme/infra).
func WithRepo(owner, repo string) Option {
	return func(f *Fake) { f.Owner, f.Repo = owner, repo }
}

// WithoutFailOnViolation keeps the fake from failing the test at cleanup when
// it recorded violations; the test inspects Violations itself.
func WithoutFailOnViolation() Option {
	return func(f *Fake) { f.failOnViolation = false }
}

// Request is one request the fake received.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path without the /api/v3 prefix, e.g.
	// /repos/acme/infra/issues/1/comments. GraphQL requests have the path
	// /graphql (api.github.com's own).
	Path string
	// Query is the parsed query string.
	Query url.Values
	// Header is the request's header.
	Header http.Header
	// Body is the request body as sent.
	Body string
}

// Fake is a fake GitHub API server for one repository. Create it with New.
// It is safe for concurrent use.
type Fake struct {
	// Owner and Repo name the repository the fake serves; requests for any
	// other repository get 404.
	Owner, Repo string

	srv             *httptest.Server
	contract        *contract
	failOnViolation bool

	mu          sync.Mutex
	clock       time.Time         // see now
	tokens      map[string]string // token → login
	items       map[int]*item     // issues and pull requests by number
	comments    map[int64]*comment
	events      map[int][]*event // issue events by issue number, oldest first
	nextComment int64
	nextItemID  int64
	nextEvent   int64
	perms       map[string]string // login → role
	repoLabels  map[string]Label  // the repository's labels by lower-case name (labels.go)
	requests    []Request
	faults      []*fault
	violations  []string
}

// New starts a fake on a loopback port and stops it when the test ends. If
// the fake recorded violations, the test fails at cleanup (unless
// WithoutFailOnViolation is given).
func New(t testing.TB, opts ...Option) *Fake {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("prtest: %v", err)
	}
	f := &Fake{
		Owner:           DefaultOwner,
		Repo:            DefaultRepo,
		contract:        c,
		failOnViolation: true,
		clock:           time.Now().UTC().Truncate(time.Second),
		tokens:          map[string]string{DefaultToken: DefaultLogin},
		items:           map[int]*item{},
		comments:        map[int64]*comment{},
		events:          map[int][]*event{},
		nextComment:     3_000_000_001, // above 2³¹, as GitHub's are
		nextItemID:      2_000_000_001,
		nextEvent:       15_000_000_001,
		perms:           map[string]string{},
	}
	for _, opt := range opts {
		opt(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(func() {
		// Cleanups run last-in first-out: close first, so that requests
		// still under way are counted, then report.
		f.srv.Close()
		if v := f.Violations(); f.failOnViolation && len(v) > 0 {
			t.Errorf("prtest: %d request(s) violated GitHub's API contract:\n\t%s", len(v), strings.Join(v, "\n\t"))
		}
	})
	return f
}

// ServerURL is the fake's root URL, what GITHUB_SERVER_URL would be; html_url
// fields point below it.
func (f *Fake) ServerURL() string { return f.srv.URL }

// APIURL is the REST API's base URL, for GITHUB_API_URL (no trailing slash).
func (f *Fake) APIURL() string { return f.srv.URL + restPrefix }

// GraphQLURL is the GraphQL endpoint, for GITHUB_GRAPHQL_URL.
func (f *Fake) GraphQLURL() string { return f.srv.URL + graphQLPath }

// Env returns the runner variables that point a broom binary at the fake:
// GITHUB_API_URL, GITHUB_GRAPHQL_URL, GITHUB_SERVER_URL and GITHUB_REPOSITORY.
func (f *Fake) Env() map[string]string {
	return map[string]string{
		"GITHUB_API_URL":     f.APIURL(),
		"GITHUB_GRAPHQL_URL": f.GraphQLURL(),
		"GITHUB_SERVER_URL":  f.ServerURL(),
		"GITHUB_REPOSITORY":  f.Owner + "/" + f.Repo,
	}
}

// Client returns a go-github client for the fake, authenticated with
// DefaultToken.
func (f *Fake) Client() *github.Client {
	return f.ClientWithToken(DefaultToken)
}

// ClientWithToken returns a go-github client for the fake that sends token.
func (f *Fake) ClientWithToken(token string) *github.Client {
	c := github.NewClient(f.srv.Client()).WithAuthToken(token)
	base, err := url.Parse(f.APIURL() + "/")
	if err != nil {
		panic(fmt.Sprintf("prtest: parse API URL: %v", err)) // cannot happen: httptest's URL
	}
	c.BaseURL = base
	c.UploadURL = base
	return c
}

// AddToken makes token authenticate as login.
func (f *Fake) AddToken(token, login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = login
}

// SetPermission gives login a role on the repository: admin, maintain,
// write, triage or read (and none, which GitHub reports for users without
// access to a private repository). A login without a role gets 404 from the
// permission endpoint, as a non-collaborator does.
func (f *Fake) SetPermission(login, role string) {
	switch role {
	case "admin", "maintain", "write", "triage", "read", "none":
	default:
		panic(fmt.Sprintf("prtest: unknown role %q", role))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.perms[login] = role
}

// Requests returns every request received so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	copy(out, f.requests)
	return out
}

// Count returns how many requests had method (any if empty) and a path
// matching pathPattern, a path.Match pattern such as
// "/repos/acme/infra/issues/1/comments" or "/repos/acme/infra/issues/*/labels".
func (f *Fake) Count(method, pathPattern string) int {
	n := 0
	for _, r := range f.Requests() {
		if method != "" && !strings.EqualFold(method, r.Method) {
			continue
		}
		if ok, _ := path.Match(pathPattern, r.Path); ok {
			n++
		}
	}
	return n
}

// Violations returns the recorded contract violations, in order.
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.violations))
	copy(out, f.violations)
	return out
}

// fault is a canned failure for the next matching requests.
type fault struct {
	method, pathPrefix string
	left               int
	status             int
	header             http.Header
	body               string
}

// FailNext makes the next n requests with method (any if empty) whose path
// (without /api/v3; /graphql for GraphQL) starts with pathPrefix fail with
// status, header and body, e.g. 403 with Retry-After and a secondary-rate-limit message, or 502.
// Failed requests are validated and logged like any other, and change no
// state. Several FailNext calls queue up; the earliest matching one is used.
func (f *Fake) FailNext(method, pathPrefix string, n int, status int, header http.Header, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{
		method: method, pathPrefix: pathPrefix, left: n,
		status: status, header: header.Clone(), body: body,
	})
}

// takeFault returns the fault for a request, if one is pending. f.mu is held.
func (f *Fake) takeFault(method, p string) *fault {
	for _, ft := range f.faults {
		if ft.left > 0 && (ft.method == "" || strings.EqualFold(ft.method, method)) && strings.HasPrefix(p, ft.pathPrefix) {
			ft.left--
			return ft
		}
	}
	return nil
}

// write sends the canned response.
func (ft *fault) write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range ft.header {
		h[k] = append([]string(nil), vs...)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(ft.status)
	_, _ = io.WriteString(w, ft.body)
}

// violate records a violation. f.mu is held.
func (f *Fake) violate(format string, args ...any) {
	f.violations = append(f.violations, fmt.Sprintf(format, args...))
}

// reply is what a handler answers.
type reply struct {
	status int
	header http.Header
	body   any // marshalled as JSON; nil means no body
}

func jsonReply(status int, body any) reply { return reply{status: status, body: body} }

// errorReply is GitHub's error body, e.g. {"message":"Not Found",...}.
func errorReply(status int, message string) reply {
	return jsonReply(status, map[string]any{
		"message":           message,
		"documentation_url": "https://docs.github.com/rest",
		"status":            fmt.Sprint(status),
	})
}

func notFound() reply { return errorReply(http.StatusNotFound, "Not Found") }

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, fmt.Sprintf("read body: %v", err), http.StatusBadRequest)
		return
	}

	p := r.URL.Path
	switch {
	case p == graphQLPath:
		f.record(r, "/graphql", body)
		f.serveGraphQL(w, r, body)
	case strings.HasPrefix(p, restPrefix+"/"):
		rest := strings.TrimPrefix(p, restPrefix)
		f.record(r, rest, body)
		f.serveREST(w, r, rest, body)
	default:
		f.record(r, p, body)
		f.mu.Lock()
		f.violate("%s %s: not under %s/ or %s", r.Method, p, restPrefix, graphQLPath)
		f.mu.Unlock()
		write(w, notFound())
	}
}

func (f *Fake) record(r *http.Request, p string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{
		Method: r.Method,
		Path:   p,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   string(body),
	})
}

func (f *Fake) serveREST(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	// Route on the escaped path, so that an escaped slash in a label name
	// (labels/a%2Fb) stays inside its path segment as it does on GitHub.
	req := r.Clone(r.Context())
	req.URL.Path = strings.TrimPrefix(r.URL.EscapedPath(), restPrefix)
	req.URL.RawPath = ""
	where := r.Method + " " + rest
	if r.URL.RawQuery != "" {
		where += "?" + r.URL.RawQuery
	}

	v, err := f.contract.validateRequest(req, body)
	if err != nil {
		f.mu.Lock()
		f.violate("%s: %v", where, err)
		f.mu.Unlock()
		if errors.Is(err, errUnknownRoute) {
			write(w, notFound())
			return
		}
		write(w, errorReply(http.StatusBadRequest, "prtest: request violates GitHub's OpenAPI description: "+err.Error()))
		return
	}

	f.mu.Lock()
	login, rp := f.authenticate(r)
	if rp != nil {
		f.mu.Unlock()
		write(w, *rp)
		return
	}
	if ft := f.takeFault(r.Method, rest); ft != nil {
		f.mu.Unlock()
		ft.write(w)
		return
	}
	out := f.dispatch(&call{
		login:  login,
		method: r.Method,
		op:     v.route.Path,
		params: v.pathParams,
		rawSeg: strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/"),
		path:   rest,
		query:  r.URL.Query(),
		body:   body,
	})
	f.mu.Unlock()

	data, hdr := encode(out)
	if err := f.contract.validateResponse(v, out.status, hdr, data); err != nil {
		f.mu.Lock()
		f.violate("%s: the fake's own %d response violates the description (a prtest bug): %v", where, out.status, err)
		f.mu.Unlock()
	}
	writeEncoded(w, out.status, hdr, data)
}

// authenticate returns the login of the request's token, or the 401 reply.
// f.mu is held.
func (f *Fake) authenticate(r *http.Request) (string, *reply) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		rp := errorReply(http.StatusUnauthorized, "Requires authentication")
		return "", &rp
	}
	scheme, token, _ := strings.Cut(auth, " ")
	login, ok := f.tokens[strings.TrimSpace(token)]
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		rp := errorReply(http.StatusUnauthorized, "Bad credentials")
		return "", &rp
	}
	return login, nil
}

// encode marshals a reply's body and sets its headers.
func encode(rp reply) ([]byte, http.Header) {
	h := rp.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if rp.body == nil {
		return nil, h
	}
	data, err := json.Marshal(rp.body)
	if err != nil {
		panic(fmt.Sprintf("prtest: marshal reply: %v", err)) // the fake's own values
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return data, h
}

func write(w http.ResponseWriter, rp reply) {
	data, h := encode(rp)
	writeEncoded(w, rp.status, h, data)
}

func writeEncoded(w http.ResponseWriter, status int, h http.Header, data []byte) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(data))
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// timestamp formats t as GitHub does.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
