package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old manual RDS snapshot is deleted; moto's automated one (SPEC §11),
// a shared one, a protected one and a young one stay.
func TestKindLifecycleRDSSnapshot(t *testing.T) {
	w := newWorld(t)
	w.moto.SetClock("-400d")
	awstest.CreateDBInstance(t, w.aws, "orders", 20)
	for _, id := range []string{"old", "shared", "kept"} {
		awstest.CreateDBSnapshot(t, w.aws, "orders", id, nil)
	}
	w.moto.SetClock("+0")
	awstest.ShareDBSnapshot(t, w.aws, "shared", "210987654321")
	awstest.TagDBSnapshot(t, w.aws, "kept", map[string]string{"broom:keep": "yes"})
	awstest.CreateDBSnapshot(t, w.aws, "orders", "young", nil)
	var automated string
	for id, s := range awstest.DBSnapshots(t, w.aws) {
		if aws.ToString(s.SnapshotType) == "automated" {
			automated = id
		}
	}
	if automated == "" {
		t.Fatal("moto made no automated snapshot of the instance")
	}

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: old-db-snapshots
    resource: rds-snapshot
    action: delete
    where: {older-than: 30d}
`, 1)
	if !strings.Contains(plan.summary, "shared with 210987654321") {
		t.Errorf("the plan does not say why shared is left alone:\n%s", plan.summary)
	}

	left := awstest.DBSnapshots(t, w.aws)
	for _, id := range []string{automated, "shared", "kept", "young"} {
		if _, ok := left[id]; !ok {
			t.Errorf("snapshot %s was deleted, want it kept", id)
		}
	}
	if _, ok := left["old"]; ok {
		t.Error("snapshot old is still there, want it deleted")
	}
}
