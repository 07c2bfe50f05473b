package store_test

import (
	"testing"
	"time"

	"github.com/atrium-dev/atrium/store"
)

// encodeSession encodes session data the way scs does, signed in as user.
func encodeSession(t *testing.T, user *store.User) []byte {
	t.Helper()
	b, err := store.SessionCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{store.SessionUserKey: user.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
