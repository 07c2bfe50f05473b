package members

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/static"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
)

// BenchmarkMembers renders a full page of members as an owner sees it (every
// row with its link to the member's page): the members page's share of server CPU, apart
// from the database. go test ./views/members -run XXX -bench . -benchmem
func BenchmarkMembers(b *testing.B) {
	assets := static.Load()
	owner := &atrium.User{ID: uuid.New(), Name: "Owner", Email: "owner@example.test", Role: "owner"}
	p := views.Page{Title: "Members", CSRF: "0123456789abcdef0123456789abcdef", Assets: assets, Nav: "members",
		Tenant: &atrium.Tenant{ID: uuid.New(), Slug: "bench-000001", Name: "Bench 1"}, User: owner,
		Perms: map[string]bool{"members.manage": true, "members.invite": true, "ownership.transfer": true, "audit.read": true}}
	l := List{Total: 50, Roles: []string{"owner", "admin", "billing", "member", "viewer"}, Now: time.Now()}
	for i := range 50 {
		l.Members = append(l.Members, store.Member{ID: uuid.New(), UserID: uuid.New(), Name: fmt.Sprintf("Member %d", i),
			Email: fmt.Sprintf("m%d@example.test", i), Role: "member", CreatedAt: time.Now()})
	}
	for i := range 3 {
		l.Invites = append(l.Invites, store.Invite{ID: uuid.New(), Email: fmt.Sprintf("i%d@example.test", i), Role: "member",
			ExpiresAt: time.Now().Add(time.Hour)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Members(p, l).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRoleBadge(t *testing.T) {
	for _, tc := range []struct{ role, label, want string }{
		{"owner", "owner", `<span class="badge badge-owner" data-testid="role">owner</span>`},
		{"member", "member", `<span class="badge badge-member" data-testid="role">member</span>`},
		{"custom", "Q&A <lead>", `<span class="badge badge-neutral" data-testid="role">Q&amp;A &lt;lead&gt;</span>`},
	} {
		var b strings.Builder
		if err := roleBadge(tc.role, tc.label).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("roleBadge(%q, %q) = %s, want %s", tc.role, tc.label, b.String(), tc.want)
		}
		if got := string(roleBadge(tc.role, tc.label).appendTo(nil)); got != tc.want {
			t.Errorf("roleBadge(%q, %q).appendTo = %s, want %s", tc.role, tc.label, got, tc.want)
		}
	}
}

func TestMemberRow(t *testing.T) {
	id := uuid.MustParse("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
	joined := time.Date(2026, 3, 9, 23, 30, 0, 0, time.FixedZone("", -3600)) // 10 Mar in UTC
	plain := store.Member{ID: id, Name: "Ada Lovelace", Email: "ada@example.test", Role: "admin", CreatedAt: joined}
	odd := store.Member{ID: id, Name: `O'Brien & <Sons>`, Email: `"q"@example.test`, Role: "custom", RoleName: "Q&A", CreatedAt: joined}
	const (
		open       = `<tr data-member="0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"><td><span data-testid="member-name">`
		link       = `<td><a class="btn btn-secondary" href="/o/acme/members/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" data-testid="manage-member">Manage <span class="visually-hidden">member `
		joinedText = `<td>10 Mar 2026</td>`
	)
	for _, tc := range []struct {
		name string
		row  memberRow
		want string
	}{
		{"ViewerOnly", memberRow{m: &plain, url: "/o/acme/members/"},
			open + `Ada Lovelace</span> </td><td>ada@example.test</td><td><span class="badge badge-admin" data-testid="role">admin</span></td>` + joinedText + `</tr>`},
		{"Manager", memberRow{m: &plain, manage: true, url: "/o/acme/members/"},
			open + `Ada Lovelace</span> </td><td>ada@example.test</td><td><span class="badge badge-admin" data-testid="role">admin</span></td>` + joinedText +
				link + `Ada Lovelace</span></a></td></tr>`},
		{"ManagerSelf", memberRow{m: &plain, self: true, manage: true, url: "/o/acme/members/"},
			open + `Ada Lovelace</span> <span class="badge badge-neutral">you</span></td><td>ada@example.test</td><td><span class="badge badge-admin" data-testid="role">admin</span></td>` + joinedText +
				`<td></td></tr>`},
		{"Escaped", memberRow{m: &odd, manage: true, url: "/o/acme/members/"},
			open + `O&#39;Brien &amp; &lt;Sons&gt;</span> </td><td>&#34;q&#34;@example.test</td><td><span class="badge badge-neutral" data-testid="role">Q&amp;A</span></td>` + joinedText +
				link + `O&#39;Brien &amp; &lt;Sons&gt;</span></a></td></tr>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			for range 2 { // the second from a reused buffer
				b.Reset()
				if err := tc.row.Render(context.Background(), &b); err != nil {
					t.Fatal(err)
				}
				if b.String() != tc.want {
					t.Errorf("got  %s\nwant %s", b.String(), tc.want)
				}
			}
		})
	}
}
