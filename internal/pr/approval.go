package pr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// LabelEvent is a label added to or removed from an issue or pull request,
// as the issue's events record it.
type LabelEvent struct {
	Added bool // labeled; false: unlabeled
	Label string
	Actor string // the login that added or removed it, REST form (github-actions[bot])
	At    time.Time
}

// LabelEvents returns the labeled and unlabeled events of issue or pull
// request number, oldest first, from every page of its events. They say
// who added the approve label and when, which the event payload of a
// re-run cannot.
func (c *Client) LabelEvents(ctx context.Context, number int) ([]LabelEvent, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []LabelEvent
	for {
		page, resp, err := c.gh.Issues.ListIssueEvents(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list events of #%d: %w", number, err)
		}
		for _, ev := range page {
			if e := ev.GetEvent(); (e == "labeled" || e == "unlabeled") && ev.Label != nil {
				out = append(out, LabelEvent{Added: e == "labeled", Label: ev.Label.GetName(),
					Actor: ev.GetActor().GetLogin(), At: ev.GetCreatedAt().Time})
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// EditFacts say when a comment or issue body was written and who edited it
// last, as GraphQL reports them.
type EditFacts struct {
	Created time.Time
	// Edited is when the body was last edited; zero when it never was.
	Edited time.Time
	// Editor is the login of the last editor in REST's form (an App as
	// github-actions[bot], though GraphQL says github-actions), empty when
	// never edited or when GitHub no longer knows the account.
	Editor string
}

// LastWrite is when the body took its current text: the last edit, or the
// creation when it was never edited.
func (e EditFacts) LastWrite() time.Time {
	if e.Edited.IsZero() {
		return e.Created
	}
	return e.Edited
}

// editFactsQuery asks for a comment's or an issue's edit facts by the node
// id of its REST object (SPEC §7).
const editFactsQuery = `query($id: ID!) {
  node(id: $id) {
    __typename
    ... on IssueComment { createdAt lastEditedAt editor { __typename login } }
    ... on Issue { createdAt lastEditedAt editor { __typename login } }
  }
}`

// EditFacts reads when the comment or issue with GraphQL node id nodeID
// was created and last edited, and by whom.
func (c *Client) EditFacts(ctx context.Context, nodeID string) (EditFacts, error) {
	var out struct {
		Node *struct {
			Typename     string     `json:"__typename"`
			CreatedAt    time.Time  `json:"createdAt"`
			LastEditedAt *time.Time `json:"lastEditedAt"`
			Editor       *struct {
				Typename string `json:"__typename"`
				Login    string `json:"login"`
			} `json:"editor"`
		} `json:"node"`
	}
	if err := c.graphQL(ctx, editFactsQuery, map[string]any{"id": nodeID}, &out); err != nil {
		return EditFacts{}, fmt.Errorf("read the edit history of %s: %w", nodeID, err)
	}
	n := out.Node
	if n == nil || (n.Typename != "IssueComment" && n.Typename != "Issue") || n.CreatedAt.IsZero() {
		return EditFacts{}, fmt.Errorf("read the edit history of %s: GraphQL found no comment or issue with that id", nodeID)
	}
	f := EditFacts{Created: n.CreatedAt}
	if n.LastEditedAt != nil {
		f.Edited = *n.LastEditedAt
	}
	if n.Editor != nil {
		f.Editor = n.Editor.Login
		if n.Editor.Typename == "Bot" && !strings.HasSuffix(f.Editor, "[bot]") {
			f.Editor += "[bot]" // GraphQL's bare slug, in REST's form
		}
	}
	return f, nil
}

// graphQL posts a query (which changes nothing) and decodes its data into
// out. Any error GitHub reports fails the call.
func (c *Client) graphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	payload := map[string]any{"query": query}
	if vars != nil {
		payload["variables"] = vars
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	// A query changes nothing: let the transport retry it like a GET.
	req.Header.Set("Idempotency-Key", "graphql-query")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var res struct {
		Data   json.RawMessage            `json:"data"`
		Errors []struct{ Message string } `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GraphQL answered %s", resp.Status)
	}
	if len(res.Errors) > 0 {
		msgs := make([]string, len(res.Errors))
		for i, e := range res.Errors {
			msgs[i] = e.Message
		}
		return fmt.Errorf("GraphQL: %s", strings.Join(msgs, "; "))
	}
	if len(res.Data) == 0 || string(res.Data) == "null" {
		return fmt.Errorf("GraphQL answered no data")
	}
	return json.Unmarshal(res.Data, out)
}
