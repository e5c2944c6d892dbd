package awstest

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// CreateDBInstance creates a small PostgreSQL DB instance named id with
// sizeGiB of allocated storage. moto also makes an automated snapshot of
// it (SPEC §11), which DBSnapshots lists with the manual ones.
func CreateDBInstance(t testing.TB, cfg aws.Config, id string, sizeGiB int32) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBInstanceClass:      aws.String("db.t3.micro"),
		Engine:               aws.String("postgres"),
		AllocatedStorage:     aws.Int32(sizeGiB),
		MasterUsername:       aws.String("broom"),
		MasterUserPassword:   aws.String("not-a-secret-1"),
	})
	if err != nil {
		t.Fatalf("awstest: create db instance %s: %v", id, err)
	}
}

// CreateDBSnapshot takes a manual snapshot named id of the DB instance
// with the given tags (none if empty). Its SnapshotCreateTime is moto's
// clock at the call (see Moto.SetClock).
func CreateDBSnapshot(t testing.TB, cfg aws.Config, instance, id string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := rds.NewFromConfig(cfg).CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(instance),
		DBSnapshotIdentifier: aws.String(id),
		Tags:                 RDSTags(tags),
	})
	if err != nil {
		t.Fatalf("awstest: create db snapshot %s of %s: %v", id, instance, err)
	}
}

// ShareDBSnapshot lets accounts (account ids, or "all" for public) restore
// the DB snapshot id.
func ShareDBSnapshot(t testing.TB, cfg aws.Config, id string, accounts ...string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := rds.NewFromConfig(cfg).ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{
		DBSnapshotIdentifier: aws.String(id),
		AttributeName:        aws.String("restore"),
		ValuesToAdd:          accounts,
	})
	if err != nil {
		t.Fatalf("awstest: share db snapshot %s with %v: %v", id, accounts, err)
	}
}

// TagDBSnapshot adds tags to the DB snapshot id, overwriting values of
// the same keys.
func TagDBSnapshot(t testing.TB, cfg aws.Config, id string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := rds.NewFromConfig(cfg)
	snap, ok := dbSnapshots(t, c, id)[id]
	if !ok {
		t.Fatalf("awstest: tag db snapshot %s: no such snapshot", id)
	}
	_, err := c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: snap.DBSnapshotArn, Tags: RDSTags(tags)})
	if err != nil {
		t.Fatalf("awstest: tag db snapshot %s: %v", id, err)
	}
}

// DBSnapshots returns the region's DB snapshots, manual and automated,
// by identifier.
func DBSnapshots(t testing.TB, cfg aws.Config) map[string]rdstypes.DBSnapshot {
	t.Helper()
	return dbSnapshots(t, rds.NewFromConfig(cfg))
}

// dbSnapshots lists DB snapshots, only those named ids if any are given.
func dbSnapshots(t testing.TB, c *rds.Client, ids ...string) map[string]rdstypes.DBSnapshot {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &rds.DescribeDBSnapshotsInput{}
	if len(ids) > 0 {
		in.Filters = []rdstypes.Filter{{Name: aws.String("db-snapshot-id"), Values: ids}}
	}
	out := map[string]rdstypes.DBSnapshot{}
	p := rds.NewDescribeDBSnapshotsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("awstest: describe db snapshots: %v", err)
		}
		for _, s := range page.DBSnapshots {
			out[aws.ToString(s.DBSnapshotIdentifier)] = s
		}
	}
	return out
}

// RDSTags turns a tag map into RDS tags, sorted by key; nil if empty.
func RDSTags(tags map[string]string) []rdstypes.Tag {
	var out []rdstypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, rdstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
