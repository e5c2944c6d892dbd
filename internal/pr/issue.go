package pr

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"
)

// TrackingLabel marks the issues broom keeps a plan in.
const TrackingLabel = "broom"

// Issue is a tracking issue: one open issue per report id whose body is
// the plan, with the marker on its first line.
type Issue struct {
	Number int
	NodeID string // GraphQL's id, for EditFacts
	Author string
	Body   string
	URL    string
	State  string
	Labels []string
	Marker Marker
}

// FindTrackingIssue finds the open issue broom (viewer) opened for report
// id, by the broom label and the marker in its body; nil if there is none.
func (c *Client) FindTrackingIssue(ctx context.Context, id, viewer string) (*Issue, error) {
	opts := &github.IssueListByRepoOptions{State: "open", Labels: []string{TrackingLabel}, Creator: viewer,
		ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListByRepo(ctx, c.owner, c.repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list tracking issues: %w", err)
		}
		for _, is := range page {
			if is.IsPullRequest() || !strings.EqualFold(is.GetUser().GetLogin(), viewer) {
				continue
			}
			if m, ok := ParseMarker(is.GetBody()); ok && m.ID == id {
				out := issueOf(is)
				return &out, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// GetIssue reads an issue now, with its marker if it has one.
func (c *Client) GetIssue(ctx context.Context, number int) (Issue, error) {
	is, _, err := c.gh.Issues.Get(ctx, c.owner, c.repo, number)
	if err != nil {
		return Issue{}, fmt.Errorf("read issue #%d: %w", number, err)
	}
	return issueOf(is), nil
}

// UpsertIssue creates the tracking issue (labelled broom) or updates its
// body; closed closes it, as when the plan is empty.
func (c *Client) UpsertIssue(ctx context.Context, existing *Issue, title, body string, closed bool) (Issue, error) {
	state := "open"
	if closed {
		state = "closed"
	}
	if existing == nil {
		is, _, err := c.gh.Issues.Create(ctx, c.owner, c.repo, &github.IssueRequest{
			Title: &title, Body: &body, Labels: &[]string{TrackingLabel}})
		if err != nil {
			return Issue{}, fmt.Errorf("open tracking issue: %w", err)
		}
		return issueOf(is), nil
	}
	is, _, err := c.gh.Issues.Edit(ctx, c.owner, c.repo, existing.Number, &github.IssueRequest{Body: &body, State: &state})
	if err != nil {
		return Issue{}, fmt.Errorf("update tracking issue #%d: %w", existing.Number, err)
	}
	return issueOf(is), nil
}

func issueOf(is *github.Issue) Issue {
	out := Issue{Number: is.GetNumber(), NodeID: is.GetNodeID(), Author: is.GetUser().GetLogin(), Body: is.GetBody(), URL: is.GetHTMLURL(), State: is.GetState()}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	out.Marker, _ = ParseMarker(out.Body)
	return out
}
