package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A target is one kind of request put under load. Each feature area adds one
// entry to targets (below); the harness measures every entry, at every scale
// when Scaled, and behind PgBouncer unless Bare.
type target struct {
	Name   string
	Method string
	// Path returns the request path for one session, e.g. "/o/bench-000001/".
	Path func(s *session) string
	// Body returns the form to post for one session; nil for no body.
	Body func(s *session) url.Values
	// Want is the expected status; anything else counts as an error.
	Want int
	// Operator sends the operator's console session instead of the tenants'.
	Operator bool
	// Anonymous sends only the CSRF cookie: a visitor who is not signed in.
	Anonymous bool
	// Bare is served by the baseline (bin/bench baseline) instead of Atrium.
	Bare bool
	// Baseline names the bare target this page is a ratio of: the one that
	// returns the same rows; "" for the one-row "bare".
	Baseline string
	// Scaled pages are also measured at every scale of the scale curve.
	Scaled bool
	// Cookie, if set, returns the Cookie header to send instead of the
	// session's own (or the CSRF cookie alone, when Anonymous).
	Cookie func(s *session) string
	// Before, if set, runs right before each measurement of the target, to
	// make state that does not last (see pendingLogins).
	Before func(h *harness, ctx context.Context, fix *fixture) error
	// Pending marks the page of an area that may not have landed in the
	// server being measured: if it answers 404, the page is reported as
	// "not built yet" instead of silently missing or failing the run.
	Pending bool
}

// targets is every request the harness measures, in report order. The bare
// baselines come first: every page is a ratio of the one with its rows.
var targets = []target{
	{Name: "bare", Bare: true, Scaled: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/bare/" + s.Slug }},
	{Name: "bare members", Bare: true, Scaled: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/bare/" + s.Slug + "/members" }},
	{Name: "bare audit", Bare: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/bare/" + s.Slug + "/audit" }},
	{Name: "bare console", Bare: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/bare/console" }},
	// The calibration of the tenant setting: bare's query as the
	// app role in BEGIN + set_config + COMMIT, four round trips and one
	// batch (the issue measured about 0.55× and 0.8× of bare).
	{Name: "bare 4 round trips", Bare: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/bare/" + s.Slug + "/trips" }},
	{Name: "bare one batch", Bare: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/bare/" + s.Slug + "/batch" }},
	{Name: "dashboard", Scaled: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/" }},
	{Name: "members", Baseline: "bare members", Scaled: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/members" }},
	{Name: "audit log", Baseline: "bare audit", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/audit" }},
	{Name: "console", Baseline: "bare console", Operator: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/console/" }},
	// Every other page a signed-in user or the operator can open: as a
	// ratio of the one-row bare page, each showing about a row's worth of
	// data (a member, a form, a short list, a count) in the full layout,
	// except the console's tenant page, which shows a page of the tenant's
	// audit log. (The security settings were a ratio of bare members while
	// their count looked up each of the 50 members' users; since migration
	// 00019 the organization's row keeps the count, and since 00021 a
	// cached entry carries it.)
	{Name: "member page", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/members/" + s.Member }},
	{Name: "roles", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/roles" }},
	{Name: "settings", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/settings" }},
	{Name: "security settings", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/settings/security" }},
	{Name: "account", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/account" }},
	{Name: "account sessions", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/account/sessions" }},
	{Name: "two-factor", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/account/mfa" }},
	{Name: "switch organization", Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/switch" }},
	{Name: "login page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/o/" + s.Slug + "/login" }},
	// The code form of a login halfway through: a member with two-factor
	// authentication who has given their password. Their session has no
	// member yet, so no entry is cached: each view pays for enter_tenant.
	{Name: "two-factor login step", Method: http.MethodGet, Want: http.StatusOK,
		Path:   func(s *session) string { return "/o/" + s.Slug + "/login/mfa" },
		Cookie: func(s *session) string { return s.MFAStep },
		Before: (*harness).pendingLogins},
	{Name: "invitation page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return s.Invite }},
	{Name: "join page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return s.Join }},
	{Name: "reset password page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return s.Reset }},
	// The public forms, which read nothing from the database.
	{Name: "landing page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/" }},
	{Name: "signup page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/signup" }},
	{Name: "global login page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/login" }},
	{Name: "forgot password page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/password/forgot" }},
	{Name: "console login page", Anonymous: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/console/login" }},
	{Name: "console tenant", Baseline: "bare audit", Operator: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(s *session) string { return "/console/tenants/" + s.Slug }},
	{Name: "console outbox", Operator: true, Method: http.MethodGet, Want: http.StatusOK,
		Path: func(*session) string { return "/console/outbox" }},
	// Last, because argon2id's memory stays resident for a while after.
	{Name: "login", Anonymous: true, Method: http.MethodPost, Want: http.StatusSeeOther,
		Path: func(s *session) string { return "/o/" + s.Slug + "/login" },
		Body: func(s *session) url.Values {
			return url.Values{"_csrf": {s.CSRF}, "email": {s.Email}, "password": {seedPassword}}
		}},
}

// baseline returns the name of the bare target t is a ratio of.
func (t target) baseline() string {
	if t.Baseline == "" {
		return "bare"
	}
	return t.Baseline
}

// findTarget returns the entry of targets called name.
func findTarget(name string) target {
	for _, t := range targets {
		if t.Name == name {
			return t
		}
	}
	panic("bench: no target " + name)
}

// load describes one measured run: a target at a server, with the sessions
// whose cookies are sent round-robin.
type load struct {
	Base     string // e.g. "http://127.0.0.1:4321"
	Target   target
	Sessions []*session
	Conns    int
	Warmup   time.Duration // run but not counted
	Duration time.Duration // counted
	Server   *process      // measured for CPU and peak memory
	DB       *dbMeter      // measures PostgreSQL
}

// loadResult holds what one run measured.
type loadResult struct {
	Requests   int
	Elapsed    time.Duration
	Latencies  []time.Duration // sorted
	Statuses   map[int]int     // every status received
	Transport  map[string]int  // transport errors by kind
	FirstError string          // one transport error in full, for diagnosis
	Cores      float64         // server CPU: cores busy on average
	DBCores    float64         // PostgreSQL's CPU, all its processes
	Statements float64         // statements PostgreSQL executed per request; -1 unknown
	WAL        float64         // bytes of WAL written per request; -1 unknown
	Top        []statementStat // the most frequent statements
	PeakMemory int64           // server VmHWM in bytes
	ClientCore float64         // the load generator's own CPU
}

// RPS is completed requests per second of the measured period.
func (r *loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which a fraction q of requests fell.
func (r *loadResult) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(r.Latencies)))) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Errors counts responses with another status than want, and transport errors.
func (r *loadResult) Errors(want int) map[string]int {
	errs := map[string]int{}
	for code, n := range r.Statuses {
		if code != want {
			errs[fmt.Sprint(code)] += n
		}
	}
	for kind, n := range r.Transport {
		errs[kind] += n
	}
	return errs
}

// prepared is one request ready to send, built once before the run.
type prepared struct {
	method, url, body, cookie string
}

func prepare(l load) []prepared {
	reqs := make([]prepared, len(l.Sessions))
	for i, s := range l.Sessions {
		p := prepared{method: l.Target.Method, url: l.Base + l.Target.Path(s), cookie: s.Cookie}
		switch {
		case l.Target.Bare:
			p.cookie = "" // the baseline has no sessions
		case l.Target.Cookie != nil:
			p.cookie = l.Target.Cookie(s)
		case l.Target.Anonymous:
			p.cookie = csrfCookie + "=" + s.CSRF
		}
		if l.Target.Body != nil {
			p.body = l.Target.Body(s).Encode()
		}
		reqs[i] = p
	}
	return reqs
}

// run drives l.Conns keep-alive connections, each sending one request after
// the other, for the warm-up and then the measured period. Responses that
// arrive inside the measured period are counted (as wrk does), with their
// latency; a transport error after the warm-up counts even when it comes
// late, so that a request hanging past the end is not lost.
func (l load) run(ctx context.Context) (*loadResult, error) {
	reqs := prepare(l)
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no sessions to send", l.Target.Name)
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:          l.Conns,
		MaxIdleConnsPerHost:   l.Conns,
		IdleConnTimeout:       time.Minute,
		ResponseHeaderTimeout: 15 * time.Second, // a hang counts as a timeout error
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()

	const (
		warming = iota
		measuring
		stopping
	)
	var phase atomic.Int32
	var next atomic.Uint64
	workers := make([]worker, l.Conns)
	var wg sync.WaitGroup
	pid := l.Server.Pid()
	if err := resetPeakMemory(pid); err != nil {
		return nil, fmt.Errorf("reset peak memory of %s: %w", l.Server.name, err)
	}
	for i := range workers {
		w := &workers[i]
		w.statuses, w.transport = map[int]int{}, map[string]int{}
		wg.Go(func() {
			for phase.Load() != stopping && ctx.Err() == nil {
				p := reqs[next.Add(1)%uint64(len(reqs))]
				start := time.Now()
				status, err := send(ctx, tr, p)
				took := time.Since(start)
				switch now := phase.Load(); {
				case now == warming, ctx.Err() != nil:
				case err != nil:
					w.fail(err)
				case now == measuring:
					w.statuses[status]++
					w.latencies = append(w.latencies, took)
				}
			}
		})
	}

	sleep(ctx, l.Warmup)
	self0, _ := readCPU(os.Getpid())
	db0, err3 := l.DB.begin(ctx)
	cpu0, err0 := readCPU(pid)
	t0 := time.Now()
	phase.Store(measuring)
	sleep(ctx, l.Duration)
	t1 := time.Now()
	phase.Store(stopping)
	cpu1, err1 := readCPU(pid)
	db1, err4 := l.DB.end(ctx)
	self1, _ := readCPU(os.Getpid())
	peak, err2 := peakMemory(pid)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := errors.Join(err3, err4); err != nil {
		return nil, err
	}
	if err := errors.Join(err0, err1, err2); err != nil {
		return nil, fmt.Errorf("measure %s (has it exited?): %w\n%s", l.Server.name, err, l.Server.logTail(10))
	}

	r := &loadResult{Elapsed: t1.Sub(t0), Statuses: map[int]int{}, Transport: map[string]int{},
		Cores: coresUsed(cpu0, cpu1), DBCores: coresUsed(db0.cpu, db1.cpu), PeakMemory: peak, ClientCore: coresUsed(self0, self1)}
	for _, w := range workers {
		r.Latencies = append(r.Latencies, w.latencies...)
		for k, v := range w.statuses {
			r.Statuses[k] += v
		}
		for k, v := range w.transport {
			r.Transport[k] += v
		}
		if r.FirstError == "" {
			r.FirstError = w.firstError
		}
	}
	slices.Sort(r.Latencies)
	r.Requests = len(r.Latencies)
	r.Statements = perRequest(db0.statements, db1.statements, r.Requests)
	r.WAL = perRequest(db0.wal, db1.wal, r.Requests)
	for _, st := range db1.top {
		st.PerRequest = float64(st.Calls) / float64(max(r.Requests, 1))
		r.Top = append(r.Top, st)
	}
	return r, nil
}

// worker is one connection's tally, merged after the run so that the hot
// loop shares nothing but two atomics.
type worker struct {
	latencies  []time.Duration
	statuses   map[int]int
	transport  map[string]int
	firstError string
}

func (w *worker) fail(err error) {
	w.transport[errorKind(err)]++
	if w.firstError == "" {
		w.firstError = err.Error()
	}
}

var sameOrigin = []string{"same-origin"}

// send performs one request and reads the whole response. Redirects are not
// followed: RoundTrip is below the client that would follow them.
func send(ctx context.Context, tr *http.Transport, p prepared) (int, error) {
	var body io.Reader
	if p.body != "" {
		body = strings.NewReader(p.body)
	}
	req, err := http.NewRequestWithContext(ctx, p.method, p.url, body)
	if err != nil {
		return 0, err
	}
	if p.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p.cookie != "" {
		req.Header.Set("Cookie", p.cookie)
	}
	// What every current browser sends when a page of the site links or
	// posts to another: Atrium's CSRF check accepts it without the token
	// cookie, which it would otherwise refresh on every response (the path
	// of scripts and browsers from before 2023).
	req.Header["Sec-Fetch-Site"] = sameOrigin
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// errorKind names a transport error briefly for the error counts.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	default:
		return "transport"
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
