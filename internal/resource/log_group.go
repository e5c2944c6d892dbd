package resource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/broom-dev/broom/internal/plan"
)

// logsAPI is the part of CloudWatch Logs this kind uses;
// *cloudwatchlogs.Client satisfies it.
type logsAPI interface {
	cloudwatchlogs.DescribeLogGroupsAPIClient
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	DeleteLogGroup(context.Context, *cloudwatchlogs.DeleteLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	TagResource(context.Context, *cloudwatchlogs.TagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error)
}

// logGroups is the log-group kind: CloudWatch Logs log groups, by name
// (unique in an account and region; what protect.ids lists).
//
// Calls: DescribeLogGroups per 50 groups, then ListTagsForResource per
// group that a rule of the listing could act on (there is no batch call).
// A re-read is DescribeLogGroups by name prefix plus the group's tags.
type logGroups struct {
	api    logsAPI
	region string
	ref    string // the run's broom:change, stamped on an updated group
	narrow Narrow
}

var (
	_ Kind      = (*logGroups)(nil)
	_ Converger = (*logGroups)(nil)
)

func newLogGroups(env Env) Kind {
	return &logGroups{api: cloudwatchlogs.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow}
}

// awsOwnedPrefixes are the name prefixes of log groups AWS services make
// for themselves (Lambda, RDS, EKS, API Gateway … under /aws/; Glue's
// jobs and crawlers; RDS Enhanced Monitoring's one group).
var awsOwnedPrefixes = []string{"/aws/", "/aws-glue/", "RDSOSMetrics"}

// List lists the region's log groups.
func (k *logGroups) List(ctx context.Context) ([]plan.Resource, error) {
	var out []plan.Resource
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(k.api, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups: %w", err)
		}
		for _, g := range page.LogGroups {
			r, found, err := k.resource(ctx, g, k.narrow)
			if err != nil {
				return nil, err
			}
			if found {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Get re-reads one group by its name as a prefix: the API lists groups in
// name order, and a name sorts before every longer name it prefixes, so
// the first page holds the group if it exists. (logGroupIdentifiers would
// batch, but moto ignores it, so no test could tell it works.)
func (k *logGroups) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	out, err := k.api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(id)})
	if err != nil {
		return plan.Resource{}, false, fmt.Errorf("describe log group %s: %w", id, err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == id {
			// A re-read ignores the listing's narrowing: it must read tags.
			return k.resource(ctx, g, Narrow{})
		}
	}
	return plan.Resource{}, false, nil
}

// resource reads the group's tags and turns it into a resource; found is
// false when it was deleted meanwhile. Tags are read only where a rule of
// the listing could act: every rule that wants empty groups skips the rest.
func (k *logGroups) resource(ctx context.Context, g logtypes.LogGroup, n Narrow) (plan.Resource, bool, error) {
	r := logGroupResource(g, k.region)
	if want, ok := n.Flags["empty"]; ok && want != r.Flags["empty"] {
		return r, true, nil // no rule of this listing acts on it: no tags to read
	}
	// Tagging calls take the ARN without the trailing :* (LogGroupArn).
	out, err := k.api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.LogGroupArn})
	if isCode(err, "ResourceNotFoundException") {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("list tags of log group %s: %w", r.ID, err)
	}
	r.Tags = out.Tags
	return r, true, nil
}

// logGroupResource is the facts of a described group, without its tags.
func logGroupResource(g logtypes.LogGroup, region string) plan.Resource {
	name, stored := aws.ToString(g.LogGroupName), aws.ToInt64(g.StoredBytes)
	r := plan.Resource{
		ID:      name,
		Name:    name, // its own name, for the name filter
		Flags:   map[string]bool{"empty": stored == 0},
		Details: map[string]string{"stored": formatBytes(stored)},
	}
	if ms := aws.ToInt64(g.CreationTime); ms > 0 {
		r.Created = time.UnixMilli(ms).UTC()
		r.Details["created"] = r.Created.Format("2006-01-02")
	}
	// What an update's set compares: the days, or "never" for a group
	// that keeps its events forever (no value a rule may set, so a rule
	// setting any changes such a group).
	r.Settings = map[string]string{retentionKey: retentionNever}
	if days := aws.ToInt32(g.RetentionInDays); days > 0 {
		r.Details["retention"] = fmt.Sprintf("%d days", days)
		r.Settings[retentionKey] = strconv.Itoa(int(days))
	} else {
		r.Details["retention"] = "never expires"
	}
	for _, p := range awsOwnedPrefixes {
		if strings.HasPrefix(name, p) {
			r.AWSPrefix = p
		}
	}
	if aws.ToBool(g.DeletionProtectionEnabled) {
		r.InUse = "deletion protection enabled"
	}
	// Billed per GB-month (2^30 bytes) of what it stores, compressed.
	r.MonthlyCostUSD = monthly(r.Details, logStoragePrices, region, float64(stored)/(1<<30))
	return r
}

// Converge is an update's change of retention, when the group's differs.
// What it saves is the stored bytes older than the new retention, which
// DescribeLogGroups does not tell: unknown, not none.
func (k *logGroups) Converge(r plan.Resource, set map[string]string) Converged {
	if r.Settings[retentionKey] == set[retentionKey] {
		return Converged{}
	}
	return Converged{Change: map[string]string{retentionKey: set[retentionKey]}, SavingUnknown: true}
}

// Do deletes the log group and everything it stores, or sets its
// retention (update).
func (k *logGroups) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Update:
		return k.setRetention(ctx, a)
	case plan.Delete:
	default:
		return fmt.Errorf("log-group cannot %s", a.Op)
	}
	_, err := k.api.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(a.ID)})
	if isCode(err, "ResourceNotFoundException") {
		return fmt.Errorf("delete log group %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete log group %s: %w", a.ID, err)
	}
	return nil
}

// setRetention sets the group's retention to the update's change, then
// stamps it with broom:change. The engine has re-read the group and judged
// the change again just before.
func (k *logGroups) setRetention(ctx context.Context, a plan.Action) error {
	days, err := strconv.Atoi(a.Change[retentionKey])
	if err != nil {
		return fmt.Errorf("set retention of log group %s: %s %q: %w", a.ID, retentionKey, a.Change[retentionKey], err)
	}
	_, err = k.api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(a.ID), RetentionInDays: aws.Int32(int32(days))})
	if isCode(err, "ResourceNotFoundException") {
		return fmt.Errorf("set retention of log group %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("set retention of log group %s: %w", a.ID, err)
	}
	arn, err := k.arn(ctx, a.ID)
	if err == nil {
		_, err = k.api.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{changeTag: k.ref}})
	}
	if err != nil {
		return fmt.Errorf("set retention of log group %s, but could not tag it %s: %w", a.ID, changeTag, err)
	}
	return nil
}

// arn is the ARN tagging calls take for the named group: its LogGroupArn,
// without the trailing :* of its Arn.
func (k *logGroups) arn(ctx context.Context, name string) (string, error) {
	out, err := k.api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		return "", err
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == name {
			return aws.ToString(g.LogGroupArn), nil
		}
	}
	return "", ErrGone
}

// formatBytes writes a size for people: "0 B", "512 B", "1.5 MiB".
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// logGroupSpec is the kind's registry entry.
var logGroupSpec = Spec{
	Name: "log-group",
	New:  newLogGroups,
	Actions: map[string][]string{
		"delete": {"empty", "older-than", "tags", "name"},
		"update": {"empty", "older-than", "tags", "name", "set"},
	},
	// update: the retention, in one of the days CloudWatch Logs accepts.
	Sets: map[string][]Setting{"update": {{Key: retentionKey, Values: retentionDays, Required: true}}},
	IAM: map[string]Access{
		"delete": {
			Plan: []Grant{readLogGroups},
			// Only on groups with the rule's where-tags (aws:ResourceTag, which
			// CloudWatch Logs evaluates for log-group resources).
			Apply: []Grant{{Sid: "DeleteLogGroups", Actions: []string{"logs:DeleteLogGroup"},
				Resources: []string{arnLogGroup}, RuleResourceTags: true}},
		},
		// The updated group gets broom:change alone; DescribeLogGroups finds
		// the ARN that TagResource takes.
		"update": {
			Plan: []Grant{readLogGroups},
			Apply: []Grant{
				{Sid: "SetLogGroupRetention", Actions: []string{"logs:PutRetentionPolicy"}, Resources: []string{arnLogGroup}, RuleResourceTags: true},
				{Sid: "StampUpdatedLogGroups", Actions: []string{"logs:TagResource"}, Resources: []string{arnLogGroup},
					Condition: Condition{"Null": stampedRequest["Null"], "ForAllValues:StringEquals": {"aws:TagKeys": {changeTag}}}},
			},
		},
	},
}

var readLogGroups = Grant{Sid: "ReadLogGroups", Resources: []string{"*"},
	Actions: []string{"logs:DescribeLogGroups", "logs:ListTagsForResource"}}

const arnLogGroup = "arn:aws:logs:*:*:log-group:*"

// retentionKey is the update's setting; retentionNever its value for a
// group whose events never expire.
const retentionKey, retentionNever = "retention-days", "never"

// retentionDays are the retentions CloudWatch Logs accepts
// (PutRetentionPolicy, RetentionInDays).
var retentionDays = []string{"1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365",
	"400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"}

// logStoragePrices is per GB-month of stored (archived) log data,
// "Store (Archival)" in the Amazon CloudWatch price list, Logs tab
// (aws.amazon.com/cloudwatch/pricing), written down 2026-12-04 without a
// live look, as no machine here reaches it. Ingestion ($0.50 per GB in
// us-east-1) is what a group costs while written to, not what deleting it
// saves.
var logStoragePrices = regionPrices{"us-east-1": 0.03, "us-east-2": 0.03, "us-west-2": 0.03}
