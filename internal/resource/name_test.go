package resource_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/resource"
)

// TestNameFilterMoto plans name rules against moto: an EC2 kind's name is
// its Name tag, a security group's its group name (or its Name tag).
func TestNameFilterMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	cfg := m.Config(t, cfRegion)
	az := cfRegion + "a"
	ciCache, prodDB := awstest.CreateVolume(t, cfg, 8, az), awstest.CreateVolume(t, cfg, 8, az)
	awstest.CreateVolume(t, cfg, 8, az) // unnamed
	awstest.Tag(t, cfg, ciCache, map[string]string{"Name": "ci-cache"})
	awstest.Tag(t, cfg, prodDB, map[string]string{"Name": "prod-db"})
	webOld := awstest.CreateSecurityGroup(t, cfg, "web-old", nil)
	tagged := awstest.CreateSecurityGroup(t, cfg, "api", map[string]string{"Name": "web-tagged"})
	awstest.CreateSecurityGroup(t, cfg, "api-new", nil)

	load := func(_ context.Context, account, region string) (aws.Config, error) {
		if account != cfAccount || region != cfRegion {
			return aws.Config{}, fmt.Errorf("load: unexpected account %q, region %q", account, region)
		}
		return cfg.Copy(), nil
	}
	e := engine.New(slog.New(slog.DiscardHandler), load)
	text := "version: 1\nregions: [" + cfRegion + "]\nrules:\n" +
		"  - name: ci-volumes\n    resource: ebs-volume\n    action: delete\n    where: {name: \"ci-*\"}\n" +
		"  - name: web-groups\n    resource: security-group\n    action: delete\n    where: {name: \"web-*\"}\n"
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Plan(t.Context(), config.Config{File: f}, cfAccount)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	got := map[string]string{}
	for _, a := range res.Plan.Actions {
		got[a.ID] = a.Reason
	}
	// Not prodDB (its Name tag differs), unnamed, or api-new.
	want := map[string]string{ciCache: "name matches ci-*", webOld: "name matches web-*", tagged: "name matches web-*"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
}
