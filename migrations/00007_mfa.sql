-- Two-factor authentication with TOTP codes and one-time recovery codes, and
-- an organization's choice to require it of every member.
--
-- MFA belongs to the person, not to one organization: the secret and the
-- recovery codes live beside the user (system-wide, no tenant_id), so one
-- enrollment protects every organization they belong to. totp_last_step is
-- the time step of the last code accepted; a code whose step is not newer is
-- refused, so a code seen over someone's shoulder cannot be replayed.
-- Recovery codes are stored as SHA-256 hashes; each works once.
--
-- enter_tenant learns two more facts in the same round trip (require_mfa of
-- the organization, mfa_enabled of the session's member), so enforcing
-- "require MFA" costs no query.

-- +goose Up
ALTER TABLE users
    ADD COLUMN totp_secret    text CHECK (length(totp_secret) BETWEEN 16 AND 128),
    ADD COLUMN mfa_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint,
    ADD CONSTRAINT users_mfa_secret_check CHECK ((mfa_enabled_at IS NULL) = (totp_secret IS NULL));

CREATE TABLE mfa_recovery_codes (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

ALTER TABLE tenants ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- Recovery codes are replaced as a set and removed when MFA is turned off.
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_recovery_codes TO atrium_app;

DROP FUNCTION enter_tenant(text, bytea, boolean);

-- enter_tenant is how a request to /o/{slug}/… meets the database: in one
-- statement it resolves the slug, scopes the transaction to that tenant
-- (set_config(…, true): transaction-local) and returns the request's session
-- and the session user's membership, read under the tenant's own RLS
-- policies. It runs as the caller (SECURITY INVOKER): it can see nothing the
-- app role could not. An unknown slug returns no row and sets nothing.
--
-- When p_require_member is true and the session does not belong to a
-- current member, the tenant setting is cleared again before returning, so
-- any statement after it in the same round trip sees no tenant rows:
-- a page's queries batched behind a failed check fail closed.
--
-- require_mfa is the organization's setting; mfa_enabled whether the
-- session's member has turned on two-factor authentication (NULL without
-- a member).
-- +goose StatementBegin
CREATE FUNCTION enter_tenant(p_slug text, p_token_hash bytea, p_require_member boolean)
RETURNS TABLE (
    tenant_id          uuid,
    tenant_name        text,
    session_data       bytea,
    session_updated_at timestamptz,
    member_id          uuid,
    user_id            uuid,
    email              text,
    user_name          text,
    role               text,
    require_mfa        boolean,
    mfa_enabled        boolean
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    SELECT t.id, t.name, t.require_mfa INTO tenant_id, tenant_name, require_mfa
    FROM tenants t WHERE t.slug = p_slug AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
        PERFORM set_config('app.tenant_id', '', true);
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', tenant_id::text, true);

    -- Read under the tenant just set: another tenant's session or member
    -- cannot match.
    SELECT s.data, s.updated_at, m.id, u.id, u.email, u.name, m.role, u.mfa_enabled_at IS NOT NULL
    INTO session_data, session_updated_at, member_id, user_id, email, user_name, role, mfa_enabled
    FROM sessions s
    LEFT JOIN memberships m ON m.user_id = s.user_id
    LEFT JOIN users u ON u.id = m.user_id
    WHERE s.token_hash = p_token_hash AND s.expiry > now();

    IF p_require_member AND member_id IS NULL THEN
        PERFORM set_config('app.tenant_id', '', true);
    END IF;
    RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_tenant(text, bytea, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_tenant(text, bytea, boolean) TO atrium_app;

-- +goose Down
DROP FUNCTION enter_tenant(text, bytea, boolean);

-- The function as 00002_enter_tenant.sql created it.
-- +goose StatementBegin
CREATE FUNCTION enter_tenant(p_slug text, p_token_hash bytea, p_require_member boolean)
RETURNS TABLE (
    tenant_id          uuid,
    tenant_name        text,
    session_data       bytea,
    session_updated_at timestamptz,
    member_id          uuid,
    user_id            uuid,
    email              text,
    user_name          text,
    role               text
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    SELECT t.id, t.name INTO tenant_id, tenant_name
    FROM tenants t WHERE t.slug = p_slug AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
        PERFORM set_config('app.tenant_id', '', true);
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', tenant_id::text, true);

    -- Read under the tenant just set: another tenant's session or member
    -- cannot match.
    SELECT s.data, s.updated_at, m.id, u.id, u.email, u.name, m.role
    INTO session_data, session_updated_at, member_id, user_id, email, user_name, role
    FROM sessions s
    LEFT JOIN memberships m ON m.user_id = s.user_id
    LEFT JOIN users u ON u.id = m.user_id
    WHERE s.token_hash = p_token_hash AND s.expiry > now();

    IF p_require_member AND member_id IS NULL THEN
        PERFORM set_config('app.tenant_id', '', true);
    END IF;
    RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_tenant(text, bytea, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_tenant(text, bytea, boolean) TO atrium_app;

ALTER TABLE tenants DROP COLUMN require_mfa;
DROP TABLE mfa_recovery_codes;
ALTER TABLE users
    DROP CONSTRAINT users_mfa_secret_check,
    DROP COLUMN totp_last_step,
    DROP COLUMN mfa_enabled_at,
    DROP COLUMN totp_secret;
