package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium"
)

func liveCache(max int) *entryCache {
	c := newEntryCache(max)
	c.heardProbe(time.Now())
	return c
}

func memberEntry(slug string, tenant, user uuid.UUID) *Entry {
	return &Entry{Tenant: atrium.Tenant{ID: tenant, Slug: slug}, Session: []byte("{}"),
		Member: &Member{ID: uuid.New(), UserID: user, Role: "member"}}
}

func TestEntryCacheKeeps(t *testing.T) {
	tenant, user := uuid.New(), uuid.New()
	hour := time.Now().Add(time.Hour)

	t.Run("OnlyLiveSessions", func(t *testing.T) {
		c := liveCache(10)
		e := memberEntry("acme", tenant, user)
		e.Session = nil
		c.put([]byte("h"), e, hour, c.generation())
		if len(c.byHash) != 0 {
			t.Fatal("kept an entry without a session")
		}
		// Without a member: kept, indexed by its organization only.
		e = memberEntry("acme", tenant, user)
		e.Member = nil
		c.put([]byte("n"), e, hour, c.generation())
		if got, ok := c.get("acme", []byte("n")); !ok || got.Member != nil || len(c.byUser) != 0 {
			t.Fatalf("a non-member's entry: %+v, %v, users indexed: %d", got, ok, len(c.byUser))
		}
		c.drop(&change{tenants: []uuid.UUID{tenant}})
		if len(c.byHash) != 0 || len(c.byTenant) != 0 {
			t.Fatal("the organization's notice left a non-member's entry")
		}
	})
	t.Run("NotPastTheSessionsExpiry", func(t *testing.T) {
		c := liveCache(10)
		c.put([]byte("h"), memberEntry("acme", tenant, user), time.Now().Add(-time.Second), c.generation())
		if _, ok := c.get("acme", []byte("h")); ok {
			t.Fatal("answered with an expired session")
		}
	})
	t.Run("NotPastMaxAge", func(t *testing.T) {
		c := liveCache(10)
		c.put([]byte("h"), memberEntry("acme", tenant, user), hour, c.generation())
		c.byHash["h"].stored = time.Now().Add(-2 * c.maxAge)
		if _, ok := c.get("acme", []byte("h")); ok {
			t.Fatal("answered with an entry older than maxAge")
		}
	})
	t.Run("NotAfterAnInvalidationDuringTheRead", func(t *testing.T) {
		c := liveCache(10)
		gen := c.generation()
		c.drop(&change{users: []uuid.UUID{uuid.New()}}) // any notice, while the read was out
		c.put([]byte("h"), memberEntry("acme", tenant, user), hour, gen)
		if len(c.byHash) != 0 {
			t.Fatal("kept an answer that may predate a change")
		}
	})
	t.Run("NotWhileDeaf", func(t *testing.T) {
		c := liveCache(10)
		c.put([]byte("h"), memberEntry("acme", tenant, user), hour, c.generation())
		c.deaf()
		if _, ok := c.get("acme", []byte("h")); ok || len(c.byHash) != 0 {
			t.Fatal("a deaf cache answered or kept entries")
		}
		c.put([]byte("h"), memberEntry("acme", tenant, user), hour, c.generation())
		if len(c.byHash) != 0 {
			t.Fatal("a deaf cache took an entry")
		}
		c.heardProbe(time.Now().Add(-2 * probeWindow)) // heard long ago
		if _, ok := c.get("acme", []byte("h")); ok || c.live(time.Now()) {
			t.Fatal("a cache that has not heard a probe for a while is live")
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		c := liveCache(3)
		for i := range 10 {
			c.put(fmt.Appendf(nil, "h%d", i), memberEntry("acme", tenant, uuid.New()), hour, c.generation())
		}
		if len(c.byHash) != 3 || len(c.byUser) != 3 || len(c.byTenant[tenant]) != 3 {
			t.Fatalf("sizes %d, %d, %d; want 3", len(c.byHash), len(c.byUser), len(c.byTenant[tenant]))
		}
	})
}

func TestEntryCacheDrops(t *testing.T) {
	t1, t2, u1, u2, o1, o2 := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	slugs := map[string]string{"a": "one", "b": "one", "c": "two", "d": "two"}
	fill := func() *entryCache {
		c := liveCache(10)
		hour := time.Now().Add(time.Hour)
		c.put([]byte("a"), memberEntry("one", t1, u1), hour, c.generation())
		c.put([]byte("b"), memberEntry("one", t1, u2), hour, c.generation())
		c.put([]byte("c"), memberEntry("two", t2, u1), hour, c.generation())
		c.put([]byte("d"), memberEntry("two", t2, u2), hour, c.generation())
		// Operators' console entries: "e" and "f".
		c.putConsole([]byte("e"), &ConsoleEntry{Session: []byte("{}"), Operator: &Operator{ID: o1}}, hour, c.generation())
		c.putConsole([]byte("f"), &ConsoleEntry{Session: []byte("{}"), Operator: &Operator{ID: o2}}, hour, c.generation())
		return c
	}
	for _, tc := range []struct {
		payload string
		left    string
	}{
		{"s:" + fmt.Sprintf("%x", "a"), "bcdef"},
		{"s:" + fmt.Sprintf("%x", "e"), "abcdf"},
		{"t:" + t1.String(), "cdef"},
		{"u:" + u1.String(), "bdef"},
		{"o:" + o1.String(), "abcdf"},
		{"*", ""},
		{"t:not-a-uuid", ""}, // not understood: everything goes
		{"o:not-a-uuid", ""},
		{"x:whatever", ""},
		{"a:" + t1.String(), "abcdef"}, // an audit log's new event: no entry goes
		{"a:not-a-uuid", ""},
	} {
		c := fill()
		c.drop(parseChange(tc.payload))
		var left string
		for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
			_, member := c.get(slugs[k], []byte(k))
			_, operator := c.getConsole([]byte(k))
			if member && operator {
				t.Fatalf("%q is kept as both kinds of entry", k)
			}
			if member || operator {
				left += k
			}
		}
		if left != tc.left {
			t.Errorf("after %q: %q left, want %q", tc.payload, left, tc.left)
		}
	}
}

// TestOrgKept covers the bounds and bookkeeping of what is kept per
// organization: at most max organizations and max members in all, the
// count of members right through drops, nothing kept after an invalidation
// during the read, nothing past maxAge.
func TestOrgKept(t *testing.T) {
	count := func(c *entryCache) int {
		n := 0
		for _, o := range c.orgs {
			n += len(o.members) + len(o.invites)
		}
		return n
	}
	keepMember := func(c *entryCache, tenant uuid.UUID, gen uint64, m *Member) {
		keepOrgKeyed(c, tenant, gen, membersAt, m.ID, cloneMember, m)
	}
	member := func(c *entryCache, tenant, id uuid.UUID) (*Member, bool) {
		return orgKeyedRead(c, tenant, members, id, cloneMember)
	}
	c := liveCache(3)
	tenants := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for i := range 10 {
		tenant := tenants[i%len(tenants)]
		if i%2 == 0 {
			keepMember(c, tenant, c.generation(), &Member{ID: uuid.New(), Name: fmt.Sprint(i)})
		} else {
			keepOrgKeyed(c, tenant, c.generation(), invitesAt, fmt.Sprint(i), cloneInvite, keptInvite{invite: &Invite{}})
		}
		if len(c.orgs) > 3 || c.orgKeyed > 3 || c.orgKeyed != count(c) {
			t.Fatalf("after %d reads: %d organizations, %d counted, %d kept", i+1, len(c.orgs), c.orgKeyed, count(c))
		}
	}
	for _, id := range tenants {
		c.drop(&change{tenants: []uuid.UUID{id}})
		if c.orgKeyed != count(c) {
			t.Fatalf("after a drop: %d counted, %d kept", c.orgKeyed, count(c))
		}
	}

	m := &Member{ID: uuid.New(), Permissions: []string{"audit.read"}}
	gen := c.generation()
	c.drop(&change{users: []uuid.UUID{uuid.New()}}) // any notice, while the read was out
	keepMember(c, tenants[0], gen, m)
	keepOrgRead(c, tenants[0], gen, pickRoles, cloneRoles, []Role{{Name: "r"}})
	if _, ok := member(c, tenants[0], m.ID); ok {
		t.Fatal("kept a member read before an invalidation")
	}
	if _, ok := orgRead(c, tenants[0], pickRoles, cloneRoles); ok {
		t.Fatal("kept roles read before an invalidation")
	}

	keepMember(c, tenants[0], c.generation(), m)
	m.Permissions[0] = "scribbled" // the caller's, not the cache's
	got, ok := member(c, tenants[0], m.ID)
	if !ok || got.Permissions[0] != "audit.read" {
		t.Fatalf("kept member: %+v, %v", got, ok)
	}
	got.Permissions[0] = "scribbled"
	if again, _ := member(c, tenants[0], m.ID); again.Permissions[0] != "audit.read" {
		t.Fatal("an answer shares the cache's permissions")
	}
	k := c.orgs[tenants[0]].members[m.ID]
	k.stored = time.Now().Add(-2 * c.maxAge)
	c.orgs[tenants[0]].members[m.ID] = k
	if _, ok := member(c, tenants[0], m.ID); ok {
		t.Fatal("answered with a member older than maxAge")
	}
}

// TestAuditPages covers the bounds of the kept pages of audit logs: at
// most auditPages, only of the size asked for, nothing kept after a list's
// invalidation during the read, and a page of one organization dropped
// by its log's notice alone.
func TestAuditPages(t *testing.T) {
	t1, t2 := uuid.New(), uuid.New()
	page := []AuditEvent{{ID: 1, Action: "test.one"}}
	c := liveCache(100) // one page
	c.keepAuditPage(t1, c.generation(), c.listGeneration(), 50, page)
	if _, ok := c.auditPage(t1, 50); !ok {
		t.Fatal("the page is not kept")
	}
	if _, ok := c.auditPage(t1, 10); ok {
		t.Fatal("a page of 50 answered for one of 10")
	}
	c.keepAuditPage(t2, c.generation(), c.listGeneration(), 50, page)
	if _, ok1 := c.auditPage(t1, 50); ok1 || len(c.audit) != 1 {
		t.Fatalf("%d pages kept, want 1", len(c.audit))
	}
	gen, listGen := c.generation(), c.listGeneration()
	c.drop(parseChange("a:" + t2.String()))
	if _, ok := c.auditPage(t2, 50); ok {
		t.Fatal("the log's notice left its page")
	}
	c.keepAuditPage(t1, gen, listGen, 50, page)
	if _, ok := c.auditPage(t1, 50); ok {
		t.Fatal("a page read before a log's notice was kept")
	}
}
