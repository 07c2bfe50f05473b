package store_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

const testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func codeHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// sysDo runs fn in a system transaction and fails the test on error.
func sysDo(t *testing.T, f *fixture, fn func(context.Context, *store.SysTx) error) {
	t.Helper()
	ctx := context.Background()
	if err := f.db.InSystem(ctx, func(tx *store.SysTx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func findMFA(t *testing.T, f *fixture, userID uuid.UUID) (m *store.MFA) {
	t.Helper()
	sysDo(t, f, func(ctx context.Context, tx *store.SysTx) (err error) {
		m, err = tx.FindMFA(ctx, userID)
		return err
	})
	return m
}

func TestMFA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.userA.ID, f.userB.ID
	useStep := func(user uuid.UUID, step int64) (ok bool) {
		t.Helper()
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) (err error) {
			ok, err = tx.UseTOTPStep(ctx, user, step)
			return err
		})
		return ok
	}
	useCode := func(user uuid.UUID, code string) (ok bool) {
		t.Helper()
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) (err error) {
			ok, err = tx.UseRecoveryCode(ctx, user, codeHash(code))
			return err
		})
		return ok
	}

	t.Run("OffByDefault", func(t *testing.T) {
		m := findMFA(t, f, a)
		if m.Enabled() || m.Secret != "" || m.LastStep != 0 || m.RecoveryCodesLeft != 0 {
			t.Fatalf("mfa = %+v, want off", m)
		}
		if useStep(a, 1) || useCode(a, "anything") {
			t.Fatal("a code was accepted for a user without MFA")
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { _, err := tx.FindMFA(ctx, uuid.New()); return err })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("err = %v, want not found", err)
		}
	})
	t.Run("Enable", func(t *testing.T) {
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.EnableMFA(ctx, a, testSecret, 100, [][]byte{codeHash("one"), codeHash("two"), codeHash("three")})
		})
		m := findMFA(t, f, a)
		if !m.Enabled() || m.Secret != testSecret || m.LastStep != 100 || m.RecoveryCodesLeft != 3 {
			t.Fatalf("mfa = %+v", m)
		}
		if findMFA(t, f, b).Enabled() {
			t.Fatal("enabling for Ann enabled it for Bob")
		}
	})
	t.Run("ErrEnableTwice", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			return tx.EnableMFA(ctx, a, "KRUGS4ZANFZSAYJAONSWG4TFOQ", 500, nil)
		})
		if atrium.ErrorCode(err) != atrium.ECONFLICT {
			t.Fatalf("err = %v, want conflict", err)
		}
		if m := findMFA(t, f, a); m.Secret != testSecret || m.LastStep != 100 || m.RecoveryCodesLeft != 3 {
			t.Fatalf("second enable changed the state: %+v", m)
		}
	})
	t.Run("TOTPStepWorksOnce", func(t *testing.T) {
		for _, tc := range []struct {
			step int64
			want bool
		}{{100, false}, {99, false}, {101, true}, {101, false}, {100, false}, {103, true}, {102, false}} {
			if got := useStep(a, tc.step); got != tc.want {
				t.Errorf("step %d: accepted %v, want %v", tc.step, got, tc.want)
			}
		}
		if m := findMFA(t, f, a); m.LastStep != 103 {
			t.Errorf("last step = %d, want 103", m.LastStep)
		}
	})
	t.Run("RecoveryCodeWorksOnce", func(t *testing.T) {
		if !useCode(a, "one") {
			t.Fatal("an unused code was refused")
		}
		if useCode(a, "one") {
			t.Fatal("a used code was accepted again")
		}
		if useCode(a, "unknown") {
			t.Fatal("an unknown code was accepted")
		}
		if useCode(b, "two") {
			t.Fatal("Ann's code was accepted for Bob")
		}
		if m := findMFA(t, f, a); m.RecoveryCodesLeft != 2 {
			t.Fatalf("codes left = %d, want 2", m.RecoveryCodesLeft)
		}
	})
	t.Run("ReplaceRecoveryCodes", func(t *testing.T) {
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.ReplaceRecoveryCodes(ctx, a, [][]byte{codeHash("four"), codeHash("five")})
		})
		if useCode(a, "two") {
			t.Fatal("an old code still works after replacing them")
		}
		if m := findMFA(t, f, a); m.RecoveryCodesLeft != 2 {
			t.Fatalf("codes left = %d, want 2", m.RecoveryCodesLeft)
		}
		if !useCode(a, "four") {
			t.Fatal("a new code was refused")
		}
	})
	t.Run("Disable", func(t *testing.T) {
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error { return tx.DisableMFA(ctx, a) })
		m := findMFA(t, f, a)
		if m.Enabled() || m.Secret != "" || m.LastStep != 0 || m.RecoveryCodesLeft != 0 {
			t.Fatalf("mfa after disable = %+v", m)
		}
		if useCode(a, "five") || useStep(a, 1000) {
			t.Fatal("a code was accepted after MFA was turned off")
		}
		var n int
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.Raw().QueryRow(ctx, `SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1`, a).Scan(&n)
		})
		if n != 0 {
			t.Fatalf("%d recovery codes left in the table, want 0", n)
		}
	})
	t.Run("ErrDisableWhenOff", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { return tx.DisableMFA(ctx, a) })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("err = %v, want not found", err)
		}
	})
	t.Run("ErrSecretWithoutEnabling", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			_, err := tx.Raw().Exec(ctx, `UPDATE users SET totp_secret = $2 WHERE id = $1`, b, testSecret)
			return err
		})
		if err == nil {
			t.Fatal("a secret was stored without MFA being on")
		}
	})
}

func TestSecuritySettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	settings := func(ctx context.Context) (st *store.SecuritySettings) {
		t.Helper()
		st = new(store.SecuritySettings)
		if err := f.db.ReadTenant(ctx, func(b *store.Batch) { b.FindSecuritySettings(st) }); err != nil {
			t.Fatal(err)
		}
		return st
	}
	update := func(ctx context.Context, on bool) (changed bool) {
		t.Helper()
		if err := f.db.InTenant(ctx, func(tx *store.Tx) (err error) { changed, err = tx.UpdateRequireMFA(ctx, on); return err }); err != nil {
			t.Fatal(err)
		}
		return changed
	}

	t.Run("Defaults", func(t *testing.T) {
		if st := settings(f.ctxA); st.RequireMFA || st.Members != 1 || st.MembersWithoutMFA != 1 {
			t.Fatalf("settings = %+v", st)
		}
	})
	t.Run("RequireOnlyOwnTenant", func(t *testing.T) {
		if !update(f.ctxA, true) {
			t.Fatal("turning the requirement on changed nothing")
		}
		if update(f.ctxA, true) {
			t.Fatal("setting the same value again reported a change")
		}
		if !settings(f.ctxA).RequireMFA {
			t.Fatal("alpha does not require MFA")
		}
		if settings(f.ctxB).RequireMFA {
			t.Fatal("alpha's setting changed bravo")
		}
	})
	t.Run("CountsMembersWithoutMFA", func(t *testing.T) {
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.EnableMFA(ctx, f.userA.ID, testSecret, 1, nil)
		})
		if st := settings(f.ctxA); st.MembersWithoutMFA != 0 || st.Members != 1 {
			t.Fatalf("alpha settings = %+v", st)
		}
		if st := settings(f.ctxB); st.MembersWithoutMFA != 1 {
			t.Fatalf("bravo settings = %+v", st)
		}
	})
	t.Run("CountFollowsTurningMFAOff", func(t *testing.T) {
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.DisableMFA(ctx, f.userA.ID)
		})
		if st := settings(f.ctxA); st.MembersWithoutMFA != 1 {
			t.Fatalf("alpha settings = %+v", st)
		}
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.EnableMFA(ctx, f.userA.ID, testSecret, 1, nil)
		})
	})
	t.Run("CountFollowsMembershipsInEveryOrganization", func(t *testing.T) {
		// The tenant row keeps the count (migration 00019): it follows a
		// member with two-factor authentication joining, that member
		// turning it off (in each of their organizations), and leaving.
		counts := func(ctx context.Context) [2]int {
			t.Helper()
			st := settings(ctx)
			return [2]int{st.Members, st.MembersWithoutMFA}
		}
		var ann *store.Member
		if err := f.db.InTenant(f.ctxB, func(tx *store.Tx) (err error) {
			ann, err = tx.CreateMembership(f.ctxB, f.userA.ID, "member")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := counts(f.ctxB); got != [2]int{2, 1} {
			t.Fatalf("Ann, with MFA, joined bravo: members, without MFA = %v, want [2 1]", got)
		}
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error { return tx.DisableMFA(ctx, f.userA.ID) })
		if a, b := counts(f.ctxA), counts(f.ctxB); a != [2]int{1, 1} || b != [2]int{2, 2} {
			t.Fatalf("Ann turned MFA off: alpha %v, bravo %v; want [1 1] and [2 2]", a, b)
		}
		if err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.DeleteMember(f.ctxB, ann.ID) }); err != nil {
			t.Fatal(err)
		}
		if got := counts(f.ctxB); got != [2]int{1, 1} {
			t.Fatalf("Ann, without MFA, left bravo: %v, want [1 1]", got)
		}
		sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
			return tx.EnableMFA(ctx, f.userA.ID, testSecret, 1, nil)
		})
		if a, b := counts(f.ctxA), counts(f.ctxB); a != [2]int{1, 0} || b != [2]int{1, 1} {
			t.Fatalf("Ann turned MFA on again: alpha %v, bravo %v; want [1 0] and [1 1]", a, b)
		}
	})
	t.Run("MemberMFAEnabledOnlyForMembers", func(t *testing.T) {
		var on bool
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) (err error) { on, err = tx.MemberMFAEnabled(f.ctxA, f.userA.ID); return err })
		if err != nil || !on {
			t.Fatalf("Ann at alpha: %v, %v; want true", on, err)
		}
		err = f.db.InTenant(f.ctxB, func(tx *store.Tx) (err error) { _, err = tx.MemberMFAEnabled(f.ctxB, f.userA.ID); return err })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("Ann at bravo, where she is no member: err = %v, want not found", err)
		}
	})
}

// TestEnterMFA checks the two facts enter_tenant adds for enforcing
// "require MFA" without another round trip.
func TestEnterMFA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessionFor(t, f, f.ctxA, "tok-a", f.userA)
	sessionFor(t, f, f.ctxB, "tok-b", f.userB)
	enter := func(slug, token string) *store.Entry {
		t.Helper()
		e, err := f.db.Enter(ctx, slug, token, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	if e := enter("alpha", "tok-a"); e.Tenant.RequireMFA || e.MFAEnabled {
		t.Fatalf("before: require %v, enabled %v", e.Tenant.RequireMFA, e.MFAEnabled)
	}
	if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error { _, err := tx.UpdateRequireMFA(f.ctxA, true); return err }); err != nil {
		t.Fatal(err)
	}
	if e := enter("alpha", "tok-a"); !e.Tenant.RequireMFA || e.MFAEnabled {
		t.Fatalf("required: require %v, enabled %v", e.Tenant.RequireMFA, e.MFAEnabled)
	}
	sysDo(t, f, func(ctx context.Context, tx *store.SysTx) error {
		return tx.EnableMFA(ctx, f.userA.ID, testSecret, 1, nil)
	})
	if e := enter("alpha", "tok-a"); !e.Tenant.RequireMFA || !e.MFAEnabled || e.Member == nil {
		t.Fatalf("enabled: require %v, enabled %v, member %v", e.Tenant.RequireMFA, e.MFAEnabled, e.Member)
	}
	if e := enter("alpha", ""); !e.Tenant.RequireMFA || e.MFAEnabled || e.Member != nil {
		t.Fatalf("no session: require %v, enabled %v", e.Tenant.RequireMFA, e.MFAEnabled)
	}
	if e := enter("bravo", "tok-b"); e.Tenant.RequireMFA || e.MFAEnabled {
		t.Fatalf("bravo: require %v, enabled %v; alpha's facts leaked", e.Tenant.RequireMFA, e.MFAEnabled)
	}
}
