package prtest

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"
)

// Object builders. They fill every field the description requires, so that
// the fake's responses validate against it.

// stableID derives a positive ID from s, so that users, labels and
// repositories keep their IDs across requests and fakes.
func stableID(s string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum32()%900_000_000) + 100_000
}

func (f *Fake) userJSON(login string) map[string]any {
	typ, nodePrefix := "User", "U_"
	if strings.HasSuffix(login, "[bot]") {
		typ, nodePrefix = "Bot", "BOT_"
	}
	id := stableID("user:" + login)
	api := f.APIURL() + "/users/" + url.PathEscape(login)
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             fmt.Sprintf("%s%d", nodePrefix, id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d?v=4", f.ServerURL(), id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            f.ServerURL() + "/" + url.PathEscape(login),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                typ,
		"site_admin":          false,
		"user_view_type":      "public",
	}
}

// association is the comment or issue author's author_association.
func (f *Fake) association(login string) string {
	switch {
	case strings.EqualFold(login, f.Owner):
		return "OWNER"
	case f.perms[login] != "" && f.perms[login] != "none":
		return "COLLABORATOR"
	}
	return "NONE"
}

// kindPath is "pull" or "issues", as in html_url.
func kindPath(it *item) string {
	if it != nil && it.pr {
		return "pull"
	}
	return "issues"
}

func (f *Fake) repoAPI() string { return f.APIURL() + "/repos/" + f.Owner + "/" + f.Repo }
func (f *Fake) repoHTML() string {
	return f.ServerURL() + "/" + f.Owner + "/" + f.Repo
}

// Node IDs. GitHub's are opaque strings whose prefix names the type (IC_,
// I_, PR_, LE_, …); the fake's are the prefix and the REST ID, unique within
// a fake, which resolves them in GraphQL's node(id:).
func commentNodeID(c *comment) string { return fmt.Sprintf("IC_%d", c.id) }

// itemNodeID is an issue's or a pull request's node ID. GitHub's issue
// endpoints answer a pull request's own (PR_…) node_id.
func itemNodeID(it *item) string {
	if it.pr {
		return fmt.Sprintf("PR_%d", it.id)
	}
	return fmt.Sprintf("I_%d", it.id)
}

func (f *Fake) commentJSON(c *comment) map[string]any {
	return map[string]any{
		"id":                 c.id,
		"node_id":            commentNodeID(c),
		"url":                fmt.Sprintf("%s/issues/comments/%d", f.repoAPI(), c.id),
		"html_url":           fmt.Sprintf("%s/%s/%d#issuecomment-%d", f.repoHTML(), kindPath(f.items[c.number]), c.number, c.id),
		"issue_url":          fmt.Sprintf("%s/issues/%d", f.repoAPI(), c.number),
		"body":               c.body,
		"user":               f.userJSON(c.author),
		"created_at":         timestamp(c.created),
		"updated_at":         timestamp(c.updated),
		"author_association": f.association(c.author),
	}
}

// labelColor is every label's color: the fake does not keep label
// definitions.
const labelColor = "ededed"

func (f *Fake) labelJSON(name string) map[string]any {
	id := stableID("label:" + strings.ToLower(name))
	return map[string]any{
		"id":          id,
		"node_id":     fmt.Sprintf("LA_%d", id),
		"url":         f.repoAPI() + "/labels/" + url.PathEscape(name),
		"name":        name,
		"description": nil,
		"color":       labelColor,
		"default":     false,
	}
}

func (f *Fake) labelsJSON(names []string) []any {
	out := []any{}
	for _, n := range names {
		out = append(out, f.labelJSON(n))
	}
	return out
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timestamp(t)
}

func (f *Fake) issueJSON(it *item) map[string]any {
	api := fmt.Sprintf("%s/issues/%d", f.repoAPI(), it.number)
	html := fmt.Sprintf("%s/%s/%d", f.repoHTML(), kindPath(it), it.number)
	var stateReason any
	if it.stateReason != "" {
		stateReason = it.stateReason
	}
	out := map[string]any{
		"id":                 it.id,
		"node_id":            itemNodeID(it),
		"url":                api,
		"repository_url":     f.repoAPI(),
		"labels_url":         api + "/labels{/name}",
		"comments_url":       api + "/comments",
		"events_url":         api + "/events",
		"html_url":           html,
		"number":             it.number,
		"state":              it.state,
		"state_reason":       stateReason,
		"title":              it.title,
		"body":               it.body,
		"user":               f.userJSON(it.author),
		"labels":             f.labelsJSON(it.labels),
		"assignee":           nil,
		"assignees":          []any{},
		"milestone":          nil,
		"locked":             false,
		"active_lock_reason": nil,
		"comments":           len(f.commentsOn(it.number)),
		"closed_at":          nullableTime(it.closed),
		"created_at":         timestamp(it.created),
		"updated_at":         timestamp(it.updated),
		"author_association": f.association(it.author),
	}
	if it.pr {
		pulls := fmt.Sprintf("%s/pulls/%d", f.repoAPI(), it.number)
		out["draft"] = false
		out["pull_request"] = map[string]any{
			"url":       pulls,
			"html_url":  html,
			"diff_url":  html + ".diff",
			"patch_url": html + ".patch",
			"merged_at": nil,
		}
	}
	return out
}

func (f *Fake) prJSON(it *item) map[string]any {
	api := fmt.Sprintf("%s/pulls/%d", f.repoAPI(), it.number)
	issueAPI := fmt.Sprintf("%s/issues/%d", f.repoAPI(), it.number)
	html := fmt.Sprintf("%s/pull/%d", f.repoHTML(), it.number)
	base := f.Owner + "/" + f.Repo
	headOwner, _, _ := strings.Cut(it.headRepo, "/")
	link := func(href string) map[string]any { return map[string]any{"href": href} }
	return map[string]any{
		"url":                 api,
		"id":                  it.id,
		"node_id":             itemNodeID(it),
		"html_url":            html,
		"diff_url":            html + ".diff",
		"patch_url":           html + ".patch",
		"issue_url":           issueAPI,
		"commits_url":         api + "/commits",
		"review_comments_url": api + "/comments",
		"review_comment_url":  f.repoAPI() + "/pulls/comments{/number}",
		"comments_url":        issueAPI + "/comments",
		"statuses_url":        f.repoAPI() + "/statuses/" + it.headSHA,
		"number":              it.number,
		"state":               it.state,
		"locked":              false,
		"title":               it.title,
		"user":                f.userJSON(it.author),
		"body":                it.body,
		"labels":              f.labelsJSON(it.labels),
		"milestone":           nil,
		"active_lock_reason":  nil,
		"created_at":          timestamp(it.created),
		"updated_at":          timestamp(it.updated),
		"closed_at":           nullableTime(it.closed),
		"merged_at":           nil,
		"merge_commit_sha":    nil,
		"assignee":            nil,
		"assignees":           []any{},
		"requested_reviewers": []any{},
		"requested_teams":     []any{},
		"head": map[string]any{
			"label": headOwner + ":" + it.headRef,
			"ref":   it.headRef,
			"sha":   it.headSHA,
			"user":  f.userJSON(headOwner),
			"repo":  f.repoJSON(it.headRepo),
		},
		"base": map[string]any{
			"label": f.Owner + ":" + it.baseRef,
			"ref":   it.baseRef,
			"sha":   strings.Repeat("0", 40),
			"user":  f.userJSON(f.Owner),
			"repo":  f.repoJSON(base),
		},
		"_links": map[string]any{
			"self":            link(api),
			"html":            link(html),
			"issue":           link(issueAPI),
			"comments":        link(issueAPI + "/comments"),
			"review_comments": link(api + "/comments"),
			"review_comment":  link(f.repoAPI() + "/pulls/comments{/number}"),
			"commits":         link(api + "/commits"),
			"statuses":        link(f.repoAPI() + "/statuses/" + it.headSHA),
		},
		"author_association":    f.association(it.author),
		"auto_merge":            nil,
		"draft":                 false,
		"merged":                false,
		"mergeable":             nil,
		"rebaseable":            nil,
		"mergeable_state":       "unknown",
		"merged_by":             nil,
		"comments":              len(f.commentsOn(it.number)),
		"review_comments":       0,
		"maintainer_can_modify": false,
		"commits":               1,
		"additions":             0,
		"deletions":             0,
		"changed_files":         0,
	}
}

func (f *Fake) repoJSON(fullName string) map[string]any {
	owner, name, _ := strings.Cut(fullName, "/")
	id := stableID("repo:" + strings.ToLower(fullName))
	api := f.APIURL() + "/repos/" + fullName
	html := f.ServerURL() + "/" + fullName
	created := timestamp(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	return map[string]any{
		"id":                id,
		"node_id":           fmt.Sprintf("R_%d", id),
		"name":              name,
		"full_name":         fullName,
		"owner":             f.userJSON(owner),
		"private":           true,
		"html_url":          html,
		"description":       nil,
		"fork":              !strings.EqualFold(fullName, f.Owner+"/"+f.Repo),
		"url":               api,
		"archive_url":       api + "/{archive_format}{/ref}",
		"assignees_url":     api + "/assignees{/user}",
		"blobs_url":         api + "/git/blobs{/sha}",
		"branches_url":      api + "/branches{/branch}",
		"collaborators_url": api + "/collaborators{/collaborator}",
		"comments_url":      api + "/comments{/number}",
		"commits_url":       api + "/commits{/sha}",
		"compare_url":       api + "/compare/{base}...{head}",
		"contents_url":      api + "/contents/{+path}",
		"contributors_url":  api + "/contributors",
		"deployments_url":   api + "/deployments",
		"downloads_url":     api + "/downloads",
		"events_url":        api + "/events",
		"forks_url":         api + "/forks",
		"git_commits_url":   api + "/git/commits{/sha}",
		"git_refs_url":      api + "/git/refs{/sha}",
		"git_tags_url":      api + "/git/tags{/sha}",
		"git_url":           "git://" + strings.TrimPrefix(html, "http://") + ".git",
		"issue_comment_url": api + "/issues/comments{/number}",
		"issue_events_url":  api + "/issues/events{/number}",
		"issues_url":        api + "/issues{/number}",
		"keys_url":          api + "/keys{/key_id}",
		"labels_url":        api + "/labels{/name}",
		"languages_url":     api + "/languages",
		"merges_url":        api + "/merges",
		"milestones_url":    api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"pulls_url":         api + "/pulls{/number}",
		"releases_url":      api + "/releases{/id}",
		"ssh_url":           "git@127.0.0.1:" + fullName + ".git",
		"stargazers_url":    api + "/stargazers",
		"statuses_url":      api + "/statuses/{sha}",
		"subscribers_url":   api + "/subscribers",
		"subscription_url":  api + "/subscription",
		"tags_url":          api + "/tags",
		"teams_url":         api + "/teams",
		"trees_url":         api + "/git/trees{/sha}",
		"clone_url":         html + ".git",
		"mirror_url":        nil,
		"hooks_url":         api + "/hooks",
		"svn_url":           html,
		"homepage":          nil,
		"language":          nil,
		"license":           nil,
		"forks":             0,
		"forks_count":       0,
		"stargazers_count":  0,
		"watchers":          0,
		"watchers_count":    0,
		"size":              0,
		"default_branch":    "main",
		"open_issues":       0,
		"open_issues_count": 0,
		"has_issues":        true,
		"has_projects":      false,
		"has_wiki":          false,
		"has_pages":         false,
		"has_downloads":     false,
		"archived":          false,
		"disabled":          false,
		"visibility":        "private",
		"pushed_at":         created,
		"created_at":        created,
		"updated_at":        created,
	}
}
