package store

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// BenchPassword is the password of every user BulkSeed creates. It is public
// on purpose: the load benchmark logs in as these users, and the data is only
// ever seeded into throwaway databases.
const BenchPassword = "bench-password"

// BenchSlug returns the slug of bench tenant i (1-based), so the load
// benchmark can address the tenants BulkSeed created without querying for them.
func BenchSlug(i int) string { return fmt.Sprintf("bench-%06d", i) }

// BenchEmail returns the email of the user BulkSeed creates as member j
// (1-based) of bench tenant i. Member 1, the owner, is always such a new user,
// so BenchEmail(i, 1) can always log in to BenchSlug(i); a later member may be
// a person who already belongs to another tenant and then has that email.
func BenchEmail(i, j int) string {
	return "u" + strconv.Itoa(i) + "." + strconv.Itoa(j) + "@bench.test"
}

// SeedOptions say how much bench data BulkSeed should hold afterwards. Every
// row is derived from (Seed, tenant index, member index), so the same options
// always give the same rows, and a tenant's members do not depend on how many
// tenants were seeded in the same run.
type SeedOptions struct {
	// Tenants is the number of bench tenants wanted in total
	// (bench-000001 … ); those already present are kept as they are.
	Tenants int
	// Members is the target number of memberships for Tenants tenants. The
	// tenants after the hot ones draw their size from a skewed distribution
	// with mean Members/Tenants, so keep that ratio when growing a database
	// step by step; the hot tenants' fixed size comes on top.
	Members int
	// Seed selects the data set.
	Seed uint64
	// Hot is the number of leading tenants that get exactly HotMembers
	// members each, the ones the load benchmark drives.
	Hot        int
	HotMembers int
	// Large, if set, adds one more hot tenant, tenant Hot+1, with Large
	// members: the large organization the load benchmark measures pages
	// of, to show that their cost does not grow with the organization.
	Large int
	// PasswordHash is the hash of BenchPassword given to every user; the
	// caller hashes once, since hashing a million passwords would take hours.
	PasswordHash string
	// ChunkTenants bounds how many tenants are generated and copied at a
	// time (default 10,000), which bounds memory; all chunks share one
	// transaction.
	ChunkTenants int
	// Progress, if set, is called after each chunk.
	Progress func(SeedProgress)
}

// SeedProgress is what BulkSeed has done so far, for a progress line.
type SeedProgress struct {
	TenantsDone, TenantsToAdd int
	Users, Memberships        int
	Elapsed                   time.Duration
}

// SeedResult counts what BulkSeed added, for the summary line.
type SeedResult struct {
	TenantsAdded     int
	TenantsTotal     int // bench tenants present afterwards (the highest index)
	UsersAdded       int
	MembershipsAdded int
	AuditAdded       int           // audit events: each membership's joining and a login
	InvitesAdded     int           // open invitations of the hot tenants
	RolesAdded       int           // custom roles (see seedRoles)
	MFAUsers         int           // of the users added, those with two-factor authentication on
	JoinLinksAdded   int           // join links of the hot tenants
	SessionsAdded    int           // live sessions of members who used the product lately
	RecoveryCodes    int           // two-factor recovery codes of the MFAUsers, some spent
	ResetsAdded      int           // password reset links, open and used
	OldSlugsAdded    int           // old URLs of tenants that renamed themselves
	Duration         time.Duration // including ANALYZE
}

// Rows is the number of rows BulkSeed wrote.
func (r SeedResult) Rows() int {
	return r.TenantsAdded + r.UsersAdded + r.MembershipsAdded + r.AuditAdded + r.InvitesAdded + r.RolesAdded + r.JoinLinksAdded +
		r.SessionsAdded + r.RecoveryCodes + r.ResetsAdded + r.OldSlugsAdded
}

// BulkSeed adds bench tenants, users and memberships with COPY until the
// database holds o.Tenants bench tenants. It connects as the owner role,
// because loading memberships with COPY needs row-level security lifted for
// the table owner, and only the owner can do that. Everything happens in one
// transaction, so a failure leaves the database as it was.
func BulkSeed(ctx context.Context, ownerURL string, o SeedOptions) (SeedResult, error) {
	start := time.Now()
	var res SeedResult
	if err := o.validate(); err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return res, fmt.Errorf("store: bulk seed: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// A rerun with nothing to add takes no lock at all.
	existing, err := benchMax(ctx, conn)
	if err != nil {
		return res, err
	}
	if existing >= o.Tenants {
		res.TenantsTotal, res.Duration = existing, time.Since(start)
		return res, nil
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("store: bulk seed: begin: %w", err)
	}
	// Rollback undoes the ALTERs too: DDL is transactional in PostgreSQL.
	defer tx.Rollback(context.WithoutCancel(ctx))

	// COPY into a table with row-level security is refused for a role that
	// does not bypass it, and FORCE makes the owner such a role; the
	// per-row member_count trigger would turn a million inserts into a
	// million UPDATEs of tenants. So both are lifted, in this transaction
	// only: ALTER TABLE takes an ACCESS EXCLUSIVE lock on memberships that is
	// held until commit, so no other session ever sees the table unforced or
	// without its trigger (they wait instead). The lock timeout keeps a seed
	// from queueing behind a long transaction while every later query on
	// memberships queues behind the seed. The triggers that announce
	// changes to the servers' caches (a member joining, a role, join link,
	// invitation, audit event or signed-in session added) are lifted too,
	// for one notice of everything at the end (seedTriggers). The
	// trigger that copies each member's name and email from their user
	// stays on: the copies are the database's to keep, and it costs the seed
	// a few seconds per million.
	lift := append([]string{`SET LOCAL lock_timeout = '30s'`}, seedLifted("DISABLE TRIGGER", "NO FORCE")...)
	for _, stmt := range append(lift, `SET LOCAL lock_timeout = 0`) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return res, ownerHint(fmt.Errorf("store: bulk seed: %s: %w", stmt, err))
		}
	}
	// Read again under the lock: a concurrent seed has committed by now.
	if existing, err = benchMax(ctx, tx); err != nil {
		return res, err
	}
	res.TenantsTotal = max(existing, o.Tenants)
	toAdd := o.Tenants - existing

	m := newSeedModel(o, time.Now())
	for first := existing + 1; first <= o.Tenants; {
		last := min(first+o.ChunkTenants-1, o.Tenants)
		c, err := m.planChunk(ctx, tx, first, last, existing)
		if err != nil {
			return res, err
		}
		if err := c.copy(ctx, tx, m, o.PasswordHash); err != nil {
			return res, err
		}
		res.TenantsAdded += c.last - c.first + 1
		res.UsersAdded += c.users
		res.MembershipsAdded += len(c.members)
		res.AuditAdded += 2 * len(c.members)
		res.InvitesAdded += c.invites
		res.RolesAdded += c.roles
		res.MFAUsers += c.mfaUsers
		res.JoinLinksAdded += c.joinLinks
		res.SessionsAdded += c.sessions
		res.RecoveryCodes += c.recoveryCodes
		res.ResetsAdded += c.resets
		res.OldSlugsAdded += c.oldSlugs
		if o.Progress != nil {
			o.Progress(SeedProgress{TenantsDone: res.TenantsAdded, TenantsToAdd: toAdd,
				Users: res.UsersAdded, Memberships: res.MembershipsAdded, Elapsed: time.Since(start)})
		}
		first = last + 1
	}

	// One notice for the whole seed instead of one per row: servers
	// watching drop everything they keep.
	restore := append(seedLifted("ENABLE TRIGGER", "FORCE"), `SELECT pg_notify('atrium_entry', '*')`)
	for _, stmt := range restore {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return res, fmt.Errorf("store: bulk seed: %s: %w", stmt, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("store: bulk seed: commit: %w", err)
	}
	// Fresh statistics, so the benchmark's first queries get the plans a
	// database of this size would have.
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) tenants, users, memberships, audit_events, invites, roles, tenant_join_links,
		sessions, mfa_recovery_codes, password_resets, tenant_slug_history`); err != nil {
		return res, fmt.Errorf("store: bulk seed: analyze: %w", err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

func (o *SeedOptions) validate() error {
	if o.ChunkTenants <= 0 {
		o.ChunkTenants = 10_000
	}
	switch {
	case o.Tenants < 1:
		return errors.New("store: bulk seed: at least one tenant")
	case o.Members < o.Tenants:
		return errors.New("store: bulk seed: every tenant has at least one member, so Members must be at least Tenants")
	case o.Hot < 0 || (o.Hot > 0 && o.HotMembers < 1):
		return errors.New("store: bulk seed: hot tenants need at least one member each")
	case o.Large < 0:
		return errors.New("store: bulk seed: a large tenant needs at least one member")
	case o.PasswordHash == "":
		return errors.New("store: bulk seed: no password hash")
	}
	return nil
}

// ownerHint adds the likely fix to a permission error: the URL names the app
// role rather than the owner.
func ownerHint(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return fmt.Errorf("%w (connect as the table owner, %s: set MIGRATION_DATABASE_URL)", err, OwnerRole)
	}
	return err
}

// benchMax returns the highest index among the bench tenants, 0 if none.
func benchMax(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var n int
	err := q.QueryRow(ctx, `
		SELECT coalesce(max(substring(slug FROM '^bench-([0-9]{1,9})$')::int), 0) FROM tenants`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: bulk seed: count bench tenants: %w", err)
	}
	return n, nil
}

// seedChunk is the plan for tenants first..last: their memberships with the
// user each one points to, small enough to hold in memory.
type seedChunk struct {
	first, last int
	members     []plannedMember
	withoutMFA  []int // per tenant, first to last: members whose user has no two-factor authentication
	users       int   // members that create their user
	invites     int   // open invitations copied
	roles       int   // custom roles copied
	mfaUsers    int   // new users with two-factor authentication
	joinLinks   int   // join links copied
	// Counted as copied (copyActivity):
	sessions      int
	recoveryCodes int
	resets        int
	oldSlugs      int
}

// invitesPerHotTenant is how many open invitations each hot tenant holds,
// so the members page shows its invitation list as a busy organization's
// would.
const invitesPerHotTenant = 3

type plannedMember struct {
	tenant, j int32
	userI     int32 // the user is member userJ of tenant userI; new if that is (tenant, j)
	userJ     int32
	user      [16]byte
	role      uint8
	custom    uint8 // with roleCustom: which of the tenant's custom roles (customRoles)
	first     uint8 // name words of a new user
	last      uint8
	joined    int64 // unix seconds
	mfa       bool  // the user has two-factor authentication on
}

func (p *plannedMember) isNewUser() bool { return p.userI == p.tenant && p.userJ == p.j }

// planChunk decides every membership of tenants first..last. A member who
// reuses a user from a tenant seeded by an earlier run gets that user's id
// from the database, in one query, so a database grown step by step ends up
// with the same rows as one seeded at once (and a user missing there, say
// after a run with other options, becomes a new user instead of an error).
func (m *seedModel) planChunk(ctx context.Context, tx pgx.Tx, first, last, existing int) (*seedChunk, error) {
	c := &seedChunk{first: first, last: last}
	var lookup []string
	var lookupAt []int
	for i := first; i <= last; i++ {
		t := m.tenant(i)
		custom := len(m.customRoles(i))
		c.roles += custom
		start := len(c.members)
		for j := 1; j <= t.count; j++ {
			s := m.member(i, j)
			p := plannedMember{tenant: int32(i), j: int32(j), userI: int32(i), userJ: int32(j),
				role: s.role, first: s.first, last: s.last, joined: t.created + int64(s.joinFrac*float64(m.now-t.created))}
			if k, ok := m.customRoleOf(i, j, custom); ok && (s.role == roleMember || s.role == roleViewer) {
				p.role, p.custom = roleCustom, uint8(k)
			}
			if j == 1 {
				p.joined = t.created
			}
			if s.reuse {
				ui, uj := m.reuseTarget(i, s)
				dup := false
				for _, q := range c.members[start:] {
					dup = dup || (q.userI == int32(ui) && q.userJ == int32(uj))
				}
				if !dup {
					p.userI, p.userJ = int32(ui), int32(uj)
					// Nobody joins before their account exists.
					p.joined = max(p.joined, m.joined(ui, uj))
					if ui <= existing {
						lookup = append(lookup, BenchEmail(ui, uj))
						lookupAt = append(lookupAt, len(c.members))
					}
				}
			}
			p.user = m.id(kindUser, int(p.userI), int(p.userJ))
			p.mfa = m.hasMFA(int(p.userI), int(p.userJ))
			c.members = append(c.members, p)
		}
	}
	if len(lookup) > 0 {
		rows, err := tx.Query(ctx, `SELECT email, id, mfa_enabled_at IS NOT NULL FROM users WHERE email = ANY($1)`, lookup)
		if err != nil {
			return nil, fmt.Errorf("store: bulk seed: find users: %w", err)
		}
		type user struct {
			id  [16]byte
			mfa bool
		}
		found := make(map[string]user, len(lookup))
		var email string
		var id pgtype.UUID
		var mfa bool
		_, err = pgx.ForEachRow(rows, []any{&email, &id, &mfa}, func() error { found[email] = user{id.Bytes, mfa}; return nil })
		if err != nil {
			return nil, fmt.Errorf("store: bulk seed: find users: %w", err)
		}
		for k, at := range lookupAt {
			p := &c.members[at]
			if u, ok := found[lookup[k]]; ok {
				p.user, p.mfa = u.id, u.mfa
			} else {
				p.userI, p.userJ = p.tenant, p.j
				p.user = m.id(kindUser, int(p.tenant), int(p.j))
				p.mfa = m.hasMFA(int(p.tenant), int(p.j))
			}
		}
	}
	c.withoutMFA = make([]int, last-first+1)
	for k := range c.members {
		p := &c.members[k]
		if !p.mfa {
			c.withoutMFA[int(p.tenant)-first]++
		}
		if p.isNewUser() {
			c.users++
			if p.mfa {
				c.mfaUsers++
			}
		}
	}
	c.joinLinks = max(0, min(last, m.hot)-first+1)
	return c, nil
}

// copy streams the chunk's tenants, new users and memberships to COPY,
// generating each row as it is sent.
func (c *seedChunk) copy(ctx context.Context, tx pgx.Tx, m *seedModel, passwordHash string) error {
	row := make([]any, 5)
	i := c.first
	// A tenant has one membership per planned member (planChunk), and the
	// trigger that counts them is off: the counts go in with the row, not
	// by an UPDATE afterwards, which would also announce every new tenant
	// to the servers' entry caches (migration 00015).
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"tenants"}, []string{"id", "slug", "name", "created_at", "member_count", "members_without_mfa"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i > c.last {
				return nil, nil
			}
			t := m.tenant(i)
			row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, i, 0), Valid: true}, BenchSlug(i), t.name(), time.Unix(t.created, 0), t.count,
				c.withoutMFA[i-c.first])
			i++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy tenants: %w", err)
	}

	i, k := c.first, 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"roles"}, []string{"tenant_id", "id", "name", "permissions", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; i <= c.last; i, k = i+1, 0 {
				if list := m.customRoles(i); k < len(list) {
					r := seedRoles[list[k]]
					row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, i, 0), Valid: true},
						pgtype.UUID{Bytes: m.id(kindRole, i, k), Valid: true}, r.name, r.permissions,
						time.Unix(m.tenant(i).created, 0).Add(time.Duration(k+1)*24*time.Hour))
					k++
					return row, nil
				}
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy roles: %w", err)
	}

	k = 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "email", "name", "password_hash", "created_at", "totp_secret", "mfa_enabled_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; k < len(c.members); k++ {
				p := &c.members[k]
				if !p.isNewUser() {
					continue
				}
				joined := time.Unix(p.joined, 0)
				row = append(row[:0], pgtype.UUID{Bytes: p.user, Valid: true}, BenchEmail(int(p.tenant), int(p.j)),
					firstNames[p.first]+" "+lastNames[p.last], passwordHash, joined, nil, nil)
				if p.mfa {
					secret := m.id(kindTOTP, int(p.tenant), int(p.j))
					row[5] = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret[:])
					row[6] = m.mfaEnabledAt(p)
				}
				k++
				return row, nil
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy users: %w", err)
	}

	k = 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"memberships"}, []string{"tenant_id", "id", "user_id", "role", "custom_role_id", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if k == len(c.members) {
				return nil, nil
			}
			p := &c.members[k]
			k++
			row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, int(p.tenant), 0), Valid: true},
				pgtype.UUID{Bytes: m.id(kindMembership, int(p.tenant), int(p.j)), Valid: true},
				pgtype.UUID{Bytes: p.user, Valid: true}, roles[p.role],
				pgtype.UUID{Bytes: m.id(kindRole, int(p.tenant), int(p.custom)), Valid: p.role == roleCustom},
				time.Unix(p.joined, 0))
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy memberships: %w", err)
	}

	// Two audit events per membership: the member being added, then their
	// first login; the audit page reads a realistic volume of history.
	k = 0
	phase := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_events"},
		[]string{"tenant_id", "occurred_at", "actor_kind", "actor_id", "actor_email", "action", "target_type", "target_id", "target_label", "details"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if k == len(c.members) {
				return nil, nil
			}
			p := &c.members[k]
			tenant := pgtype.UUID{Bytes: m.id(kindTenant, int(p.tenant), 0), Valid: true}
			member := m.id(kindMembership, int(p.tenant), int(p.j))
			email := BenchEmail(int(p.userI), int(p.userJ))
			at := time.Unix(p.joined, 0)
			if phase == 0 {
				row = append(row[:0], tenant, at, "system", nil, "", "member.added", "member",
					uuid.UUID(member).String(), email, `{"role": "`+roles[p.role]+`", "via": "seed"}`)
				phase = 1
			} else {
				row = append(row[:0], tenant, at.Add(time.Hour), "user", pgtype.UUID{Bytes: p.user, Valid: true}, email,
					"auth.login", "user", uuid.UUID(p.user).String(), email, `{}`)
				phase = 0
				k++
			}
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy audit events: %w", err)
	}

	i = c.first
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"tenant_join_links"}, []string{"tenant_id", "id", "domain", "token_hash", "updated_by", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i > c.last || i > m.hot {
				return nil, nil
			}
			token := m.id(kindJoinLink, i, 1)
			hash := sha256.Sum256(token[:])
			row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, i, 0), Valid: true},
				pgtype.UUID{Bytes: m.id(kindJoinLink, i, 0), Valid: true}, BenchSlug(i)+".example", hash[:],
				pgtype.UUID{Bytes: m.id(kindUser, i, 1), Valid: true}, time.Unix(m.tenant(i).created, 0).Add(48*time.Hour))
			i++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy join links: %w", err)
	}

	i = c.first
	n := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"invites"},
		[]string{"tenant_id", "email", "role", "token_hash", "created_at", "expires_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; i <= c.last && i <= m.hot; i, n = i+1, 0 {
				if n < invitesPerHotTenant {
					n++
					token := m.id(kindInvite, i, n)
					hash := sha256.Sum256(token[:])
					created := time.Unix(m.now, 0).Add(-time.Duration(n) * 24 * time.Hour)
					row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, i, 0), Valid: true},
						fmt.Sprintf("invitee%d.%d@bench.test", i, n), "member", hash[:], created, created.Add(7*24*time.Hour))
					c.invites++
					return row, nil
				}
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy invites: %w", err)
	}
	return c.copyActivity(ctx, tx, m)
}

// seedModel derives every value from (seed, tenant index, member index)
// alone, never from a generator running across tenants, which is what makes
// tenant i the same in a run of 100 tenants and in one of 100,000.
type seedModel struct {
	seed       uint64
	mean       float64 // members per tenant after the hot ones
	hot        int     // the last hot tenant: the large one, if any
	hotMembers int
	large      int   // members of tenant hot, if set
	now        int64 // unix seconds; created_at values are relative to it
}

func newSeedModel(o SeedOptions, now time.Time) *seedModel {
	m := &seedModel{seed: o.Seed, mean: float64(o.Members) / float64(o.Tenants),
		hot: o.Hot, hotMembers: o.HotMembers, now: now.Unix()}
	if o.Large > 0 {
		m.hot, m.large = o.Hot+1, o.Large
	}
	return m
}

// Kinds of derived value; each gets its own independent stream.
const (
	kindTenant = iota + 1
	kindUser
	kindMembership
	kindTenantDraws
	kindMemberDraws
	kindInvite
	kindRole
	kindRoleDraws
	kindCustomMemberDraws
	kindTOTP
	kindMFADraws
	kindJoinLink
	kindSession
	kindSessionToken
	kindSessionDraws
	kindRecoveryCode
	kindRecoveryDraws
	kindReset
	kindResetToken
	kindResetDraws
	kindSlugDraws
)

const (
	reusePerMille = 55                     // of the non-owner memberships: about 5% of all
	spanSeconds   = 3 * 365 * 24 * 60 * 60 // tenants were created over the last 3 years
	sizeSigma     = 1.2                    // spread of tenant sizes (log-normal)
)

type tenantSpec struct {
	count    int
	created  int64
	prefix   uint8
	industry uint8
	number   int
}

func (t tenantSpec) name() string {
	return companyPrefixes[t.prefix] + " " + industries[t.industry] + " " + strconv.Itoa(t.number)
}

// tenant draws tenant i's size, age and name. Every draw is made whatever
// its use, so that no value shifts the others.
func (m *seedModel) tenant(i int) tenantSpec {
	s := m.stream(kindTenantDraws, i, 0)
	z, round := s.normal(), s.float()
	t := tenantSpec{
		created:  m.now - int64(s.intn(spanSeconds)),
		prefix:   uint8(s.intn(len(companyPrefixes))),
		industry: uint8(s.intn(len(industries))),
		number:   1 + s.intn(999),
	}
	switch {
	case i == m.hot && m.large > 0:
		t.count = m.large
	case i <= m.hot:
		t.count = m.hotMembers
	case m.mean <= 1:
		t.count = 1
	default:
		// 1 + a log-normal with mean (mean-1), rounded stochastically so that
		// the average is kept: most tenants small, a few large.
		mu := math.Log(m.mean-1) - sizeSigma*sizeSigma/2
		x := math.Exp(mu + sizeSigma*z)
		t.count = 1 + int(math.Min(x+round, 100*m.mean))
	}
	return t
}

type memberSpec struct {
	reuse       bool
	pickTenant  uint64 // raw draws for the reused user, scaled by reuseTarget
	pickMember  uint64
	role        uint8
	first, last uint8
	joinFrac    float64
}

// member draws member j of tenant i. The first member is the owner and
// always a new user; later ones may be someone from an earlier tenant.
func (m *seedModel) member(i, j int) memberSpec {
	s := m.stream(kindMemberDraws, i, j)
	ms := memberSpec{
		reuse:      s.intn(1000) < reusePerMille && i > 1 && j > 1,
		pickTenant: s.next(),
		pickMember: s.next(),
		first:      uint8(s.intn(len(firstNames))),
		last:       uint8(s.intn(len(lastNames))),
		joinFrac:   s.float(),
	}
	switch r := s.intn(100); {
	case j == 1:
		ms.role = roleOwner
	case r < 10:
		ms.role = roleAdmin
	case r < 15:
		ms.role = roleBilling
	case r < 80:
		ms.role = roleMember
	default:
		ms.role = roleViewer
	}
	return ms
}

// reuseTarget picks the existing person a reusing member of tenant i is:
// member j' of an earlier tenant i'. If that slot is itself a reuse, it
// takes the tenant's owner, who is always a new user.
func (m *seedModel) reuseTarget(i int, s memberSpec) (int, int) {
	ti := 1 + scale(s.pickTenant, i-1)
	tj := 1 + scale(s.pickMember, m.tenant(ti).count)
	if m.member(ti, tj).reuse {
		tj = 1
	}
	return ti, tj
}

// joined is when member j of tenant i joined, and so when a new user was
// created.
func (m *seedModel) joined(i, j int) int64 {
	t := m.tenant(i)
	if j == 1 {
		return t.created
	}
	return t.created + int64(m.member(i, j).joinFrac*float64(m.now-t.created))
}

// id derives a row's UUID (version 8, "custom") from its kind and indexes,
// so memberships can name users and tenants without asking the database.
func (m *seedModel) id(kind, i, j int) [16]byte {
	var b [16]byte
	h1 := hash4(m.seed, uint64(kind), uint64(i), uint64(j))
	h2 := hash4(h1, uint64(kind), uint64(i), uint64(j))
	for k := range 8 {
		b[k], b[8+k] = byte(h1>>(8*k)), byte(h2>>(8*k))
	}
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return b
}

func (m *seedModel) stream(kind, i, j int) seedStream {
	var s seedStream
	s.pcg.Seed(hash4(m.seed, uint64(kind), uint64(i), uint64(j)), hash4(^m.seed, uint64(kind), uint64(j), uint64(i)))
	return s
}

// seedStream draws from PCG, whose output is specified, with its own integer
// and float conversions, so the data cannot change with a Go release that
// retunes math/rand/v2's helpers.
type seedStream struct{ pcg rand.PCG }

func (s *seedStream) next() uint64   { return s.pcg.Uint64() }
func (s *seedStream) intn(n int) int { return scale(s.pcg.Uint64(), n) }
func (s *seedStream) float() float64 { return float64(s.pcg.Uint64()>>11) / (1 << 53) }
func (s *seedStream) normal() float64 { // Box–Muller
	u1, u2 := 1-s.float(), s.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// scale maps a uniform 64-bit value to [0, n).
func scale(x uint64, n int) int {
	hi, _ := bits.Mul64(x, uint64(n))
	return int(hi)
}

func hash4(a, b, c, d uint64) uint64 {
	h := mix64(a ^ 0x9e3779b97f4a7c15)
	h = mix64(h ^ b)
	h = mix64(h ^ c)
	return mix64(h ^ d)
}

// mix64 is SplitMix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const (
	roleOwner uint8 = iota
	roleAdmin
	roleBilling
	roleMember
	roleViewer
	roleCustom
)

var roles = [...]string{"owner", "admin", "billing", "member", "viewer", "custom"}

// seedRoles are the custom roles organizations define in the seed: names
// and sets of grantable permissions (each with dashboard.view, which every
// custom role holds) as a customer might choose them.
var seedRoles = [...]struct {
	name        string
	permissions []string
}{
	{"Support", []string{"dashboard.view", "members.read", "audit.read"}},
	{"Recruiter", []string{"dashboard.view", "members.read", "members.invite"}},
	{"Finance reviewer", []string{"dashboard.view", "billing.manage", "audit.read"}},
	{"Security officer", []string{"dashboard.view", "members.read", "audit.read", "settings.manage", "sso.manage"}},
}

const (
	hotCustomRoles   = 3  // custom roles of each hot tenant
	customRolesPct   = 10 // of the other tenants, those with custom roles (one or two)
	customMembersPct = 20 // of the members and viewers of a tenant with custom roles, those holding one
)

// customRoles returns which seedRoles tenant i defines, in order; its k-th
// has the id m.id(kindRole, i, k). The draws have their own stream, so
// that no other value of the seed shifts.
func (m *seedModel) customRoles(i int) []uint8 {
	s := m.stream(kindRoleDraws, i, 0)
	n, first := 0, s.intn(len(seedRoles))
	switch {
	case i <= m.hot:
		n = hotCustomRoles
	case s.intn(100) < customRolesPct:
		n = 1 + s.intn(2)
	}
	list := make([]uint8, n)
	for k := range list {
		list[k] = uint8((first + k) % len(seedRoles))
	}
	return list
}

// mfaPct is the share of users, owners of bench tenants aside, who have
// turned on two-factor authentication (the load benchmark signs in as the
// owners, with a password only).
const mfaPct = 30

// hasMFA says whether the user created as member j of tenant i has
// two-factor authentication on.
func (m *seedModel) hasMFA(i, j int) bool {
	s := m.stream(kindMFADraws, i, j)
	return j > 1 && s.intn(100) < mfaPct
}

// mfaEnabledAt is when the user p creates turned on two-factor
// authentication: a day after joining, or now if that is later.
func (m *seedModel) mfaEnabledAt(p *plannedMember) time.Time {
	return time.Unix(min(p.joined+24*60*60, m.now), 0)
}

// customRoleOf says whether member j of tenant i, if a member or viewer,
// holds one of the tenant's n custom roles instead, and which.
func (m *seedModel) customRoleOf(i, j, n int) (int, bool) {
	if n == 0 || j == 1 {
		return 0, false
	}
	s := m.stream(kindCustomMemberDraws, i, j)
	return s.intn(n), s.intn(100) < customMembersPct
}

var companyPrefixes = [...]string{
	"Northwind", "Contoso", "Fabrikam", "Blue Harbor", "Redwood", "Silverline", "Summit",
	"Ironbridge", "Brightpath", "Cedar", "Granite", "Harbor", "Lumen", "Maple", "Nimbus",
	"Orchid", "Pioneer", "Quarry", "Riverside", "Sterling", "Tidewater", "Union", "Vantage",
	"Westfield", "Alder", "Beacon", "Coastal", "Driftwood", "Evergreen", "Foxglove",
	"Golden Gate", "Highland", "Juniper", "Keystone", "Lakeshore", "Meridian", "Oakridge",
	"Polaris", "Sequoia", "Trailhead",
}

var industries = [...]string{
	"Logistics", "Analytics", "Robotics", "Foods", "Health", "Labs", "Systems", "Software",
	"Consulting", "Energy", "Freight", "Media", "Outfitters", "Partners", "Pharma",
	"Capital", "Studios", "Networks", "Dynamics", "Solutions", "Motors", "Textiles",
	"Insurance", "Security", "Travel", "Bakery", "Architects", "Clinics", "Supply", "Ventures",
}

var firstNames = [...]string{
	"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret",
	"Ken", "Radia", "Dennis", "Katherine", "Linus", "Hedy", "Tim", "Sophie", "Niklaus",
	"Karen", "Leslie", "Mary", "Bjarne", "Shafi", "Guido", "Jean", "Robin", "Anita",
	"Fernando", "Lynn", "Whitfield", "Carol", "Rob", "Joan", "Ivan", "Adele", "Butler",
	"Evelyn", "Yukihiro", "Elena", "Tony",
}

var lastNames = [...]string{
	"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy",
	"Hamilton", "Thompson", "Perlman", "Ritchie", "Johnson", "Torvalds", "Lamarr",
	"Berners-Lee", "Wilson", "Wirth", "Sparck Jones", "Lamport", "Keller", "Stroustrup",
	"Goldwasser", "van Rossum", "Bartik", "Milner", "Borg", "Corbato", "Conway", "Diffie",
	"Shaw", "Pike", "Clarke", "Sutherland", "Goldberg", "Lampson", "Berezin", "Matsumoto",
	"Garcia", "Hoare",
}

// seedTriggers are the triggers BulkSeed lifts during its COPY, by table:
// the per-row member count and the notices to the servers' caches.
var seedTriggers = [][2]string{
	{"memberships", "memberships_count"},
	{"memberships", "memberships_user_joined"},
	{"roles", "roles_entry_change"},
	{"tenant_join_links", "tenant_join_links_entry_change"},
	{"invites", "invites_entry_change"},
	{"audit_events", "audit_events_recorded"},
	{"sessions", "sessions_listed_insert"},
}

// seedForced are the tables BulkSeed copies into whose row-level security
// it stops forcing on the owner during its COPY.
var seedForced = []string{"memberships", "audit_events", "invites", "roles", "tenant_join_links", "sessions"}

// seedLifted returns the statements that apply trigger (DISABLE TRIGGER or
// ENABLE TRIGGER) to seedTriggers and force (NO FORCE or FORCE) to the
// row-level security of seedForced.
func seedLifted(trigger, force string) []string {
	var stmts []string
	for _, t := range seedTriggers {
		stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s %s %s`, t[0], trigger, t[1]))
	}
	for _, table := range seedForced {
		stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s %s ROW LEVEL SECURITY`, table, force))
	}
	return stmts
}
