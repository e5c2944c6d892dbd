package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// CreateOrganization makes cfg's account (AccountID with Config's
// credentials) the management account of a new organization and returns
// its root's id. moto holds one organization per management account until
// Reset.
func CreateOrganization(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := organizations.NewFromConfig(cfg)
	if _, err := c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("awstest: create organization: %v", err)
	}
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("awstest: list the organization's roots: %v, %v", roots, err)
	}
	return aws.ToString(roots.Roots[0].Id)
}

// CreateOU creates an organizational unit under parent (the root or an OU)
// and returns its id.
func CreateOU(t testing.TB, cfg aws.Config, parent, name string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := organizations.NewFromConfig(cfg).CreateOrganizationalUnit(ctx,
		&organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
	if err != nil {
		t.Fatalf("awstest: create OU %s in %s: %v", name, parent, err)
	}
	return aws.ToString(out.OrganizationalUnit.Id)
}

// CreateMemberAccount creates an account in the organization (moto gives it
// a random id), moves it from root to parent unless parent is root, and
// returns its id.
func CreateMemberAccount(t testing.TB, cfg aws.Config, root, parent, name string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := organizations.NewFromConfig(cfg)
	out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
	if err != nil {
		t.Fatalf("awstest: create account %s: %v", name, err)
	}
	id := aws.ToString(out.CreateAccountStatus.AccountId)
	if id == "" {
		t.Fatalf("awstest: create account %s: no account id in %+v", name, out.CreateAccountStatus)
	}
	if parent != root {
		if _, err := c.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id),
			SourceParentId: aws.String(root), DestinationParentId: aws.String(parent)}); err != nil {
			t.Fatalf("awstest: move account %s to %s: %v", id, parent, err)
		}
	}
	return id
}

// CloseAccount closes a member account: moto makes it SUSPENDED at once
// (AWS passes through PENDING_CLOSURE first).
func CloseAccount(t testing.TB, cfg aws.Config, id string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	if _, err := organizations.NewFromConfig(cfg).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)}); err != nil {
		t.Fatalf("awstest: close account %s: %v", id, err)
	}
}
