package resource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/broom-dev/broom/internal/plan"
)

// s3BucketAPI is the part of S3 this kind uses; *s3.Client satisfies it.
type s3BucketAPI interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
}

type s3Buckets struct {
	api     s3BucketAPI
	region  string
	account string // the account broom works in; empty when unknown
	tags    map[string]string
	ref     string
}

func (k *s3Buckets) owner() *string {
	if k.account == "" {
		return nil
	}
	return aws.String(k.account)
}

var (
	_ Kind    = (*s3Buckets)(nil)
	_ Ensurer = (*s3Buckets)(nil)
)

func newS3Buckets(env Env) Kind {
	return &s3Buckets{api: s3.NewFromConfig(env.AWS), region: env.AWS.Region, account: env.Account, tags: env.Tags, ref: env.Change}
}

// ErrForeign means the named resource exists but is not the account's own:
// broom never takes it over.
var ErrForeign = errors.New("exists and belongs to another account (or broom may not read it); broom never takes it over")

// tagPrefix marks tags in a create or update action's change.
const tagPrefix = "tag:"

// List is empty: buckets are only ensured, named by their rule.
func (k *s3Buckets) List(context.Context) ([]plan.Resource, error) { return nil, nil }

// Get says whether the bucket exists and is the account's, with its tags
// (for protect).
func (k *s3Buckets) Get(ctx context.Context, name string) (plan.Resource, bool, error) {
	r := plan.Resource{ID: name, Name: name}
	ok, err := k.exists(ctx, name)
	if !ok || err != nil {
		return r, ok, err
	}
	r.Tags, err = k.bucketTags(ctx, name)
	return r, err == nil, err
}

func (k *s3Buckets) exists(ctx context.Context, name string) (bool, error) {
	// ExpectedBucketOwner makes S3 refuse a bucket of another account even
	// when its policy would let broom in.
	_, err := k.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: k.owner()})
	var re *awshttp.ResponseError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound:
		return false, nil
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
		return false, fmt.Errorf("bucket %s: %w", name, ErrForeign)
	}
	return false, fmt.Errorf("head bucket %s: %w", name, err)
}

// Ensure plans the create of a missing bucket (with every setting and tag
// in one action, so nothing can run before the bucket exists), or one
// update per setting that differs. The config's tags go only on a bucket
// broom creates: an existing one may not be broom's, and they would
// mislabel it (SPEC §1); an update stamps broom:change alone.
func (k *s3Buckets) Ensure(ctx context.Context, d Desired) ([]plan.Action, plan.Resource, error) {
	now := plan.Resource{ID: d.Name, Name: d.Name}
	ok, err := k.exists(ctx, d.Name)
	if err != nil {
		return nil, now, err
	}
	if !ok {
		change := map[string]string{}
		for s, v := range d.Settings {
			change[s] = v
		}
		for t, v := range d.Tags {
			change[tagPrefix+t] = v
		}
		return []plan.Action{{Op: plan.Create, ID: d.Name, Name: d.Name, Change: change,
			Reason: "bucket does not exist", Details: map[string]string{"settings": describeChange(change)}}}, now, nil
	}
	var out []plan.Action
	for _, s := range sortedKeys(d.Settings) {
		have, err := k.setting(ctx, d.Name, s)
		if err != nil {
			return nil, now, err
		}
		if have != d.Settings[s] {
			out = append(out, plan.Action{Op: plan.Update, ID: d.Name, Name: s, Change: map[string]string{s: d.Settings[s]},
				Reason: fmt.Sprintf("%s is %s, want %s", s, have, d.Settings[s])})
		}
	}
	if len(out) > 0 {
		// Read after the settings, as a re-read for protect would be.
		if now.Tags, err = k.bucketTags(ctx, d.Name); err != nil {
			return nil, now, err
		}
	}
	return out, now, nil
}

// Do creates the bucket and converges it, or converges one setting.
func (k *s3Buckets) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Create:
		created, err := k.create(ctx, a.ID)
		if err != nil {
			return err
		}
		return k.converge(ctx, a.ID, a.Change, created)
	case plan.Update:
		return k.converge(ctx, a.ID, a.Change, false)
	}
	return fmt.Errorf("s3-bucket cannot %s", a.Op)
}

// create makes the bucket unless it already is the account's (a re-run of
// the same plan), and says whether it made it.
func (k *s3Buckets) create(ctx context.Context, name string) (bool, error) {
	if ok, err := k.exists(ctx, name); ok || err != nil {
		return false, err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if k.region != "us-east-1" { // us-east-1 refuses its own name as a constraint
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(k.region)}
	}
	_, err := k.api.CreateBucket(ctx, in)
	switch {
	case err == nil:
		return true, nil
	case isCode(err, "BucketAlreadyOwnedByYou"): // a race with ourselves
		return false, nil
	case isCode(err, "BucketAlreadyExists"):
		return false, fmt.Errorf("create bucket %s: %w", name, ErrForeign)
	}
	return false, fmt.Errorf("create bucket %s: %w", name, err)
}

// converge writes each setting and the tags in change that differ now,
// then stamps broom:change on the bucket: what broom creates or modifies
// carries it (SPEC §1). Without any difference it reports ErrConverged
// (unless just created) and writes nothing, so a missing or older
// broom:change alone is never a difference.
func (k *s3Buckets) converge(ctx context.Context, name string, change map[string]string, created bool) error {
	wrote := created
	tags := map[string]string{}
	for _, key := range sortedKeys(change) {
		want := change[key]
		if t, ok := strings.CutPrefix(key, tagPrefix); ok {
			tags[t] = want
			continue
		}
		have, err := k.setting(ctx, name, key)
		if err != nil {
			return err
		}
		if have == want {
			continue
		}
		if err := k.put(ctx, name, key, want); err != nil {
			return err
		}
		wrote = true
	}
	var have map[string]string
	if len(tags) > 0 || wrote {
		var err error
		if have, err = k.bucketTags(ctx, name); err != nil {
			return err
		}
	}
	if !wrote && len(tagDiff(tags, have)) == 0 {
		return fmt.Errorf("bucket %s: %w", name, ErrConverged)
	}
	// PutBucketTagging replaces the whole set: keep what is there, add the
	// change's tags (a create's: the config's) and the stamp.
	for t, v := range tags {
		have[t] = v
	}
	have[changeTag] = k.ref
	return k.putTags(ctx, name, have)
}

// setting reads one setting as a config value: versioning and
// block-public-access are "true" or "false", encryption the algorithm.
func (k *s3Buckets) setting(ctx context.Context, name, key string) (string, error) {
	b := aws.String(name)
	switch key {
	case "versioning":
		out, err := k.api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err != nil {
			return "", fmt.Errorf("get versioning of %s: %w", name, err)
		}
		return fmt.Sprint(out.Status == s3types.BucketVersioningStatusEnabled), nil
	case "block-public-access":
		out, err := k.api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		if isCode(err, "NoSuchPublicAccessBlockConfiguration") {
			return "false", nil
		}
		if err != nil {
			return "", fmt.Errorf("get public access block of %s: %w", name, err)
		}
		c := out.PublicAccessBlockConfiguration
		all := c != nil && aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.IgnorePublicAcls) && aws.ToBool(c.RestrictPublicBuckets)
		return fmt.Sprint(all), nil
	case "encryption":
		out, err := k.api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
			return "none", nil
		}
		if err != nil {
			return "", fmt.Errorf("get encryption of %s: %w", name, err)
		}
		if c := out.ServerSideEncryptionConfiguration; c != nil && len(c.Rules) > 0 && c.Rules[0].ApplyServerSideEncryptionByDefault != nil {
			return string(c.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm), nil
		}
		return "none", nil
	}
	return "", fmt.Errorf("unknown bucket setting %q", key)
}

func (k *s3Buckets) put(ctx context.Context, name, key, want string) error {
	b := aws.String(name)
	var err error
	switch key {
	case "versioning":
		status := s3types.BucketVersioningStatusSuspended
		if want == "true" {
			status = s3types.BucketVersioningStatusEnabled
		}
		_, err = k.api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: status}})
	case "block-public-access":
		on := aws.Bool(want == "true")
		_, err = k.api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b,
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: on, BlockPublicPolicy: on, IgnorePublicAcls: on, RestrictPublicBuckets: on}})
	case "encryption":
		_, err = k.api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(want)}}}}})
	default:
		err = fmt.Errorf("unknown bucket setting %q", key)
	}
	if err != nil {
		return fmt.Errorf("set %s of %s to %s: %w", key, name, want, err)
	}
	return nil
}

func (k *s3Buckets) bucketTags(ctx context.Context, name string) (map[string]string, error) {
	out, err := k.api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if isCode(err, "NoSuchTagSet", "NoSuchTagSetError") {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get tags of %s: %w", name, err)
	}
	m := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

func (k *s3Buckets) putTags(ctx context.Context, name string, tags map[string]string) error {
	set := make([]s3types.Tag, 0, len(tags))
	for _, t := range sortedKeys(tags) {
		set = append(set, s3types.Tag{Key: aws.String(t), Value: aws.String(tags[t])})
	}
	_, err := k.api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: set}})
	if err != nil {
		return fmt.Errorf("tag bucket %s: %w", name, err)
	}
	return nil
}

// tagDiff returns the tags of want that have differs on; broom:change alone
// is never a difference.
func tagDiff(want, have map[string]string) map[string]string {
	out := map[string]string{}
	for t, v := range want {
		if t != changeTag && have[t] != v {
			out[t] = v
		}
	}
	return out
}

func describeChange(change map[string]string) string {
	parts := make([]string, 0, len(change))
	for _, k := range sortedKeys(change) {
		parts = append(parts, k+"="+change[k])
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// s3BucketSpec is the kind's registry entry. Its grants are on the rule's
// bucket. No condition narrows them: S3 evaluates aws:RequestTag only on
// CreateBucket, whose request carries no tags here (they are written after,
// with PutBucketTagging).
var s3BucketSpec = Spec{
	Name:    "s3-bucket",
	New:     newS3Buckets,
	Actions: map[string][]string{"ensure": {"bucket", "region", "settings"}},
	IAM: func() map[string]Access {
		read := func(actions ...string) Grant { return Grant{Sid: "ReadBucket", Actions: actions, PerBucket: true} }
		write := func(actions ...string) Grant { return Grant{Sid: "WriteBucket", Actions: actions, PerBucket: true} }
		// A setting that differs plans an update, and planning reads the
		// bucket's tags for protect. Applying reads them to merge the tags
		// it writes: the config's on a create, broom:change on every write.
		setting := func(get, put string) Access {
			return Access{Plan: []Grant{read(get, "s3:GetBucketTagging")}, Apply: []Grant{write(put)}}
		}
		return map[string]Access{
			"ensure": {
				Plan:  []Grant{read("s3:ListBucket")}, // HeadBucket needs s3:ListBucket
				Apply: []Grant{read("s3:GetBucketTagging"), write("s3:CreateBucket", "s3:PutBucketTagging")},
				With: map[string]Access{
					"versioning":          setting("s3:GetBucketVersioning", "s3:PutBucketVersioning"),
					"block-public-access": setting("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
					"encryption":          setting("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
				},
			},
		}
	}(),
	// S3's IAM actions are not named as its API operations are.
	IAMNames: map[string][]string{
		"s3:HeadBucket":           {"s3:ListBucket"},
		"s3:GetPublicAccessBlock": {"s3:GetBucketPublicAccessBlock"},
		"s3:PutPublicAccessBlock": {"s3:PutBucketPublicAccessBlock"},
		"s3:GetBucketEncryption":  {"s3:GetEncryptionConfiguration"},
		"s3:PutBucketEncryption":  {"s3:PutEncryptionConfiguration"},
	},
}
