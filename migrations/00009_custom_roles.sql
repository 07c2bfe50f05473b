-- Custom roles: an organization's owners name their own sets of
-- permissions. A membership holds either a built-in role or, with role
-- 'custom', a reference to one of its organization's custom roles; the
-- composite foreign key keeps that reference inside the tenant.
-- enter_tenant now also returns a custom role's permissions, so a request
-- knows what its member may do in the same round trip.

-- +goose Up
CREATE TABLE roles (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    permissions text[]      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name_key ON roles (tenant_id, lower(name));

ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON roles
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE, DELETE ON roles TO atrium_app;

ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD COLUMN custom_role_id uuid;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check
    CHECK (role IN ('owner', 'admin', 'billing', 'member', 'viewer', 'custom'));
ALTER TABLE memberships ADD CONSTRAINT memberships_custom_role_check
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL));
ALTER TABLE memberships ADD CONSTRAINT memberships_custom_role_fkey
    FOREIGN KEY (tenant_id, custom_role_id) REFERENCES roles (tenant_id, id) ON DELETE RESTRICT;
CREATE INDEX memberships_custom_role_idx ON memberships (tenant_id, custom_role_id) WHERE custom_role_id IS NOT NULL;

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

-- +goose Down
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
ALTER TABLE memberships DROP CONSTRAINT memberships_custom_role_fkey;
ALTER TABLE memberships DROP CONSTRAINT memberships_custom_role_check;
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships DROP COLUMN custom_role_id;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check
    CHECK (role IN ('owner', 'admin', 'billing', 'member', 'viewer'));
DROP TABLE roles;
