-- audit_events is each organization's append-only record of who did what:
-- members, invites, roles, settings, sessions and, later, SSO and billing.
-- The app role may insert and read it (under the tenant's policy) but never
-- update or delete it; rows go only when their organization is purged.

-- +goose Up
CREATE TABLE audit_events (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_kind   text        NOT NULL CHECK (actor_kind IN ('user', 'operator', 'system')),
    actor_id     uuid,
    actor_email  text        NOT NULL DEFAULT '',
    action       text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_type  text        NOT NULL DEFAULT '',
    target_id    text        NOT NULL DEFAULT '',
    target_label text        NOT NULL DEFAULT '',
    ip           inet,
    user_agent   text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    details      jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
-- Newest first, filtered by action or actor, within one tenant.
CREATE INDEX audit_events_action_idx ON audit_events (tenant_id, action, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_email, id DESC);
CREATE INDEX audit_events_time_idx ON audit_events (tenant_id, occurred_at DESC);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));

GRANT SELECT, INSERT ON audit_events TO atrium_app;

-- +goose Down
DROP TABLE audit_events;
