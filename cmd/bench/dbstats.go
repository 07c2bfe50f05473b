package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// dbMeter reads what PostgreSQL did during a run: the CPU of all its
// processes, the statements it executed (pg_stat_statements, preloaded by
// clusterSettings) and the WAL it wrote. Statements per request is the
// closest outside view of round trips per page; WAL per request shows a page
// view that writes; the top statements say which.
type dbMeter struct {
	postmaster int
	mu         sync.Mutex
	conn       *pgx.Conn // superuser, in the atrium database
	statements bool      // pg_stat_statements is installed
}

// dbSample is one reading of a dbMeter.
type dbSample struct {
	cpu        cpuSample
	statements int64 // executed since begin; -1 when unknown
	wal        int64 // bytes since the start of the WAL
	top        []statementStat
}

// statementStat is one statement's share of a run, for the JSON results.
type statementStat struct {
	Query      string  `json:"query"`
	Calls      int64   `json:"calls"`
	PerRequest float64 `json:"per_request"`
	MeanMS     float64 `json:"mean_ms"`
}

// ownQueries leaves the meter's own statements out of the counts.
const ownQueries = `query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_current_wal_lsn%'`

// newDBMeter connects as the superuser to superURL and installs
// pg_stat_statements there (without it, statement counts are not reported).
func newDBMeter(ctx context.Context, superURL string, postmaster int, logf func(string, ...any)) (*dbMeter, error) {
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return nil, err
	}
	m := &dbMeter{postmaster: postmaster, conn: conn, statements: true}
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		logf("pg_stat_statements unavailable, statements per request will not be reported: %v", err)
		m.statements = false
	}
	return m, nil
}

// Close closes the meter's connection.
func (m *dbMeter) Close() { m.conn.Close(context.Background()) }

// begin starts a measured period: it reads the CPU and WAL position and
// resets the statement counters.
func (m *dbMeter) begin(ctx context.Context) (dbSample, error) {
	s, err := m.read(ctx)
	if err != nil || !m.statements {
		return s, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		return s, fmt.Errorf("reset pg_stat_statements: %w", err)
	}
	s.statements = 0
	return s, nil
}

// end reads the CPU, the WAL position and the statements executed since
// begin, with the most frequent ones.
func (m *dbMeter) end(ctx context.Context) (dbSample, error) {
	s, err := m.read(ctx)
	if err != nil || !m.statements {
		return s, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rows, err := m.conn.Query(ctx, `
		SELECT regexp_replace(query, '\s+', ' ', 'g'), calls, mean_exec_time, sum(calls) OVER ()
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND `+ownQueries+`
		ORDER BY calls DESC`)
	if err != nil {
		return s, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	defer rows.Close()
	s.statements = 0
	for rows.Next() {
		var st statementStat
		if err := rows.Scan(&st.Query, &st.Calls, &st.MeanMS, &s.statements); err != nil {
			return s, err
		}
		if len(s.top) < 8 {
			if r := []rune(st.Query); len(r) > 160 {
				st.Query = string(r[:160]) + "…"
			}
			s.top = append(s.top, st)
		}
	}
	return s, rows.Err()
}

// read takes the CPU and WAL readings common to begin and end.
func (m *dbMeter) read(ctx context.Context) (dbSample, error) {
	s := dbSample{statements: -1}
	var err error
	if s.cpu, err = treeCPU(m.postmaster); err != nil {
		return s, fmt.Errorf("PostgreSQL CPU: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0')::bigint`).Scan(&s.wal); err != nil {
		return s, fmt.Errorf("PostgreSQL WAL position: %w", err)
	}
	return s, nil
}

// perRequest divides the growth of a counter between two samples by n,
// returning -1 when the counter is unknown or nothing was counted.
func perRequest(before, after int64, n int) float64 {
	if before < 0 || after < 0 || n == 0 {
		return -1
	}
	return float64(after-before) / float64(n)
}
