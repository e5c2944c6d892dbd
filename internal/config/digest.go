package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Digest is the lowercase hex SHA-256 of the canonical JSON of what decides
// a run's plan: the report id, regions, the selected rules, protect, tags,
// the accounts, allowed-accounts and max-actions. Shards of one run must
// share it, and an apply shard must be run with the config its plan was
// made with. Settings that only say how the run goes (shard, merge,
// approved, mode, token, logs, timeout, AWS tuning) are not in it.
func Digest(c Config) string {
	rules := make([]Rule, len(c.Selected()))
	for i, r := range c.Selected() {
		r.Line = 0 // where the rule is written does not change the plan
		rules[i] = r
	}
	v := struct {
		ID              string
		Regions         []string
		AllRegions      bool
		Rules           []Rule
		Protect         Protect
		Tags            map[string]string
		Accounts        []Account
		Organization    *Organization
		AllowedAccounts []string
		MaxActions      int
	}{c.ID, c.Regions, c.AllRegions, rules, c.Protect, c.Tags, c.Accounts, c.Organization, c.AllowedAccounts, c.MaxActions}
	b, err := json.Marshal(v) // maps marshal with sorted keys, so this is canonical
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
