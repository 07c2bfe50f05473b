-- Account security: a person's sessions become listable and revocable one by
-- one, and a forgotten password can be reset by email.
--
-- sessions gain an id (so a session can be named in a URL without exposing
-- its token), and the address and user agent it was created from (so its
-- owner can recognise it). sessions keeps its tenant_isolation policy from
-- 00001; the id is unique within the tenant, like every tenant key.
--
-- password_resets is system-wide, like users: a reset happens before any
-- organization is chosen. Only the SHA-256 of the link's token is stored, so
-- the table cannot be used to reset anything. Rows are never deleted by the
-- app: a used or superseded link stays as history.

-- +goose Up
ALTER TABLE sessions
    ADD COLUMN id         uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN ip         inet,
    ADD COLUMN user_agent text CHECK (length(user_agent) <= 512),
    ADD CONSTRAINT sessions_tenant_id_key UNIQUE (tenant_id, id);

CREATE TABLE password_resets (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT password_resets_token_key UNIQUE (token_hash)
);
-- Invalidating a person's other open links after a reset.
CREATE INDEX password_resets_user_idx ON password_resets (user_id) WHERE used_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON password_resets TO atrium_app;

-- +goose Down
DROP TABLE password_resets;
ALTER TABLE sessions
    DROP CONSTRAINT sessions_tenant_id_key,
    DROP COLUMN user_agent,
    DROP COLUMN ip,
    DROP COLUMN id;
