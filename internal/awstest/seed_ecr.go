package awstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// CreateRepository creates a private ECR repository with the given tags
// (none if empty) and returns its ARN.
func CreateRepository(t testing.TB, cfg aws.Config, name string, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name), Tags: ecrTags(tags)})
	if err != nil {
		t.Fatalf("awstest: create repository %s: %v", name, err)
	}
	return aws.ToString(out.Repository.RepositoryArn)
}

// TagRepository adds tags to the repository name.
func TagRepository(t testing.TB, cfg aws.Config, name string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := ecr.NewFromConfig(cfg)
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil {
		t.Fatalf("awstest: tag repository %s: %v", name, err)
	}
	if _, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: out.Repositories[0].RepositoryArn, Tags: ecrTags(tags)}); err != nil {
		t.Fatalf("awstest: tag repository %s: %v", name, err)
	}
}

func ecrTags(tags map[string]string) []ecrtypes.Tag {
	var out []ecrtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// PushImage puts an image manifest of sizeBytes into repo, tagged tag
// ("" for an untagged image), and returns its id, REPO@DIGEST. Its
// imagePushedAt is moto's clock at the call, to the second (see
// Moto.SetClock). The manifest's one layer is made from layer: moto's
// digest hashes the layers' digests only (SPEC §11), so images that must
// differ need different layers.
func PushImage(t testing.TB, cfg aws.Config, repo, tag, layer string, sizeBytes int64) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	sum := sha256.Sum256([]byte(layer))
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"sha256:%s"},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"sha256:%s"}]}`,
		sizeBytes, hex.EncodeToString(sum[:]), sizeBytes, hex.EncodeToString(sum[:]))
	in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out, err := ecr.NewFromConfig(cfg).PutImage(ctx, in)
	if err != nil {
		t.Fatalf("awstest: push image %s:%s: %v", repo, tag, err)
	}
	return repo + "@" + aws.ToString(out.Image.ImageId.ImageDigest)
}

// ECRImages returns the ids (REPO@DIGEST) of the images in repo, newest
// first as the ecr-image kind orders them: by imagePushedAt, which moto
// keeps to the second, then by digest.
func ECRImages(t testing.TB, cfg aws.Config, repo string) []string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	var details []ecrtypes.ImageDetail
	p := ecr.NewDescribeImagesPaginator(ecr.NewFromConfig(cfg), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("awstest: describe images of %s: %v", repo, err)
		}
		details = append(details, page.ImageDetails...)
	}
	slices.SortFunc(details, func(a, b ecrtypes.ImageDetail) int {
		if c := aws.ToTime(b.ImagePushedAt).Compare(aws.ToTime(a.ImagePushedAt)); c != 0 {
			return c
		}
		return strings.Compare(aws.ToString(a.ImageDigest), aws.ToString(b.ImageDigest))
	})
	out := make([]string, len(details))
	for i, d := range details {
		out[i] = repo + "@" + aws.ToString(d.ImageDigest)
	}
	return out
}
