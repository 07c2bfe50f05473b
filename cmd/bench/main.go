// Command bench is Atrium's load benchmark (make bench). It starts a private
// PostgreSQL cluster, migrates and seeds it with `atrium seed`, starts
// `atrium serve` and a bare net/http + pgx baseline as separate processes,
// signs in the owners of many tenants through the real login form, and
// drives HTTP load at every page: each figure is printed as a ratio of the
// baseline, since the machine is shared and noisy. It then measures the
// tenant door's RLS overhead, the scale curve from 100 to 100,000 tenants,
// the same pages behind PgBouncer and the server under overload, writes
// bench-results/latest.{json,md}, and removes everything it started.
//
//	bench [-quick] [-duration 10s] [-warmup 2s] [-conns 32] [-scales 100,10000,100000]
//	bench baseline --addr A --db URL   (the baseline server; started by bench itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/atrium-dev/atrium/store/pgcluster"
)

// pool is the number of database connections of every contender: the
// server's pool, the baseline's, PgBouncer's pool and each pool of the door
// comparison, so that they compete on equal terms.
const pool = 8

// config holds the command-line flags.
type config struct {
	Duration      time.Duration
	Warmup        time.Duration
	Conns         int
	Scales        []int
	Hot           int // tenants signed in and loaded, at most
	HotMembers    int
	LargeMembers  int // members of the large organization (0: none)
	Seed          int
	DoorDuration  time.Duration
	OverloadConns int
	OverloadTime  time.Duration
	Atrium        string   // the atrium binary
	Out           string   // results directory
	Only          []string // target names to measure (bare and their baselines too); nil for all
	ServerLog     string   // LOG_LEVEL of atrium serve
	Profile       bool     // save a CPU profile of the server per target
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline" {
		if err := runBaseline(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench baseline:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// SIGINT and SIGTERM cancel ctx; run then stops everything it started.
	// Further signals are swallowed until that is done.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case interrupted:
		fmt.Fprintln(os.Stderr, "bench: interrupted; everything it started has been stopped and removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	var scales string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time per target")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "warm-up per target, not counted")
	fs.IntVar(&cfg.Conns, "conns", 32, "concurrent keep-alive connections")
	fs.StringVar(&scales, "scales", "100,10000,100000", "tenant counts of the scale curve, comma-separated, ascending")
	quick := fs.Bool("quick", false, "a short run: -duration 3s -warmup 1s -scales 100,1000 (flags given explicitly win)")
	fs.IntVar(&cfg.Hot, "hot", 200, "tenants signed in and loaded (at most)")
	fs.IntVar(&cfg.HotMembers, "hot-members", 50, "members of each loaded tenant")
	fs.IntVar(&cfg.LargeMembers, "large-members", 10_000, "members of the large organization whose pages are measured against the loaded ones' (0: skip)")
	fs.IntVar(&cfg.Seed, "seed", 1, "seed of `atrium seed`")
	fs.DurationVar(&cfg.DoorDuration, "door-duration", 5*time.Second, "measured time per path of the tenant door comparison")
	fs.IntVar(&cfg.OverloadConns, "overload-conns", 256, "connections of the overload run")
	fs.DurationVar(&cfg.OverloadTime, "overload-duration", 5*time.Second, "length of the overload run")
	fs.StringVar(&cfg.Atrium, "atrium", "bin/atrium", "the atrium binary to measure")
	fs.StringVar(&cfg.Out, "out", "bench-results", "directory for latest.json, latest.md and the servers' logs")
	only := fs.String("targets", "", "measure only these targets, comma-separated (with bare and their own baselines)")
	fs.StringVar(&cfg.ServerLog, "server-log-level", "warn", "LOG_LEVEL of atrium serve (its log is in the -out directory)")
	fs.BoolVar(&cfg.Profile, "profile", false, "save the server's CPU profile of each measured target as <out>/cpu-<target>-<tenants>.pprof")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			cfg.Duration = 3 * time.Second
		}
		if !set["warmup"] {
			cfg.Warmup = time.Second
		}
		if !set["scales"] {
			scales = "100,1000"
		}
		if !set["door-duration"] {
			cfg.DoorDuration = 2 * time.Second
		}
		if !set["overload-duration"] {
			cfg.OverloadTime = 3 * time.Second
		}
	}
	for _, s := range strings.Split(scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || (len(cfg.Scales) > 0 && n <= cfg.Scales[len(cfg.Scales)-1]) {
			return cfg, fmt.Errorf("-scales %q: use ascending tenant counts such as 100,10000,100000", scales)
		}
		cfg.Scales = append(cfg.Scales, n)
	}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			if !slices.ContainsFunc(targets, func(t target) bool { return t.Name == name }) {
				return cfg, fmt.Errorf("-targets: no target %q", name)
			}
			cfg.Only = append(cfg.Only, name)
		}
	}
	if cfg.Conns < 1 || cfg.Hot < 1 || cfg.HotMembers < 1 || cfg.LargeMembers < 0 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return cfg, errors.New("-conns, -hot, -hot-members and -duration must be positive")
	}
	return cfg, nil
}

// harness is one run: what it started, where to reach it, and what it
// measured.
type harness struct {
	cfg      config
	cleanups []func()

	cluster                    *pgcluster.Cluster
	db                         *dbMeter
	appURL, ownerURL, superURL string

	server      *process
	serverURL   string
	pprofURL    string // the server's METRICS_ADDR, with -profile
	baseline    *process
	baselineURL string
	joinLinks   map[string]string // tenant slug → join link path, made once (see findJoinLinks)
	resetLinks  []string          // password reset link paths, made once (see findResets)

	res results
}

// onExit registers fn to run when the run ends, in reverse order.
func (h *harness) onExit(fn func()) { h.cleanups = append(h.cleanups, fn) }

// logf prints progress to stderr; the report goes to stdout.
func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// run performs the whole benchmark and removes everything it started, also
// when it fails or is interrupted.
func run(ctx context.Context, cfg config) error {
	if err := checkAtrium(cfg.Atrium); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	h := &harness{cfg: cfg}
	defer func() {
		if h.server != nil {
			if err := h.stopServer(); err != nil {
				h.logf("%v", err)
			}
		}
		for i := len(h.cleanups) - 1; i >= 0; i-- {
			h.cleanups[i]()
		}
	}()
	h.res.Machine = describeMachine()
	h.res.Settings = settings{Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(), Conns: cfg.Conns,
		ServerPool: pool, HotTenants: cfg.Hot, HotMembers: cfg.HotMembers, LargeMembers: cfg.LargeMembers, Scales: cfg.Scales,
		OverloadConns: cfg.OverloadConns}

	start := time.Now()
	if err := h.startCluster(ctx); err != nil {
		return err
	}
	if err := h.startBaseline(ctx); err != nil {
		return err
	}
	if err := h.startServer(ctx, h.appURL, "serve.log"); err != nil {
		return err
	}
	var fix *fixture
	for i, n := range cfg.Scales {
		s, err := h.seed(ctx, n)
		if err != nil {
			return err
		}
		h.res.Scales = append(h.res.Scales, s)
		h.logf("signing in the owners of %d tenants, and the operator %d times", s.HotTenants, cfg.Conns)
		if fix, err = signInAll(ctx, h.serverURL, s.HotTenants, cfg.Conns); err != nil {
			return err
		}
		if err := h.setUp(ctx, fix); err != nil {
			return err
		}
		largest := i == len(cfg.Scales)-1
		for _, t := range h.targets() {
			if !t.Scaled && !largest {
				continue
			}
			r, err := h.measure(ctx, t, fix, s.Targets, fmt.Sprintf("%s tenants", count(n)))
			if err != nil {
				return err
			}
			s.Targets = append(s.Targets, r)
		}
		if largest {
			if err := h.orgSize(ctx, fix, s); err != nil {
				return err
			}
		}
	}
	if err := h.overload(ctx, fix); err != nil {
		return err
	}
	if err := h.door(ctx); err != nil {
		return err
	}
	if err := h.behindPgbouncer(ctx, fix); err != nil {
		return err
	}

	h.res.evaluate()
	md, err := h.res.write(cfg.Out)
	fmt.Println()
	fmt.Print(md)
	if err != nil {
		return err
	}
	h.logf("done in %s; results in %s/latest.json and latest.md, server logs beside them", time.Since(start).Round(time.Second), cfg.Out)
	return nil
}

// targets returns the targets to measure: all, or those of -targets with
// their baselines.
func (h *harness) targets() []target {
	if h.cfg.Only == nil {
		return targets
	}
	wanted := []string{"bare"}
	for _, t := range targets {
		if slices.Contains(h.cfg.Only, t.Name) {
			wanted = append(wanted, t.Name, t.baseline())
		}
	}
	var list []target
	for _, t := range targets {
		if slices.Contains(wanted, t.Name) {
			list = append(list, t)
		}
	}
	return list
}

// measure runs one target against Atrium (or the baseline) and prints a line.
// measured holds the targets already measured at the same scale, the
// baselines among them.
func (h *harness) measure(ctx context.Context, t target, fix *fixture, measured []*targetResult, where string) (*targetResult, error) {
	if t.Pending {
		if status := h.probe(ctx, t, fix); status == http.StatusNotFound {
			h.logf("%-10s %s: NOT BUILT YET (%s answers 404)", t.Name, where, t.Path(fix.sessionsFor(t)[0]))
			return &targetResult{Name: t.Name, NotBuilt: "not built yet"}, nil
		}
	}
	if t.Before != nil {
		if err := t.Before(h, ctx, fix); err != nil {
			return nil, fmt.Errorf("%s, %s: %w", t.Name, where, err)
		}
	}
	l := load{Base: h.serverURL, Target: t, Sessions: fix.sessionsFor(t), Conns: h.cfg.Conns,
		Warmup: h.cfg.Warmup, Duration: h.cfg.Duration, Server: h.server, DB: h.db}
	if t.Bare {
		l.Base, l.Server = h.baselineURL, h.baseline
	}
	var profiled chan error
	if h.pprofURL != "" && !t.Bare {
		profiled = make(chan error, 1)
		name := fmt.Sprintf("cpu-%s-%s.pprof", strings.ReplaceAll(t.Name, " ", "-"), strings.Fields(where)[0])
		go func() { profiled <- h.profile(ctx, filepath.Join(h.cfg.Out, name)) }()
	}
	r, err := l.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", t.Name, where, err)
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			h.logf("%-10s CPU profile: %v", t.Name, err)
		}
	}
	tr := newTargetResult(t, r, find(measured, t.baseline()), find(measured, "bare"))
	h.logf("%-10s %s: %s req/s (%.2f× %s), p50 %s p95 %s p99 %s ms, errors: %s; server %.2f cores, %.0f MB; "+
		"PostgreSQL %.2f cores, %.1f statements and %.0f WAL bytes per request",
		t.Name, where, count(int(tr.RPS)), tr.VsBare, t.baseline(), ms(tr.P50), ms(tr.P95), ms(tr.P99), joinCounts(tr.ErrorKinds),
		tr.ServerCores, tr.ServerMB, tr.DBCores, tr.Statements, tr.WAL)
	if r.FirstError != "" {
		h.logf("%-10s first transport error: %s", t.Name, r.FirstError)
	}
	return tr, nil
}

// profile saves the server's CPU profile of the measured period of a load
// (after the warm-up, for the duration) to path.
func (h *harness) profile(ctx context.Context, path string) error {
	sleep(ctx, h.cfg.Warmup)
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", h.pprofURL, max(1, int(h.cfg.Duration.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// probe sends one request of t and returns its status (0 on failure).
func (h *harness) probe(ctx context.Context, t target, fix *fixture) int {
	l := load{Base: h.serverURL, Target: t, Sessions: fix.sessionsFor(t)[:1]}
	status, err := send(ctx, http.DefaultTransport.(*http.Transport), prepare(l)[0])
	if err != nil {
		return 0
	}
	return status
}

// overload runs the dashboard far past capacity: the server must keep
// answering (503 and 429 are fine) and be alive afterwards.
func (h *harness) overload(ctx context.Context, fix *fixture) error {
	t := findTarget("dashboard")
	h.logf("overload: %s at %d connections for %s", t.Name, h.cfg.OverloadConns, h.cfg.OverloadTime)
	r, err := load{Base: h.serverURL, Target: t, Sessions: fix.sessionsFor(t), Conns: h.cfg.OverloadConns,
		Duration: h.cfg.OverloadTime, Server: h.server, DB: h.db}.run(ctx)
	o := &overloadResult{Conns: h.cfg.OverloadConns, Statuses: map[string]int{}, Healthz: "no answer"}
	if err == nil {
		o.Requests, o.RPS, o.P99 = r.Requests, r.RPS(), float64(r.Percentile(0.99).Microseconds())/1000
		o.Transport, o.ServerMB = r.Transport, float64(r.PeakMemory)/(1<<20)
		for code, n := range r.Statuses {
			o.Statuses[strconv.Itoa(code)] = n
		}
	} else if ctx.Err() != nil {
		return err
	} else {
		h.logf("overload: %v", err)
	}
	o.ServerAlive = h.server.Alive()
	o.Healthz = healthz(ctx, h.serverURL)
	h.res.Overload = o
	h.logf("overload: %s req/s, p99 %.0f ms, %s; alive: %s, /healthz: %s",
		count(int(o.RPS)), o.P99, joinCounts(merge(o.Statuses, o.Transport)), yesNo(o.ServerAlive), o.Healthz)
	if !o.ServerAlive {
		h.logf("the server died under overload; restarting it for the rest of the run:\n%s", h.server.logTail(20))
		h.server = nil
		return h.startServer(ctx, h.appURL, "serve-after-overload.log")
	}
	return nil
}

// healthz returns the status of GET /healthz as text, or why there was none.
func healthz(ctx context.Context, base string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "no answer (" + errorKind(err) + ")"
	}
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

// door compares the tenant door with an explicit WHERE tenant_id.
func (h *harness) door(ctx context.Context) error {
	hot := h.res.Scales[len(h.res.Scales)-1].HotTenants
	ids, err := h.hotTenantIDs(ctx, hot)
	if err != nil {
		return err
	}
	h.logf("tenant door: %d workers for %s per path", h.cfg.Conns, h.cfg.DoorDuration)
	d, err := measureDoor(ctx, h.appURL, h.ownerURL, h.superURL, ids, h.cfg.Conns, h.cfg.DoorDuration)
	if err != nil {
		return err
	}
	h.res.Door = d
	h.logf("tenant door: %s ops/s through ReadTenant, %s through InTenant, %s explicit as owner, %s as superuser: overhead %.0f%%",
		count(int(d.Door)), count(int(d.DoorTx)), count(int(d.Explicit)), count(int(d.Super)), 100*d.Overhead)
	return nil
}

// behindPgbouncer restarts the server behind PgBouncer and reruns the page
// targets at the largest scale. Sessions live in PostgreSQL, so the
// fixture's cookies stay valid across the restart.
func (h *harness) behindPgbouncer(ctx context.Context, fix *fixture) error {
	last := h.res.Scales[len(h.res.Scales)-1]
	h.res.PgBouncer = &pgbouncerRun{Tenants: last.Tenants}
	if _, err := pgbouncerBinary(); err != nil {
		h.res.PgBouncer.Reason = err.Error()
		fmt.Fprintf(os.Stderr, "\n%[1]s\n*** PgBouncer mode NOT RUN: %[2]v\n%[1]s\n\n", strings.Repeat("*", 78), err)
		return nil
	}
	b, err := startPgbouncer(ctx, h.superURL, filepath.Join(h.cluster.Dir(), "pgbouncer"), filepath.Join(h.cfg.Out, "pgbouncer.log"))
	if err != nil {
		return err
	}
	h.onExit(func() {
		if err := b.Stop(); err != nil {
			h.logf("stop pgbouncer: %v", err)
		}
	})
	h.logf("restarting atrium serve behind PgBouncer (transaction pooling) on 127.0.0.1:%d", b.port)
	if err := h.stopServer(); err != nil {
		h.logf("%v", err)
	}
	if err := h.startServer(ctx, b.URL(), "serve-pgbouncer.log"); err != nil {
		return err
	}
	for _, t := range h.targets() {
		if t.Bare {
			continue
		}
		r, err := h.measure(ctx, t, fix, last.Targets, "PgBouncer")
		if err != nil {
			return err
		}
		h.res.PgBouncer.Targets = append(h.res.PgBouncer.Targets, r)
	}
	h.res.PgBouncer.Ran = true
	return nil
}
