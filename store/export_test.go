package store

import "github.com/jackc/pgx/v5"

// Raw exposes the transaction to tests, which probe the policies with SQL
// the application never sends.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

// Raw exposes the system transaction to tests.
func (s *SysTx) Raw() pgx.Tx { return s.tx.(pgx.Tx) }
