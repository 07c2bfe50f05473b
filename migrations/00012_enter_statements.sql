-- A request's first round trip no longer calls enter_tenant: store.Enter
-- sends its two statements (resolve the slug and set the tenant; read the
-- session and membership under it, clearing the tenant again without a
-- member) as plain SQL in the same pgx batch. Measured with pgbench, the
-- plpgsql function cost PostgreSQL about a quarter more than the two
-- statements (each statement inside it is run through SPI), and the
-- statements keep the same fail-closed order.

-- +goose Up
DROP FUNCTION enter_tenant(text, bytea, boolean);

-- +goose Down
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
