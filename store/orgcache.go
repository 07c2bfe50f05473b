package store

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// orgKept is what the entry cache keeps of one organization as a whole,
// for pages that show nothing else from the database: each read is kept
// once per organization, not per session, and answers with no statement
// until it is dropped. Everything read here lives in tables whose every
// change announces the organization on atrium_entry ("t:"): its roles
// (migration 00012), its memberships (an update or delete by their own
// trigger, an insert or delete through the tenant row's member count,
// migration 00015) and its join link (migration 00022). Like the entries,
// a kept read answers only while the cache is live and for at most maxAge.
type orgKept struct {
	joinLink kept[*JoinLink] // nil: the organization has none
	roles    kept[[]Role]    // with their member counts
}

// kept is one kept read: its answer, and when it was stored (zero: never).
type kept[T any] struct {
	v      T
	stored time.Time
}

// orgRead returns a copy (through clone) of the read of tenant that pick
// selects, if one is kept and fresh.
func orgRead[T any](c *entryCache, tenant uuid.UUID, pick func(*orgKept) *kept[T], clone func(T) T) (T, bool) {
	var zero T
	if c == nil {
		return zero, false
	}
	now := time.Now()
	if !c.live(now) {
		return zero, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	o := c.orgs[tenant]
	if o == nil {
		return zero, false
	}
	k := pick(o)
	if k.stored.IsZero() || now.Sub(k.stored) > c.maxAge {
		return zero, false
	}
	return clone(k.v), true
}

// keepOrgRead keeps a copy (through clone) of v as tenant's read that pick
// selects, read after gen, unless the cache is not listening or an
// invalidation came in since: the answer may predate a change whose notice
// was already applied.
func keepOrgRead[T any](c *entryCache, tenant uuid.UUID, gen uint64, pick func(*orgKept) *kept[T], clone func(T) T, v T) {
	if c == nil {
		return
	}
	now := time.Now()
	if !c.live(now) {
		return
	}
	v = clone(v) // the caller keeps v
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	o := c.orgs[tenant]
	if o == nil {
		if len(c.orgs) >= c.max {
			for old := range c.orgs { // Go picks a pseudo-random victim
				delete(c.orgs, old)
				break
			}
		}
		o = new(orgKept)
		c.orgs[tenant] = o
	}
	*pick(o) = kept[T]{v: v, stored: now}
}

func pickJoinLink(o *orgKept) *kept[*JoinLink] { return &o.joinLink }
func pickRoles(o *orgKept) *kept[[]Role]       { return &o.roles }

func cloneJoinLink(l *JoinLink) *JoinLink {
	if l == nil {
		return nil
	}
	c := *l
	return &c
}

func cloneRoles(rs []Role) []Role {
	rs = slices.Clone(rs)
	for i := range rs {
		rs[i].Permissions = slices.Clone(rs[i].Permissions)
	}
	return rs
}
