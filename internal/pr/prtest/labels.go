package prtest

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Label is a repository's label, as RepoLabels returns it and AddRepoLabel
// seeds it.
type Label struct {
	// Name is the label's name; names are case-insensitive.
	Name string
	// Color is six hex digits without '#'.
	Color string
	// Description is its description, "" for none.
	Description string
}

// AddRepoLabel seeds a repository label (GitHub's Issues → Labels), or
// replaces the one with the same name. A zero Color is ededed.
func (f *Fake) AddRepoLabel(l Label) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l.Color == "" {
		l.Color = labelColor
	}
	f.putRepoLabel(l)
}

// RepoLabel returns the repository label name (matched ignoring case).
func (f *Fake) RepoLabel(name string) (Label, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.repoLabels[strings.ToLower(name)]
	return l, ok
}

// RepoLabels returns the repository's labels by name.
func (f *Fake) RepoLabels() []Label {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Label, 0, len(f.repoLabels))
	for _, l := range f.repoLabels {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// putRepoLabel stores l. f.mu is held.
func (f *Fake) putRepoLabel(l Label) {
	if f.repoLabels == nil {
		f.repoLabels = map[string]Label{}
	}
	f.repoLabels[strings.ToLower(l.Name)] = l
}

// ensureRepoLabel makes a repository label of name if there is none, as
// GitHub does when the REST API adds a label the repository lacks to an
// issue. (In the web UI only existing labels can be added; AddLabel, the
// helper for a person's UI action, goes through here too, so a label that
// was added exists either way.) f.mu is held.
func (f *Fake) ensureRepoLabel(name string) {
	if _, ok := f.repoLabels[strings.ToLower(name)]; !ok {
		f.putRepoLabel(Label{Name: name, Color: labelColor})
	}
}

// repoLabelJSON is a label object with the repository label's color and
// description when it has one.
func (f *Fake) repoLabelJSON(l Label) map[string]any {
	out := f.labelJSON(l.Name)
	out["color"] = l.Color
	if l.Description != "" {
		out["description"] = l.Description
	}
	return out
}

// getRepoLabel serves GET /repos/{owner}/{repo}/labels/{name}.
func (f *Fake) getRepoLabel(c *call) reply {
	// Routing saw the escaped path: unescape the name's segment.
	name, err := url.PathUnescape(c.rawSeg[len(c.rawSeg)-1])
	if err != nil {
		return errorReply(http.StatusBadRequest, "prtest: bad label name in the path")
	}
	l, ok := f.repoLabels[strings.ToLower(name)]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, f.repoLabelJSON(l))
}

var hexColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// createRepoLabel serves POST /repos/{owner}/{repo}/labels: 422
// already_exists for a name the repository has (ignoring case), as GitHub.
func (f *Fake) createRepoLabel(c *call) reply {
	in, rp := decode[struct {
		Name        string  `json:"name"`
		Color       *string `json:"color"`
		Description *string `json:"description"`
	}](c)
	if rp != nil {
		return *rp
	}
	invalid := func(field, code string) reply {
		return jsonReply(http.StatusUnprocessableEntity, map[string]any{
			"message":           "Validation Failed",
			"documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label",
			"errors":            []any{map[string]any{"resource": "Label", "field": field, "code": code}},
		})
	}
	l := Label{Name: strings.TrimSpace(in.Name), Color: labelColor}
	if l.Name == "" {
		return invalid("name", "missing_field")
	}
	if _, ok := f.repoLabels[strings.ToLower(l.Name)]; ok {
		return invalid("name", "already_exists")
	}
	if in.Color != nil {
		l.Color = strings.TrimPrefix(*in.Color, "#")
		if !hexColor.MatchString(l.Color) {
			return invalid("color", "invalid")
		}
	}
	if in.Description != nil {
		if len([]rune(*in.Description)) > 100 {
			return invalid("description", "invalid")
		}
		l.Description = *in.Description
	}
	f.putRepoLabel(l)
	rp2 := jsonReply(http.StatusCreated, f.repoLabelJSON(l))
	rp2.header = http.Header{"Location": {f.repoAPI() + "/labels/" + url.PathEscape(l.Name)}}
	return rp2
}
