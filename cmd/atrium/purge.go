package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-dev/atrium/store"
)

// purgeDeletedTenants erases, every hour, the organizations deleted more
// than retention ago. Deleting an organization only marks it (it answers
// 404 at once); the data stays for the retention period, so that a mistake
// can still be caught before it is final, and goes for good here.
func purgeDeletedTenants(ctx context.Context, log *slog.Logger, db *store.DB, retention time.Duration) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := db.PurgeDeletedTenants(ctx, retention); err != nil {
				log.Error("purge deleted organizations", "err", err)
			} else if n > 0 {
				log.Info("purged deleted organizations", "count", n, "retention", retention)
			}
		}
	}
}
