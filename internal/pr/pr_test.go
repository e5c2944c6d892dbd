package pr_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

const (
	otherFingerprint = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	commentsPath     = "/repos/acme/infra/issues/*/comments"
)

// newClient returns a client for the fake's acme/infra, authenticated as
// token.
func newClient(t *testing.T, f *prtest.Fake, token string) *pr.Client {
	t.Helper()
	c, err := pr.New(token, f.APIURL(), f.GraphQLURL(), "acme/infra", nil)
	if err != nil {
		t.Fatalf("pr.New: %v", err)
	}
	return c
}

// stickyBody is a sticky comment body with the marker on its first line.
func stickyBody(id, fingerprint string) string {
	return pr.Marker{ID: id, Fingerprint: fingerprint, Head: testHead}.String() + "\n## broom plan\n\nPlan: 1 to delete\n"
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		repository, apiURL string
		wantErr            string
	}{
		"owner and name":                  {repository: "acme/infra", apiURL: "https://api.github.com"},
		"API URL with a trailing slash":   {repository: "acme/infra", apiURL: "https://ghe.example.com/api/v3/"},
		"no slash":                        {repository: "acme", apiURL: "https://api.github.com", wantErr: `repository "acme"`},
		"no name":                         {repository: "acme/", apiURL: "https://api.github.com", wantErr: `repository "acme/"`},
		"no owner":                        {repository: "/x", apiURL: "https://api.github.com", wantErr: `repository "/x"`},
		"three parts":                     {repository: "a/b/c", apiURL: "https://api.github.com", wantErr: `repository "a/b/c"`},
		"empty repository":                {repository: "", apiURL: "https://api.github.com", wantErr: `repository ""`},
		"API URL without a scheme":        {repository: "acme/infra", apiURL: "api.github.com", wantErr: "not an absolute URL"},
		"API URL that is only a path":     {repository: "acme/infra", apiURL: "/api/v3", wantErr: "not an absolute URL"},
		"empty API URL":                   {repository: "acme/infra", apiURL: "", wantErr: "not an absolute URL"},
		"API URL that does not parse":     {repository: "acme/infra", apiURL: "http://[::1", wantErr: "not an absolute URL"},
		"API URL with a scheme, not host": {repository: "acme/infra", apiURL: "https:///api/v3", wantErr: "not an absolute URL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := pr.New(prtest.DefaultToken, tc.apiURL, "https://api.github.com/graphql", tc.repository, nil)
			if tc.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New(%q, %q) = %v, %v; want a client", tc.repository, tc.apiURL, c, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%q, %q) succeeded, want an error containing %q", tc.repository, tc.apiURL, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New(%q, %q) error = %q, want it to contain %q", tc.repository, tc.apiURL, err, tc.wantErr)
			}
		})
	}
}

func TestNewUsesTheAPIURLPrefix(t *testing.T) {
	t.Parallel()
	// The fake serves REST under /api/v3 only, so a client that dropped the
	// prefix (or used absolute paths) would get 404 and a violation.
	for name, apiURL := range map[string]func(*prtest.Fake) string{
		"without trailing slash": func(f *prtest.Fake) string { return f.APIURL() },
		"with trailing slash":    func(f *prtest.Fake) string { return f.APIURL() + "/" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(prtest.PR{})
			c, err := pr.New(prtest.DefaultToken, apiURL(f), f.GraphQLURL(), "acme/infra", nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := c.GetPullRequest(t.Context(), n); err != nil {
				t.Fatalf("GetPullRequest: %v", err)
			}
		})
	}
}

func TestViewer(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		token   string
		setup   func(f *prtest.Fake)
		want    string
		wantErr string
		// requests is how many GraphQL requests to expect (default 1).
		requests int
	}{
		"the workflow token is github-actions[bot]": {
			token: prtest.DefaultToken,
			want:  "github-actions[bot]",
		},
		"another token gives its own login": {
			token: "app-token",
			setup: func(f *prtest.Fake) { f.AddToken("app-token", "broom-app[bot]") },
			want:  "broom-app[bot]",
		},
		"a personal token gives the person's login": {
			token: "pat",
			setup: func(f *prtest.Fake) { f.AddToken("pat", "octocat") },
			want:  "octocat",
		},
		"GraphQL answers 502 every time": {
			token:    prtest.DefaultToken,
			requests: 5, // retried like a GET, then given up
			setup: func(f *prtest.Fake) {
				f.FailNext("POST", "/graphql", 5, http.StatusBadGateway, nil, "<html>Bad Gateway</html>")
			},
			wantErr: "502",
		},
		"GraphQL answers 200 with errors": {
			token: prtest.DefaultToken,
			setup: func(f *prtest.Fake) {
				f.FailNext("POST", "/graphql", 1, http.StatusOK, nil, `{"errors":[{"message":"Something went wrong"}]}`)
			},
			wantErr: "GraphQL: Something went wrong",
		},
		"an unknown token": {
			token:   "revoked",
			wantErr: "401",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			got, err := newClient(t, f, tc.token).Viewer(t.Context())
			if want := max(tc.requests, 1); f.Count("POST", "/graphql") != want {
				t.Errorf("GraphQL requests = %d, want %d", f.Count("POST", "/graphql"), want)
			}
			if n := f.Count("GET", "/user"); n != 0 {
				t.Errorf("GET /user requests = %d, want 0 (it refuses GITHUB_TOKEN)", n)
			}
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Viewer() = %q, want an error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Viewer() error = %q, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Viewer(): %v", err)
			}
			if got != tc.want {
				t.Errorf("Viewer() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFindSticky(t *testing.T) {
	t.Parallel()
	const broom = prtest.DefaultLogin
	type seeded struct {
		number int
		want   int64 // ID of the comment FindSticky should return; 0 for none
	}
	tests := map[string]struct {
		id, viewer string
		setup      func(f *prtest.Fake) seeded
		wantLists  int // list requests, one per page
		wantErr    string
	}{
		"no comments": {
			setup: func(f *prtest.Fake) seeded {
				return seeded{number: f.AddPR(prtest.PR{})}
			},
			wantLists: 1,
		},
		"finds broom's comment on page 3 of 3": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				for i := range 230 {
					f.AddComment(n, fmt.Sprintf("user%d", i%7), fmt.Sprintf("LGTM %d", i))
				}
				// broom's own chatter without a marker, and another report.
				f.AddComment(n, broom, "broom: nothing to see here")
				f.AddComment(n, broom, stickyBody("staging", otherFingerprint))
				return seeded{number: n, want: f.AddComment(n, broom, stickyBody("prod", testFingerprint))}
			},
			wantLists: 3,
		},
		"a forged marker by another user is ignored when it comes first": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				f.AddComment(n, "mallory", stickyBody("prod", otherFingerprint))
				return seeded{number: n, want: f.AddComment(n, broom, stickyBody("prod", testFingerprint))}
			},
			wantLists: 1,
		},
		"a forged marker alone is not broom's comment": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				f.AddComment(n, "mallory", stickyBody("prod", otherFingerprint))
				f.AddComment(n, "github-actions", stickyBody("prod", otherFingerprint)) // a user, not the bot
				return seeded{number: n}
			},
			wantLists: 1,
		},
		"broom's comment for another report id is ignored": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				f.AddComment(n, broom, stickyBody("staging", testFingerprint))
				return seeded{number: n}
			},
			wantLists: 1,
		},
		"broom's comments without a marker are ignored": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				f.AddComment(n, broom, "Thanks!")
				f.AddComment(n, broom, "quoted:\n"+stickyBody("prod", testFingerprint)) // marker not on the first line
				return seeded{number: n}
			},
			wantLists: 1,
		},
		"the viewer's login is compared case-insensitively": {
			viewer: "GitHub-Actions[bot]",
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				return seeded{number: n, want: f.AddComment(n, broom, stickyBody("prod", testFingerprint))}
			},
			wantLists: 1,
		},
		"a tracking issue": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddIssue(prtest.Issue{Title: "broom plan"})
				return seeded{number: n, want: f.AddComment(n, broom, stickyBody("prod", testFingerprint))}
			},
			wantLists: 1,
		},
		"a failing list is an error": {
			setup: func(f *prtest.Fake) seeded {
				n := f.AddPR(prtest.PR{})
				f.AddComment(n, broom, stickyBody("prod", testFingerprint))
				f.FailNext("GET", "/repos/acme/infra/issues/", 1, http.StatusInternalServerError, nil, `{"message":"Server Error"}`)
				return seeded{number: n}
			},
			wantLists: 1,
			wantErr:   "list comments on #1",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			s := tc.setup(f)
			c := newClient(t, f, prtest.DefaultToken)
			id, viewer := tc.id, tc.viewer
			if id == "" {
				id = "prod"
			}
			if viewer == "" {
				viewer = broom
			}
			got, err := c.FindSticky(t.Context(), s.number, id, viewer)
			if n := f.Count("GET", commentsPath); n != tc.wantLists {
				t.Errorf("list requests = %d, want %d", n, tc.wantLists)
			}
			for _, r := range f.Requests() {
				if r.Method == "GET" && strings.HasSuffix(r.Path, "/comments") && r.Query.Get("per_page") != "100" {
					t.Errorf("%s %s?%s: per_page = %q, want 100", r.Method, r.Path, r.Query.Encode(), r.Query.Get("per_page"))
				}
			}
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("FindSticky() = %+v, want an error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("FindSticky() error = %q, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindSticky(): %v", err)
			}
			if s.want == 0 {
				if got != nil {
					t.Fatalf("FindSticky() = %+v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("FindSticky() = nil, want comment %d", s.want)
			}
			want := &pr.Comment{
				ID:     s.want,
				Body:   stickyBody("prod", testFingerprint),
				Marker: pr.Marker{ID: "prod", Fingerprint: testFingerprint, Head: testHead},
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pr.Comment{}, "URL", "NodeID")); diff != "" {
				t.Errorf("FindSticky() mismatch (-want +got):\n%s", diff)
			}
			if got.NodeID == "" {
				t.Errorf("FindSticky().NodeID is empty: the edit facts could not be asked for")
			}
			if !strings.HasSuffix(got.URL, fmt.Sprintf("#issuecomment-%d", s.want)) {
				t.Errorf("FindSticky().URL = %q, want the comment's html_url", got.URL)
			}
		})
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	newBody := stickyBody("prod", testFingerprint)
	tests := map[string]struct {
		existing  bool // seed broom's comment and pass it as existing
		wantPOST  int
		wantPATCH int
	}{
		"no existing comment creates one":        {existing: false, wantPOST: 1},
		"an existing comment is edited in place": {existing: true, wantPATCH: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(prtest.PR{})
			f.AddComment(n, "octocat", "first!")
			c := newClient(t, f, prtest.DefaultToken)

			var existing *pr.Comment
			if tc.existing {
				f.AddComment(n, prtest.DefaultLogin, stickyBody("prod", otherFingerprint))
				var err error
				if existing, err = c.FindSticky(t.Context(), n, "prod", prtest.DefaultLogin); err != nil || existing == nil {
					t.Fatalf("FindSticky() = %v, %v; want the seeded comment", existing, err)
				}
			}

			got, err := c.Upsert(t.Context(), n, existing, newBody)
			if err != nil {
				t.Fatalf("Upsert(): %v", err)
			}
			if p := f.Count("POST", commentsPath); p != tc.wantPOST {
				t.Errorf("POST requests = %d, want %d", p, tc.wantPOST)
			}
			if p := f.Count("PATCH", "/repos/acme/infra/issues/comments/*"); p != tc.wantPATCH {
				t.Errorf("PATCH requests = %d, want %d", p, tc.wantPATCH)
			}

			comments := f.Comments(n)
			if len(comments) != 2 {
				t.Fatalf("the PR has %d comments, want 2 (octocat's and broom's): %+v", len(comments), comments)
			}
			stored := comments[1]
			if stored.Author != prtest.DefaultLogin || stored.Body != newBody {
				t.Errorf("stored comment = %q by %q, want %q by %q", stored.Body, stored.Author, newBody, prtest.DefaultLogin)
			}
			if existing != nil && stored.ID != existing.ID {
				t.Errorf("stored comment ID = %d, want the existing %d", stored.ID, existing.ID)
			}
			want := &pr.Comment{
				ID:     stored.ID,
				Body:   newBody,
				Marker: pr.Marker{ID: "prod", Fingerprint: testFingerprint, Head: testHead},
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pr.Comment{}, "URL", "NodeID")); diff != "" {
				t.Errorf("Upsert() mismatch (-want +got):\n%s", diff)
			}
			if got.URL == "" {
				t.Error("Upsert().URL is empty, want the comment's html_url")
			}

			// What was written is what FindSticky finds next time.
			again, err := c.FindSticky(t.Context(), n, "prod", prtest.DefaultLogin)
			if err != nil {
				t.Fatalf("FindSticky() after Upsert: %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("FindSticky() after Upsert mismatch (-upserted +found):\n%s", diff)
			}
		})
	}
}

func TestUpsertErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		existing bool
		method   string
		wantErr  string
	}{
		"create fails": {method: "POST", wantErr: "comment on #1"},
		"edit fails":   {existing: true, method: "PATCH", wantErr: "update comment"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(prtest.PR{})
			var existing *pr.Comment
			if tc.existing {
				existing = &pr.Comment{ID: f.AddComment(n, prtest.DefaultLogin, stickyBody("prod", otherFingerprint))}
			}
			f.FailNext(tc.method, "/repos/acme/infra/issues/", 1, http.StatusForbidden,
				http.Header{"Retry-After": {"3600"}}, `{"message":"You have exceeded a secondary rate limit."}`)
			got, err := newClient(t, f, prtest.DefaultToken).Upsert(t.Context(), n, existing, stickyBody("prod", testFingerprint))
			if err == nil {
				t.Fatalf("Upsert() = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Upsert() error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestGetPullRequest(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		seed     prtest.PR
		want     pr.PullRequest
		wantFork bool
	}{
		"same repository": {
			seed: prtest.PR{Number: 7, Author: "alice", HeadSHA: testHead, Labels: []string{"bug", "broom:approved"}},
			want: pr.PullRequest{Number: 7, Author: "alice", HeadSHA: testHead, HeadRepo: "acme/infra", BaseRepo: "acme/infra",
				Labels: []string{"bug", "broom:approved"}, State: "open"},
		},
		"same repository spelled in another case": {
			seed: prtest.PR{Number: 8, Author: "alice", HeadSHA: testHead, HeadRepo: "Acme/Infra"},
			want: pr.PullRequest{Number: 8, Author: "alice", HeadSHA: testHead, HeadRepo: "Acme/Infra", BaseRepo: "acme/infra", State: "open"},
		},
		"from a fork": {
			seed: prtest.PR{Number: 9, Author: "mallory", HeadSHA: testHead, HeadRepo: "mallory/infra", Labels: []string{"broom:approved"}},
			want: pr.PullRequest{Number: 9, Author: "mallory", HeadSHA: testHead, HeadRepo: "mallory/infra", BaseRepo: "acme/infra",
				Labels: []string{"broom:approved"}, State: "open"},
			wantFork: true,
		},
		"closed": {
			seed: prtest.PR{Number: 10, Author: "bob", HeadSHA: testHead, State: "closed"},
			want: pr.PullRequest{Number: 10, Author: "bob", HeadSHA: testHead, HeadRepo: "acme/infra", BaseRepo: "acme/infra", State: "closed"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(tc.seed)
			got, err := newClient(t, f, prtest.DefaultToken).GetPullRequest(t.Context(), n)
			if err != nil {
				t.Fatalf("GetPullRequest(): %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("GetPullRequest() mismatch (-want +got):\n%s", diff)
			}
			if got.Fork() != tc.wantFork {
				t.Errorf("Fork() = %v, want %v", got.Fork(), tc.wantFork)
			}
		})
	}
}

func TestGetPullRequestMissing(t *testing.T) {
	t.Parallel()
	f := prtest.New(t)
	f.AddIssue(prtest.Issue{Number: 3}) // an issue, not a pull request
	c := newClient(t, f, prtest.DefaultToken)
	for _, n := range []int{3, 99} {
		if got, err := c.GetPullRequest(t.Context(), n); err == nil {
			t.Errorf("GetPullRequest(%d) = %+v, want an error", n, got)
		}
	}
}

func TestFork(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		head, base string
		want       bool
	}{
		"same repository":            {head: "acme/infra", base: "acme/infra", want: false},
		"same repository, any case":  {head: "ACME/Infra", base: "acme/infra", want: false},
		"another owner":              {head: "mallory/infra", base: "acme/infra", want: true},
		"another repository":         {head: "acme/infra-fork", base: "acme/infra", want: true},
		"head repository was delete": {head: "", base: "acme/infra", want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := (pr.PullRequest{HeadRepo: tc.head, BaseRepo: tc.base}).Fork(); got != tc.want {
				t.Errorf("Fork() with head %q, base %q = %v, want %v", tc.head, tc.base, got, tc.want)
			}
		})
	}
}

func TestRole(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		user    string
		role    string // given with SetPermission; "" for none
		fail    int    // status of a canned failure, if any
		want    string
		wantErr bool
	}{
		"admin":                           {user: "alice", role: "admin", want: "admin"},
		"maintain is not folded to write": {user: "alice", role: "maintain", want: "maintain"},
		"write":                           {user: "alice", role: "write", want: "write"},
		"triage is not folded to read":    {user: "alice", role: "triage", want: "triage"},
		"read":                            {user: "alice", role: "read", want: "read"},
		"a bot login is escaped":          {user: "dependabot[bot]", role: "write", want: "write"},
		"a non-collaborator has no role":  {user: "mallory", want: ""},
		"no access to a private repository has no role": {user: "mallory", role: "none", want: ""},
		"a server error is an error":                    {user: "alice", role: "admin", fail: http.StatusInternalServerError, wantErr: true},
		"a forbidden answer is an error":                {user: "alice", role: "admin", fail: http.StatusForbidden, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			if tc.role != "" {
				f.SetPermission(tc.user, tc.role)
			}
			if tc.fail != 0 {
				f.FailNext("GET", "/repos/acme/infra/collaborators/", 1, tc.fail, nil, `{"message":"Server Error"}`)
			}
			got, err := newClient(t, f, prtest.DefaultToken).Role(t.Context(), tc.user)
			if n := f.Count("GET", "/repos/acme/infra/collaborators/*/permission"); n != 1 {
				t.Errorf("permission requests = %d, want 1", n)
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Role(%q) = %q, want an error", tc.user, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Role(%q): %v", tc.user, err)
			}
			if got != tc.want {
				t.Errorf("Role(%q) = %q, want %q", tc.user, got, tc.want)
			}
		})
	}
}

func TestRemoveLabel(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		labels     []string
		remove     string
		fail       int
		wantLabels []string
		wantErr    bool
	}{
		"removes the label": {
			labels: []string{"bug", "broom:approved"}, remove: "broom:approved", wantLabels: []string{"bug"},
		},
		"a label that is not there is not an error": {
			labels: []string{"bug"}, remove: "broom:approved", wantLabels: []string{"bug"},
		},
		"no labels at all": {
			remove: "broom:approved", wantLabels: []string{},
		},
		"a name with a space and a slash is escaped": {
			labels: []string{"broom: approved/now", "broom: approved", "bug"}, remove: "broom: approved/now",
			wantLabels: []string{"broom: approved", "bug"},
		},
		"a name with a question mark, hash and percent is escaped": {
			labels: []string{"ready? #1 100%", "bug"}, remove: "ready? #1 100%", wantLabels: []string{"bug"},
		},
		"label names match case-insensitively": {
			labels: []string{"Broom:Approved"}, remove: "broom:approved", wantLabels: []string{},
		},
		"a server error is an error": {
			labels: []string{"broom:approved"}, remove: "broom:approved", fail: http.StatusInternalServerError,
			wantLabels: []string{"broom:approved"}, wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := prtest.New(t)
			n := f.AddPR(prtest.PR{Labels: tc.labels})
			if tc.fail != 0 {
				f.FailNext("DELETE", "/repos/acme/infra/issues/", 1, tc.fail, nil, `{"message":"Server Error"}`)
			}
			err := newClient(t, f, prtest.DefaultToken).RemoveLabel(t.Context(), n, tc.remove)
			if tc.wantErr != (err != nil) {
				t.Fatalf("RemoveLabel(%q) error = %v, want error %v", tc.remove, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantLabels, f.Labels(n), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("labels after RemoveLabel(%q) mismatch (-want +got):\n%s", tc.remove, diff)
			}
			// Count by prefix: the recorded path is unescaped, so a slash in
			// the name adds a segment that path.Match's * would not cross.
			var deletes []string
			for _, r := range f.Requests() {
				if r.Method == http.MethodDelete && strings.HasPrefix(r.Path, fmt.Sprintf("/repos/acme/infra/issues/%d/labels/", n)) {
					deletes = append(deletes, r.Path)
				}
			}
			if want := []string{fmt.Sprintf("/repos/acme/infra/issues/%d/labels/%s", n, tc.remove)}; !cmp.Equal(deletes, want) {
				t.Errorf("DELETE requests = %q, want %q", deletes, want)
			}
		})
	}
}
