-- Servers keep what enter_tenant returned for a signed-in member in memory
-- (store's entry cache), so a page view need not ask again on every
-- request. Whatever could change that answer announces itself on the
-- atrium_entry channel when its transaction commits, and every server
-- drops what it kept:
--   s:<token hash, hex>  a session was rewritten or deleted
--   t:<tenant id>        an organization, one of its memberships or roles
--   u:<user id>          a user's name, email or two-factor state
--   *                    more sessions than are worth naming (a purge)
-- enter_tenant also returns the session's expiry now, so a kept entry dies
-- with its session, and joins the membership on the tenant's key.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION notify_entry_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'tenants' THEN PERFORM pg_notify('atrium_entry', 't:' || OLD.id::text);
    WHEN 'users'   THEN PERFORM pg_notify('atrium_entry', 'u:' || OLD.id::text);
    ELSE                PERFORM pg_notify('atrium_entry', 't:' || OLD.tenant_id::text); -- memberships, roles
    END CASE;
    RETURN NULL;
END $$;

CREATE FUNCTION notify_session_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF (SELECT count(*) FROM changed) > 1000 THEN
        PERFORM pg_notify('atrium_entry', '*');
    ELSE
        PERFORM pg_notify('atrium_entry', 's:' || encode(token_hash, 'hex')) FROM changed;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER tenants_entry_change AFTER UPDATE ON tenants FOR EACH ROW
    WHEN ((OLD.slug, OLD.name, OLD.deleted_at, OLD.require_mfa) IS DISTINCT FROM
          (NEW.slug, NEW.name, NEW.deleted_at, NEW.require_mfa))
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER tenants_entry_delete AFTER DELETE ON tenants FOR EACH ROW
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER users_entry_change AFTER UPDATE ON users FOR EACH ROW
    WHEN ((OLD.email, OLD.name, OLD.mfa_enabled_at) IS DISTINCT FROM
          (NEW.email, NEW.name, NEW.mfa_enabled_at))
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER users_entry_delete AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER memberships_entry_change AFTER UPDATE OR DELETE ON memberships FOR EACH ROW
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER roles_entry_change AFTER UPDATE OR DELETE ON roles FOR EACH ROW
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER sessions_entry_update AFTER UPDATE ON sessions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER sessions_entry_delete AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION notify_session_change();

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
    session_expiry     timestamptz
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

-- +goose Down
DROP TRIGGER sessions_entry_delete ON sessions;
DROP TRIGGER sessions_entry_update ON sessions;
DROP TRIGGER roles_entry_change ON roles;
DROP TRIGGER memberships_entry_change ON memberships;
DROP TRIGGER users_entry_delete ON users;
DROP TRIGGER users_entry_change ON users;
DROP TRIGGER tenants_entry_delete ON tenants;
DROP TRIGGER tenants_entry_change ON tenants;
DROP FUNCTION notify_session_change();
DROP FUNCTION notify_entry_change();

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
    permissions        text[]
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

    -- Read under the tenant just set: another tenant's session, member or
    -- role cannot match.
    SELECT s.data, s.updated_at, m.id, u.id, u.email, u.name, m.role, u.mfa_enabled_at IS NOT NULL,
           r.name, r.permissions
    INTO session_data, session_updated_at, member_id, user_id, email, user_name, role, mfa_enabled,
         role_name, permissions
    FROM sessions s
    LEFT JOIN memberships m ON m.user_id = s.user_id
    LEFT JOIN users u ON u.id = m.user_id
    LEFT JOIN roles r ON r.id = m.custom_role_id
    WHERE s.token_hash = p_token_hash AND s.expiry > now();

    IF p_require_member AND member_id IS NULL THEN
        PERFORM set_config('app.tenant_id', '', true);
    END IF;
    RETURN NEXT;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_tenant(text, bytea, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_tenant(text, bytea, boolean) TO atrium_app;
