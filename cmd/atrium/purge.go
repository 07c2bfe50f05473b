package main

import (
	"context"
	"log/slog"
	"time"
)

// every runs purge each interval until ctx ends, logging what it removed
// (what names it in the log) or why it failed.
func every(ctx context.Context, log *slog.Logger, interval time.Duration, what string, purge func(context.Context) (int64, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := purge(ctx); err != nil {
				log.Error("purge "+what, "err", err)
			} else if n > 0 {
				log.Info("purged "+what, "count", n)
			}
		}
	}
}
