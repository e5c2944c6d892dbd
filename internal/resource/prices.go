package resource

// Monthly prices used to estimate what a deletion saves, in USD, from the
// public Amazon EBS and Amazon VPC (public IPv4) price lists as of
// 2026-11-25. They are estimates: a snapshot is billed for its changed
// blocks only, so the figure for a snapshot (full size × price) is an upper
// bound. A region missing here uses the us-east-1 price, and the report
// says so.

// regionPrices is a price per unit by region.
type regionPrices map[string]float64

const fallbackRegion = "us-east-1"

var (
	// snapshotPrices is per GiB-month of standard-tier snapshot storage.
	snapshotPrices = regionPrices{"us-east-1": 0.05, "us-east-2": 0.05, "us-west-2": 0.05, "eu-west-1": 0.05, "eu-central-1": 0.054}
	// volumePrices is per GiB-month of provisioned volume, by volume type.
	volumePrices = map[string]regionPrices{
		"gp3":      {"us-east-1": 0.08, "us-east-2": 0.08, "us-west-2": 0.08, "eu-west-1": 0.088, "eu-central-1": 0.0952},
		"gp2":      {"us-east-1": 0.10, "us-east-2": 0.10, "us-west-2": 0.10, "eu-west-1": 0.11, "eu-central-1": 0.119},
		"io1":      {"us-east-1": 0.125, "us-east-2": 0.125, "us-west-2": 0.125, "eu-west-1": 0.138, "eu-central-1": 0.149},
		"io2":      {"us-east-1": 0.125, "us-east-2": 0.125, "us-west-2": 0.125, "eu-west-1": 0.138, "eu-central-1": 0.149},
		"st1":      {"us-east-1": 0.045, "us-east-2": 0.045, "us-west-2": 0.045, "eu-west-1": 0.05, "eu-central-1": 0.054},
		"sc1":      {"us-east-1": 0.015, "us-east-2": 0.015, "us-west-2": 0.015, "eu-west-1": 0.0168, "eu-central-1": 0.018},
		"standard": {"us-east-1": 0.05, "us-east-2": 0.05, "us-west-2": 0.05, "eu-west-1": 0.055, "eu-central-1": 0.059},
	}
	// addressPrices is per month (730 hours) of a public IPv4 address at
	// $0.005 an hour, the same in every region.
	addressPrices = regionPrices{"us-east-1": 3.65}
)

// price returns the price for region, or the us-east-1 price and a note
// saying so when the region (or the whole table) has none.
func price(p regionPrices, region string) (float64, string) {
	if v, ok := p[region]; ok {
		return v, ""
	}
	if v, ok := p[fallbackRegion]; ok {
		if region == "" || len(p) == 1 { // one price everywhere: nothing to say
			return v, ""
		}
		return v, "us-east-1 price (none listed for " + region + ")"
	}
	return 0, ""
}
