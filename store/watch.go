package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// entryChannel carries the notices of migration 00012 and the watchers'
// probes ("p:<nonce>").
const entryChannel = "atrium_entry"

// WatchChanges keeps the entry cache in step with the database until ctx
// ends: it listens on the atrium_entry channel over a connection of its own
// to url and drops what each notice names. url must reach PostgreSQL
// directly: LISTEN means nothing through PgBouncer's transaction pooling.
//
// Every probeEvery it sends a probe through the pool; the cache answers only
// while probes come back, so a lost connection, a listener behind a
// transaction pooler or a stalled network turn the cache off rather than
// leave it stale. logf reports connection trouble (the watcher reconnects
// by itself). Without an entry cache it returns at once.
func (db *DB) WatchChanges(ctx context.Context, url string, logf func(msg string, args ...any)) error {
	c := db.entries
	if c == nil {
		return nil
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("store: watch changes: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "atrium watcher"
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, cfg) },
		LogError: func(ctx context.Context, err error) {
			c.deaf()
			if ctx.Err() == nil {
				logf("entry cache off: watcher lost its connection; reconnecting", "err", err)
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(entryChannel, pgxlisten.HandlerFunc(func(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
		db.heard(n.Payload)
		return nil
	}))
	go func() {
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		var deaf int     // probes in a row sent while the cache was off
		var failing bool // the last probe could not be sent (logged once)
		for {
			err := db.sendProbe(ctx, NewToken())
			if err != nil && !failing && ctx.Err() == nil {
				logf("entry cache: cannot send probes", "err", err)
			}
			failing = err != nil
			if c.live(time.Now()) {
				deaf = 0
			} else if deaf++; deaf == 10 {
				logf("entry cache off: the watcher does not hear its probes; is DATABASE_LISTEN_URL a direct connection to PostgreSQL (not PgBouncer)?")
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err = l.Listen(ctx)
	c.deaf()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// heard handles one notice on the channel.
func (db *DB) heard(payload string) {
	if nonce, ok := strings.CutPrefix(payload, "p:"); ok {
		db.entries.heardProbe(time.Now())
		if ch, ok := db.probes.LoadAndDelete(nonce); ok {
			close(ch.(chan struct{}))
		}
		return
	}
	db.entries.drop(parseChange(payload))
}

func (db *DB) sendProbe(ctx context.Context, nonce string) error {
	_, err := db.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, entryChannel, "p:"+nonce)
	return err
}

// SyncChanges waits until the watcher has heard every change committed
// before the call: it sends a probe through the pool and waits for it to
// come back, and notices arrive in commit order. Tests use it to see what
// another server would see.
func (db *DB) SyncChanges(ctx context.Context) error {
	nonce := NewToken()
	done := make(chan struct{})
	db.probes.Store(nonce, done)
	defer db.probes.Delete(nonce)
	if err := db.sendProbe(ctx, nonce); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
