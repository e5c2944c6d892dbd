package prtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v62/github"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

func TestCreateListEditComments(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{Number: 7, Author: "alice"})
	ctx := context.Background()
	gh := f.Client()

	created, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("hello")})
	if err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	if got, want := created.GetUser().GetLogin(), prtest.DefaultLogin; got != want {
		t.Errorf("author = %q, want %q", got, want)
	}
	if got := created.GetUser().GetType(); got != "Bot" {
		t.Errorf("author type = %q, want Bot", got)
	}
	wantURL := fmt.Sprintf("%s/acme/infra/pull/7#issuecomment-%d", f.ServerURL(), created.GetID())
	if got := created.GetHTMLURL(); got != wantURL {
		t.Errorf("html_url = %q, want %q", got, wantURL)
	}

	edited, _, err := gh.Issues.EditComment(ctx, "acme", "infra", created.GetID(), &github.IssueComment{Body: github.String("edited")})
	if err != nil {
		t.Fatalf("EditComment: %v", err)
	}
	if edited.GetBody() != "edited" {
		t.Errorf("edited body = %q", edited.GetBody())
	}

	_, resp, err := gh.Issues.EditComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: github.String("x")})
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("EditComment of a missing comment: resp %v, err %v; want 404", resp, err)
	}

	got := f.Comments(n)
	if len(got) != 1 || got[0].Body != "edited" || got[0].Author != prtest.DefaultLogin {
		t.Errorf("Comments = %+v", got)
	}
	if c := f.Count("POST", "/repos/acme/infra/issues/7/comments"); c != 1 {
		t.Errorf("Count(POST comments) = %d, want 1", c)
	}
	if c := f.Count("PATCH", "/repos/acme/infra/issues/comments/*"); c != 2 {
		t.Errorf("Count(PATCH comments/*) = %d, want 2", c)
	}
}

func TestListCommentsPaginates(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{})
	var want []string
	for i := range 65 {
		body := fmt.Sprintf("comment %d", i)
		f.AddComment(n, "someone", body)
		want = append(want, body)
	}

	gh := f.Client()
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 30}}
	var got []string
	pages := 0
	for {
		cs, resp, err := gh.Issues.ListComments(context.Background(), "acme", "infra", n, opts)
		if err != nil {
			t.Fatalf("ListComments: %v", err)
		}
		pages++
		if pages == 1 {
			link := resp.Header.Get("Link")
			if !strings.Contains(link, f.APIURL()+"/repos/acme/infra/issues/1/comments?page=2&per_page=30>; rel=\"next\"") ||
				!strings.Contains(link, "page=3&per_page=30>; rel=\"last\"") {
				t.Errorf("first page's Link = %q", link)
			}
		}
		for _, c := range cs {
			got = append(got, c.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestIssues(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddPR(prtest.PR{Number: 1, Labels: []string{"broom"}})
	f.AddIssue(prtest.Issue{Number: 2, Labels: []string{"other"}})
	ctx := context.Background()
	gh := f.Client()

	is, _, err := gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{
		Title:  github.String("broom plan"),
		Body:   github.String("plan"),
		Labels: &[]string{"broom"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if is.GetNumber() != 3 || is.GetUser().GetLogin() != prtest.DefaultLogin {
		t.Errorf("created #%d by %q, want #3 by %q", is.GetNumber(), is.GetUser().GetLogin(), prtest.DefaultLogin)
	}

	list, _, err := gh.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{Labels: []string{"broom"}})
	if err != nil {
		t.Fatalf("ListByRepo: %v", err)
	}
	var nums []int
	for _, i := range list {
		nums = append(nums, i.GetNumber())
	}
	if diff := cmp.Diff([]int{3, 1}, nums); diff != "" {
		t.Errorf("open issues labelled broom (-want +got):\n%s", diff)
	}
	if !list[1].IsPullRequest() {
		t.Errorf("#1 is not reported as a pull request")
	}

	if _, _, err := gh.Issues.Edit(ctx, "acme", "infra", 3, &github.IssueRequest{Body: github.String("new"), State: github.String("closed")}); err != nil {
		t.Fatalf("Edit: %v", err)
	}
	got, _ := f.Issue(3)
	if got.Body != "new" || got.State != "closed" {
		t.Errorf("issue 3 = %+v, want body new, closed", got)
	}
	list, _, err = gh.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{Labels: []string{"broom"}, State: "closed"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != 3 {
		t.Errorf("closed issues labelled broom = %v, %v; want #3", list, err)
	}

	i2, _, err := gh.Issues.Get(ctx, "acme", "infra", 2)
	if err != nil || i2.IsPullRequest() {
		t.Errorf("Get(2) = %v, %v; want an issue", i2, err)
	}
}

func TestGetPullRequest(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddPR(prtest.PR{Number: 4, Author: "alice", HeadSHA: "abc123", HeadRepo: "mallory/infra", Labels: []string{"broom:approved"}})
	ctx := context.Background()

	pr, _, err := f.Client().PullRequests.Get(ctx, "acme", "infra", 4)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got := map[string]any{
		"author": pr.GetUser().GetLogin(), "sha": pr.GetHead().GetSHA(),
		"head": pr.GetHead().GetRepo().GetFullName(), "fork": pr.GetHead().GetRepo().GetFork(),
		"base": pr.GetBase().GetRepo().GetFullName(), "label": pr.Labels[0].GetName(), "state": pr.GetState(),
	}
	want := map[string]any{
		"author": "alice", "sha": "abc123", "head": "mallory/infra", "fork": true,
		"base": "acme/infra", "label": "broom:approved", "state": "open",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pull request (-want +got):\n%s", diff)
	}

	f.AddIssue(prtest.Issue{Number: 5})
	if _, resp, _ := f.Client().PullRequests.Get(ctx, "acme", "infra", 5); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("pulls/5 (an issue): want 404, got %v", resp)
	}
	if _, resp, _ := f.Client().PullRequests.Get(ctx, "acme", "other", 4); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another repository: want 404, got %v", resp)
	}
}

func TestRemoveLabel(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		labels     []string
		remove     string
		wantStatus int
		wantLeft   []string
	}{
		"removes a label on the PR":       {labels: []string{"broom:approved", "x"}, remove: "broom:approved", wantStatus: 200, wantLeft: []string{"x"}},
		"404 for a label not on the PR":   {labels: []string{"x"}, remove: "broom:approved", wantStatus: 404, wantLeft: []string{"x"}},
		"names are matched ignoring case": {labels: []string{"Broom:Approved"}, remove: "broom:approved", wantStatus: 200, wantLeft: nil},
		// go-github puts the name into the path as is: the caller escapes it.
		"a slash, escaped by the caller": {labels: []string{"team/infra"}, remove: url.PathEscape("team/infra"), wantStatus: 200, wantLeft: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			f.AddPR(prtest.PR{Number: 1, Labels: tc.labels})
			resp, err := f.Client().Issues.RemoveLabelForIssue(context.Background(), "acme", "infra", 1, tc.remove)
			if resp == nil || resp.StatusCode != tc.wantStatus {
				t.Fatalf("RemoveLabelForIssue: resp %v, err %v; want %d", resp, err, tc.wantStatus)
			}
			var ghErr *github.ErrorResponse
			if tc.wantStatus == 404 && (!errors.As(err, &ghErr) || ghErr.Message != "Label does not exist") {
				t.Errorf("error = %v, want Label does not exist", err)
			}
			if diff := cmp.Diff(tc.wantLeft, f.Labels(1)); diff != "" {
				t.Errorf("labels left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddLabels(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddPR(prtest.PR{Number: 1, Labels: []string{"a"}})
	ctx := context.Background()
	gh := f.Client()

	// The body the description allows: {"labels": [...]}.
	req, err := gh.NewRequest("POST", "repos/acme/infra/issues/1/labels", map[string]any{"labels": []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	var labels []*github.Label
	if _, err := gh.Do(ctx, req, &labels); err != nil {
		t.Fatalf("add labels: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, f.Labels(1)); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestAddLabelsToIssueBareArrayIsAViolation(t *testing.T) {
	t.Parallel()
	f := prtest.New(t, prtest.WithoutFailOnViolation())
	f.AddPR(prtest.PR{Number: 1})

	_, resp, err := f.Client().Issues.AddLabelsToIssue(context.Background(), "acme", "infra", 1, []string{"b"})
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("AddLabelsToIssue: resp %v, err %v; want 400", resp, err)
	}
	v := f.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "POST /repos/acme/infra/issues/1/labels") || !strings.Contains(v[0], "request body") {
		t.Errorf("Violations = %q, want one about the labels body", v)
	}
	if len(f.Labels(1)) != 0 {
		t.Errorf("labels = %q, want none added", f.Labels(1))
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		method, path, contentType, body string
		wantStatus                      int
		wantViolation                   string
	}{
		"unknown route":                         {method: "GET", path: "/api/v3/user", wantStatus: 404, wantViolation: "GET /user: no such operation"},
		"operation not kept in the description": {method: "PUT", path: "/api/v3/repos/acme/infra/issues/1/labels", body: `["a"]`, contentType: "application/json", wantStatus: 404, wantViolation: "no such operation"},
		"outside the API prefix":                {method: "GET", path: "/repos/acme/infra/pulls/1", wantStatus: 404, wantViolation: "not under /api/v3/"},
		"bad path parameter":                    {method: "GET", path: "/api/v3/repos/acme/infra/pulls/abc", wantStatus: 400, wantViolation: `parameter "pull_number"`},
		"bad query parameter":                   {method: "GET", path: "/api/v3/repos/acme/infra/issues?state=merged", wantStatus: 400, wantViolation: `parameter "state"`},
		"unknown query parameter":               {method: "GET", path: "/api/v3/repos/acme/infra/issues/1/comments?sort=created", wantStatus: 400, wantViolation: "query parameters not in the description: sort"},
		"body missing a field":                  {method: "POST", path: "/api/v3/repos/acme/infra/issues/1/comments", contentType: "application/json", body: `{"text":"x"}`, wantStatus: 400, wantViolation: "request body"},
		"wrong content type":                    {method: "POST", path: "/api/v3/repos/acme/infra/issues/1/comments", contentType: "text/plain", body: `{"body":"x"}`, wantStatus: 400, wantViolation: "Content-Type"},
		"GraphQL query not in the schema":       {method: "POST", path: "/api/graphql", contentType: "application/json", body: `{"query":"{ repository { id } }"}`, wantStatus: 200, wantViolation: "not a valid request for GitHub's GraphQL schema"},
		"GraphQL query not handled":             {method: "POST", path: "/api/graphql", contentType: "application/json", body: `{"query":"{ repository(owner: \"acme\", name: \"infra\") { id } }"}`, wantStatus: 400, wantViolation: "does not serve Query.repository"},
		"GraphQL body not an object":            {method: "POST", path: "/api/graphql", contentType: "application/json", body: `["x"]`, wantStatus: 400, wantViolation: "not a JSON object"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t, prtest.WithoutFailOnViolation())
			f.AddPR(prtest.PR{Number: 1})
			resp := do(t, f, tc.method, tc.path, tc.contentType, tc.body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			v := f.Violations()
			if len(v) != 1 || !strings.Contains(v[0], tc.wantViolation) {
				t.Errorf("Violations = %q, want one containing %q", v, tc.wantViolation)
			}
		})
	}
}

// do sends a raw request with the default token.
func do(t *testing.T, f *prtest.Fake, method, path, contentType, body string) *http.Response {
	t.Helper()
	resp, _ := send(t, f, method, path, contentType, body)
	return resp
}

// doRead is do returning the status and the response body.
func doRead(t *testing.T, f *prtest.Fake, method, path, contentType, body string) (int, string) {
	t.Helper()
	resp, data := send(t, f, method, path, contentType, body)
	return resp.StatusCode, data
}

func send(t *testing.T, f *prtest.Fake, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.ServerURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+prtest.DefaultToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

func TestViolationsFailTheTest(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	f := prtest.New(rec)
	do(t, f, "GET", "/api/v3/nowhere", "", "")
	rec.runCleanups()
	if !strings.Contains(rec.errors.String(), "GET /nowhere") {
		t.Errorf("cleanup errors = %q, want the violation", rec.errors.String())
	}
}

// recorder is a testing.TB whose cleanups and errors the test controls.
type recorder struct {
	testing.TB
	cleanups []func()
	errors   bytes.Buffer
}

func (r *recorder) Cleanup(fn func())                 { r.cleanups = append(r.cleanups, fn) }
func (r *recorder) Errorf(format string, args ...any) { fmt.Fprintf(&r.errors, format+"\n", args...) }
func (r *recorder) Helper()                           {}
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		auth       string
		wantStatus int
	}{
		"bearer token":       {auth: "Bearer test-token", wantStatus: 200},
		"token scheme":       {auth: "token test-token", wantStatus: 200},
		"added token":        {auth: "Bearer pat", wantStatus: 200},
		"no token":           {auth: "", wantStatus: 401},
		"unknown token":      {auth: "Bearer nope", wantStatus: 401},
		"unsupported scheme": {auth: "Basic test-token", wantStatus: 401},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			f.AddToken("pat", "alice")
			f.AddPR(prtest.PR{Number: 1})
			req, _ := http.NewRequest("GET", f.APIURL()+"/repos/acme/infra/issues/1", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
		})
	}
}

func TestCommentAuthorIsTheTokensUser(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddToken("pat", "alice")
	f.AddPR(prtest.PR{Number: 1})
	c, _, err := f.ClientWithToken("pat").Issues.CreateComment(context.Background(), "acme", "infra", 1, &github.IssueComment{Body: github.String("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if c.GetUser().GetLogin() != "alice" || c.GetUser().GetType() != "User" {
		t.Errorf("user = %q (%s), want alice (User)", c.GetUser().GetLogin(), c.GetUser().GetType())
	}
}

func TestPermission(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		role           string
		wantStatus     int
		wantPermission string
	}{
		"admin":                       {role: "admin", wantStatus: 200, wantPermission: "admin"},
		"maintain reads as write":     {role: "maintain", wantStatus: 200, wantPermission: "write"},
		"write":                       {role: "write", wantStatus: 200, wantPermission: "write"},
		"triage reads as read":        {role: "triage", wantStatus: 200, wantPermission: "read"},
		"read":                        {role: "read", wantStatus: 200, wantPermission: "read"},
		"no role: not a collaborator": {role: "", wantStatus: 404},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			if tc.role != "" {
				f.SetPermission("bob", tc.role)
			}
			gh := f.Client()
			ctx := context.Background()
			level, resp, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "infra", "bob")
			if resp == nil || resp.StatusCode != tc.wantStatus {
				t.Fatalf("GetPermissionLevel: resp %v, err %v; want %d", resp, err, tc.wantStatus)
			}
			if tc.wantStatus != 200 {
				return
			}
			if level.GetPermission() != tc.wantPermission || level.GetUser().GetLogin() != "bob" {
				t.Errorf("permission = %q for %q, want %q for bob", level.GetPermission(), level.GetUser().GetLogin(), tc.wantPermission)
			}
			// role_name is not in go-github v62's struct: read it raw.
			req, _ := gh.NewRequest("GET", "repos/acme/infra/collaborators/bob/permission", nil)
			var raw struct {
				RoleName string `json:"role_name"`
			}
			if _, err := gh.Do(ctx, req, &raw); err != nil || raw.RoleName != tc.role {
				t.Errorf("role_name = %q, %v; want %q", raw.RoleName, err, tc.role)
			}
		})
	}
}

func TestGraphQLViewer(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddToken("app-token", "broom-app[bot]")
	status, login := viewer(t, f, "app-token")
	if status != http.StatusOK || login != "broom-app[bot]" {
		t.Errorf("viewer = %d %q, want 200 broom-app[bot]", status, login)
	}
	if status, _ := viewer(t, f, "nope"); status != http.StatusUnauthorized {
		t.Errorf("unknown token: status %d, want 401", status)
	}
	if c := f.Count("POST", "/graphql"); c != 2 {
		t.Errorf("Count(POST /graphql) = %d, want 2", c)
	}
}

// viewer sends the GraphQL query { viewer { login } } with token.
func viewer(t *testing.T, f *prtest.Fake, token string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": "{ viewer { login } }"})
	req, _ := http.NewRequest("POST", f.GraphQLURL(), bytes.NewReader(body))
	req.Header.Set("Authorization", "bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Viewer struct{ Login string }
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Data.Viewer.Login
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddPR(prtest.PR{Number: 1})
	f.FailNext("POST", "/repos/acme/infra/issues/1/comments", 1, http.StatusForbidden,
		http.Header{"Retry-After": {"1"}},
		`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	f.FailNext("", "/repos/acme/infra/pulls/", 2, http.StatusBadGateway, nil, "")
	ctx := context.Background()
	gh := f.Client()

	_, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: github.String("x")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter().Seconds() != 1 {
		t.Errorf("first CreateComment: err %v, want a secondary rate limit with Retry-After 1s", err)
	}
	// go-github refuses every further request of a client until Retry-After
	// has passed, without sending it: go on with a fresh client.
	gh = f.Client()
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: github.String("x")}); err != nil {
		t.Errorf("second CreateComment: %v", err)
	}
	if n := len(f.Comments(1)); n != 1 {
		t.Errorf("comments = %d, want 1 (the failed call changes nothing)", n)
	}

	f.FailNext("POST", "/graphql", 1, http.StatusServiceUnavailable, nil, "")
	if status, _ := viewer(t, f, prtest.DefaultToken); status != http.StatusServiceUnavailable {
		t.Errorf("GraphQL: status %d, want 503", status)
	}

	for i, want := range []int{502, 502, 200} {
		_, resp, _ := gh.PullRequests.Get(ctx, "acme", "infra", 1)
		if resp == nil || resp.StatusCode != want {
			t.Errorf("Get #%d: resp %v, want %d", i+1, resp, want)
		}
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddPR(prtest.PR{Number: 1})
	gh := f.Client()
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, _, err := gh.Issues.CreateComment(context.Background(), "acme", "infra", 1, &github.IssueComment{Body: github.String(fmt.Sprint(i))})
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(f.Comments(1)); n != 20 {
		t.Errorf("comments = %d, want 20", n)
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ event, action, key string }{
		"pull_request opened":      {"pull_request", "opened", "pull_request.head.sha"},
		"pull_request labeled":     {"pull_request", "labeled", "label.name"},
		"pull_request synchronize": {"pull_request", "synchronize", "pull_request.head.sha"},
		"issues labeled":           {"issues", "labeled", "issue.number"},
		"workflow_dispatch":        {"workflow_dispatch", "", "inputs"},
		"schedule":                 {"schedule", "", "schedule"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := prtest.Payload(t, tc.event, tc.action)
			if _, ok := prtest.Get(p, tc.key); !ok {
				t.Errorf("payload has no %s", tc.key)
			}
			if got, _ := prtest.Get(p, "action"); tc.action != "" && got != tc.action {
				t.Errorf("action = %v, want %q", got, tc.action)
			}
		})
	}
}

func TestPayloadIsACopyAndSetWorks(t *testing.T) {
	t.Parallel()
	p := prtest.Payload(t, "pull_request", "opened")
	prtest.Set(p, "pull_request.head.sha", "abc")
	prtest.Set(p, "new.nested.key", 1)
	if got, _ := prtest.Get(p, "pull_request.head.sha"); got != "abc" {
		t.Errorf("head.sha = %v, want abc", got)
	}
	if got, _ := prtest.Get(p, "new.nested.key"); got != 1 {
		t.Errorf("new.nested.key = %v, want 1", got)
	}
	fresh := prtest.Payload(t, "pull_request", "opened")
	if got, _ := prtest.Get(fresh, "pull_request.head.sha"); got == "abc" {
		t.Errorf("Payload returned a shared copy")
	}

	data, err := os.ReadFile(prtest.WritePayload(t, p))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got, _ := prtest.Get(back, "pull_request.head.sha"); got != "abc" {
		t.Errorf("written head.sha = %v, want abc", got)
	}
}

func TestAdvanceMovesTheClock(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	t0 := f.Now()
	if t0.Nanosecond() != 0 || t0.Location() != time.UTC {
		t.Fatalf("Now = %v, want a UTC time to the second", t0)
	}
	if d := time.Since(t0); d < 0 || d > time.Minute {
		t.Errorf("Now = %v, want about the wall clock at New", t0)
	}
	n := f.AddPR(prtest.PR{})
	id := f.AddComment(n, "alice", "first")
	f.AddComment(n, "alice", "second")
	f.Advance(90*time.Second + 700*time.Millisecond)
	t1 := t0.Add(90 * time.Second)
	if got := f.Now(); !got.Equal(t1) {
		t.Errorf("after Advance(90.7s): Now = %v, want %v (to the second)", got, t1)
	}
	f.EditCommentAs(id, "bob", "edited")
	f.AddLabel(n, "bob", "broom:approve")

	cs := f.Comments(n)
	got := []time.Time{cs[0].CreatedAt, cs[1].CreatedAt, cs[0].UpdatedAt, cs[0].LastEditedAt, f.Events(n)[0].CreatedAt}
	want := []time.Time{t0, t0, t1, t1, t1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created, created, updated, edited, labeled (-want +got):\n%s", diff)
	}

	// REST shows the same times.
	list, _, err := f.Client().Issues.ListComments(context.Background(), "acme", "infra", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := list[0].GetUpdatedAt().Time; !got.Equal(t1) {
		t.Errorf("updated_at = %v, want %v", got, t1)
	}
	_, raw := doRead(t, f, "GET", "/api/v3/repos/acme/infra/issues/1/events", "", "")
	if !strings.Contains(raw, `"created_at":"`+t1.Format("2006-01-02T15:04:05Z")+`"`) {
		t.Errorf("events = %s, want created_at %s", raw, t1.Format(time.RFC3339))
	}
}

func TestIssueEventsPaginate(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{Number: 3})
	t0 := f.Now()
	var want []prtest.Event
	for i := range 123 {
		label := fmt.Sprintf("l%d", i/2)
		if i%2 == 0 {
			f.AddLabel(n, "alice", label)
			want = append(want, prtest.Event{Event: "labeled", Actor: "alice", Label: label, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
		} else {
			f.RemoveLabelAs(n, "bob", label)
			want = append(want, prtest.Event{Event: "unlabeled", Actor: "bob", Label: label, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
		}
		f.Advance(time.Second)
	}
	ignoreID := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())
	if diff := cmp.Diff(want, f.Events(n), ignoreID); diff != "" {
		t.Fatalf("Events (-want +got):\n%s", diff)
	}

	gh := f.Client()
	opts := &github.ListOptions{PerPage: 100}
	var got []prtest.Event
	ids := map[int64]bool{}
	pages := 0
	for {
		evs, resp, err := gh.Issues.ListIssueEvents(context.Background(), "acme", "infra", n, opts)
		if err != nil {
			t.Fatalf("ListIssueEvents: %v", err)
		}
		pages++
		if pages == 1 {
			link := resp.Header.Get("Link")
			if !strings.Contains(link, "/repos/acme/infra/issues/3/events?page=2&per_page=100>; rel=\"next\"") {
				t.Errorf("first page's Link = %q", link)
			}
		}
		for _, e := range evs {
			if ids[e.GetID()] {
				t.Errorf("event id %d repeated", e.GetID())
			}
			ids[e.GetID()] = true
			got = append(got, prtest.Event{Event: e.GetEvent(), Actor: e.GetActor().GetLogin(), Label: e.GetLabel().GetName(), CreatedAt: e.GetCreatedAt().Time})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 2 {
		t.Errorf("pages = %d, want 2", pages)
	}
	if diff := cmp.Diff(want, got, ignoreID); diff != "" {
		t.Errorf("listed events (-want +got):\n%s", diff)
	}
	// An issue that does not exist: 404.
	if _, resp, _ := gh.Issues.ListIssueEvents(context.Background(), "acme", "infra", 99, nil); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("events of #99: want 404, got %v", resp)
	}
}

func TestLabelEventsByAPIAndByPerson(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddToken("pat", "carol")
	n := f.AddPR(prtest.PR{Number: 1, Labels: []string{"seeded"}})
	ctx := context.Background()
	gh := f.Client()

	f.SetLabels(n, "seeded", "also-seeded") // seeding: no events
	f.AddLabel(n, "alice", "broom:approve")
	f.AddLabel(n, "alice", "Broom:Approve") // already there: no event
	req, _ := gh.NewRequest("POST", "repos/acme/infra/issues/1/labels", map[string]any{"labels": []string{"x", "seeded"}})
	if _, err := gh.Do(ctx, req, nil); err != nil {
		t.Fatalf("add labels: %v", err)
	}
	if _, err := gh.Issues.RemoveLabelForIssue(ctx, "acme", "infra", n, "broom:approve"); err != nil {
		t.Fatalf("RemoveLabelForIssue: %v", err)
	}
	f.RemoveLabelAs(n, "bob", "x")
	f.RemoveLabelAs(n, "bob", "not-there") // no-op
	if _, _, err := f.ClientWithToken("pat").Issues.Edit(ctx, "acme", "infra", n, &github.IssueRequest{Labels: &[]string{"seeded", "new"}}); err != nil {
		t.Fatalf("Edit labels: %v", err)
	}

	type ev struct{ Event, Actor, Label, ActorType string }
	want := []ev{
		{"labeled", "alice", "broom:approve", "User"},
		{"labeled", prtest.DefaultLogin, "x", "Bot"},
		{"unlabeled", prtest.DefaultLogin, "broom:approve", "Bot"},
		{"unlabeled", "bob", "x", "User"},
		{"unlabeled", "carol", "also-seeded", "User"},
		{"labeled", "carol", "new", "User"},
	}
	evs, _, err := gh.Issues.ListIssueEvents(ctx, "acme", "infra", n, nil)
	if err != nil {
		t.Fatalf("ListIssueEvents: %v", err)
	}
	var got []ev
	for _, e := range evs {
		got = append(got, ev{e.GetEvent(), e.GetActor().GetLogin(), e.GetLabel().GetName(), e.GetActor().GetType()})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"seeded", "new"}, f.Labels(n)); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	// Labels given when an issue is created are added by its creator.
	is, _, err := gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("t"), Labels: &[]string{"broom", "broom"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if got := f.Events(is.GetNumber()); len(got) != 1 || got[0].Event != "labeled" || got[0].Label != "broom" || got[0].Actor != prtest.DefaultLogin {
		t.Errorf("events of the created issue = %+v, want one labeled broom by %s", got, prtest.DefaultLogin)
	}
}

func TestEditsRecordEditorAndTime(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddToken("pat", "alice")
	n := f.AddPR(prtest.PR{Number: 1})
	ctx := context.Background()
	gh := f.Client()
	t0 := f.Now()

	c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("plan v1")})
	if err != nil {
		t.Fatal(err)
	}
	type facts struct {
		Body, Editor    string
		Created, Edited time.Time
	}
	comment := func() facts {
		for _, cm := range f.Comments(n) {
			if cm.ID == c.GetID() {
				if cm.NodeID != c.GetNodeID() {
					t.Errorf("Comments NodeID = %q, REST node_id %q", cm.NodeID, c.GetNodeID())
				}
				return facts{cm.Body, cm.Editor, cm.CreatedAt, cm.LastEditedAt}
			}
		}
		t.Fatalf("comment %d not found", c.GetID())
		return facts{}
	}
	if diff := cmp.Diff(facts{"plan v1", "", t0, time.Time{}}, comment()); diff != "" {
		t.Errorf("never edited (-want +got):\n%s", diff)
	}

	f.Advance(time.Minute)
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "infra", c.GetID(), &github.IssueComment{Body: github.String("plan v2")}); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	if diff := cmp.Diff(facts{"plan v2", prtest.DefaultLogin, t0, t1}, comment()); diff != "" {
		t.Errorf("edited through REST (-want +got):\n%s", diff)
	}

	f.Advance(time.Minute)
	f.EditCommentAs(c.GetID(), "mallory", "plan v2") // unchanged: no edit recorded
	if diff := cmp.Diff(facts{"plan v2", prtest.DefaultLogin, t0, t1}, comment()); diff != "" {
		t.Errorf("after an edit that changes nothing (-want +got):\n%s", diff)
	}
	f.EditCommentAs(c.GetID(), "mallory", "plan v3")
	t2 := t1.Add(time.Minute)
	if diff := cmp.Diff(facts{"plan v3", "mallory", t0, t2}, comment()); diff != "" {
		t.Errorf("edited by a person (-want +got):\n%s", diff)
	}

	// Issue bodies: REST PATCH by another token's user, then a person.
	is, _, err := gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("tracking"), Body: github.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	issue := func() facts {
		got, _ := f.Issue(is.GetNumber())
		if got.NodeID != is.GetNodeID() {
			t.Errorf("Issue NodeID = %q, REST node_id %q", got.NodeID, is.GetNodeID())
		}
		return facts{got.Body, got.Editor, got.CreatedAt, got.LastEditedAt}
	}
	if diff := cmp.Diff(facts{"v1", "", t2, time.Time{}}, issue()); diff != "" {
		t.Errorf("issue never edited (-want +got):\n%s", diff)
	}
	f.Advance(time.Second)
	if _, _, err := gh.Issues.Edit(ctx, "acme", "infra", is.GetNumber(), &github.IssueRequest{Title: github.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(facts{"v1", "", t2, time.Time{}}, issue()); diff != "" {
		t.Errorf("issue after a title change (-want +got):\n%s", diff)
	}
	if _, _, err := f.ClientWithToken("pat").Issues.Edit(ctx, "acme", "infra", is.GetNumber(), &github.IssueRequest{Body: github.String("v2")}); err != nil {
		t.Fatal(err)
	}
	t3 := t2.Add(time.Second)
	if diff := cmp.Diff(facts{"v2", "alice", t2, t3}, issue()); diff != "" {
		t.Errorf("issue edited through REST (-want +got):\n%s", diff)
	}
	f.Advance(time.Second)
	f.EditIssueAs(is.GetNumber(), "bob", "v3")
	if diff := cmp.Diff(facts{"v3", "bob", t2, t3.Add(time.Second)}, issue()); diff != "" {
		t.Errorf("issue edited by a person (-want +got):\n%s", diff)
	}

	// Node IDs are unique across comments, issues and pull requests.
	pr, _ := f.Issue(n)
	seen := map[string]bool{}
	for _, id := range []string{c.GetNodeID(), is.GetNodeID(), pr.NodeID, f.Comments(n)[0].NodeID} {
		if id == "" || (seen[id] && id != c.GetNodeID()) {
			t.Errorf("node id %q empty or repeated", id)
		}
		seen[id] = true
	}
	if len(seen) != 3 {
		t.Errorf("node ids = %v, want 3 distinct", seen)
	}
}

// editFactsQuery is the query broom sends for who last edited a plan.
const editFactsQuery = `query($id: ID!) {
  node(id: $id) {
    __typename
    ... on IssueComment { createdAt lastEditedAt editor { login } }
    ... on Issue { createdAt lastEditedAt editor { login } }
  }
}`

// graphQL posts a GraphQL request with the default token and returns the
// status and the raw response body.
func graphQL(t *testing.T, f *prtest.Fake, query string, vars map[string]any) (int, string) {
	t.Helper()
	req := map[string]any{"query": query}
	if vars != nil {
		req["variables"] = vars
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return doRead(t, f, "POST", "/api/graphql", "application/json", string(body))
}

func TestGraphQLEditFactsOfAComment(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{Number: 1})
	ctx := context.Background()
	gh := f.Client()
	c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("plan")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := f.Now().Format("2006-01-02T15:04:05Z")
	vars := map[string]any{"id": c.GetNodeID()}

	// Never edited: lastEditedAt and editor are null.
	status, body := graphQL(t, f, editFactsQuery, vars)
	want := `{"data":{"node":{"__typename":"IssueComment","createdAt":"` + t0 + `","lastEditedAt":null,"editor":null}}}`
	if status != 200 || body != want {
		t.Errorf("never edited: %d %s\nwant 200 %s", status, body, want)
	}

	// Edited by broom through REST: the bot's bare slug.
	f.Advance(2 * time.Minute)
	t1 := f.Now().Format("2006-01-02T15:04:05Z")
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "infra", c.GetID(), &github.IssueComment{Body: github.String("plan v2")}); err != nil {
		t.Fatal(err)
	}
	status, body = graphQL(t, f, editFactsQuery, vars)
	want = `{"data":{"node":{"__typename":"IssueComment","createdAt":"` + t0 + `","lastEditedAt":"` + t1 + `","editor":{"login":"github-actions"}}}}`
	if status != 200 || body != want {
		t.Errorf("edited by broom: %d %s\nwant 200 %s", status, body, want)
	}

	// Edited by a person; asked with aliases, fragments in another order,
	// a named fragment, the Comment interface and __typename on editor.
	f.Advance(time.Second)
	t2 := f.Now().Format("2006-01-02T15:04:05Z")
	f.EditCommentAs(c.GetID(), "mallory", "plan v3")
	query := `query Facts($id: ID!, $withAuthor: Boolean!) {
  it: node(id: $id) {
    ... on Issue { createdAt }
    ...commentFacts
    kind: __typename
    ... on Comment { author @include(if: $withAuthor) { __typename login } body }
  }
}
fragment commentFacts on IssueComment { edited: lastEditedAt who: editor { kind: __typename login } createdAt }`
	status, body = graphQL(t, f, query, map[string]any{"id": c.GetNodeID(), "withAuthor": true})
	want = `{"data":{"it":{"edited":"` + t2 + `","who":{"kind":"User","login":"mallory"},"createdAt":"` + t0 + `","kind":"IssueComment","author":{"__typename":"Bot","login":"github-actions"},"body":"plan v3"}}}`
	if status != 200 || body != want {
		t.Errorf("edited by a person: %d %s\nwant 200 %s", status, body, want)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestGraphQLEditFactsOfAnIssue(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddToken("app", "broom-app[bot]")
	ctx := context.Background()
	is, _, err := f.ClientWithToken("app").Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("broom plan"), Body: github.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := f.Now().Format("2006-01-02T15:04:05Z")
	f.Advance(time.Hour)
	if _, _, err := f.ClientWithToken("app").Issues.Edit(ctx, "acme", "infra", is.GetNumber(), &github.IssueRequest{Body: github.String("v2")}); err != nil {
		t.Fatal(err)
	}
	t1 := f.Now().Format("2006-01-02T15:04:05Z")
	status, body := graphQL(t, f, editFactsQuery, map[string]any{"id": is.GetNodeID()})
	want := `{"data":{"node":{"__typename":"Issue","createdAt":"` + t0 + `","lastEditedAt":"` + t1 + `","editor":{"login":"broom-app"}}}}`
	if status != 200 || body != want {
		t.Errorf("issue edited by an app: %d %s\nwant 200 %s", status, body, want)
	}

	f.Advance(time.Second)
	f.EditIssueAs(is.GetNumber(), "alice", "v3")
	status, body = graphQL(t, f, `query($id: ID!) { node(id: $id) { ... on Issue { lastEditedAt editor { __typename login } } } }`, map[string]any{"id": is.GetNodeID()})
	want = `{"data":{"node":{"lastEditedAt":"` + f.Now().Format("2006-01-02T15:04:05Z") + `","editor":{"__typename":"User","login":"alice"}}}}`
	if status != 200 || body != want {
		t.Errorf("issue edited by a person: %d %s\nwant 200 %s", status, body, want)
	}

	// A pull request's node is a PullRequest: neither fragment applies.
	n := f.AddPR(prtest.PR{})
	pr, _ := f.Issue(n)
	status, body = graphQL(t, f, editFactsQuery, map[string]any{"id": pr.NodeID})
	if want := `{"data":{"node":{"__typename":"PullRequest"}}}`; status != 200 || body != want {
		t.Errorf("pull request: %d %s\nwant 200 %s", status, body, want)
	}
}

func TestGraphQLUnknownNode(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	n := f.AddPR(prtest.PR{})
	id := f.AddComment(n, "alice", "x")
	for _, nodeID := range []string{"IC_1", fmt.Sprint(id), "MDEyOklzc3VlQ29tbWVudDE="} {
		status, body := graphQL(t, f, editFactsQuery, map[string]any{"id": nodeID})
		want := `{"data":{"node":null},"errors":[{"type":"NOT_FOUND","path":["node"],"locations":[{"line":2,"column":3}],"message":"Could not resolve to a node with the global id of '` + nodeID + `'."}]}`
		if status != 200 || body != want {
			t.Errorf("node %q: %d %s\nwant 200 %s", nodeID, status, body, want)
		}
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("an unknown node is GitHub's answer, not a violation: %q", v)
	}
}

func TestGraphQLViolations(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		query         string
		vars          map[string]any
		wantStatus    int
		wantViolation string
		wantError     string // in the response's errors
	}{
		"a mutation that says viewer and login": {
			query:         `mutation { updateIssueComment(input: {id: "IC_1", body: "viewer login"}) { issueComment { viewerDidAuthor author { login } } } }`,
			wantStatus:    400,
			wantViolation: "queries only, not a mutation",
		},
		"viewer under a mutation": {
			query: `mutation { viewer { login } }`, wantStatus: 200,
			wantViolation: "not a valid request", wantError: `Cannot query field "viewer" on type "Mutation".`,
		},
		"an unknown top-level field": {
			query: `{ viewer { login } nope }`, wantStatus: 200,
			wantViolation: "not a valid request", wantError: `Cannot query field "nope" on type "Query"`,
		},
		"an unknown field of User": {
			query: `query { viewer { login loginName } }`, wantStatus: 200,
			wantViolation: "not a valid request", wantError: `Cannot query field "loginName" on type "User"`,
		},
		"the edit-facts query for an unknown node is no violation": {
			query: editFactsQuery, vars: map[string]any{"id": "x"}, wantStatus: 200,
			wantError: "Could not resolve to a node",
		},
		"an inline fragment on a type the node cannot be": {
			query: `query($id: ID!) { node(id: $id) { ... on IssueComment { number } } }`, vars: map[string]any{"id": "x"}, wantStatus: 200,
			wantViolation: "not a valid request", wantError: `Cannot query field "number" on type "IssueComment".`,
		},
		"does not parse": {
			query: `{ viewer { login }`, wantStatus: 200,
			wantViolation: "not a valid request", wantError: "Expected Name, found <EOF>",
		},
		"a missing variable": {
			query: editFactsQuery, wantStatus: 200,
			wantViolation: "not a valid request", wantError: "must be defined",
		},
		"a variable of the wrong type": {
			query: editFactsQuery, vars: map[string]any{"id": []string{"x"}}, wantStatus: 200,
			wantViolation: "not a valid request", wantError: "cannot use",
		},
		"a valid query the fake does not serve": {
			query: `{ rateLimit { remaining } }`, wantStatus: 400,
			wantViolation: "does not serve Query.rateLimit",
		},
		"a field of a node the fake does not serve": {
			query: `query($id: ID!) { node(id: $id) { ... on IssueComment { viewerDidAuthor } } }`, vars: map[string]any{"id": "IC_3000000001"}, wantStatus: 400,
			wantViolation: "does not serve IssueComment.viewerDidAuthor",
		},
		"introspection": {
			query: `{ __schema { queryType { name } } }`, wantStatus: 400,
			wantViolation: "does not serve Query.__schema",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t, prtest.WithoutFailOnViolation())
			n := f.AddPR(prtest.PR{})
			f.AddComment(n, "alice", "x") // IC_3000000001
			status, body := graphQL(t, f, tc.query, tc.vars)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d (%s)", status, tc.wantStatus, body)
			}
			var out struct{ Errors []struct{ Message string } }
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			var msgs []string
			for _, e := range out.Errors {
				msgs = append(msgs, e.Message)
			}
			if got := strings.Join(msgs, "; "); tc.wantError != "" && !strings.Contains(got, tc.wantError) {
				t.Errorf("errors = %q, want one containing %q", got, tc.wantError)
			}
			v := f.Violations()
			switch {
			case tc.wantViolation == "" && len(v) > 0:
				t.Errorf("Violations = %q, want none", v)
			case tc.wantViolation != "" && (len(v) != 1 || !strings.Contains(v[0], tc.wantViolation)):
				t.Errorf("Violations = %q, want one containing %q", v, tc.wantViolation)
			}
		})
	}
}
