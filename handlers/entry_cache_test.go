package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// TestPageViewsKeepEntryCache walks every page a member can open (each GET
// route under /o/:org with a permission) and checks that opening it leaves
// the viewer's cached entry alone: a page that reads through a write transaction
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

	for _, p := range pages {
		wantEntryKept(t, s, owner, p, func() { wantStatus(t, owner.Get(p), http.StatusOK) })
	}
}

// wantEntryKept checks that do leaves viewer's cached entry alone (at
// once, or through a notification SyncChanges waits for): viewer's next
// view of page, with the entry cached before do, must hit the cache. The
// cache forgets everything when its watcher misses a probe (a lapse),
// which a loaded machine can cause: a try with a lapse in it proves
// nothing, so it is made again.
func wantEntryKept(t *testing.T, s *apptest.Server, viewer *apptest.Client, page string, do func()) {
	t.Helper()
	for range 3 {
		// Changes made before (the test's setup) may still be on their way
		// to the cache, and would drop the entry about to be cached.
		s.SyncChanges(t)
		wantStatus(t, viewer.Get(page), http.StatusOK) // caches the entry
		do()
		s.SyncChanges(t)
		before := s.DB.EntryCacheStats()
		wantStatus(t, viewer.Get(page), http.StatusOK)
		after := s.DB.EntryCacheStats()
		if after.Lapses != before.Lapses {
			continue
		}
		if after.Misses != before.Misses || after.Hits == before.Hits {
			t.Errorf("%s: the viewer's cached entry was dropped (the next view of %s missed the cache)", t.Name(), page)
		}
		return
	}
	t.Fatalf("%s: the entry cache lapsed in every try", t.Name())
}

// TestLinkViewsKeepEntryCache: the pages a visitor opens in an organization
// (its login page, an invitation link, the join link) read it without
// changing it, so the members' cached entries stay.
func TestLinkViewsKeepEntryCache(t *testing.T) {
	t.Parallel()
	s, owner, _ := membersFixture(t)
	for _, link := range []string{
		"/o/crew/login",
		invite(t, s, owner, "crew", "guest@example.org", "member"),
		enableJoinLink(t, s, owner, "example.org"),
	} {
		wantEntryKept(t, s, owner, "/o/crew/", func() { wantStatus(t, s.Client(t).Get(link), http.StatusOK) })
	}
}

// TestDashboardCountFollowsMembers: the dashboard's member count comes from
// the viewer's cached entry, so a member joining must reach it at once when
// this server adds them, and through the notice when another server (here
// a write straight to the database) does.
func TestDashboardCountFollowsMembers(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "count", "Count", "owner@count.test", "count-password")
	owner := s.Client(t)
	owner.Login("count", "owner@count.test", "count-password")
	count := func() string {
		t.Helper()
		res := owner.Get("/o/count/")
		wantStatus(t, res, http.StatusOK)
		return res.Text("[data-testid=member-count]")
	}
	s.SyncChanges(t)
	if got := count(); got != "1" {
		t.Fatalf("member count %q, want 1", got)
	}
	if got := count(); got != "1" { // now from the cache
		t.Fatalf("member count %q, want 1", got)
	}

	s.AddMember(t, "count", "second@count.test", "Second", "count-password", "member")
	if got := count(); got != "2" {
		t.Fatalf("after this server added a member: %q, want 2", got)
	}

	conn := s.DB.OwnerConn(t)
	if _, err := conn.Exec(context.Background(), `
		SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'count'), false);
		WITH u AS (INSERT INTO users (email, name, password_hash) VALUES ('third@count.test', 'Third', 'x') RETURNING id)
		INSERT INTO memberships (tenant_id, user_id, role) SELECT current_setting('app.tenant_id')::uuid, id, 'member' FROM u`); err != nil {
		t.Fatal(err)
	}
	s.SyncChanges(t)
	if got := count(); got != "3" {
		t.Fatalf("after another server added a member: %q, want 3", got)
	}
}
