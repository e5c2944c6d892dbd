package action

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// payload is the part of a webhook event payload broom reads. Anything the
// gate trusts beyond routing (labels, head commit, permission) is read again
// from the API at run time: the payload is a snapshot from trigger time.
type payload struct {
	Action string `json:"action"`
	Label  *struct {
		Name string `json:"name"`
	} `json:"label"`
	Sender struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"sender"`
	PullRequest *struct {
		Number int `json:"number"`
		User   struct {
			Login string `json:"login"`
		} `json:"user"`
		Head struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Labels []struct {
			Name string `json:"name"`
		} `json:"labels"`
	} `json:"pull_request"`
	Issue *struct {
		Number int    `json:"number"`
		Body   string `json:"body"`
		User   struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"issue"`
}

// readEvent reads the payload at path for event name. A missing or broken
// payload is misuse: broom cannot tell what to do.
func readEvent(name, path string) (payload, error) {
	var p payload
	if name == "schedule" || name == "" {
		return p, nil // scheduled runs have a minimal payload; none is needed
	}
	if path == "" {
		return p, fmt.Errorf("GITHUB_EVENT_PATH is not set for event %s", name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("read event payload: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("event payload %s is not valid JSON: %w", path, err)
	}
	switch name {
	case "pull_request":
		if p.PullRequest == nil || p.PullRequest.Number <= 0 {
			return p, fmt.Errorf("event payload %s: pull_request event without pull_request.number", path)
		}
		if p.Action == "" {
			return p, fmt.Errorf("event payload %s: pull_request event without action", path)
		}
	case "issues":
		if p.Issue == nil || p.Issue.Number <= 0 {
			return p, fmt.Errorf("event payload %s: issues event without issue.number", path)
		}
	}
	if p.Action == "labeled" && (p.Label == nil || p.Label.Name == "" || p.Sender.Login == "") {
		return p, fmt.Errorf("event payload %s: labeled event without label.name or sender.login", path)
	}
	return p, nil
}

func (p payload) label() string {
	if p.Label == nil {
		return ""
	}
	return p.Label.Name
}

func (p payload) prHasLabel(name string) bool {
	if p.PullRequest == nil {
		return false
	}
	for _, l := range p.PullRequest.Labels {
		if strings.EqualFold(l.Name, name) { // GitHub label names ignore case
			return true
		}
	}
	return false
}
