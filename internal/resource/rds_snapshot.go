package resource

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/broom-dev/broom/internal/plan"
)

// rdsSnapshotAPI is the part of RDS this kind uses; *rds.Client satisfies it.
type rdsSnapshotAPI interface {
	rds.DescribeDBSnapshotsAPIClient
	DescribeDBSnapshotAttributes(context.Context, *rds.DescribeDBSnapshotAttributesInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error)
	DeleteDBSnapshot(context.Context, *rds.DeleteDBSnapshotInput, ...func(*rds.Options)) (*rds.DeleteDBSnapshotOutput, error)
	AddTagsToResource(context.Context, *rds.AddTagsToResourceInput, ...func(*rds.Options)) (*rds.AddTagsToResourceOutput, error)
}

// rdsSnapshots is the account's manual DB instance snapshots in a region,
// by DBSnapshotIdentifier (what protect.ids lists). Automated ones belong
// to their instance's retention and are never listed.
type rdsSnapshots struct {
	api    rdsSnapshotAPI
	region string
	ref    string // broom:change
}

var (
	_ Kind     = (*rdsSnapshots)(nil)
	_ Rereader = (*rdsSnapshots)(nil)
)

func newRDSSnapshots(env Env) Kind {
	return &rdsSnapshots{api: rds.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change}
}

// List lists the manual snapshots, asked of the API by type. RDS has no
// tag filter for snapshots, so Narrow is of no use here.
func (k *rdsSnapshots) List(ctx context.Context) ([]plan.Resource, error) {
	return k.describe(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")}, "describe db snapshots")
}

// Get re-reads one snapshot and whom it is shared with now.
func (k *rdsSnapshots) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads snapshots with one filtered DescribeDBSnapshots, then
// each one's sharing. No SnapshotType: an id that names an automated snapshot is read
// as one, and vetoed.
func (k *rdsSnapshots) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	found, err := k.describe(ctx, &rds.DescribeDBSnapshotsInput{Filters: snapshotIDs(ids...)}, "describe "+naming("db snapshot", "db snapshots", ids))
	if err != nil {
		return nil, err
	}
	out := make(map[string]plan.Resource, len(found))
	for _, r := range found {
		out[r.ID] = r
	}
	return out, nil
}

// snapshotIDs filters by identifier: unlike DBSnapshotIdentifier, a
// filter leaves a missing id out of the answer instead of failing.
func snapshotIDs(ids ...string) []rdstypes.Filter {
	return []rdstypes.Filter{{Name: aws.String("db-snapshot-id"), Values: ids}}
}

// describe pages through DescribeDBSnapshots and reads each manual
// snapshot's sharing (there is no batch call for it).
func (k *rdsSnapshots) describe(ctx context.Context, in *rds.DescribeDBSnapshotsInput, what string) ([]plan.Resource, error) {
	in.MaxRecords = aws.Int32(100)
	var out []plan.Resource
	p := rds.NewDescribeDBSnapshotsPaginator(k.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		for _, s := range page.DBSnapshots {
			var shared []string
			if aws.ToString(s.SnapshotType) == "manual" { // only manual ones can be shared
				var gone bool
				if shared, gone, err = k.sharedWith(ctx, aws.ToString(s.DBSnapshotIdentifier)); err != nil {
					return nil, err
				}
				if gone { // deleted since the page was read
					continue
				}
			}
			out = append(out, rdsSnapshotResource(s, shared, k.region))
		}
	}
	return out, nil
}

// sharedWith returns the accounts (or "all") that may restore the snapshot.
func (k *rdsSnapshots) sharedWith(ctx context.Context, id string) (accounts []string, gone bool, err error) {
	out, err := k.api.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: aws.String(id)})
	if isCode(err, "DBSnapshotNotFound") {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("describe attributes of db snapshot %s: %w", id, err)
	}
	if r := out.DBSnapshotAttributesResult; r != nil {
		for _, a := range r.DBSnapshotAttributes {
			if aws.ToString(a.AttributeName) == "restore" {
				accounts = append(accounts, a.AttributeValues...)
			}
		}
	}
	return accounts, false, nil
}

// Do deletes or tags the snapshot.
func (k *rdsSnapshots) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return k.tag(ctx, a.ID, a.Change)
	case plan.Delete:
	default:
		return fmt.Errorf("rds-snapshot cannot %s", a.Op)
	}
	_, err := k.api.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(a.ID)})
	if isCode(err, "DBSnapshotNotFound") {
		return fmt.Errorf("delete db snapshot %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete db snapshot %s: %w", a.ID, err)
	}
	return nil
}

// tag writes the change plus the broom:change stamp. RDS tags by ARN,
// which it tells with the snapshot (its partition and account are not
// the kind's to guess).
func (k *rdsSnapshots) tag(ctx context.Context, id string, change map[string]string) error {
	if len(change) == 0 {
		return fmt.Errorf("tag db snapshot %s: %w", id, ErrConverged)
	}
	out, err := k.api.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{Filters: snapshotIDs(id)})
	if err != nil {
		return fmt.Errorf("tag db snapshot %s: %w", id, err)
	}
	if len(out.DBSnapshots) == 0 {
		return fmt.Errorf("tag db snapshot %s: %w", id, ErrGone)
	}
	all := stamped(change, k.ref)
	var tags []rdstypes.Tag
	for _, t := range sortedKeys(all) {
		tags = append(tags, rdstypes.Tag{Key: aws.String(t), Value: aws.String(all[t])})
	}
	_, err = k.api.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: out.DBSnapshots[0].DBSnapshotArn, Tags: tags})
	if isCode(err, "DBSnapshotNotFound") {
		return fmt.Errorf("tag db snapshot %s: %w", id, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("tag db snapshot %s: %w", id, err)
	}
	return nil
}

func rdsSnapshotResource(s rdstypes.DBSnapshot, shared []string, region string) plan.Resource {
	id := aws.ToString(s.DBSnapshotIdentifier)
	r := plan.Resource{
		ID:      id,
		Name:    id, // its own name, for the name filter (which also reads the Name tag)
		Created: aws.ToTime(s.SnapshotCreateTime),
		Tags:    make(map[string]string, len(s.TagList)),
		Details: map[string]string{
			"size":     fmt.Sprintf("%d GiB", aws.ToInt32(s.AllocatedStorage)),
			"instance": aws.ToString(s.DBInstanceIdentifier),
			"engine":   aws.ToString(s.Engine),
		},
	}
	for _, t := range s.TagList {
		r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !r.Created.IsZero() {
		r.Details["created"] = r.Created.UTC().Format("2006-01-02")
	}
	if len(shared) > 0 {
		r.Details["shared with"] = strings.Join(shared, ", ")
	}
	// Allocated storage is the instance's, not what the snapshot holds:
	// snapshots are incremental, and RDS gives backup storage up to the
	// instance's size free, so this is an upper bound of the saving.
	r.MonthlyCostUSD = monthly(r.Details, rdsSnapshotPrices, region, float64(aws.ToInt32(s.AllocatedStorage)))
	typ, status := aws.ToString(s.SnapshotType), aws.ToString(s.Status)
	switch {
	case typ == "awsbackup" || hasTagPrefix(r.Tags, "aws:backup:"):
		r.InUse = "managed by AWS Backup"
	case typ != "manual":
		r.InUse = typ + " snapshot, kept by RDS for its instance"
	case len(shared) > 0:
		r.InUse = "shared with " + r.Details["shared with"]
	case status != "available":
		r.InUse = "status " + status + ", not available"
	}
	return r
}

// rdsSnapshotSpec is the kind's registry entry.
var rdsSnapshotSpec = Spec{
	Name:    "rds-snapshot",
	New:     newRDSSnapshots,
	Actions: map[string][]string{"delete": {"older-than", "tags", "name"}, "tag": tagDated},
	IAM: func() map[string]Access {
		// Listing names no snapshot, so it is granted on every resource.
		list := Grant{Sid: "ReadRDS", Actions: []string{"rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"}, Resources: []string{"*"}}
		return map[string]Access{
			// DeleteDBSnapshot takes resource tags as conditions: refuse
			// AWS Backup's snapshots in IAM too.
			"delete": {Plan: []Grant{list}, Apply: []Grant{{Sid: "DeleteDBSnapshots", Actions: []string{"rds:DeleteDBSnapshot"}, Resources: []string{arnDBSnapshot},
				Condition: Condition{"Null": {"aws:ResourceTag/aws:backup:source-resource": {"true"}}}, RuleResourceTags: true}}},
			"tag": {Plan: []Grant{list}, Apply: []Grant{{Sid: "TagDBSnapshots", Actions: []string{"rds:AddTagsToResource"}, Resources: []string{arnDBSnapshot},
				Condition: stampedRequest, RuleTagKeys: true}}},
		}
	}(),
}

// arnDBSnapshot is every DB instance snapshot.
const arnDBSnapshot = "arn:aws:rds:*:*:snapshot:*"

// rdsSnapshotPrices is per GiB-month of RDS backup storage beyond the free
// allowance, for MySQL, MariaDB, PostgreSQL, Oracle and SQL Server (Amazon
// RDS price list, "Backup storage", 2026-12-04). Priced by the instance's
// allocated storage, an upper bound: see rdsSnapshotResource.
var rdsSnapshotPrices = regionPrices{"us-east-1": 0.095, "us-east-2": 0.095, "us-west-2": 0.095}
