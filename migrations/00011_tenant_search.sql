-- Operators search 100,000 organizations by name or URL: trigram indexes let
-- ILIKE '%…%' use an index instead of reading every tenant.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tenants_name_trgm_idx ON tenants USING gin (name gin_trgm_ops);
CREATE INDEX tenants_slug_trgm_idx ON tenants USING gin (slug gin_trgm_ops);

-- +goose Down
DROP INDEX tenants_slug_trgm_idx;
DROP INDEX tenants_name_trgm_idx;
