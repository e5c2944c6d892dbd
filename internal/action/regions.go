package action

import (
	"errors"

	"github.com/broom-dev/broom/internal/config"
)

// homeRegion is where broom connects for regions: all when the SDK's
// region variables name none: a region every commercial account has.
const homeRegion = "us-east-1"

// ResolveRegions falls back to the SDK's region variables when neither the
// file nor a higher layer names regions. With regions: all it sets the one
// region broom connects in (checks the account, asks EC2 for the enabled
// regions, creates an ensure rule's bucket that names no region): the
// SDK's region variables', else us-east-1.
func ResolveRegions(cfg *config.Config, getenv func(string) string) error {
	if len(cfg.Regions) > 0 {
		return nil
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := getenv(k); v != "" {
			cfg.Regions = []string{v}
			return nil
		}
	}
	if cfg.AllRegions {
		cfg.Regions = []string{homeRegion}
		return nil
	}
	return &MisuseError{errors.New("no region: set regions in the config file, --region / the regions input, BROOM_REGIONS or AWS_REGION")}
}
