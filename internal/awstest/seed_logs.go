package awstest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// CreateLogGroup creates a CloudWatch Logs log group called name with the
// given tags (none if empty). Its creationTime is moto's clock at the call
// (see Moto.SetClock).
func CreateLogGroup(t testing.TB, cfg aws.Config, name string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}
	if len(tags) > 0 {
		in.Tags = tags
	}
	if _, err := cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, in); err != nil {
		t.Fatalf("awstest: create log group %s: %v", name, err)
	}
}

// PutLogEvent writes one event of message into a new stream of the log
// group, so that the group stores bytes (moto counts the message's
// length; AWS counts compressed archived data, with a delay).
func PutLogEvent(t testing.TB, cfg aws.Config, group, message string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := cloudwatchlogs.NewFromConfig(cfg)
	stream := aws.String("awstest")
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: stream}); err != nil {
		t.Fatalf("awstest: create log stream in %s: %v", group, err)
	}
	_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: stream,
		LogEvents: []logtypes.InputLogEvent{{Message: aws.String(message), Timestamp: aws.Int64(time.Now().UnixMilli())}}})
	if err != nil {
		t.Fatalf("awstest: put log events in %s: %v", group, err)
	}
}

// TagLogGroup adds tags to the log group called name.
func TagLogGroup(t testing.TB, cfg aws.Config, name string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := cloudwatchlogs.NewFromConfig(cfg)
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil || len(out.LogGroups) == 0 || aws.ToString(out.LogGroups[0].LogGroupName) != name {
		t.Fatalf("awstest: find log group %s: %v", name, err)
	}
	if _, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: out.LogGroups[0].LogGroupArn, Tags: tags}); err != nil {
		t.Fatalf("awstest: tag log group %s: %v", name, err)
	}
}

// LogGroups returns the names of the region's log groups.
func LogGroups(t testing.TB, cfg aws.Config) map[string]bool {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out := map[string]bool{}
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(cloudwatchlogs.NewFromConfig(cfg), &cloudwatchlogs.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("awstest: describe log groups: %v", err)
		}
		for _, g := range page.LogGroups {
			out[aws.ToString(g.LogGroupName)] = true
		}
	}
	return out
}
