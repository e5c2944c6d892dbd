package resource

// Monthly prices estimate what a deletion saves, in USD. Each kind's file
// holds its price table, from the public AWS price lists; this file looks a
// price up by region. A region missing from a table uses the us-east-1
// price, and the report says so.

// regionPrices is a price per unit by region.
type regionPrices map[string]float64

const fallbackRegion = "us-east-1"

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

// monthly is what quantity units cost a month at p's price for region.
// Where that is the us-east-1 price standing in, details["price"] says so.
func monthly(details map[string]string, p regionPrices, region string, quantity float64) float64 {
	usd, note := price(p, region)
	if note != "" {
		details["price"] = note
	}
	return quantity * usd
}
