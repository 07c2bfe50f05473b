package main

import (
	"context"

	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/store"
)

// The demo: fixed, printed logins for a local installation only.
const demoPassword = "demo-password"

var demoOperator = struct{ Email, Name, Password string }{"operator@atrium.test", "Demo Operator", "operator-password"}

type demoMember struct{ Email, Name, Role string }

var demoOrgs = []struct {
	Slug, Name string
	Members    []demoMember
}{
	{"acme", "Acme Corporation", []demoMember{
		{"ada@acme.test", "Ada Lovelace", "owner"},
		{"grace@acme.test", "Grace Hopper", "admin"},
		{"alan@acme.test", "Alan Turing", "member"},
		{"edsger@acme.test", "Edsger Dijkstra", "viewer"},
	}},
	{"globex", "Globex", []demoMember{
		{"hank@globex.test", "Hank Scorpio", "owner"},
		{"ada@acme.test", "Ada Lovelace", "admin"},
		{"frank@globex.test", "Frank Grimes", "member"},
	}},
}

// seedDemo creates the demo operator, organizations and members through the
// same store doors the application uses, in one transaction, unless the
// database already holds any organization or operator.
func seedDemo(ctx context.Context, db *store.DB, hasher *password.Hasher) (bool, error) {
	seeded := false
	err := db.InSystem(ctx, func(tx *store.SysTx) error {
		n, err := tx.CountTenants(ctx)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.FindOperatorByEmail(ctx, demoOperator.Email); err == nil {
			return nil
		}
		opHash, err := hasher.Hash(demoOperator.Password)
		if err != nil {
			return err
		}
		if _, err := tx.CreateOperator(ctx, demoOperator.Email, demoOperator.Name, opHash); err != nil {
			return err
		}
		userHash, err := hasher.Hash(demoPassword)
		if err != nil {
			return err
		}
		users := map[string]*store.User{}
		for _, org := range demoOrgs {
			t, err := tx.CreateTenant(ctx, org.Slug, org.Name)
			if err != nil {
				return err
			}
			ttx, err := tx.EnterTenant(ctx, t.ID)
			if err != nil {
				return err
			}
			for _, m := range org.Members {
				u := users[m.Email]
				if u == nil {
					if u, err = tx.CreateUser(ctx, m.Email, m.Name, userHash); err != nil {
						return err
					}
					users[m.Email] = u
				}
				if _, err := ttx.CreateMembership(ctx, u.ID, m.Role); err != nil {
					return err
				}
			}
		}
		seeded = true
		return nil
	})
	return seeded, err
}
