package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-github/v62/github"
)

// Approve label defaults: what a label broom creates looks like.
const (
	// ApproveLabelColor is a green, six hex digits without '#'.
	ApproveLabelColor = "0e8a16"
	// ApproveLabelDescription says what adding the label does; GitHub
	// allows at most 100 characters.
	ApproveLabelDescription = "broom: apply the plan shown in broom's comment (needs write permission)"
)

// EnsureLabel creates the repository label name, with color and
// description, when the repository has none of that name (GitHub matches
// names ignoring case), and reports whether it created it. A label that
// appears between the check and the creation (another run made it) is
// not an error.
func (c *Client) EnsureLabel(ctx context.Context, name, color, description string) (bool, error) {
	// go-github puts the name into the path unescaped.
	_, resp, err := c.gh.Issues.GetLabel(ctx, c.owner, c.repo, url.PathEscape(name))
	switch {
	case err == nil:
		return false, nil
	case resp == nil || resp.StatusCode != http.StatusNotFound:
		return false, fmt.Errorf("look for label %q: %w", name, err)
	}
	_, _, err = c.gh.Issues.CreateLabel(ctx, c.owner, c.repo, &github.Label{Name: &name, Color: &color, Description: &description})
	var ghErr *github.ErrorResponse
	if errors.As(err, &ghErr) && ghErr.Response != nil && ghErr.Response.StatusCode == http.StatusUnprocessableEntity {
		for _, e := range ghErr.Errors {
			if e.Code == "already_exists" {
				return false, nil
			}
		}
	}
	if err != nil {
		return false, fmt.Errorf("create label %q: %w", name, err)
	}
	return true, nil
}
