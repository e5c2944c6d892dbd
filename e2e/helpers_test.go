package e2e

import (
	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

func registerImage(w *world) (image, snapshot string) {
	return awstest.RegisterImage(w.t, w.aws, "golden-image", map[string]string{"Environment": "ci"})
}

func prtestPR(w *world, headRepo string) prtest.PR {
	return prtest.PR{Number: prNumber, Author: author, HeadSHA: headSHA, HeadRepo: headRepo, Title: "Clean up", Labels: w.gh.Labels(prNumber)}
}

func prtestPRWithHead(w *world, sha string) prtest.PR {
	return prtest.PR{Number: prNumber, Author: author, HeadSHA: sha, HeadRepo: repo, Title: "Clean up", Labels: w.gh.Labels(prNumber)}
}
