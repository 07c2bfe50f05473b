package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// orgSizeTargets are the pages whose reads could grow with an organization:
// its members, their roles and two-factor state, its history, and an entry
// the cache does not hold. The harness measures them again in the large
// organization (`atrium seed --large`) and compares each with the same page
// of the loaded, 50-member ones at the largest scale.
var orgSizeTargets = []string{"dashboard", "members", "member page", "roles", "security settings", "audit log", "two-factor login step"}

// largeSessions is how many times the large organization's owner signs in:
// the load is spread over sessions as for the loaded organizations, but all
// land in the one organization.
const largeSessions = 8

// orgSizeResult is the large organization's pages.
type orgSizeResult struct {
	Tenant  string          `json:"tenant"`
	Members int             `json:"members"`
	Tenants int             `json:"tenants"` // the scale it was measured at
	Targets []*targetResult `json:"targets"`
}

// orgSize measures orgSizeTargets in the large organization, which the
// seeder makes tenant Hot+1 with LargeMembers members, once the largest
// scale's targets are done.
func (h *harness) orgSize(ctx context.Context, fix *fixture, s *scaleResult) error {
	var list []target
	for _, t := range h.targets() {
		if slices.Contains(orgSizeTargets, t.Name) {
			list = append(list, t)
		}
	}
	if h.cfg.LargeMembers == 0 || s.Tenants <= h.cfg.Hot || len(list) == 0 {
		return nil
	}
	i := h.cfg.Hot + 1
	slug := tenantSlug(i)
	h.logf("signing in the owner of %s, the organization of %s members, %d times", slug, count(h.cfg.LargeMembers), largeSessions)
	large := &fixture{Operators: fix.Operators}
	for range largeSessions {
		se, err := signIn(ctx, h.serverURL, "/o/"+slug+"/login", "/o/"+slug+"/", memberEmail(i, 1), seedPassword)
		if err != nil {
			return fmt.Errorf("sign in the large organization's owner: %w", err)
		}
		se.Slug = slug
		large.Tenants = append(large.Tenants, se)
	}
	conn, err := pgx.Connect(ctx, h.superURL)
	if err != nil {
		return err
	}
	var members int
	err = conn.QueryRow(ctx, `SELECT member_count FROM tenants WHERE slug = $1`, slug).Scan(&members)
	if err == nil {
		err = findMembers(ctx, conn, large)
	}
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("the large organization: %w", err)
	}
	res := &orgSizeResult{Tenant: slug, Members: members, Tenants: s.Tenants}
	where := fmt.Sprintf("%s members", count(members))
	for _, t := range list {
		r, err := h.measure(ctx, t, large, s.Targets, where)
		if err != nil {
			return err
		}
		res.Targets = append(res.Targets, r)
	}
	h.res.OrgSize = res
	return nil
}
