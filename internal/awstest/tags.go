package awstest

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TagMap builds a tag map from key, value pairs:
// TagMap("Environment", "ci", "Name", "nightly"). With no pairs it is an
// empty map, not nil. An odd number of arguments is a mistake in the test
// and panics.
func TagMap(kv ...string) map[string]string {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("awstest: TagMap of an odd number of strings: %q", kv))
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// EC2Tags turns a tag map into EC2 tags, sorted by key.
func EC2Tags(tags map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// Tags turns EC2 tags into a map, for comparing in tests.
func Tags(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, tag := range tags {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

// Tag adds tags to the EC2 resource id (a volume, snapshot, image,
// address, …) with CreateTags, overwriting values of the same keys.
func Tag(t testing.TB, cfg aws.Config, id string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: EC2Tags(tags)})
	if err != nil {
		t.Fatalf("awstest: tag %s: %v", id, err)
	}
}

// TagsOf reads the tags of the EC2 resource id back with DescribeTags
// (filter resource-id); an untagged or missing resource has none.
func TagsOf(t testing.TB, cfg aws.Config, id string) map[string]string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeTags(ctx, &ec2.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("resource-id"), Values: []string{id}}},
	})
	if err != nil {
		t.Fatalf("awstest: describe tags of %s: %v", id, err)
	}
	m := map[string]string{}
	for _, td := range out.Tags {
		m[aws.ToString(td.Key)] = aws.ToString(td.Value)
	}
	return m
}

// TagBucket replaces the tag set of bucket (PutBucketTagging) with tags;
// cfg's region must be the bucket's.
func TagBucket(t testing.TB, cfg aws.Config, bucket string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	set := make([]s3types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := s3.NewFromConfig(cfg).PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket: aws.String(bucket), Tagging: &s3types.Tagging{TagSet: set},
	})
	if err != nil {
		t.Fatalf("awstest: tag bucket %s: %v", bucket, err)
	}
}
