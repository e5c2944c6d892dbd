package cli

import (
	"os"
	"testing"

	"github.com/broom-dev/broom/internal/testenv"
)

// TestMain reports, in one line, the tests skipped for a missing moto
// (see internal/testenv).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
