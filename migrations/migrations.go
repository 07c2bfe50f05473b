// Package migrations embeds the SQL migrations so the binary carries its own
// schema. Files are numbered, applied in order by goose, each in its own
// transaction, and recorded in the goose_db_version table.
package migrations

import "embed"

// FS holds every *.sql migration in this directory.
//
//go:embed *.sql
var FS embed.FS
