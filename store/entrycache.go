package store

import (
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// entryCache keeps what Enter learned for live sessions (signed-in members',
// and sessions that are no member's, such as a login waiting for its second
// factor), and what EnterConsole learned for signed-in operators, keyed by
// session token hash, so that their next page view skips enter_tenant (or
// the console's session read) and costs only the tenant setting and the
// page's own reads. Beside the entries it keeps reads of organizations as
// a whole and users' lists of their organizations (orgcache.go), which
// spare those page reads too.
//
// It is only as fresh as what it hears. Every change that could alter an
// entry or a kept read (a session rewritten or deleted; an organization,
// its member count, a membership, role, join link, invitation, user or
// operator changed; a membership or a signed-in session added) is
// announced on the atrium_entry channel by a trigger when its transaction
// commits (migrations 00012, 00015, 00016, 00021 and 00022), and every
// server's watcher (WatchChanges) drops what it names. Changes made through
// this DB are also dropped locally at commit, so a server reads its own
// writes without waiting for the notification.
//
// It fails closed: it answers only while the watcher's connection is known
// to hear the channel (a probe sent through the pool came back within
// probeWindow), and it forgets everything whenever that stops being so.
type entryCache struct {
	max    int
	maxAge time.Duration

	mu         sync.RWMutex
	byHash     map[string]*cachedEntry
	byTenant   map[uuid.UUID]map[string]struct{}
	byUser     map[uuid.UUID]map[string]struct{}
	byOperator map[uuid.UUID]map[string]struct{}
	// orgs keeps reads of organizations as a whole (see orgKept), dropped
	// with the organization's entries.
	orgs     map[uuid.UUID]*orgKept
	orgKeyed int                  // keyed reads (members, invites) kept in orgs, in all
	bySlug   map[string]uuid.UUID // the orgs whose tenant is kept, by slug
	// userOrgs keeps users' lists of their organizations (the switcher's),
	// and listedIn, for each organization, the users whose kept list has
	// it: the list goes with a notice of the user or of any of them.
	userOrgs map[uuid.UUID]keptOrgs
	listedIn map[uuid.UUID]map[uuid.UUID]struct{}
	// listOf names, for each session token hash in a member's kept list of
	// sessions (orgKept.sessions), that list: the session's notice drops it.
	listOf map[string]sessionList
	// outbox keeps pages of the outbox (the console's), by size and offset.
	outbox map[outboxPage]keptOutbox
	// audit keeps organizations' first pages of their audit logs (their
	// log page's and the console's), dropped by a new event ("a:",
	// migration 00024) or the organization's notice; at most
	// auditPages() of them.
	audit map[uuid.UUID]keptAudit

	// gen counts invalidations. Enter reads it before asking the
	// database and keeps the answer only if no invalidation came in
	// between: the answer may predate a change whose notice was already
	// applied.
	gen atomic.Uint64
	// listGen counts invalidations that name only lists: members' lists of
	// sessions (a new session of theirs, "l:") and audit logs (a new event,
	// "a:"); a kept list or page of a log checks it beside gen, and nothing
	// else does, so a login does not refuse the keeping of the entries
	// read meanwhile.
	listGen atomic.Uint64
	// heard is when the watcher last heard its own probe (UnixNano); zero
	// while it is not listening.
	heard atomic.Int64

	hits, misses atomic.Uint64
	lapses       atomic.Uint64 // times the cache went off (see heardProbe, deaf)
}

// cachedEntry is a member's entry, or an operator's console entry.
type cachedEntry struct {
	entry   Entry         // a member's: Entry.Member is set
	console *ConsoleEntry // an operator's instead: ConsoleEntry.Operator is set
	expiry  time.Time
	stored  time.Time
}

// probeEvery is how often the watcher checks that its connection hears the
// channel; the cache answers only within probeWindow of the last probe heard.
const (
	probeEvery  = time.Second
	probeWindow = 3 * probeEvery
)

func newEntryCache(max int) *entryCache {
	return &entryCache{
		max:        max,
		maxAge:     time.Minute,
		byHash:     make(map[string]*cachedEntry),
		byTenant:   make(map[uuid.UUID]map[string]struct{}),
		byUser:     make(map[uuid.UUID]map[string]struct{}),
		byOperator: make(map[uuid.UUID]map[string]struct{}),
		orgs:       make(map[uuid.UUID]*orgKept),
		bySlug:     make(map[string]uuid.UUID),
		userOrgs:   make(map[uuid.UUID]keptOrgs),
		listedIn:   make(map[uuid.UUID]map[uuid.UUID]struct{}),
		listOf:     make(map[string]sessionList),
		outbox:     make(map[outboxPage]keptOutbox),
		audit:      make(map[uuid.UUID]keptAudit),
	}
}

// live tells whether the cache may answer: its watcher heard a probe lately.
func (c *entryCache) live(now time.Time) bool {
	h := c.heard.Load()
	return h != 0 && now.Sub(time.Unix(0, h)) < probeWindow
}

// get returns a copy of the entry kept for the session with token hash at
// slug, if there is one and the session has not expired.
func (c *entryCache) get(slug string, hash []byte) (*Entry, bool) {
	ce := c.lookup(hash, func(ce *cachedEntry) bool { return ce.console == nil && ce.entry.Tenant.Slug == slug })
	if ce == nil {
		return nil, false
	}
	e := ce.entry
	if e.Member != nil {
		m := *e.Member
		e.Member = &m
	}
	return &e, true
}

// getConsole returns a copy of the console entry kept for the session with
// token hash, if there is one and the session has not expired.
func (c *entryCache) getConsole(hash []byte) (*ConsoleEntry, bool) {
	ce := c.lookup(hash, func(ce *cachedEntry) bool { return ce.console != nil })
	if ce == nil {
		return nil, false
	}
	e := *ce.console
	o := *e.Operator
	e.Operator = &o
	return &e, true
}

// lookup finds the live entry kept under hash that is the kind the caller
// wants (match), and counts the hit or the miss.
func (c *entryCache) lookup(hash []byte, match func(*cachedEntry) bool) *cachedEntry {
	if c == nil {
		return nil
	}
	now := time.Now()
	if !c.live(now) {
		return nil
	}
	c.mu.RLock()
	ce := c.byHash[string(hash)]
	c.mu.RUnlock()
	if ce == nil || !match(ce) || !now.Before(ce.expiry) || now.Sub(ce.stored) > c.maxAge {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return ce
}

// generation is read before asking the database (see gen).
func (c *entryCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// listGeneration is read, beside generation, before reading a member's
// list of sessions (see listGen).
func (c *entryCache) listGeneration() uint64 {
	if c == nil {
		return 0
	}
	return c.listGen.Load()
}

// put keeps e (the entry of a live session, expiring at expiry: a member's,
// or one that is no member's, such as a login waiting for its second
// factor) unless an invalidation came in since gen was read.
func (c *entryCache) put(hash []byte, e *Entry, expiry time.Time, gen uint64) {
	if c == nil {
		return
	}
	if e.Session == nil {
		return
	}
	kept := *e
	if e.Member != nil {
		m := *e.Member // the caller keeps e; the cache keeps its own member
		kept.Member = &m
	}
	c.keep(hash, &cachedEntry{entry: kept, expiry: expiry, stored: time.Now()}, gen)
}

// putConsole keeps e (an operator's console entry, session expiring at
// expiry) unless an invalidation came in since gen was read.
func (c *entryCache) putConsole(hash []byte, e *ConsoleEntry, expiry time.Time, gen uint64) {
	if c == nil {
		return
	}
	if e.Operator == nil || e.Session == nil {
		return
	}
	kept := *e
	o := *e.Operator // the caller keeps e; the cache keeps its own operator
	kept.Operator = &o
	c.keep(hash, &cachedEntry{console: &kept, expiry: expiry, stored: time.Now()}, gen)
}

// keep stores ce under hash, in place of whatever was there, evicting
// another entry when the cache is full, unless the cache is not listening
// or an invalidation came in since gen was read.
func (c *entryCache) keep(hash []byte, ce *cachedEntry, gen uint64) {
	if !c.lockFor(gen, ce.stored) {
		return
	}
	defer c.mu.Unlock()
	k := string(hash)
	c.dropLocked(k)
	evictOne(c.byHash, c.max, c.dropLocked)
	c.byHash[k] = ce
	if ce.console != nil {
		index(c.byOperator, ce.console.Operator.ID, k)
		return
	}
	index(c.byTenant, ce.entry.Tenant.ID, k)
	if ce.entry.Member != nil {
		index(c.byUser, ce.entry.Member.UserID, k)
	}
}

// evictOne forgets one key of m when m holds max already: Go's map order
// picks a pseudo-random victim.
func evictOne[K comparable, V any](m map[K]V, max int, forget func(K)) {
	if len(m) < max {
		return
	}
	for k := range m {
		forget(k)
		return
	}
}

func index[K comparable](m map[uuid.UUID]map[K]struct{}, id uuid.UUID, k K) {
	s := m[id]
	if s == nil {
		s = make(map[K]struct{})
		m[id] = s
	}
	s[k] = struct{}{}
}

func unindex[K comparable](m map[uuid.UUID]map[K]struct{}, id uuid.UUID, k K) {
	if s := m[id]; s != nil {
		delete(s, k)
		if len(s) == 0 {
			delete(m, id)
		}
	}
}

func (c *entryCache) dropLocked(k string) {
	ce := c.byHash[k]
	if ce == nil {
		return
	}
	delete(c.byHash, k)
	if ce.console != nil {
		unindex(c.byOperator, ce.console.Operator.ID, k)
		return
	}
	unindex(c.byTenant, ce.entry.Tenant.ID, k)
	if ce.entry.Member != nil {
		unindex(c.byUser, ce.entry.Member.UserID, k)
	}
}

// change names what a committed transaction may have altered.
type change struct {
	all       bool
	sessions  [][]byte
	tenants   []uuid.UUID
	users     []uuid.UUID
	operators []uuid.UUID
	lists     []sessionList // members' lists of their sessions
	audits    []uuid.UUID   // organizations whose audit log has new events
	outbox    bool          // the outbox
}

// drop forgets the entries ch names.
func (c *entryCache) drop(ch *change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ch.all && !ch.outbox && len(ch.sessions)+len(ch.tenants)+len(ch.users)+len(ch.operators) == 0 {
		// Only members' lists of sessions or audit logs: nothing else kept
		// can have changed, so only reads of such lists must not be kept.
		c.listGen.Add(1)
		c.forgetListsLocked(ch)
		return
	}
	c.gen.Add(1)
	if ch.all {
		clear(c.byHash)
		clear(c.byTenant)
		clear(c.byUser)
		clear(c.byOperator)
		clear(c.orgs)
		clear(c.bySlug)
		clear(c.userOrgs)
		clear(c.listedIn)
		clear(c.listOf)
		clear(c.outbox)
		clear(c.audit)
		c.orgKeyed = 0
		return
	}
	if ch.outbox {
		clear(c.outbox)
	}
	for _, h := range ch.sessions {
		c.dropLocked(string(h))
		if l, ok := c.listOf[string(h)]; ok {
			c.forgetSessionListLocked(l)
		}
	}
	c.forgetListsLocked(ch)
	for _, id := range ch.tenants {
		for k := range c.byTenant[id] {
			c.dropLocked(k)
		}
		c.forgetOrgLocked(id)
		delete(c.audit, id) // its purge takes the log
		for u := range c.listedIn[id] {
			c.forgetUserOrgsLocked(u)
		}
	}
	for _, id := range ch.users {
		for k := range c.byUser[id] {
			c.dropLocked(k)
		}
		c.forgetUserOrgsLocked(id)
	}
	for _, id := range ch.operators {
		for k := range c.byOperator[id] {
			c.dropLocked(k)
		}
	}
}

// forgetListsLocked drops the lists ch names. c.mu is held.
func (c *entryCache) forgetListsLocked(ch *change) {
	for _, l := range ch.lists {
		c.forgetSessionListLocked(l)
	}
	for _, id := range ch.audits {
		delete(c.audit, id)
	}
}

// parseChange reads an atrium_entry notification (see migrations 00012
// and 00016).
// Anything it does not understand drops everything: forgetting too much is
// safe, keeping too much is not.
func parseChange(payload string) *change {
	kind, arg, _ := strings.Cut(payload, ":")
	switch kind {
	case "s":
		if h, err := hex.DecodeString(arg); err == nil {
			return &change{sessions: [][]byte{h}}
		}
	case "x":
		if arg == "outbox" {
			return &change{outbox: true}
		}
	case "l":
		t, u, _ := strings.Cut(arg, ":")
		tenant, err1 := uuid.Parse(t)
		user, err2 := uuid.Parse(u)
		if err1 == nil && err2 == nil {
			return &change{lists: []sessionList{{tenant: tenant, user: user}}}
		}
	case "a":
		if id, err := uuid.Parse(arg); err == nil {
			return &change{audits: []uuid.UUID{id}}
		}
	case "t", "u", "o":
		if id, err := uuid.Parse(arg); err == nil {
			switch kind {
			case "t":
				return &change{tenants: []uuid.UUID{id}}
			case "u":
				return &change{users: []uuid.UUID{id}}
			}
			return &change{operators: []uuid.UUID{id}}
		}
	}
	return &change{all: true}
}

// heardProbe records that the watcher hears the channel. Coming back after
// a silence, the cache forgets everything first: notices may have been
// missed while it was deaf.
func (c *entryCache) heardProbe(now time.Time) {
	if h := c.heard.Load(); h != 0 && !c.live(now) {
		c.lapses.Add(1)
	}
	if !c.live(now) {
		c.drop(&change{all: true})
	}
	c.heard.Store(now.UnixNano())
}

// deaf stops the cache answering and forgets everything: the watcher lost
// its connection.
func (c *entryCache) deaf() {
	if c.heard.Swap(0) != 0 {
		c.lapses.Add(1)
	}
	c.drop(&change{all: true})
}

// EntryCacheStats describes the entry cache for metrics.
type EntryCacheStats struct {
	Enabled      bool // the DB has an entry cache
	Live         bool // its watcher hears changes, so it answers
	Entries      int
	Hits, Misses uint64
	// Lapses counts the times the cache went off and forgot everything:
	// its watcher lost the connection or stopped hearing its probes.
	Lapses uint64
}

// EntryCacheStats reports on the entry cache.
func (db *DB) EntryCacheStats() EntryCacheStats {
	c := db.entries
	if c == nil {
		return EntryCacheStats{}
	}
	c.mu.RLock()
	n := len(c.byHash)
	c.mu.RUnlock()
	return EntryCacheStats{Enabled: true, Live: c.live(time.Now()), Entries: n, Hits: c.hits.Load(), Misses: c.misses.Load(), Lapses: c.lapses.Load()}
}
