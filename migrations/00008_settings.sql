-- Organization settings: renaming an organization's URL (with redirects from
-- the old one), deleting an organization (soft, then purged after a
-- retention period), and the join-by-link of an email domain.

-- +goose Up

-- slug_redirect_period is how long an old organization URL keeps
-- redirecting to the new one, and how long nobody else may take it. One
-- definition for the triggers below and the server's lookup.
CREATE FUNCTION slug_redirect_period() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT interval '90 days' $$;

-- tenant_slug_history remembers the URLs organizations used to have. It is
-- system-wide, like the tenant registry it points into: the server consults
-- it before any tenant is known (an old /o/{slug}/ link), and a slug is
-- public anyway. Hence owner_tenant rather than tenant_id: no RLS policy.
-- Rows are written by the trigger on tenants below, never by hand.
CREATE TABLE tenant_slug_history (
    slug         text        PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    owner_tenant uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_slug_history_owner_idx ON tenant_slug_history (owner_tenant);

-- A slug another organization gave up less than slug_redirect_period() ago
-- still redirects there, so it cannot be taken: the refusal is raised as a
-- violation of tenants_slug_key, which the server already reports as "that
-- URL is already taken". Checked in the database so that every way of
-- creating or renaming an organization obeys it.
--
-- Concurrency: a rename keeps the old slug in the unique index until it
-- commits, so an insert of that slug waits for the rename; the check runs
-- after the row is written (AFTER trigger, a fresh snapshot in READ
-- COMMITTED) and so sees the history row the rename committed.

-- +goose StatementBegin
CREATE FUNCTION tenants_slug_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN tenant_slug_history h ON h.slug = n.slug
               WHERE h.owner_tenant <> n.id AND h.changed_at > now() - slug_redirect_period()) THEN
        RAISE EXCEPTION 'slug is reserved by an organization that renamed itself recently'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'tenants_slug_key';
    END IF;
    -- Entries that ran out no longer mean anything for these slugs.
    DELETE FROM tenant_slug_history h USING new_rows n WHERE h.slug = n.slug;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- One statement-level check per INSERT (or COPY), not one per row.
CREATE TRIGGER tenants_slug_inserted AFTER INSERT ON tenants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_slug_inserted();

-- +goose StatementBegin
CREATE FUNCTION tenants_slug_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tenant_slug_history h
               WHERE h.slug = NEW.slug AND h.owner_tenant <> NEW.id
                 AND h.changed_at > now() - slug_redirect_period()) THEN
        RAISE EXCEPTION 'slug is reserved by an organization that renamed itself recently'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'tenants_slug_key';
    END IF;
    -- The new slug is live again (an organization taking back its own old
    -- URL, or one whose reservation ran out): no redirect for it.
    DELETE FROM tenant_slug_history WHERE slug = NEW.slug;
    INSERT INTO tenant_slug_history (slug, owner_tenant, changed_at) VALUES (OLD.slug, NEW.id, now())
    ON CONFLICT (slug) DO UPDATE SET owner_tenant = EXCLUDED.owner_tenant, changed_at = EXCLUDED.changed_at;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER tenants_slug_changed AFTER UPDATE OF slug ON tenants
    FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug) EXECUTE FUNCTION tenants_slug_changed();

-- purge_deleted_tenants erases the organizations deleted longer than
-- retention ago, with everything they own: the foreign keys cascade, and
-- cascades are not subject to RLS, so the owner role reaches every tenant's
-- rows for exactly this one job. The server's role has no DELETE on
-- tenants; it may only call this function. Returns how many went.
-- +goose StatementBegin
CREATE FUNCTION purge_deleted_tenants(retention interval) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n bigint;
BEGIN
    IF retention IS NULL OR retention < interval '0' THEN
        RAISE EXCEPTION 'retention must be a non-negative interval, got %', retention
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH gone AS (
        DELETE FROM tenants WHERE deleted_at IS NOT NULL AND deleted_at < now() - retention RETURNING 1
    ) SELECT count(*) INTO n FROM gone;
    RETURN n;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION purge_deleted_tenants(interval) FROM PUBLIC;

-- tenant_join_links: at most one per organization. People with an address
-- at domain may ask for an invitation through the link; only the SHA-256 of
-- the link's token is stored, and a NULL token_hash means the link is off.
CREATE TABLE tenant_join_links (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    domain     text        NOT NULL CHECK (domain = lower(domain) AND length(domain) BETWEEN 3 AND 253),
    token_hash bytea,
    updated_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tenant_join_links_one_key UNIQUE (tenant_id),
    CONSTRAINT tenant_join_links_token_key UNIQUE (tenant_id, token_hash)
);

ALTER TABLE tenant_join_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_join_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_join_links
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_slug_history TO atrium_app;
GRANT SELECT, INSERT, UPDATE ON tenant_join_links TO atrium_app;
GRANT EXECUTE ON FUNCTION purge_deleted_tenants(interval) TO atrium_app;

-- +goose Down
DROP TABLE tenant_join_links;
DROP FUNCTION purge_deleted_tenants(interval);
DROP TRIGGER tenants_slug_changed ON tenants;
DROP TRIGGER tenants_slug_inserted ON tenants;
DROP FUNCTION tenants_slug_changed(), tenants_slug_inserted();
DROP TABLE tenant_slug_history;
DROP FUNCTION slug_redirect_period();
