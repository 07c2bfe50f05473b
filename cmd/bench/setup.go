package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/pgcluster"
)

// clusterSettings suit a load test on a small machine: room for the server's,
// the baseline's and the door measurement's pools, and a buffer cache that
// holds 100,000 tenants. fsync stays on, as in production.
// pg_stat_statements counts the statements each page costs.
var clusterSettings = map[string]string{
	"max_connections":          "200",
	"shared_buffers":           "256MB",
	"shared_preload_libraries": "pg_stat_statements",
	"pg_stat_statements.track": "top",
}

// startCluster creates a fresh private cluster under .data/bench-*, the
// roles and the database, and migrates it with `atrium migrate up`. The
// cluster and its directory are removed on exit.
func (h *harness) startCluster(ctx context.Context) error {
	if err := os.MkdirAll(".data", 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(".data", "bench-")
	if err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return err
	}
	h.onExit(func() { os.RemoveAll(dir) })
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Settings: clusterSettings, Logf: h.logf})
	if err != nil {
		return err
	}
	h.onExit(func() {
		if err := c.Stop(); err != nil {
			h.logf("stop PostgreSQL: %v", err)
		}
		// Keep the server's log with the others: it names failed statements.
		if b, err := os.ReadFile(filepath.Join(c.Dir(), "postgres.log")); err == nil {
			_ = os.WriteFile(filepath.Join(h.cfg.Out, "postgres.log"), b, 0o644)
		}
		os.RemoveAll(c.Dir()) // the real directory, when it had to move
	})
	h.cluster = c
	h.superURL = c.URL(pgcluster.SuperUser, "atrium")
	if err := store.Bootstrap(ctx, c.URL(pgcluster.SuperUser, "postgres"), "atrium"); err != nil {
		return err
	}
	var err1, err2 error
	h.appURL, err1 = store.WithUser(h.superURL, store.AppRole, "atrium")
	h.ownerURL, err2 = store.WithUser(h.superURL, store.OwnerRole, "atrium")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if _, err := h.atrium(ctx, "", "migrate", "up"); err != nil {
		return err
	}
	h.logf("creating the operator %s", operatorEmail)
	if _, err = h.atrium(ctx, operatorPassword+"\n", "operator", "create", "--email", operatorEmail, "--password-stdin"); err != nil {
		return err
	}
	pidFile, err := os.ReadFile(filepath.Join(c.Dir(), "data", "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("postmaster pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		return fmt.Errorf("postmaster pid: %w", err)
	}
	if h.db, err = newDBMeter(ctx, h.superURL, pid, h.logf); err != nil {
		return err
	}
	h.onExit(h.db.Close)
	return nil
}

// passedEnv are the variables of our environment that `atrium` commands
// see; everything else (a stray DATABASE_URL, METRICS_ADDR or SMTP_URL in
// the caller's shell) is dropped, so that only the harness decides what is
// measured. The Go runtime's knobs pass, to try e.g. GOMEMLIMIT=200MiB.
var passedEnv = []string{"PATH", "HOME", "USER", "TMPDIR", "TZ", "LANG", "LC_ALL",
	"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG", "ENTRY_CACHE"}

// atriumEnv returns the environment of an `atrium` command: passedEnv, the
// database URLs and extra.
func (h *harness) atriumEnv(appURL string, extra ...string) []string {
	var env []string
	for _, name := range passedEnv {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	env = append(env, "DATABASE_URL="+appURL, "MIGRATION_DATABASE_URL="+h.ownerURL)
	return append(env, extra...)
}

// atrium runs one `atrium` command to completion with stdin as its input,
// and returns its output (shown in full when it fails).
func (h *harness) atrium(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.cfg.Atrium, args...)
	cmd.Env = h.atriumEnv(h.appURL, "LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("atrium %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// seed grows the database to tenants organizations with `atrium seed`, which
// adds only what is missing. The first cfg.Hot tenants get exactly
// cfg.HotMembers members each; the others 10 on average (the seeder wants
// that ratio kept as the database grows). The same flags at every size keep
// each tenant's rows the same whichever run created it.
func (h *harness) seed(ctx context.Context, tenants int) (*scaleResult, error) {
	args := []string{"seed", "--tenants", strconv.Itoa(tenants), "--members", strconv.Itoa(10 * tenants),
		"--hot", strconv.Itoa(h.cfg.Hot), "--hot-members", strconv.Itoa(h.cfg.HotMembers), "--large", strconv.Itoa(h.cfg.LargeMembers),
		"--seed", strconv.Itoa(h.cfg.Seed)}
	h.logf("seeding: atrium %s", strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, h.cfg.Atrium, args...)
	cmd.Env = h.atriumEnv(h.appURL, "LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("atrium seed: %w", err)
	}
	s := &scaleResult{Tenants: tenants, HotTenants: min(h.cfg.Hot, tenants), SeedSeconds: time.Since(start).Seconds()}
	conn, err := pgx.Connect(ctx, h.superURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM memberships), (SELECT count(*) FROM users)`).
		Scan(&s.TenantRows, &s.MembershipRows, &s.UserRows); err != nil {
		return nil, err
	}
	if s.TenantRows < int64(tenants) {
		return nil, fmt.Errorf("after seeding %d tenants the database holds %d", tenants, s.TenantRows)
	}
	return s, nil
}

// checkAtrium fails early, before any database is made, when the atrium
// binary is missing or predates `atrium seed`.
func checkAtrium(bin string) error {
	out, err := exec.Command(bin, "seed", "-h").CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		return fmt.Errorf("%s: %w (build it with make build, or run make bench)", bin, err)
	case bytes.Contains(out, []byte("unknown command")):
		return fmt.Errorf("%s has no seed command: rebuild it (make build) from a tree with `atrium seed`", bin)
	}
	return nil
}

// hotTenantIDs returns the ids of the first n tenants, in slug order.
func (h *harness) hotTenantIDs(ctx context.Context, n int) ([]uuid.UUID, error) {
	slugs := make([]string, n)
	for i := range slugs {
		slugs[i] = tenantSlug(i + 1)
	}
	conn, err := pgx.Connect(ctx, h.superURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT id FROM tenants WHERE slug = ANY($1) ORDER BY slug`, slugs)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err == nil && len(ids) != n {
		err = fmt.Errorf("found %d of the first %d tenants", len(ids), n)
	}
	return ids, err
}

// setUp finds or makes, for every signed-in tenant session, what the page
// targets open beyond the tenant's own pages: a member, an invitation link,
// the join link and a password reset link. The links are made through the
// app as people make them, and read from the outbox as people read their
// email, over one superuser connection.
func (h *harness) setUp(ctx context.Context, fix *fixture) error {
	conn, err := pgx.Connect(ctx, h.superURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := findMembers(ctx, conn, fix); err != nil {
		return err
	}
	if err := h.findInvites(ctx, conn, fix); err != nil {
		return err
	}
	if err := h.findJoinLinks(ctx, fix); err != nil {
		return err
	}
	return h.findResets(ctx, conn, fix)
}

// findMembers sets each tenant session's Member: the id of the tenant's
// first member who is not its owner (the owner's own with no other), whose
// page the "member page" target opens.
func findMembers(ctx context.Context, conn *pgx.Conn, fix *fixture) error {
	ids, err := perTenant(ctx, conn, fix, `
		SELECT DISTINCT ON (t.slug) t.slug, m.id::text
		FROM memberships m JOIN tenants t ON t.id = m.tenant_id
		WHERE t.slug = ANY($1)
		ORDER BY t.slug, m.role = 'owner', m.created_at, m.id`)
	if err != nil {
		return err
	}
	for _, s := range fix.Tenants {
		if s.Member = ids[s.Slug]; s.Member == "" {
			return fmt.Errorf("find members: %s has none", s.Slug)
		}
	}
	return nil
}

// perTenant runs query, which takes the signed-in tenants' slugs as $1 and
// returns (slug, value) rows, and maps each slug to its value.
func perTenant(ctx context.Context, conn *pgx.Conn, fix *fixture, query string) (map[string]string, error) {
	rows, err := conn.Query(ctx, query, fix.slugs())
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	var slug, value string
	_, err = pgx.ForEachRow(rows, []any{&slug, &value}, func() error { values[slug] = value; return nil })
	return values, err
}

// inviteLink matches the invitation link in the body of an invitation email.
var inviteLink = regexp.MustCompile(`/o/[a-z0-9-]+/invite/[A-Za-z0-9_-]+`)

// findInvites sets each tenant session's Invite: the path of an open
// invitation link of the tenant, which the "invitation page" target opens
// as a visitor would from the email. The owner sends the invitation through
// the app the first time (the seeder's invitations carry no usable link);
// later scales find its email in the outbox.
func (h *harness) findInvites(ctx context.Context, conn *pgx.Conn, fix *fixture) error {
	for _, s := range fix.Tenants {
		to := "invitee@" + s.Slug + ".bench.test"
		path, err := outboxLink(ctx, conn, to, inviteLink)
		if err == nil && path == "" {
			form := url.Values{"_csrf": {s.CSRF}, "email": {to}, "role": {"member"}}
			if _, err = request(ctx, http.MethodPost, h.serverURL+"/o/"+s.Slug+"/members/invites", s.Cookie, form, http.StatusSeeOther); err == nil {
				path, err = outboxLink(ctx, conn, to, inviteLink)
			}
		}
		if err == nil && path == "" {
			err = errors.New("no invitation link in the outbox")
		}
		if err != nil {
			return fmt.Errorf("find invites: %s: %w", s.Slug, err)
		}
		s.Invite = path
	}
	return nil
}

// pendingLogins sets each tenant session's MFAStep: a member of the tenant
// with two-factor authentication (the seed gives it to three in ten) logs
// in with their password through the form and stops at the code. Such a
// login lasts five minutes (mfa.PendingLifetime), so the "two-factor login
// step" target makes them right before each measurement.
func (h *harness) pendingLogins(ctx context.Context, fix *fixture) error {
	conn, err := pgx.Connect(ctx, h.superURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	emails, err := perTenant(ctx, conn, fix, `
		SELECT DISTINCT ON (t.slug) t.slug, u.email
		FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN users u ON u.id = m.user_id
		WHERE t.slug = ANY($1) AND u.mfa_enabled_at IS NOT NULL
		ORDER BY t.slug, m.created_at, m.id`)
	if err != nil {
		return err
	}
	h.logf("logging in a member with two-factor authentication of each session's tenant, up to the code (%d logins)", len(fix.Tenants))
	for _, s := range fix.Tenants {
		email := emails[s.Slug]
		if email == "" {
			return fmt.Errorf("pending logins: %s has no member with two-factor authentication", s.Slug)
		}
		login := "/o/" + s.Slug + "/login"
		p, err := signIn(ctx, h.serverURL, login, login+"/mfa", email, seedPassword)
		if err != nil {
			return fmt.Errorf("pending logins: %w", err)
		}
		s.MFAStep = p.Cookie
	}
	return nil
}

// outboxLink returns the path re finds in the newest email to the address,
// "" if there is none.
func outboxLink(ctx context.Context, conn *pgx.Conn, to string, re *regexp.Regexp) (string, error) {
	var body string
	err := conn.QueryRow(ctx, `SELECT body FROM outbox WHERE to_email = $1 ORDER BY id DESC LIMIT 1`, to).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return re.FindString(body), err
}

// resetLink matches the link in the body of a password reset email.
var resetLink = regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`)

// resetLinks is how many reset links the harness asks for: the app answers
// more than 20 requests an hour from one address with 429, by design, so
// the sessions share a few links (opening one does not use it up).
const resetLinks = 8

// findResets sets each tenant session's Reset: the path of a password
// reset link of one of the first owners, which the "reset password page"
// target opens as a visitor would from the email. The links are asked for
// through the forgot-password form once and reused at every scale (they
// last an hour).
func (h *harness) findResets(ctx context.Context, conn *pgx.Conn, fix *fixture) error {
	for _, s := range fix.Tenants[:min(resetLinks, len(fix.Tenants))] {
		if len(h.resetLinks) == resetLinks {
			break
		}
		form := url.Values{"_csrf": {s.CSRF}, "email": {s.Email}}
		_, err := request(ctx, http.MethodPost, h.serverURL+"/password/forgot", csrfCookie+"="+s.CSRF, form, http.StatusOK)
		var path string
		if err == nil {
			path, err = outboxLink(ctx, conn, s.Email, resetLink)
		}
		if err == nil && path == "" {
			err = errors.New("no reset link in the outbox")
		}
		if err != nil {
			return fmt.Errorf("find reset links: %s: %w", s.Email, err)
		}
		h.resetLinks = append(h.resetLinks, path)
	}
	for i, s := range fix.Tenants {
		s.Reset = h.resetLinks[i%len(h.resetLinks)]
	}
	return nil
}

// joinLink matches a join link's path on the settings page.
var joinLink = regexp.MustCompile(`/o/[a-z0-9-]+/join/[A-Za-z0-9_-]+`)

// findJoinLinks sets each tenant session's Join: the path of the tenant's
// join link, which the "join page" target opens as a visitor would. The
// owner turns the link on through the settings form the first time (the
// seeder's links carry no usable token) and reads it from the settings
// page, which shows a new link once; later scales reuse it.
func (h *harness) findJoinLinks(ctx context.Context, fix *fixture) error {
	if h.joinLinks == nil {
		h.joinLinks = map[string]string{}
	}
	for _, s := range fix.Tenants {
		path := h.joinLinks[s.Slug]
		if path == "" {
			settings := h.serverURL + "/o/" + s.Slug + "/settings"
			form := url.Values{"_csrf": {s.CSRF}, "action": {"enable"}, "domain": {s.Slug + ".example"}}
			page, err := request(ctx, http.MethodPost, settings+"/join", s.Cookie, form, http.StatusSeeOther)
			if err == nil {
				page, err = request(ctx, http.MethodGet, settings, s.Cookie, nil, http.StatusOK)
			}
			if path = joinLink.FindString(string(page)); err == nil && path == "" {
				err = errors.New("no join link on the settings page")
			}
			if err != nil {
				return fmt.Errorf("find join links: %s: %w", s.Slug, err)
			}
			h.joinLinks[s.Slug] = path
		}
		s.Join = path
	}
	return nil
}

// request sends a request with the cookie header and, if not nil, form as
// its body, expecting status want; it returns the response body.
func request(ctx context.Context, method, addr, cookie string, form url.Values, want int) ([]byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, addr, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %.300s", method, addr, res.StatusCode, want, page)
	}
	return page, nil
}

// startServer starts `atrium serve` on a free port with databaseURL, and
// waits until it is ready. The entry cache's watcher always connects
// directly (h.appURL): LISTEN does not pass through PgBouncer.
func (h *harness) startServer(ctx context.Context, databaseURL, logName string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env := h.atriumEnv(databaseURL, "ADDR="+addr, "DB_MAX_CONNS="+strconv.Itoa(pool), "LOG_LEVEL="+h.cfg.ServerLog, "DEV=true",
		"DATABASE_LISTEN_URL="+h.appURL)
	h.pprofURL = ""
	if h.cfg.Profile {
		mport, err := freePort()
		if err != nil {
			return err
		}
		maddr := "127.0.0.1:" + strconv.Itoa(mport)
		env = append(env, "METRICS_ADDR="+maddr)
		h.pprofURL = "http://" + maddr
	}
	p, err := startProcess("atrium serve", filepath.Join(h.cfg.Out, logName), env, nil, h.cfg.Atrium, "serve")
	if err != nil {
		return err
	}
	h.server, h.serverURL = p, "http://"+addr
	if err := waitReady(ctx, p, h.serverURL+"/readyz"); err != nil {
		_ = p.Stop(5 * time.Second)
		return err
	}
	return nil
}

// stopServer stops `atrium serve` with SIGTERM, letting it drain.
func (h *harness) stopServer() error {
	if h.server == nil {
		return nil
	}
	err := h.server.Stop(20 * time.Second)
	h.server = nil
	return err
}

// startBaseline starts this program again as the bare baseline server.
func (h *harness) startBaseline(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("baseline", filepath.Join(h.cfg.Out, "baseline.log"), nil, nil,
		self, "baseline", "--addr", addr, "--db", h.superURL, "--app-db", h.appURL, "--pool", strconv.Itoa(pool))
	if err != nil {
		return err
	}
	h.onExit(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			h.logf("%v", err)
		}
	})
	h.baseline, h.baselineURL = p, "http://"+addr
	return waitReady(ctx, p, h.baselineURL+"/readyz")
}

// waitReady polls url until it answers 200, failing early if p exits.
func waitReady(ctx context.Context, p *process, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.Alive() {
			return fmt.Errorf("%s exited before it was ready: %v\n%s", p.name, p.err, p.logTail(15))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w\n%s", p.name, url, ctx.Err(), p.logTail(15))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
