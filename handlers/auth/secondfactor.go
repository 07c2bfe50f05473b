package auth

import (
	"context"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/mfa"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
)

// signInMember checks, inside the organization's transaction, that userID
// is a member (ENOTFOUND otherwise) and records the login, unless the user
// has two-factor authentication on: then the login is not finished yet, is
// recorded by the second step (handlers/mfa), and secondStep is true.
func signInMember(ctx context.Context, tx *store.Tx, userID uuid.UUID) (secondStep bool, err error) {
	m, err := tx.FindMemberByUserID(ctx, userID)
	if err != nil {
		return false, err
	}
	if secondStep, err = tx.MemberMFAEnabled(ctx, userID); err != nil || secondStep {
		return secondStep, err
	}
	return false, recordLogin(ctx, tx, m)
}

// startSecondFactor is startTenantSession for a user with two-factor
// authentication: the new session in the organization holds only the
// pending login (mfa.BeginLogin), and the caller sends them to the code
// step.
func (h *Handler) startSecondFactor(c echo.Context, t *atrium.Tenant, userID uuid.UUID) error {
	return web.StartSession(c, h.tenantSM, t, func(ctx context.Context) {
		mfa.BeginLogin(ctx, h.tenantSM, userID, "/o/"+t.Slug+"/")
	})
}
