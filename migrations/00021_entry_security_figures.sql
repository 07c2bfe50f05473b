-- A signed-in member's entry carries the organization's count of members
-- without two-factor authentication too (migration 00019 keeps it on the
-- tenant row), beside the member count and whether two-factor
-- authentication is required. The security settings show nothing else, so
-- like the dashboard they are served from a cached entry without a round
-- trip. A change of the count announces itself on atrium_entry like a
-- change of the member count (migration 00015), so every server drops the
-- organization's entries then.
--
-- enter_tenant also reads the member's email, name and two-factor state
-- from the membership's copies (migration 00017) rather than from the
-- user's row: one index lookup fewer for every entry the cache does not
-- hold.

-- +goose Up
DROP TRIGGER tenants_entry_change ON tenants;
CREATE TRIGGER tenants_entry_change AFTER UPDATE ON tenants FOR EACH ROW
    WHEN ((OLD.slug, OLD.name, OLD.deleted_at, OLD.require_mfa, OLD.member_count, OLD.members_without_mfa) IS DISTINCT FROM
          (NEW.slug, NEW.name, NEW.deleted_at, NEW.require_mfa, NEW.member_count, NEW.members_without_mfa))
    EXECUTE FUNCTION notify_entry_change();

DROP FUNCTION enter_tenant(text, bytea, boolean);
-- +goose StatementBegin
CREATE FUNCTION enter_tenant(p_slug text, p_token_hash bytea, p_require_member boolean)
RETURNS TABLE (
    tenant_id           uuid,
    tenant_name         text,
    session_data        bytea,
    session_updated_at  timestamptz,
    member_id           uuid,
    user_id             uuid,
    email               text,
    user_name           text,
    role                text,
    require_mfa         boolean,
    mfa_enabled         boolean,
    role_name           text,
    permissions         text[],
    session_expiry      timestamptz,
    member_count        integer,
    members_without_mfa integer
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    SELECT t.id, t.name, t.require_mfa, t.member_count, t.members_without_mfa
    INTO tenant_id, tenant_name, require_mfa, member_count, members_without_mfa
    FROM tenants t WHERE t.slug = p_slug AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
        PERFORM set_config('app.tenant_id', '', true);
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', tenant_id::text, true);

    -- Read under the tenant just set: another tenant's session, member or
    -- role cannot match.
    SELECT s.data, s.updated_at, s.expiry, m.id, m.user_id, m.email, m.name, m.role, m.mfa_enabled,
           r.name, r.permissions
    INTO session_data, session_updated_at, session_expiry, member_id, user_id, email, user_name, role, mfa_enabled,
         role_name, permissions
    FROM sessions s
    LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
    LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
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
DROP TRIGGER tenants_entry_change ON tenants;
CREATE TRIGGER tenants_entry_change AFTER UPDATE ON tenants FOR EACH ROW
    WHEN ((OLD.slug, OLD.name, OLD.deleted_at, OLD.require_mfa, OLD.member_count) IS DISTINCT FROM
          (NEW.slug, NEW.name, NEW.deleted_at, NEW.require_mfa, NEW.member_count))
    EXECUTE FUNCTION notify_entry_change();

DROP FUNCTION enter_tenant(text, bytea, boolean);
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
    mfa_enabled        boolean,
    role_name          text,
    permissions        text[],
    session_expiry     timestamptz,
    member_count       integer
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    SELECT t.id, t.name, t.require_mfa, t.member_count INTO tenant_id, tenant_name, require_mfa, member_count
    FROM tenants t WHERE t.slug = p_slug AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
        PERFORM set_config('app.tenant_id', '', true);
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', tenant_id::text, true);

    -- Read under the tenant just set: another tenant's session, member or
    -- role cannot match.
    SELECT s.data, s.updated_at, s.expiry, m.id, u.id, u.email, u.name, m.role, u.mfa_enabled_at IS NOT NULL,
           r.name, r.permissions
    INTO session_data, session_updated_at, session_expiry, member_id, user_id, email, user_name, role, mfa_enabled,
         role_name, permissions
    FROM sessions s
    LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
    LEFT JOIN users u ON u.id = m.user_id
    LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
    WHERE s.token_hash = p_token_hash AND s.expiry > now();

    IF p_require_member AND member_id IS NULL THEN
        PERFORM set_config('app.tenant_id', '', true);
    END IF;
    RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_tenant(text, bytea, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_tenant(text, bytea, boolean) TO atrium_app;
