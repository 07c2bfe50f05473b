package store

import (
	"context"
	"time"
)

// Throttle counts failed attempts per key in a fixed window. Keys are chosen
// by the caller ("acct:…", "ip:…"); the state lives in PostgreSQL so every
// server process shares it.
type Throttle struct {
	Max    int           // failures allowed per window
	Window time.Duration // window length
}

// Blocked reports whether key has used up its failures in the current window,
// and when the window ends.
func (s *SysTx) Blocked(ctx context.Context, th Throttle, key string) (bool, time.Time, error) {
	var failures int
	var start time.Time
	err := s.tx.QueryRow(ctx, `
		SELECT failures, window_start FROM auth_throttle
		WHERE key = $1 AND window_start > now() - $2::interval`, key, th.Window,
	).Scan(&failures, &start)
	if err != nil {
		if isNoRows(err) {
			return false, time.Time{}, nil
		}
		return false, time.Time{}, translate(err, "read throttle")
	}
	return failures >= th.Max, start.Add(th.Window), nil
}

// RecordFailure counts one failure for key, starting a new window when the
// last one has ended.
func (s *SysTx) RecordFailure(ctx context.Context, th Throttle, key string) error {
	_, err := s.tx.Exec(ctx, `
		INSERT INTO auth_throttle (key, failures, window_start) VALUES ($1, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN auth_throttle.window_start > now() - $2::interval
			                THEN auth_throttle.failures + 1 ELSE 1 END,
			window_start = CASE WHEN auth_throttle.window_start > now() - $2::interval
			                THEN auth_throttle.window_start ELSE now() END`, key, th.Window)
	return translate(err, "record throttle failure")
}

// ResetThrottle forgets the failures of key, after a successful login.
func (s *SysTx) ResetThrottle(ctx context.Context, key string) error {
	_, err := s.tx.Exec(ctx, `DELETE FROM auth_throttle WHERE key = $1`, key)
	return translate(err, "reset throttle")
}
