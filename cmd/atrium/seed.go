package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/store"
)

// runSeed handles "atrium seed --tenants N --members M": it fills the
// database (the owner URL from databases, so the private cluster under
// DATA_DIR when no URL is set) with deterministic bench data for the load
// benchmark. It only adds tenants beyond those already there, so the
// benchmark can grow one database step by step.
func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	tenants := fs.Int("tenants", 0, "bench tenants wanted in total (required); existing ones are kept")
	members := fs.Int("members", 0, "target memberships for that many tenants (default 10 per tenant); keep members/tenants constant when growing a database")
	seed := fs.Uint64("seed", 1, "selects the data set; the same flags and seed give the same rows")
	hot := fs.Int("hot", 200, "the first H tenants get exactly --hot-members members each")
	hotMembers := fs.Int("hot-members", 50, "members of each hot tenant")
	large := fs.Int("large", 0, "if set, one more hot tenant, after the others, with this many members: a large organization")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected argument %q", fs.Arg(0))
	}
	if *tenants < 1 {
		return errors.New("seed: --tenants N is required (N ≥ 1)")
	}
	if *members == 0 {
		*members = 10 * *tenants
	}

	cfg, err := loadConfig(true)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	_, ownerURL, stop, err := databases(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	if err := migrateUp(ctx, ownerURL, log); err != nil {
		return err
	}
	// One hash for every user: argon2id per user would take hours.
	hash, err := password.New(password.Default).Hash(store.BenchPassword)
	if err != nil {
		return err
	}
	res, err := store.BulkSeed(ctx, ownerURL, store.SeedOptions{
		Tenants: *tenants, Members: *members, Seed: *seed,
		Hot: *hot, HotMembers: *hotMembers, Large: *large, PasswordHash: hash,
		Progress: func(p store.SeedProgress) {
			log.Info("seeding", "tenants", fmt.Sprintf("%d/%d", p.TenantsDone, p.TenantsToAdd),
				"users", p.Users, "memberships", p.Memberships, "elapsed", p.Elapsed.Round(time.Millisecond))
		},
	})
	if err != nil {
		return err
	}
	secs := res.Duration.Seconds()
	fmt.Printf("seeded in %s (%.0f rows/s): tenants +%d (total %d, %d with an old URL), users +%d (%d with two-factor, %d recovery codes; %d password reset links), "+
		"memberships +%d, custom roles +%d, join links +%d, audit events +%d, invitations +%d, live sessions +%d\n",
		res.Duration.Round(time.Millisecond), float64(res.Rows())/max(secs, 1e-9),
		res.TenantsAdded, res.TenantsTotal, res.OldSlugsAdded, res.UsersAdded, res.MFAUsers, res.RecoveryCodes, res.ResetsAdded,
		res.MembershipsAdded, res.RolesAdded, res.JoinLinksAdded, res.AuditAdded, res.InvitesAdded, res.SessionsAdded)
	if h := min(*hot, res.TenantsTotal); h > 0 {
		fmt.Printf("hot tenants: %s..%s (%d members each; the owner of tenant i is u<i>.1@bench.test, e.g. %s)\n",
			store.BenchSlug(1), store.BenchSlug(h), *hotMembers, store.BenchEmail(1, 1))
	}
	if *large > 0 && res.TenantsTotal > *hot {
		fmt.Printf("large tenant: %s (%d members; its owner is %s)\n", store.BenchSlug(*hot+1), *large, store.BenchEmail(*hot+1, 1))
	}
	fmt.Printf("password of every seeded user: %s\n", store.BenchPassword)
	return nil
}
