package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// write saves latest.json and latest.md in dir and returns the markdown.
func (res *results) write(dir string) (string, error) {
	md := res.markdown()
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return md, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return md, err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(js, '\n'), 0o644); err != nil {
		return md, err
	}
	return md, os.WriteFile(filepath.Join(dir, "latest.md"), []byte(md), 0o644)
}

// markdown renders the short report: tables that read in a terminal too.
func (res *results) markdown() string {
	var b strings.Builder
	m, s := res.Machine, res.Settings
	last := res.Scales[len(res.Scales)-1]
	fmt.Fprintf(&b, "## Atrium load benchmark\n\n")
	fmt.Fprintf(&b, "`make bench` on %s, commit %s: %s, %d cores, %s MB RAM, %s; load average %.1f at the start.\n",
		m.Time.Format("2006-01-02 15:04 MST"), m.Commit, m.CPU, m.Cores, count(int(m.MemoryMB)), m.GoVersion, m.LoadAverage)
	if m.LoadAverage > float64(m.Cores) {
		b.WriteString("**The machine was busy with other work when the run started: absolute figures and the scale curve are noisy; " +
			"ratios measured close together hold better.**\n")
	}
	fmt.Fprintf(&b, "Load generator on the same machine: %d keep-alive connections, %s measured after %s warm-up, "+
		"requests spread over %d signed-in tenants; server pool %d connections, as is the baseline's.\n\n",
		s.Conns, s.Duration, s.Warmup, last.HotTenants, s.ServerPool)

	fmt.Fprintf(&b, "### Pages at %s tenants (%s memberships)\n\n", count(last.Tenants), count(int(last.MembershipRows)))
	b.WriteString(targetTable(last.Targets, nil))
	b.WriteString("\n`bare …`: net/http + pgx as a superuser (no RLS, session or templ), one query per page returning the same rows " +
		"as the Atrium page it is named after, written out with html.EscapeString: `bare` the dashboard's one row (name and member count), " +
		"`bare members` 50 members, `bare audit` 50 audit events, `bare console` 50 organizations. " +
		"`bare 4 round trips`, `bare one batch`: the issue's calibration of the tenant setting, `bare`'s query as the app role " +
		"wrapped in BEGIN + set_config + COMMIT, sent as four round trips and as one pgx batch (the issue measured about 0.55× and 0.8× of bare). " +
		"`× baseline`: requests/s as a ratio of the bare page with the same rows; `× 1-row bare`: as a ratio of `bare`. `server cores`, `pg cores`: CPU busy on average in `atrium serve` (the baseline for `bare`) " +
		"and in all PostgreSQL processes; `server MB`: its peak resident memory during the target. " +
		"`stmts/req`, `WAL B/req`: statements PostgreSQL executed (pg_stat_statements) and WAL bytes it wrote per response, " +
		"the outside view of round trips and writes per page. " +
		"`login` hashes a password (argon2id) at production cost, by design far below the pages.\n\n")

	if p := res.PgBouncer; p != nil {
		fmt.Fprintf(&b, "### Behind PgBouncer (transaction pooling, pool %d), %s tenants\n\n", s.ServerPool, count(last.Tenants))
		if p.Ran {
			b.WriteString(targetTable(p.Targets, last.Targets))
			b.WriteString("\n`atrium serve` restarted with DATABASE_URL at PgBouncer (`default_query_exec_mode=exec`: no named " +
				"prepared statements across transactions); `× direct`: requests/s as a ratio of the same page without PgBouncer.\n")
		} else {
			fmt.Fprintf(&b, "**NOT RUN: %s**\n", p.Reason)
		}
		b.WriteString("\n")
	}

	if len(res.Scales) > 1 {
		b.WriteString("### Scale curve: p99 (req/s)\n\n")
		head := []string{"page"}
		for _, sc := range res.Scales {
			head = append(head, count(sc.Tenants)+" tenants")
		}
		head = append(head, "p99 ratio")
		tb := table{head: head}
		for _, t := range targets {
			if !t.Scaled {
				continue
			}
			row := []string{t.Name}
			for _, sc := range res.Scales {
				if r := find(sc.Targets, t.Name); r != nil {
					row = append(row, fmt.Sprintf("%.1f ms (%s)", r.P99, count(int(r.RPS))))
				} else {
					row = append(row, "—")
				}
			}
			a, z := find(res.Scales[0].Targets, t.Name), find(last.Targets, t.Name)
			if a != nil && z != nil && a.P99 > 0 {
				row = append(row, fmt.Sprintf("%.2f×", z.P99/a.P99))
			} else {
				row = append(row, "—")
			}
			tb.rows = append(tb.rows, row)
		}
		b.WriteString(tb.String())
		b.WriteString("\nSeeding (`atrium seed`, incremental): ")
		var seeds []string
		for _, sc := range res.Scales {
			seeds = append(seeds, fmt.Sprintf("%s tenants in %.1fs", count(sc.Tenants), sc.SeedSeconds))
		}
		b.WriteString(strings.Join(seeds, ", ") + ".\n\n")
	}

	if o := res.OrgSize; o != nil {
		fmt.Fprintf(&b, "### Organization size: %s members against %d, at %s tenants\n\n", count(o.Members), s.HotMembers, count(o.Tenants))
		small := fmt.Sprintf("%d members", s.HotMembers)
		tb := table{head: []string{"page", small + ": p99 (req/s)", count(o.Members) + " members: p99 (req/s)", "p99 ratio", "req/s ratio", "stmts/req"}}
		for _, t := range o.Targets {
			row := []string{t.Name, "—", fmt.Sprintf("%.1f ms (%s)", t.P99, count(int(t.RPS))), "—", "—", fmt.Sprintf("%.1f", t.Statements)}
			if a := find(last.Targets, t.Name); a != nil && a.P99 > 0 && a.RPS > 0 {
				row[1] = fmt.Sprintf("%.1f ms (%s)", a.P99, count(int(a.RPS)))
				row[3], row[4] = fmt.Sprintf("%.2f×", t.P99/a.P99), fmt.Sprintf("%.2f×", t.RPS/a.RPS)
			}
			tb.rows = append(tb.rows, row)
		}
		b.WriteString(tb.String())
		fmt.Fprintf(&b, "\nThe same pages in %s, one organization of %s members (`atrium seed --large`; custom roles, invitations and "+
			"two-factor authentication as the loaded ones have), its owner signed in %d times, against the %d-member organizations above.\n\n",
			o.Tenant, count(o.Members), largeSessions, s.HotMembers)
	}

	if d := res.Door; d != nil {
		fmt.Fprintf(&b, "### Tenant door: the members page's reads (count and 50 members), %d workers, pools of %d\n\n", s.Conns, s.ServerPool)
		tb := table{head: []string{"path", "ops/s", "× explicit"}}
		ratio := func(v float64) string {
			if d.Explicit == 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f×", v/d.Explicit)
		}
		tb.rows = [][]string{
			{"`ReadTenant` + `FindMembersPage` (app role, RLS; one round trip)", count(int(d.Door)), ratio(d.Door)},
			{"`InTenant` + `Tx.Read` of the same (a transaction, as writes use)", count(int(d.DoorTx)), ratio(d.DoorTx)},
			{"`WHERE tenant_id = $1` (owner role)", count(int(d.Explicit)), ratio(d.Explicit)},
			{"`WHERE tenant_id = $1` (superuser, reference)", count(int(d.Super)), ratio(d.Super)},
		}
		b.WriteString(tb.String())
		fmt.Fprintf(&b, "\nOverhead of the door: %.0f%% (1 − door ÷ explicit).", 100*d.Overhead)
		if d.Errors > 0 {
			fmt.Fprintf(&b, " **%d errors**: %s", d.Errors, d.Error)
		}
		b.WriteString("\n\n")
	}

	if o := res.Overload; o != nil {
		fmt.Fprintf(&b, "### Overload: dashboard at %d connections\n\n", o.Conns)
		fmt.Fprintf(&b, "%s req/s, p99 %.0f ms, responses: %s; server peak %.0f MB; afterwards the server is alive: %s, /healthz: %s.\n\n",
			count(int(o.RPS)), o.P99, joinCounts(merge(o.Statuses, o.Transport)), o.ServerMB, yesNo(o.ServerAlive), o.Healthz)
	}

	b.WriteString("### Targets (issue 4)\n\n")
	tb := table{head: []string{"target", "figure", "goal", ""}, left: 4}
	for _, c := range res.Checks {
		tb.rows = append(tb.rows, []string{c.Name, c.Figure, c.Goal, map[bool]string{true: "PASS", false: "MISS"}[c.Pass]})
	}
	b.WriteString(tb.String())
	return b.String()
}

// targetTable lists targets; direct, when given, adds each one's ratio to it.
func targetTable(list, direct []*targetResult) string {
	head := []string{"target", "req/s", "× baseline", "× 1-row bare", "p50 ms", "p95 ms", "p99 ms", "errors",
		"server cores", "server MB", "pg cores", "stmts/req", "WAL B/req"}
	if direct != nil {
		head = slices.Insert(head, 4, "× direct")
	}
	tb := table{head: head}
	for _, t := range list {
		if t.NotBuilt != "" {
			row := []string{t.Name, "**" + t.NotBuilt + "**"}
			for len(row) < len(head) {
				row = append(row, "")
			}
			tb.rows = append(tb.rows, row)
			continue
		}
		vs := ratio(t.VsBare)
		if t.Baseline != "" {
			vs += " " + t.Baseline
		}
		row := []string{t.Name, count(int(t.RPS)), vs, ratio(t.VsOneRow),
			ms(t.P50), ms(t.P95), ms(t.P99), errorCell(t),
			fmt.Sprintf("%.2f", t.ServerCores), fmt.Sprintf("%.0f", t.ServerMB), fmt.Sprintf("%.2f", t.DBCores),
			unknown(t.Statements, "%.1f"), unknown(t.WAL, "%.0f")}
		if direct != nil {
			cell := "—"
			if d := find(direct, t.Name); d != nil && d.RPS > 0 {
				cell = ratio(t.RPS / d.RPS)
			}
			row = slices.Insert(row, 4, cell)
		}
		tb.rows = append(tb.rows, row)
	}
	return tb.String()
}

// ratio formats a ratio with two significant decimals for small ones.
func ratio(v float64) string {
	if v > 0 && v < 0.01 {
		return fmt.Sprintf("%.3f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// unknown formats v, or "—" when it is negative (not measured).
func unknown(v float64, format string) string {
	if v < 0 {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func errorCell(t *targetResult) string {
	if t.Errors == 0 {
		return "0"
	}
	return "**" + joinCounts(t.ErrorKinds) + "**"
}

// joinCounts writes {"500": 3, "timeout": 1} as "3×500, 1×timeout".
func joinCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%s", count(m[k]), k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func merge(a, b map[string]int) map[string]int {
	m := maps.Clone(a)
	if m == nil {
		m = map[string]int{}
	}
	maps.Copy(m, b)
	return m
}

func yesNo(b bool) string { return map[bool]string{true: "yes", false: "NO"}[b] }

// count writes n with thousands separators: 100,000.
func count(n int) string {
	if n < 0 {
		return "-" + count(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// table is a markdown table padded so that it reads in a terminal too. The
// first column, or the first left columns when set, align left; the others,
// figures, align right.
type table struct {
	head []string
	rows [][]string
	left int
}

func (t table) String() string {
	width := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)), 3)
		}
	}
	left := max(t.left, 1)
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i < left {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		b.WriteString("\n")
	}
	line(t.head)
	sep := make([]string, len(t.head))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i]-1) + ":"
		if i < left {
			sep[i] = strings.Repeat("-", width[i])
		}
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}
