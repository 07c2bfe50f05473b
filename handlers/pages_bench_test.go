package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// BenchmarkPages serves the signed-in pages `make bench` loads, in process
// and one at a time: the server's own cost per page (handler chain, database round
// trip on a unix socket, rendering) without the network and the load
// generator, and its allocations. An organization of 50 members and 60
// audit events, its owner signed in; the console with an operator.
//
//	go run ./cmd/testdb -- go test ./handlers -run XXX -bench Pages -benchmem
func BenchmarkPages(b *testing.B) {
	s := apptest.New(b)
	s.Org(b, "bench", "Bench Org", "owner@bench.test", "pw-bench-owner")
	for i := range 49 {
		s.AddMember(b, "bench", fmt.Sprintf("m%02d@bench.test", i), fmt.Sprintf("Member %02d", i), "pw", "member")
	}
	s.Operator(b, "ops@atrium.test", "operator-password")
	owner := s.Client(b)
	owner.Login("bench", "owner@bench.test", "pw-bench-owner")
	// What the seeder gives a loaded tenant: a page of audit events, and
	// more organizations than the console's first page.
	conn := s.DB.OwnerConn(b)
	if _, err := conn.Exec(context.Background(), `
		SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'bench'), true);
		INSERT INTO audit_events (tenant_id, actor_kind, actor_email, action, target_type, target_label, ip, details)
		SELECT t.id, 'user', 'owner@bench.test', 'member.role_changed', 'member', 'm' || i || '@bench.test',
		       '192.0.2.7', '{"from": "member", "to": "admin"}'
		FROM tenants t, generate_series(1, 60) i WHERE t.slug = 'bench';
		INSERT INTO tenants (slug, name) SELECT 'other-' || i, 'Other ' || i FROM generate_series(1, 60) i`); err != nil {
		b.Fatal(err)
	}
	op := s.Client(b)
	if res := op.Post("/console/login", url.Values{"email": {"ops@atrium.test"}, "password": {"operator-password"}}); res.StatusCode != http.StatusSeeOther {
		b.Fatalf("operator login: %d", res.StatusCode)
	}
	s.SyncChanges(b)
	var memberID string
	if err := conn.QueryRow(context.Background(), `SELECT set_config('app.tenant_id', tenant_id::text, false), id::text
		FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = 'm07@bench.test')`).Scan(nil, &memberID); err != nil {
		b.Fatal(err)
	}

	for _, p := range []struct {
		name, path string
		as         *apptest.Client
	}{
		{"dashboard", "/o/bench/", owner},
		{"members", "/o/bench/members", owner},
		{"audit", "/o/bench/audit", owner},
		{"member page", "/o/bench/members/" + memberID, owner},
		{"roles", "/o/bench/roles", owner},
		{"settings", "/o/bench/settings", owner},
		{"account sessions", "/o/bench/account/sessions", owner},
		{"two-factor", "/o/bench/account/mfa", owner},
		{"switch organization", "/o/bench/switch", owner},
		{"console", "/console/", op},
	} {
		b.Run(p.name, func(b *testing.B) {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, p.path, nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin") // as a browser following a link
			page, _ := url.Parse(s.URL + p.path)
			for _, c := range p.as.Jar.Cookies(page) {
				req.AddCookie(c)
			}
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				s.App.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %.300s", p.path, w.Code, w.Body)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
