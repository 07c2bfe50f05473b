package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/handlers/apptest"
	"github.com/atrium-dev/atrium/handlers/authz"
)

// publicTenantRoutes are the only routes under /o/:org that a non-member may
// call. Every other route there must declare a permission.
var publicTenantRoutes = map[string]bool{
	"GET /o/:org":        true, // redirect to /o/:org/
	"GET /o/:org/login":  true,
	"POST /o/:org/login": true,
	// Accepting an invitation: the token is the credential.
	"GET /o/:org/invite/:token":  true,
	"POST /o/:org/invite/:token": true,
	// Asking to join through an email-domain link: the token is the credential.
	"GET /o/:org/join/:token":  true,
	"POST /o/:org/join/:token": true,
	// The second login step: the pending login in the session is the credential.
	"GET /o/:org/login/mfa":  true,
	"POST /o/:org/login/mfa": true,
}

// TestRouteRoleMatrix walks every route under /o/:org with every built-in
// role: a role holding the route's permission gets through, any other role
// gets the 403 page. A route added without a permission fails here.
func TestRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "matrix", "Matrix", "owner@matrix.test", "matrix-password")
	perms := s.App.RoutePermissions()

	var routes []string
	for _, r := range s.App.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/o/:org") || strings.HasSuffix(path, "/*") || method == "echo_route_not_found" {
			continue
		}
		if publicTenantRoutes[r] {
			continue
		}
		if _, ok := perms[r]; !ok {
			t.Errorf("route %s declares no permission: register it with a.guard in handlers/routes.go", r)
			continue
		}
		routes = append(routes, r)
	}
	if len(routes) < 4 {
		t.Fatalf("only %d guarded routes found; the walk is broken", len(routes))
	}

	for _, role := range authz.Builtin {
		for i, r := range routes {
			// A member of their own per route: some routes (leave) change
			// who is a member.
			email := fmt.Sprintf("%s-%d@matrix.test", role.Name, i)
			s.AddMember(t, "matrix", email, role.Name, "matrix-password", role.Name)
			t.Run(role.Name+" "+r, func(t *testing.T) {
				c := s.Client(t)
				c.Login("matrix", email, "matrix-password")
				method, path, _ := strings.Cut(r, " ")
				path = strings.Replace(path, ":org", "matrix", 1)
				path = strings.Replace(path, ":id", uuid.NewString(), 1) // nobody's: changes nothing
				var res *apptest.Response
				if method == http.MethodPost {
					res = c.Post(path, url.Values{})
				} else {
					res = c.Get(path)
				}
				allowed := authz.Can(userWithRole(role.Name), perms[r])
				switch {
				case allowed && res.StatusCode == http.StatusForbidden:
					t.Fatalf("%s may %s but got %d", role.Name, r, res.StatusCode)
				case !allowed && res.StatusCode != http.StatusForbidden:
					t.Fatalf("%s may not %s but got %d", role.Name, r, res.StatusCode)
				}
			})
		}
	}
}
