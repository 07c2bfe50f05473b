package handlers_test

import (
	"testing"

	"github.com/atrium-dev/atrium/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
