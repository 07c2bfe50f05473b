-- The foundation: the tenant registry, global users, memberships, sessions,
-- operators and login throttling.
--
-- Conventions every later migration follows:
--   * a table with tenant_id has (tenant_id, id) as its key, ENABLE and FORCE
--     ROW LEVEL SECURITY, and the tenant_isolation policy below, all in the
--     migration that creates it (store tests check the catalog for this);
--   * the server's role, atrium_app, gets only the privileges it needs and
--     owns nothing; this migration runs as the owner role.

-- +goose Up

-- tenants is the registry of organizations. It is system-wide (no tenant_id):
-- the server reads it to resolve /o/{slug}/ before any tenant is known.
CREATE TABLE tenants (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text        NOT NULL,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    member_count integer     NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$')
);
CREATE INDEX tenants_created_at_idx ON tenants (created_at DESC, id);

-- users are global: one person can belong to several organizations.
CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- memberships tie a user to a tenant with a role.
CREATE TABLE memberships (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT memberships_tenant_user_key UNIQUE (tenant_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
-- The owner (this migration's role) may read memberships across tenants, so
-- that the two SECURITY DEFINER functions below can do their one narrow job.
-- The server's role never gets this.
CREATE POLICY owner_directory ON memberships FOR SELECT TO CURRENT_USER USING (true);

-- member_count is kept by trigger so the operator console can list 100,000
-- tenants without counting across tenants.
-- +goose StatementBegin
CREATE FUNCTION memberships_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tenants SET member_count = member_count + 1 WHERE id = NEW.tenant_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tenants SET member_count = member_count - 1 WHERE id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER memberships_count AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_count();

-- user_organizations is the one cross-tenant lookup the login page needs:
-- after a password is verified, the slugs and names of that user's
-- organizations, and nothing else.
-- +goose StatementBegin
CREATE FUNCTION user_organizations(p_user_id uuid)
RETURNS TABLE (slug text, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.slug, t.name
    FROM memberships m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.user_id = p_user_id AND t.deleted_at IS NULL
    ORDER BY t.name, t.slug
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION user_organizations(uuid) FROM PUBLIC;

-- sessions are per tenant: a token is only found inside its tenant's context,
-- so a cookie copied from one organization means nothing at another. Tokens
-- are stored as SHA-256 hashes, so a database dump holds no usable session.
CREATE TABLE sessions (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL,
    data       bytea       NOT NULL,
    expiry     timestamptz NOT NULL,
    user_id    uuid        REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, token_hash)
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
-- The owner may see and delete expired sessions only, for the purge below.
CREATE POLICY owner_purge_select ON sessions FOR SELECT TO CURRENT_USER USING (expiry < now());
CREATE POLICY owner_purge_delete ON sessions FOR DELETE TO CURRENT_USER USING (expiry < now());

-- +goose StatementBegin
CREATE FUNCTION purge_expired_sessions() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM sessions WHERE expiry < now() RETURNING 1)
    SELECT count(*) FROM gone
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION purge_expired_sessions() FROM PUBLIC;

-- system_sessions hold the sessions that belong to no tenant: the operator
-- console and the short-lived organization chooser after a password login.
CREATE TABLE system_sessions (
    namespace  text        NOT NULL,
    token_hash bytea       NOT NULL,
    data       bytea       NOT NULL,
    expiry     timestamptz NOT NULL,
    PRIMARY KEY (namespace, token_hash)
);
CREATE INDEX system_sessions_expiry_idx ON system_sessions (expiry);

-- operators are the company's own staff, who use the console.
CREATE TABLE operators (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT operators_email_key UNIQUE (email)
);

-- auth_throttle counts failed logins per key ("acct:<sha256 of email>" or
-- "ip:<address>") in a fixed window, shared by every server process.
CREATE TABLE auth_throttle (
    key          text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL
);

-- The server's role: just what it needs, no DELETE where history matters.
GRANT USAGE ON SCHEMA public TO atrium_app;
GRANT SELECT, INSERT, UPDATE ON tenants, users, operators TO atrium_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships, sessions, system_sessions, auth_throttle TO atrium_app;
GRANT EXECUTE ON FUNCTION user_organizations(uuid), purge_expired_sessions() TO atrium_app;

-- +goose Down
DROP TABLE auth_throttle, operators, system_sessions, sessions, memberships, users, tenants;
DROP FUNCTION purge_expired_sessions(), user_organizations(uuid), memberships_count();
