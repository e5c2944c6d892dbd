package resource

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ecrAPI is the part of ECR this kind uses; *ecr.Client satisfies it.
type ecrAPI interface {
	ecr.DescribeRepositoriesAPIClient
	ecr.DescribeImagesAPIClient
	ListTagsForResource(context.Context, *ecr.ListTagsForResourceInput, ...func(*ecr.Options)) (*ecr.ListTagsForResourceOutput, error)
	BatchDeleteImage(context.Context, *ecr.BatchDeleteImageInput, ...func(*ecr.Options)) (*ecr.BatchDeleteImageOutput, error)
}

// ecrImages is the ecr-image kind: the images of the account's private
// repositories, by REPO@DIGEST (what protect.ids lists). Images have no
// AWS tags of their own, so an image carries its repository's: the tags
// filter and protect.tags judge the repository.
//
// Each image's place in its repository (plan.Resource.Newer) is a fact for
// keep-last, so a listing and a re-read read whole repositories. N is the
// rule's, so policy compares the two: one listing serves every rule of the
// kind, and two rules may keep different numbers.
//
// Calls: DescribeRepositories per 1000 repositories; per repository
// ListTagsForResource (1) and, when the listing's tags let it through,
// DescribeImages per 1000 images. A re-read is the same for the
// repositories of its ids (DescribeRepositories by name). A delete is one
// BatchDeleteImage of one image: the engine re-checks and records each
// action on its own, and batching them would need a hook in it.
type ecrImages struct {
	api    ecrAPI
	region string
	narrow Narrow
}

var (
	_ Kind         = (*ecrImages)(nil)
	_ Rereader     = (*ecrImages)(nil)
	_ BatchDeleter = (*ecrImages)(nil)
)

func newECRImages(env Env) Kind {
	return &ecrImages{api: ecr.NewFromConfig(env.AWS), region: env.AWS.Region, narrow: env.Narrow}
}

// List lists every image of every repository.
func (k *ecrImages) List(ctx context.Context) ([]plan.Resource, error) {
	return k.repositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1000)})
}

// Get re-reads one image.
func (k *ecrImages) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads the repositories of ids, whole: an image's rank among
// the newest is only known with its neighbours.
func (k *ecrImages) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	repos := map[string]bool{}
	for _, id := range ids {
		if repo, _, ok := splitImageID(id); ok {
			repos[repo] = true
		}
	}
	// A re-read ignores the listing's narrowing: what it leaves out would
	// read as gone, and a delete of it as already done.
	whole := *k
	whole.narrow = Narrow{}
	out := map[string]plan.Resource{}
	for _, repo := range slices.Sorted(maps.Keys(repos)) {
		// One name a call: AWS fails the whole call for one missing name.
		rs, err := whole.repositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if slices.Contains(ids, r.ID) {
				out[r.ID] = r
			}
		}
	}
	return out, nil
}

// splitImageID splits REPO@DIGEST; a repository name has no '@'.
func splitImageID(id string) (repo, digest string, ok bool) {
	repo, digest, ok = strings.Cut(id, "@")
	return repo, digest, ok && repo != "" && digest != ""
}

// repositories describes repositories and lists their images; a
// repository gone meanwhile has none.
func (k *ecrImages) repositories(ctx context.Context, in *ecr.DescribeRepositoriesInput) ([]plan.Resource, error) {
	var out []plan.Resource
	p := ecr.NewDescribeRepositoriesPaginator(k.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isCode(err, "RepositoryNotFoundException") {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("describe repositories: %w", err)
		}
		for _, repo := range page.Repositories {
			rs, err := k.images(ctx, repo)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
	}
	return out, nil
}

// images lists one repository's images, newest first, with its tags.
func (k *ecrImages) images(ctx context.Context, repo ecrtypes.Repository) ([]plan.Resource, error) {
	name := aws.ToString(repo.RepositoryName)
	tout, err := k.api.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repo.RepositoryArn})
	if isCode(err, "RepositoryNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list tags of repository %s: %w", name, err)
	}
	tags := map[string]string{}
	for _, t := range tout.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !admitsTags(k.narrow, tags) {
		return nil, nil // ECR cannot filter by tag: this spares reading its images
	}
	var details []ecrtypes.ImageDetail
	p := ecr.NewDescribeImagesPaginator(k.api, &ecr.DescribeImagesInput{RepositoryName: repo.RepositoryName, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isCode(err, "RepositoryNotFoundException") {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("describe images of repository %s: %w", name, err)
		}
		details = append(details, page.ImageDetails...)
	}
	newestFirst(details)
	out := make([]plan.Resource, len(details))
	for i, d := range details {
		out[i] = ecrImageResource(name, d, maps.Clone(tags), i, k.region)
	}
	return out, nil
}

// newestFirst sorts images by push time, newest first; the digest orders
// images pushed in the same instant, so that a plan and its re-read agree.
func newestFirst(details []ecrtypes.ImageDetail) {
	slices.SortFunc(details, func(a, b ecrtypes.ImageDetail) int {
		if c := aws.ToTime(b.ImagePushedAt).Compare(aws.ToTime(a.ImagePushedAt)); c != 0 {
			return c
		}
		return cmp.Compare(aws.ToString(a.ImageDigest), aws.ToString(b.ImageDigest))
	})
}

// admitsTags says whether tags have every tag the narrowing requires.
func admitsTags(n Narrow, tags map[string]string) bool {
	for key, v := range n.Tags {
		if got, ok := tags[key]; !ok || (v != "*" && got != v) {
			return false
		}
	}
	return true
}

func ecrImageResource(repo string, d ecrtypes.ImageDetail, tags map[string]string, newer int, region string) plan.Resource {
	imageTags := slices.Sorted(slices.Values(d.ImageTags))
	r := plan.Resource{
		ID:         repo + "@" + aws.ToString(d.ImageDigest),
		Name:       repo,
		Created:    aws.ToTime(d.ImagePushedAt),
		Tags:       tags,
		Flags:      map[string]bool{"untagged": len(imageTags) == 0},
		Repository: repo,
		Newer:      newer,
		Details:    map[string]string{"repository": repo},
	}
	if len(imageTags) > 0 {
		r.Name = repo + ":" + imageTags[0]
		r.Details["image tags"] = strings.Join(imageTags, ", ")
	}
	if !r.Created.IsZero() {
		r.Details["pushed"] = r.Created.UTC().Format("2006-01-02")
	}
	size := aws.ToInt64(d.ImageSizeInBytes)
	r.Details["size"] = fmt.Sprintf("%.1f MiB", float64(size)/(1<<20))
	// Layers shared with other images are stored once, so this is an
	// upper bound of what deleting the image saves.
	r.MonthlyCostUSD = monthly(r.Details, ecrStoragePrices, region, float64(size)/(1<<30))
	return r
}

// Do deletes the image.
func (k *ecrImages) Do(ctx context.Context, a plan.Action) error {
	return k.DeleteMany(ctx, []plan.Action{a})[a.ID]
}

// BatchKey is the image's repository: one BatchDeleteImage deletes
// images of one repository.
func (k *ecrImages) BatchKey(a plan.Action) string {
	repo, _, ok := splitImageID(a.ID)
	if !ok || a.Op != plan.Delete {
		return ""
	}
	return repo
}

// DeleteMany deletes images of one repository by digest with one
// BatchDeleteImage, which answers each image that it did not delete in its
// failures (a missing one as ImageNotFound), not as an error.
func (k *ecrImages) DeleteMany(ctx context.Context, actions []plan.Action) map[string]error {
	out := map[string]error{}
	sent := map[string]bool{} // by id
	var repo string
	var ids []ecrtypes.ImageIdentifier
	for _, a := range actions {
		r, digest, ok := splitImageID(a.ID)
		switch {
		case a.Op != plan.Delete:
			out[a.ID] = fmt.Errorf("ecr-image cannot %s", a.Op)
		case !ok:
			out[a.ID] = fmt.Errorf("delete image %s: not REPOSITORY@DIGEST", a.ID)
		case repo != "" && r != repo:
			out[a.ID] = fmt.Errorf("delete image %s: not in %s, the repository of its batch", a.ID, repo)
		case !sent[a.ID]: // an id listed twice is asked for once
			repo, sent[a.ID] = r, true
			ids = append(ids, ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)})
			// Deleted unless among the failures. (The answer's imageIds
			// are no proof: moto lists one per image tag, none for an
			// untagged image.)
			out[a.ID] = nil
		}
	}
	if len(ids) == 0 {
		return out
	}
	res, err := k.api.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: ids})
	if err != nil {
		if isCode(err, "RepositoryNotFoundException") {
			err = ErrGone
		}
		for _, id := range ids {
			full := repo + "@" + aws.ToString(id.ImageDigest)
			out[full] = fmt.Errorf("delete image %s: %w", full, err)
		}
		return out
	}
	for _, f := range res.Failures {
		full := repo + "@"
		if f.ImageId != nil {
			full += aws.ToString(f.ImageId.ImageDigest)
		}
		if !sent[full] && len(ids) == 1 { // one asked for: the failure is its
			full = repo + "@" + aws.ToString(ids[0].ImageDigest)
		}
		if !sent[full] {
			continue
		}
		if f.FailureCode == ecrtypes.ImageFailureCodeImageNotFound {
			out[full] = fmt.Errorf("delete image %s: %w", full, ErrGone)
		} else {
			out[full] = fmt.Errorf("delete image %s: %s: %s", full, f.FailureCode, aws.ToString(f.FailureReason))
		}
	}
	return out
}

// ecrImageSpec is the kind's registry entry.
var ecrImageSpec = Spec{
	Name:    "ecr-image",
	New:     newECRImages,
	Actions: map[string][]string{"delete": {"repository", "untagged", "older-than", "keep-last", "tags"}},
	IAM: map[string]Access{"delete": {
		Plan: []Grant{{Sid: "ReadECR", Resources: []string{"*"}, Actions: []string{
			"ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListTagsForResource",
		}}},
		// Only in repositories with the rule's where-tags (aws:ResourceTag).
		Apply: []Grant{{Sid: "DeleteECRImages", Actions: []string{"ecr:BatchDeleteImage"},
			Resources: []string{"arn:aws:ecr:*:*:repository/*"}, RuleResourceTags: true}},
	}},
}

// ecrStoragePrices is per GB-month (GiB, as AWS bills storage) of private
// repository storage (Amazon ECR price list, aws.amazon.com/ecr/pricing,
// "Storage": $0.10 in every region; written down 2026-12-04 without a live
// look, as no machine here reaches it). Data transfer is not counted.
var ecrStoragePrices = regionPrices{"us-east-1": 0.10}
