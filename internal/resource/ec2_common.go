package resource

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ec2TagAPI is the call every EC2 kind's tag action makes.
type ec2TagAPI interface {
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// tagEC2 writes a tag action's change plus the broom:change stamp. Only the
// tags that differed at plan time are in the change: CreateTags adds or
// overwrites those and leaves the others.
func tagEC2(ctx context.Context, api ec2TagAPI, id string, change map[string]string, ref string) error {
	if len(change) == 0 {
		return fmt.Errorf("tag %s: %w", id, ErrConverged)
	}
	tags := map[string]string{changeTag: ref}
	for k, v := range change {
		tags[k] = v
	}
	_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(tags)})
	if err != nil {
		return fmt.Errorf("tag %s: %w", id, err)
	}
	return nil
}

// changeTag is the tag broom stamps with the PR or run that made a change.
const changeTag = "broom:change"

// ec2Tags turns a map into EC2 tags in key order, so requests are stable.
func ec2Tags(m map[string]string) []types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, len(keys))
	for i, k := range keys {
		out[i] = types.Tag{Key: aws.String(k), Value: aws.String(m[k])}
	}
	return out
}

// stamped returns tags plus the broom:change stamp: what broom creates.
func stamped(tags map[string]string, ref string) map[string]string {
	out := map[string]string{changeTag: ref}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// isCode reports whether err is an AWS API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	for _, c := range codes {
		if apiErr.ErrorCode() == c {
			return true
		}
	}
	return false
}

// byFilter is the one-filter list used to re-read resources by id: unlike
// the id parameters, a filter leaves a missing id out of the answer instead
// of failing the whole call.
func byFilter(name string, values ...string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: values}}
}

// naming is how an error names the resources a re-read asked for.
func naming(one, many string, ids []string) string {
	if len(ids) == 1 {
		return one + " " + ids[0]
	}
	return fmt.Sprintf("%d %s", len(ids), many)
}
