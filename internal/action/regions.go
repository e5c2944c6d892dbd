package action

import (
	"errors"

	"github.com/broom-dev/broom/internal/config"
)

// ResolveRegions falls back to the SDK's region variables when neither the
// file nor a higher layer names regions.
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
	return &MisuseError{errors.New("no region: set regions in the config file, --region / the regions input, BROOM_REGIONS or AWS_REGION")}
}
