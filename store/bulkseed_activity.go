package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The seed's activity: what people leave behind by using the product rather
// than by joining it. Signed-in sessions, two-factor recovery codes,
// password reset links and the old URLs of renamed organizations. Their
// tokens and codes are hashes of derived bytes that no cookie, link or email
// ever carried: they fill the tables to a realistic size and open nothing
// in practice (the load benchmark signs in for itself; like the password,
// the data is public and only ever seeded into throwaway databases).

// The server's default session timeouts (handlers.Config), which seeded
// sessions obey so that none has outlived them.
const (
	seedSessionIdle     = 2 * time.Hour
	seedSessionLifetime = 24 * time.Hour
)

const (
	hotActivePct      = 40 // of a hot tenant's members, those signed in within the idle timeout
	activePct         = 6  // of the other tenants' members
	secondDevicePct   = 25 // of the signed-in members, those with a second session (a phone)
	recoveryCodes     = 10 // codes made when two-factor authentication is turned on
	openResetPerMille = 10 // of the users, those with a reset link not yet used
	usedResetPerMille = 30 // of the users, those with a reset link used in the past
	renamedPct        = 3  // of the tenants after the hot ones, those that changed their URL
)

// seedSession is one signed-in session of a member. created and updated
// are unix seconds.
type seedSession struct {
	created, updated int64
	ip               netip.Addr
	agent            uint8
}

// expiry is when the session ends: idle after its last request, or at the
// end of its lifetime if sooner. At least 20 minutes after the seed.
func (s seedSession) expiry() time.Time {
	return time.Unix(min(s.updated+int64(seedSessionIdle/time.Second), s.deadline()), 0)
}

func (s seedSession) deadline() int64 { return s.created + int64(seedSessionLifetime/time.Second) }

// sessions draws member j of tenant i's live sessions: none for most,
// one or two for those who used the product within the idle timeout.
func (m *seedModel) sessions(i, j int) []seedSession {
	s := m.stream(kindSessionDraws, i, j)
	active, second := s.intn(100), s.intn(100)
	pct := activePct
	if i <= m.hot {
		pct = hotActivePct
	}
	n := 0
	if active < pct {
		n = 1
		if second < secondDevicePct {
			n = 2
		}
	}
	list := make([]seedSession, n)
	for k := range list {
		// Signed in up to 20 hours ago, last seen within the last 100
		// minutes: alive for 20 minutes more at least.
		created := m.now - int64(10*60+s.intn(20*60*60-10*60))
		list[k] = seedSession{
			created: created,
			updated: max(created, m.now-int64(s.intn(100*60))),
			ip:      seedIP(s.next()),
			agent:   uint8(s.intn(len(userAgents))),
		}
	}
	return list
}

// seedIP is an address in the documentation ranges (RFC 5737).
func seedIP(x uint64) netip.Addr {
	nets := [...][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
	n := nets[scale(x, len(nets))]
	return netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(1 + x%254)})
}

// usedRecoveryCodes draws how many of a two-factor user's codes are spent.
func (m *seedModel) usedRecoveryCodes(i, j int) int {
	s := m.stream(kindRecoveryDraws, i, j)
	switch r := s.intn(100); {
	case r < 70:
		return 0
	case r < 90:
		return 1
	default:
		return 2 + s.intn(3)
	}
}

// Password reset links a user has asked for.
const (
	resetNone = iota
	resetOpen // asked for within the hour, not used yet
	resetUsed // used, more than an hour ago
)

// reset draws the reset link of the user created as member j of tenant i
// and when it was asked for (unix seconds, after the user's creation).
func (m *seedModel) reset(i, j int, joined int64) (int, int64) {
	s := m.stream(kindResetDraws, i, j)
	r, frac, ago := s.intn(1000), s.float(), int64(s.intn(50*60))
	switch {
	case r < openResetPerMille:
		return resetOpen, max(joined, m.now-ago)
	case r < openResetPerMille+usedResetPerMille:
		return resetUsed, joined + int64(frac*float64(max(0, m.now-joined-2*60*60)))
	}
	return resetNone, 0
}

// renamed says whether tenant i once had another URL, and until when
// (unix seconds).
func (m *seedModel) renamed(i int) (bool, int64) {
	if i <= m.hot {
		return false, 0
	}
	s := m.stream(kindSlugDraws, i, 0)
	r, frac := s.intn(100), s.float()
	t := m.tenant(i)
	return r < renamedPct, t.created + int64(frac*float64(m.now-t.created))
}

// oldSlug is the URL tenant i had before it took its bench slug: its name
// as a slug, with the index to keep it unique.
func oldSlug(t tenantSpec, i int) string {
	return strings.ToLower(strings.ReplaceAll(t.name(), " ", "-")) + "-" + strconv.Itoa(i)
}

// derivedHash is the SHA-256 of a derived id and an index, standing in for
// the hash of a token or code nobody holds.
func derivedHash(id [16]byte, k int) []byte {
	h := sha256.Sum256(append(id[:], byte(k)))
	return h[:]
}

// copyActivity streams the chunk's sessions, recovery codes, reset links
// and old URLs to COPY.
func (c *seedChunk) copyActivity(ctx context.Context, tx pgx.Tx, m *seedModel) error {
	row := make([]any, 10)
	var codec SessionCodec
	k, n := 0, 0
	var list []seedSession
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"sessions"},
		[]string{"tenant_id", "token_hash", "data", "expiry", "user_id", "created_at", "updated_at", "id", "ip", "user_agent"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; k < len(c.members); k, n = k+1, 0 {
				p := &c.members[k]
				if n == 0 {
					list = m.sessions(int(p.tenant), int(p.j))
				}
				if n == len(list) {
					continue
				}
				s := list[n]
				id := m.id(kindSession, int(p.tenant), int(p.j))
				id[15] ^= byte(n) // one id per session of the member
				data, err := codec.Encode(time.Unix(s.deadline(), 0), map[string]any{SessionUserKey: uuid.UUID(p.user).String()})
				if err != nil {
					return nil, err
				}
				row = append(row[:0], pgtype.UUID{Bytes: m.id(kindTenant, int(p.tenant), 0), Valid: true},
					derivedHash(m.id(kindSessionToken, int(p.tenant), int(p.j)), n), data, s.expiry(), pgtype.UUID{Bytes: p.user, Valid: true},
					time.Unix(s.created, 0), time.Unix(s.updated, 0), pgtype.UUID{Bytes: id, Valid: true},
					s.ip, userAgents[s.agent])
				n++
				c.sessions++
				return row, nil
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy sessions: %w", err)
	}

	k, n = 0, 0
	spent := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"mfa_recovery_codes"}, []string{"user_id", "code_hash", "created_at", "used_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; k < len(c.members); k, n = k+1, 0 {
				p := &c.members[k]
				if n == 0 && (!p.isNewUser() || !m.hasMFA(int(p.tenant), int(p.j))) || n == recoveryCodes {
					continue
				}
				if n == 0 {
					spent = m.usedRecoveryCodes(int(p.tenant), int(p.j))
				}
				enabled := m.mfaEnabledAt(p)
				var used any
				if n < spent {
					used = time.Unix(min(enabled.Unix()+int64(n+1)*30*24*60*60, m.now), 0)
				}
				row = append(row[:0], pgtype.UUID{Bytes: p.user, Valid: true},
					derivedHash(m.id(kindRecoveryCode, int(p.tenant), int(p.j)), n), enabled, used)
				n++
				c.recoveryCodes++
				return row, nil
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy recovery codes: %w", err)
	}

	k = 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"password_resets"}, []string{"id", "user_id", "token_hash", "created_at", "expires_at", "used_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; k < len(c.members); k++ {
				p := &c.members[k]
				if !p.isNewUser() {
					continue
				}
				state, at := m.reset(int(p.tenant), int(p.j), p.joined)
				if state == resetNone {
					continue
				}
				asked := time.Unix(at, 0)
				id := m.id(kindReset, int(p.tenant), int(p.j))
				var used any
				if state == resetUsed {
					used = asked.Add(4 * time.Minute)
				}
				row = append(row[:0], pgtype.UUID{Bytes: id, Valid: true}, pgtype.UUID{Bytes: p.user, Valid: true},
					derivedHash(m.id(kindResetToken, int(p.tenant), int(p.j)), 0), asked, asked.Add(time.Hour), used)
				k++
				c.resets++
				return row, nil
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy password resets: %w", err)
	}

	i := c.first
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"tenant_slug_history"}, []string{"slug", "owner_tenant", "changed_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for ; i <= c.last; i++ {
				if ok, at := m.renamed(i); ok {
					row = append(row[:0], oldSlug(m.tenant(i), i), pgtype.UUID{Bytes: m.id(kindTenant, i, 0), Valid: true}, time.Unix(at, 0))
					i++
					c.oldSlugs++
					return row, nil
				}
			}
			return nil, nil
		}))
	if err != nil {
		return fmt.Errorf("store: bulk seed: copy old URLs: %w", err)
	}
	return nil
}

// userAgents are the browsers seeded sessions began in.
var userAgents = [...]string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}
