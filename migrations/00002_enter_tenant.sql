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

-- +goose Up
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

-- +goose Down
DROP FUNCTION enter_tenant(text, bytea, boolean);
