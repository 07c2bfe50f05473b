-- invites let an admin bring a person into an organization by email. The
-- link carries a random token; only its SHA-256 is stored, so the table
-- cannot be used to accept anything. An invite is used once, can be revoked
-- and expires; rows are kept (never deleted by the app) as history.

-- +goose Up
CREATE TABLE invites (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    email       text        NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member', 'viewer')),
    token_hash  bytea       NOT NULL,
    invited_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invites_token_key UNIQUE (tenant_id, token_hash)
);
-- At most one open invite per address and organization.
CREATE UNIQUE INDEX invites_open_email_key ON invites (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invites
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));

GRANT SELECT, INSERT, UPDATE ON invites TO atrium_app;

-- +goose Down
DROP TABLE invites;
