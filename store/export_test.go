package store

import "github.com/jackc/pgx/v5"

// Raw exposes the transaction to tests, which probe the policies with SQL
// the application never sends.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

// Raw exposes the system transaction to tests.
func (s *SysTx) Raw() pgx.Tx { return s.tx.(pgx.Tx) }

// Raw queues a statement the application never sends, for tests of how a
// batch fails.
func (b *Batch) Raw(sql string, args ...any) { b.b.Queue(sql, args...) }

// CollectPage exposes collectPage to tests.
func CollectPage[T any](rows pgx.Rows, n int, fields func(*T) []any) ([]T, error) {
	return collectPage(rows, n, fields)
}

// LockOwnersSQL is LockOwners' statement, for a test of its plan.
const LockOwnersSQL = lockOwnersSQL
