// Package pr talks to GitHub for broom: the sticky plan comment, labels,
// the approver's permission, and who broom itself is. Everything goes
// through go-github except the one GraphQL query for the viewer's login.
package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Client is a GitHub client bound to one repository.
type Client struct {
	gh          *github.Client
	http        *http.Client
	graphqlURL  string
	token       string
	owner, repo string
}

// New returns a client for repository ("owner/name") on the API at apiURL
// (GITHUB_API_URL) and graphqlURL (GITHUB_GRAPHQL_URL).
func New(token, apiURL, graphqlURL, repository string, httpClient *http.Client) (*Client, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q: want owner/name", repository)
	}
	if httpClient == nil {
		// Long enough to sit out a secondary rate limit's Retry-After (the
		// transport waits up to a minute); the run's deadline bounds it too.
		httpClient = &http.Client{Timeout: 90 * time.Second}
	}
	httpClient = withRetries(httpClient) // rate limits, 5xx and broken connections: see retry.go
	gh := github.NewClient(httpClient).WithAuthToken(token)
	base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q is not an absolute URL", apiURL)
	}
	gh.BaseURL = base
	return &Client{gh: gh, http: httpClient, graphqlURL: graphqlURL, token: token, owner: owner, repo: repo}, nil
}

// Viewer returns the login of the token's user (e.g. github-actions[bot]).
// GraphQL answers this for every kind of token; GET /user refuses the
// workflow's GITHUB_TOKEN.
func (c *Client) Viewer(ctx context.Context) (string, error) {
	var out struct {
		Viewer struct{ Login string } `json:"viewer"`
	}
	if err := c.graphQL(ctx, "query { viewer { login } }", nil, &out); err != nil {
		return "", fmt.Errorf("ask who broom is: %w", err)
	}
	if out.Viewer.Login == "" {
		return "", fmt.Errorf("ask who broom is: GraphQL gave no viewer login")
	}
	return out.Viewer.Login, nil
}

// Comment is an issue or pull request comment, or a tracking issue's body.
type Comment struct {
	ID     int64
	NodeID string // GraphQL's id, for EditFacts
	Body   string
	URL    string
	Marker Marker
}

// FindSticky looks through every comment on issue number for broom's
// comment with the given report id, written by viewer. Markers in anyone
// else's comments are ignored: they could carry a forged fingerprint.
func (c *Client) FindSticky(ctx context.Context, number int, id, viewer string) (*Comment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments on #%d: %w", number, err)
		}
		for _, cm := range page {
			if !strings.EqualFold(cm.GetUser().GetLogin(), viewer) {
				continue
			}
			if m, ok := ParseMarker(cm.GetBody()); ok && m.ID == id {
				return &Comment{ID: cm.GetID(), NodeID: cm.GetNodeID(), Body: cm.GetBody(), URL: cm.GetHTMLURL(), Marker: m}, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// Upsert updates the existing sticky comment in place, or creates it when
// existing is nil.
func (c *Client) Upsert(ctx context.Context, number int, existing *Comment, body string) (*Comment, error) {
	var cm *github.IssueComment
	var err error
	if existing != nil {
		cm, _, err = c.gh.Issues.EditComment(ctx, c.owner, c.repo, existing.ID, &github.IssueComment{Body: &body})
		if err != nil {
			return nil, fmt.Errorf("update comment %d: %w", existing.ID, err)
		}
	} else {
		cm, _, err = c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, &github.IssueComment{Body: &body})
		if err != nil {
			return nil, fmt.Errorf("comment on #%d: %w", number, err)
		}
	}
	m, _ := ParseMarker(body)
	return &Comment{ID: cm.GetID(), NodeID: cm.GetNodeID(), Body: cm.GetBody(), URL: cm.GetHTMLURL(), Marker: m}, nil
}

// PullRequest is what broom needs of a pull request, read at run time.
type PullRequest struct {
	Number   int
	Author   string
	HeadSHA  string
	HeadRepo string // full name; differs from the base for forks
	BaseRepo string
	Labels   []string
	State    string
}

// Fork reports whether the head branch lives in another repository.
func (p PullRequest) Fork() bool { return !strings.EqualFold(p.HeadRepo, p.BaseRepo) }

// GetPullRequest reads a pull request now, not as the event saw it.
func (c *Client) GetPullRequest(ctx context.Context, number int) (PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, c.owner, c.repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("read pull request #%d: %w", number, err)
	}
	out := PullRequest{Number: number, Author: p.GetUser().GetLogin(), HeadSHA: p.GetHead().GetSHA(),
		HeadRepo: p.GetHead().GetRepo().GetFullName(), BaseRepo: p.GetBase().GetRepo().GetFullName(), State: p.GetState()}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out, nil
}

// Role returns user's role on the repository (admin, maintain, write,
// triage or read), or "" when the user is not a collaborator. It reads
// role_name from the raw response: the legacy permission field folds
// maintain into write and triage into read.
func (c *Client) Role(ctx context.Context, user string) (string, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(c.owner), url.PathEscape(c.repo), url.PathEscape(user))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if resp, err := c.gh.Do(ctx, req, &out); err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return "", nil
		}
		return "", fmt.Errorf("read %s's permission: %w", user, err)
	}
	switch out.RoleName {
	case "admin", "maintain", "write", "triage", "read":
		return out.RoleName, nil
	}
	if out.Permission == "none" { // no access to a private repository
		return "", nil
	}
	return out.Permission, nil // a custom role: its base permission
}

// RemoveLabel takes a label off an issue or pull request; a label that is
// already gone is not an error.
func (c *Client) RemoveLabel(ctx context.Context, number int, label string) error {
	// go-github puts the name into the path unescaped.
	resp, err := c.gh.Issues.RemoveLabelForIssue(ctx, c.owner, c.repo, number, url.PathEscape(label))
	var ghErr *github.ErrorResponse
	if err != nil && resp != nil && resp.StatusCode == http.StatusNotFound &&
		errors.As(err, &ghErr) && ghErr.Message == "Label does not exist" {
		return nil // already gone; any other 404 (a wrong path) is an error
	}
	if err != nil {
		return fmt.Errorf("remove label %q from #%d: %w", label, number, err)
	}
	return nil
}
