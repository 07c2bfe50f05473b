package store

import "github.com/jackc/pgx/v5"

// Raw exposes the transaction to tests, which probe the policies with SQL
// the application never sends.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

// Raw exposes the system transaction to tests.
func (s *SysTx) Raw() pgx.Tx { return s.tx.(pgx.Tx) }

// QueueEnter queues the statements Enter starts a page with, requiring a
// member, so that tests can put their own reads behind them.
func QueueEnter(b *pgx.Batch, slug, token string) {
	queueEnter(b, slug, hashToken(token), true, new(Entry), new(bool))
}
