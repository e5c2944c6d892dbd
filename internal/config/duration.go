package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var (
	ageUnits     = map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	timeoutUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour}
)

// ParseAge reads an age filter: a whole number and one unit, h (hours),
// d (days) or w (weeks), e.g. "30d". Minutes are refused: "6m" meant as six
// months would match almost everything.
func ParseAge(s string) (time.Duration, error) {
	return parseUnits(s, ageUnits, "h, d, w), e.g. 30d")
}

// ParseDuration reads a timeout: a whole number and s, m or h, e.g. "15m".
func ParseDuration(s string) (time.Duration, error) {
	return parseUnits(s, timeoutUnits, "s, m, h), e.g. 15m")
}

func parseUnits(s string, units map[byte]time.Duration, hint string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("bad duration %q: want a whole number and a unit (%s", s, hint)
	if len(s) < 2 || s[0] < '0' || s[0] > '9' {
		return 0, bad
	}
	unit := units[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if unit == 0 || err != nil || n > math.MaxInt64/int64(unit) {
		return 0, bad
	}
	return time.Duration(n) * unit, nil
}

// FormatAge writes a duration in the largest whole unit a config would use.
func FormatAge(d time.Duration) string {
	switch day := 24 * time.Hour; {
	case d%(7*day) == 0 && d >= 7*day:
		return fmt.Sprintf("%dw", d/(7*day))
	case d%day == 0 && d >= day:
		return fmt.Sprintf("%dd", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
