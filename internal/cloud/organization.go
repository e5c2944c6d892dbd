package cloud

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// organizationsAPI is the part of Organizations discovery uses.
type organizationsAPI interface {
	organizations.ListAccountsAPIClient
	organizations.ListAccountsForParentAPIClient
	organizations.ListChildrenAPIClient
}

// OrganizationAccounts returns the ids of the ACTIVE accounts of the
// organization cfg's credentials can read (its management account or a
// delegated administrator): those of ous and of their child OUs at any
// depth, or with no ous all of the organization; less exclude; sorted, so
// that the same organization gives the same run whatever order the API
// answers in. An error names the OU it was met in. Finding no account is
// an error too: a run over nothing would report a clean organization.
func OrganizationAccounts(ctx context.Context, cfg aws.Config, ous, exclude []string) ([]string, error) {
	ids, err := organizationAccounts(ctx, organizations.NewFromConfig(cfg), ous, exclude, 0)
	if err == nil && len(ids) == 0 {
		where := "the organization"
		if len(ous) > 0 {
			where = "OU " + strings.Join(ous, ", ")
		}
		err = fmt.Errorf("accounts: organization: no ACTIVE account in %s, less exclude", where)
	}
	return ids, err
}

// organizationAccounts is OrganizationAccounts with pages of at most
// pageSize (0: the API's default), so that tests can make moto page.
func organizationAccounts(ctx context.Context, api organizationsAPI, ous, exclude []string, pageSize int32) ([]string, error) {
	var size *int32
	if pageSize > 0 {
		size = aws.Int32(pageSize)
	}
	found := map[string]bool{}
	add := func(accounts []types.Account) {
		for _, a := range accounts {
			if active(a) && !slices.Contains(exclude, aws.ToString(a.Id)) {
				found[aws.ToString(a.Id)] = true
			}
		}
	}
	if len(ous) == 0 {
		p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{MaxResults: size})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("accounts: organization: list its accounts: %w", err)
			}
			add(page.Accounts)
		}
		return sortedKeys(found), nil
	}
	// Breadth first through each OU's tree; seen keeps an OU inside
	// another of ous from being read twice.
	queue, seen := slices.Clone(ous), map[string]bool{}
	for len(queue) > 0 {
		ou := queue[0]
		queue = queue[1:]
		if seen[ou] {
			continue
		}
		seen[ou] = true
		accounts := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou), MaxResults: size})
		for accounts.HasMorePages() {
			page, err := accounts.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("accounts: organization: list the accounts of OU %s: %w", ou, err)
			}
			add(page.Accounts)
		}
		children := organizations.NewListChildrenPaginator(api, &organizations.ListChildrenInput{ParentId: aws.String(ou),
			ChildType: types.ChildTypeOrganizationalUnit, MaxResults: size})
		for children.HasMorePages() {
			page, err := children.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("accounts: organization: list the child OUs of %s: %w", ou, err)
			}
			for _, c := range page.Children {
				queue = append(queue, aws.ToString(c.Id))
			}
		}
	}
	return sortedKeys(found), nil
}

// active says whether a is ACTIVE: not suspended, closed or pending. State
// replaces Status, which AWS retires; an answer with only Status is read
// by it.
func active(a types.Account) bool {
	if a.State != "" {
		return a.State == types.AccountStateActive
	}
	return a.Status == types.AccountStatusActive
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
