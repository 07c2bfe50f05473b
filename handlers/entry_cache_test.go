package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// TestPageViewsKeepEntryCache walks every page a member can open (each GET
// route under /o/:org with a permission) and checks that opening it leaves
// the entry cache alone: a page that reads through a write transaction
// counts as a change to the tenant and drops every member's cached entry,
// so each view costs the next request of everyone in the organization a
// trip through enter_tenant.
func TestPageViewsKeepEntryCache(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "keep", "Keep", "owner@keep.test", "keep-password")
	s.AddMember(t, "keep", "mem@keep.test", "Mo Member", "keep-password", "member")
	memID := memberByEmail(t, s, "keep", "mem@keep.test").ID.String()
	owner := s.Client(t)
	owner.Login("keep", "owner@keep.test", "keep-password")

	perms := s.App.RoutePermissions()
	var pages []string
	for _, r := range s.App.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if _, guarded := perms[r]; !guarded || method != http.MethodGet {
			continue
		}
		path = strings.Replace(path, ":org", "keep", 1)
		pages = append(pages, strings.Replace(path, ":id", memID, 1))
	}
	if len(pages) < 8 {
		t.Fatalf("only %d member pages found; the walk is broken", len(pages))
	}

	get := func(p string) {
		t.Helper()
		if res := owner.Get(p); res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
	}
	// Each page is opened twice: if the first view dropped the owner's
	// entry (at once, or through a notification SyncChanges waits for),
	// the second misses. The cache forgets everything when its watcher
	// misses a probe (a lapse), which a loaded machine can cause: a pair
	// with a lapse in it proves nothing, so it is tried again.
	for _, p := range pages {
		for try := 0; ; try++ {
			if try == 3 {
				t.Fatalf("GET %s: the entry cache lapsed in every try", p)
			}
			get(p)
			s.SyncChanges(t)
			before := s.DB.EntryCacheStats()
			get(p)
			after := s.DB.EntryCacheStats()
			if after.Lapses != before.Lapses {
				continue
			}
			if after.Misses != before.Misses || after.Hits == before.Hits {
				t.Errorf("GET %s drops the viewer's cached entry: the next view missed the cache", p)
			}
			break
		}
	}
}
