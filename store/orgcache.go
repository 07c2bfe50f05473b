package store

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// orgKept is what the entry cache keeps of one organization as a whole,
// for pages that show nothing else from the database: each read is kept
// once per organization, not per session, and answers with no statement
// until it is dropped. Everything read here lives in tables whose every
// change announces the organization on atrium_entry ("t:"): its own row
// (slug, name, deletion and the rest an entry shows; migrations 00012,
// 00015 and 00021), its roles (migrations 00012 and 00022), its
// memberships (an update or delete by their own trigger, an insert or
// delete through the tenant row's member count, migration 00015; a user's
// new name or email reaches their memberships' copies, migration 00017),
// its join link (migration 00022) and its invitations (updates and deletes
// by 00022, new ones by 00023). Like the entries, a kept read answers
// only while the cache is live and for at most maxAge; a read made in a
// transaction is never kept (Batch.cache).
type orgKept struct {
	// tenant is the organization's row as a visitor's page or the
	// console's page of it finds it by slug (entryCache.bySlug); its
	// changes announce it themselves.
	tenant   kept[registryRow]
	joinLink kept[*JoinLink] // nil: the organization has none
	roles    kept[[]Role]    // with their member counts
	// openInvites are its invitations neither accepted nor revoked, as the
	// members page lists them.
	openInvites kept[[]Invite]
	// members are members read by id (a member's page), each with their
	// custom role, and invites invitations read by their link's token hash
	// (the invitation page), each with whether an account has its address;
	// what is read and not found is not kept. The cache keeps at most max
	// of these in all (entryCache.orgKeyed).
	members map[uuid.UUID]kept[*Member]
	invites map[string]kept[keptInvite]
	// sessions are members' lists of their live sessions, by user (their
	// account's sessions page), dropped with any session in them (its
	// notice, entryCache.listOf) or with a session that becomes the user's
	// ("l:", migration 00022).
	sessions map[uuid.UUID]keptSessions
}

// registryRow is an organization's row in the registry as kept by slug.
type registryRow struct {
	Tenant
	RequireMFA bool
}

// entry is the row as the tenant of an entry.
func (r registryRow) entry() atrium.Tenant {
	return atrium.Tenant{ID: r.ID, Slug: r.Slug, Name: r.Name, RequireMFA: r.RequireMFA}
}

// sessionList names a member's list of their sessions in an organization.
type sessionList struct{ tenant, user uuid.UUID }

// keptSessions is a kept list of sessions, none marked current, with each
// session's token hash.
type keptSessions struct {
	list   []Session
	hashes [][]byte
	stored time.Time
}

// kept is one kept read: its answer, and when it was stored (zero: never).
type kept[T any] struct {
	v      T
	stored time.Time
}

// orgRead returns a copy (through clone) of the read of tenant that pick
// selects, if one is kept and fresh.
func orgRead[T any](c *entryCache, tenant uuid.UUID, pick func(*orgKept) *kept[T], clone func(T) T) (T, bool) {
	var v T
	ok := c.readOrg(tenant, func(o *orgKept, fresh func(time.Time) bool) bool {
		k := pick(o)
		if !fresh(k.stored) {
			return false
		}
		v = clone(k.v)
		return true
	})
	return v, ok
}

// readOrg runs find on what is kept of tenant, under the read lock, if the
// cache answers and keeps anything of it. find reports whether it found an
// answer; fresh tells whether a read stored then may still answer.
func (c *entryCache) readOrg(tenant uuid.UUID, find func(o *orgKept, fresh func(stored time.Time) bool) bool) bool {
	if c == nil {
		return false
	}
	now := time.Now()
	if !c.live(now) {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	o := c.orgs[tenant]
	if o == nil {
		return false
	}
	return find(o, func(stored time.Time) bool { return !stored.IsZero() && now.Sub(stored) <= c.maxAge })
}

// keepOrgRead keeps a copy (through clone) of v as tenant's read that pick
// selects, read after gen, unless the cache is not listening or an
// invalidation came in since: the answer may predate a change whose notice
// was already applied.
func keepOrgRead[T any](c *entryCache, tenant uuid.UUID, gen uint64, pick func(*orgKept) *kept[T], clone func(T) T, v T) {
	now := time.Now()
	if !c.lockFor(gen, now) {
		return
	}
	defer c.mu.Unlock()
	o := c.orgLocked(tenant)
	*pick(o) = kept[T]{v: clone(v), stored: now} // the caller keeps v
}

// keptList hands answer the tenant's list that pick selects: kept, or
// read in the batch by sql (each row through scan) and then kept.
func keptList[T any](b *Batch, pick func(*orgKept) *kept[[]T], clone func([]T) []T,
	scan pgx.RowToFunc[T], answer func([]T), sql string) {
	if list, ok := orgRead(b.cache, b.tenant, pick, clone); ok {
		answer(list)
		return
	}
	cache, tenant, gen := b.cache, b.tenant, b.gen
	b.b.Queue(sql).Query(func(rows pgx.Rows) error {
		list, err := pgx.CollectRows(rows, scan)
		if err != nil {
			return err
		}
		keepOrgRead(cache, tenant, gen, pick, clone, list)
		answer(list)
		return nil
	})
}

// keptInvite is an invitation as its link's page reads it.
type keptInvite struct {
	invite     *Invite
	hasAccount bool // an account with its address existed when it was read
}

// lockFor takes the cache's lock to keep, at now, a read made after gen.
// It does not, and says so, when there is no cache, the cache is not
// listening, or an invalidation came in since gen: the read may predate a
// change whose notice was already applied.
func (c *entryCache) lockFor(gen uint64, now time.Time) bool {
	if c == nil || !c.live(now) {
		return false
	}
	c.mu.Lock()
	if c.gen.Load() != gen {
		c.mu.Unlock()
		return false
	}
	return true
}

// orgKeyedRead returns a copy (through clone) of the read of tenant under
// key in the map pick selects, if one is kept and fresh.
func orgKeyedRead[K comparable, V any](c *entryCache, tenant uuid.UUID, pick func(*orgKept) map[K]kept[V], key K, clone func(V) V) (V, bool) {
	var v V
	ok := c.readOrg(tenant, func(o *orgKept, fresh func(time.Time) bool) bool {
		k, ok := pick(o)[key]
		if !ok || !fresh(k.stored) {
			return false
		}
		v = clone(k.v)
		return true
	})
	return v, ok
}

// keepOrgKeyed keeps a copy (through clone) of v, read after gen, as
// tenant's read under key in the map at *pick, as keepOrgRead keeps a read.
// Past max such reads in all, random organizations' go.
func keepOrgKeyed[K comparable, V any](c *entryCache, tenant uuid.UUID, gen uint64, pick func(*orgKept) *map[K]kept[V], key K, clone func(V) V, v V) {
	now := time.Now()
	if !c.lockFor(gen, now) {
		return
	}
	defer c.mu.Unlock()
	v = clone(v)
	o := c.orgLocked(tenant)
	m := pick(o)
	if _, ok := (*m)[key]; !ok {
		for _, other := range c.orgs { // Go's map order picks the victims
			if c.orgKeyed < c.max {
				break
			}
			c.orgKeyed -= other.forgetKeyed()
		}
		if *m == nil {
			*m = make(map[K]kept[V])
		}
		c.orgKeyed++
	}
	(*m)[key] = kept[V]{v: v, stored: now}
}

// forgetKeyed drops o's keyed reads and returns how many there were.
func (o *orgKept) forgetKeyed() int {
	n := len(o.members) + len(o.invites)
	o.members, o.invites = nil, nil
	return n
}

// orgTenant returns the organization kept under slug, if one is kept and
// fresh.
func orgTenant(c *entryCache, slug string) (registryRow, bool) {
	if c == nil {
		return registryRow{}, false
	}
	c.mu.RLock()
	id, ok := c.bySlug[slug]
	c.mu.RUnlock()
	if !ok {
		return registryRow{}, false
	}
	var t registryRow
	found := c.readOrg(id, func(o *orgKept, fresh func(time.Time) bool) bool {
		t = o.tenant.v
		return fresh(o.tenant.stored) && t.Slug == slug
	})
	return t, found
}

// keepOrgTenant keeps t, read by its slug after gen, as keepOrgRead keeps a
// read.
func keepOrgTenant(c *entryCache, gen uint64, t registryRow) {
	now := time.Now()
	if !c.lockFor(gen, now) {
		return
	}
	defer c.mu.Unlock()
	o := c.orgLocked(t.ID)
	if old := o.tenant.v.Slug; old != "" && old != t.Slug {
		delete(c.bySlug, old)
	}
	o.tenant = kept[registryRow]{v: t, stored: now}
	c.bySlug[t.Slug] = t.ID
}

// orgLocked returns what is kept of tenant, made if need be; when the cache
// keeps max organizations already, a random one goes first. c.mu is held.
func (c *entryCache) orgLocked(tenant uuid.UUID) *orgKept {
	o := c.orgs[tenant]
	if o != nil {
		return o
	}
	evictOne(c.orgs, c.max, c.forgetOrgLocked)
	o = new(orgKept)
	c.orgs[tenant] = o
	return o
}

// forgetOrgLocked drops what is kept of tenant. c.mu is held.
func (c *entryCache) forgetOrgLocked(tenant uuid.UUID) {
	if o := c.orgs[tenant]; o != nil {
		for user := range o.sessions {
			c.forgetSessionListLocked(sessionList{tenant: tenant, user: user})
		}
		c.orgKeyed -= o.forgetKeyed()
		if slug := o.tenant.v.Slug; slug != "" && c.bySlug[slug] == tenant {
			delete(c.bySlug, slug)
		}
		delete(c.orgs, tenant)
	}
}

// sessionsOf returns a copy of the kept list l, without the sessions that
// have expired since, and the token hash of each, if it is kept and fresh.
func (c *entryCache) sessionsOf(l sessionList) ([]Session, [][]byte, bool) {
	var list []Session
	var hashes [][]byte
	ok := c.readOrg(l.tenant, func(o *orgKept, fresh func(time.Time) bool) bool {
		k, ok := o.sessions[l.user]
		if !ok || !fresh(k.stored) {
			return false
		}
		now := time.Now()
		for i, s := range k.list {
			if s.Expiry.After(now) {
				list, hashes = append(list, s), append(hashes, k.hashes[i])
			}
		}
		return true
	})
	return list, hashes, ok
}

// keepSessions keeps list (hashes are its sessions' token hashes), read
// after gen and listGen, as l, as keepOrgRead keeps a read. The cache keeps at most max
// lists in all: past that, a random one goes.
func (c *entryCache) keepSessions(l sessionList, gen, listGen uint64, list []Session, hashes [][]byte) {
	k := keptSessions{list: slices.Clone(list), hashes: slices.Clone(hashes), stored: time.Now()}
	if !c.lockFor(gen, k.stored) {
		return
	}
	defer c.mu.Unlock()
	if c.listGen.Load() != listGen {
		return
	}
	c.forgetSessionListLocked(l)
	evictOne(c.listOf, c.max, func(h string) { c.forgetSessionListLocked(c.listOf[h]) })
	o := c.orgLocked(l.tenant)
	if o.sessions == nil {
		o.sessions = make(map[uuid.UUID]keptSessions)
	}
	o.sessions[l.user] = k
	for _, h := range k.hashes {
		c.listOf[string(h)] = l
	}
}

// forgetSessionListLocked drops the kept list l. c.mu is held.
func (c *entryCache) forgetSessionListLocked(l sessionList) {
	o := c.orgs[l.tenant]
	if o == nil {
		return
	}
	k, ok := o.sessions[l.user]
	if !ok {
		return
	}
	for _, h := range k.hashes {
		if c.listOf[string(h)] == l {
			delete(c.listOf, string(h))
		}
	}
	delete(o.sessions, l.user)
}

// keptOrgs is a user's list of organizations in the cache (the switcher's),
// with their ids. It goes with a notice of the user (a membership added
// announces its user, migration 00022) or of any organization in it (one
// left, renamed or deleted), through entryCache.listedIn.
type keptOrgs struct {
	list    []Organization
	tenants []uuid.UUID
	stored  time.Time
}

// storedRead is a read kept in one of the cache's own maps (not an
// organization's, see readOrg): it says when it was stored.
type storedRead interface{ storedAt() time.Time }

func (k keptOrgs) storedAt() time.Time   { return k.stored }
func (k keptOutbox) storedAt() time.Time { return k.stored }
func (k keptAudit) storedAt() time.Time  { return k.stored }

// keptRead returns the read kept under key in the map pick selects, if
// the cache answers and the read is fresh. The caller copies what it
// hands out.
func keptRead[K comparable, V storedRead](c *entryCache, pick func(*entryCache) map[K]V, key K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	now := time.Now()
	if !c.live(now) {
		return zero, false
	}
	c.mu.RLock()
	k, ok := pick(c)[key]
	c.mu.RUnlock()
	if !ok || now.Sub(k.storedAt()) > c.maxAge {
		return zero, false
	}
	return k, true
}

// userOrgList returns a copy of the list of organizations kept for user,
// if one is kept and fresh.
func (c *entryCache) userOrgList(user uuid.UUID) ([]Organization, bool) {
	k, ok := keptRead(c, func(c *entryCache) map[uuid.UUID]keptOrgs { return c.userOrgs }, user)
	return slices.Clone(k.list), ok
}

// keepUserOrgList keeps user's list of organizations (tenants are their
// ids), read after gen, as keepOrgRead keeps a read.
func (c *entryCache) keepUserOrgList(user uuid.UUID, gen uint64, list []Organization, tenants []uuid.UUID) {
	k := keptOrgs{list: slices.Clone(list), tenants: slices.Clone(tenants), stored: time.Now()}
	if !c.lockFor(gen, k.stored) {
		return
	}
	defer c.mu.Unlock()
	c.forgetUserOrgsLocked(user)
	evictOne(c.userOrgs, c.max, c.forgetUserOrgsLocked)
	c.userOrgs[user] = k
	for _, t := range k.tenants {
		index(c.listedIn, t, user)
	}
}

// forgetUserOrgsLocked drops user's list of organizations. c.mu is held.
func (c *entryCache) forgetUserOrgsLocked(user uuid.UUID) {
	k, ok := c.userOrgs[user]
	if !ok {
		return
	}
	for _, t := range k.tenants {
		unindex(c.listedIn, t, user)
	}
	delete(c.userOrgs, user)
}

func pickJoinLink(o *orgKept) *kept[*JoinLink]   { return &o.joinLink }
func pickRoles(o *orgKept) *kept[[]Role]         { return &o.roles }
func pickOpenInvites(o *orgKept) *kept[[]Invite] { return &o.openInvites }

func members(o *orgKept) map[uuid.UUID]kept[*Member]    { return o.members }
func membersAt(o *orgKept) *map[uuid.UUID]kept[*Member] { return &o.members }
func invites(o *orgKept) map[string]kept[keptInvite]    { return o.invites }
func invitesAt(o *orgKept) *map[string]kept[keptInvite] { return &o.invites }

func cloneInvite(k keptInvite) keptInvite {
	i := *k.invite
	k.invite = &i
	return k
}

func cloneInvites(list []Invite) []Invite {
	list = slices.Clone(list)
	for i := range list {
		list[i].AcceptedAt = clonePtr(list[i].AcceptedAt)
		list[i].RevokedAt = clonePtr(list[i].RevokedAt)
	}
	return list
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func cloneJoinLink(l *JoinLink) *JoinLink {
	if l == nil {
		return nil
	}
	c := *l
	c.tokenHash = slices.Clone(l.tokenHash)
	return &c
}

func cloneMember(m *Member) *Member {
	c := *m
	c.CustomRoleID = clonePtr(m.CustomRoleID)
	c.Permissions = slices.Clone(m.Permissions)
	return &c
}

func cloneRoles(rs []Role) []Role {
	rs = slices.Clone(rs)
	for i := range rs {
		rs[i].Permissions = slices.Clone(rs[i].Permissions)
	}
	return rs
}

// outboxPage names a page of the outbox (the console's): its size and
// offset.
type outboxPage struct{ limit, offset int }

// keptOutbox is a page of the outbox in the cache, with the outbox's size.
// The outbox is system-wide: every change to it announces "x:" (migration
// 00022), which drops every page.
type keptOutbox struct {
	list   []OutboxMessage
	total  int
	stored time.Time
}

// outboxPage returns a copy of the kept page p, if it is kept and fresh.
func (c *entryCache) outboxPage(p outboxPage) (keptOutbox, bool) {
	k, ok := keptRead(c, func(c *entryCache) map[outboxPage]keptOutbox { return c.outbox }, p)
	k.list = slices.Clone(k.list)
	return k, ok
}

// keepOutboxPage keeps page p, read after gen, as keepOrgRead keeps a read.
func (c *entryCache) keepOutboxPage(p outboxPage, gen uint64, k keptOutbox) {
	k.list, k.stored = slices.Clone(k.list), time.Now()
	if !c.lockFor(gen, k.stored) {
		return
	}
	defer c.mu.Unlock()
	if _, ok := c.outbox[p]; !ok {
		evictOne(c.outbox, c.max, func(old outboxPage) { delete(c.outbox, old) })
	}
	c.outbox[p] = k
}

// registryRowColumns are what a registryRow is read from, in the order of
// its fields.
const registryRowColumns = `id, slug, name, member_count, created_at, require_mfa`

func (r *registryRow) fields() []any { return append(r.Tenant.fields(), &r.RequireMFA) }

// keptAudit is an organization's first page of its audit log, newest
// first: limit events, and one more if there are older ones. Events are
// never changed once written, so the page changes only with a new event
// ("a:", migration 00024) or the organization's purge.
type keptAudit struct {
	limit  int
	list   []AuditEvent
	stored time.Time
}

// auditPages is how many organizations' pages of their logs the cache
// keeps: a page of 50 events is some 20 KB, against an entry's 1.
func (c *entryCache) auditPages() int { return max(c.max/100, 1) }

// auditPage returns a copy of tenant's kept first page of its log of limit
// events, if it is kept and fresh.
func (c *entryCache) auditPage(tenant uuid.UUID, limit int) ([]AuditEvent, bool) {
	k, ok := keptRead(c, func(c *entryCache) map[uuid.UUID]keptAudit { return c.audit }, tenant)
	if !ok || k.limit != limit {
		return nil, false
	}
	return cloneAuditEvents(k.list), true
}

// keepAuditPage keeps list as tenant's first page of its log of limit
// events, read after gen and listGen, as keepSessions keeps a list.
func (c *entryCache) keepAuditPage(tenant uuid.UUID, gen, listGen uint64, limit int, list []AuditEvent) {
	k := keptAudit{limit: limit, list: cloneAuditEvents(list), stored: time.Now()}
	if !c.lockFor(gen, k.stored) {
		return
	}
	defer c.mu.Unlock()
	if c.listGen.Load() != listGen {
		return
	}
	if _, ok := c.audit[tenant]; !ok {
		evictOne(c.audit, c.auditPages(), func(old uuid.UUID) { delete(c.audit, old) })
	}
	c.audit[tenant] = k
}

// cloneAuditEvents copies list; the events' details are shared, read-only
// maps (AuditEvent.Details) and stay shared.
func cloneAuditEvents(list []AuditEvent) []AuditEvent {
	list = slices.Clone(list)
	for i := range list {
		list[i].ActorID = clonePtr(list[i].ActorID)
	}
	return list
}
