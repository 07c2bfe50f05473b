-- Each server keeps, beside the entries, reads of an organization as a
-- whole (store's orgKept): its row as visitors find it by slug, its join
-- link, its custom roles with their member counts, members read by id,
-- invitations read by their link's token, and a member's own sessions. The
-- pages that show nothing else from the database are then served, when
-- viewed again, without a round trip, like the security settings.
--
-- That holds only if every change of what is kept announces the
-- organization on atrium_entry. Memberships already do (their own trigger
-- for updates and deletes, the tenant row's member count for inserts and
-- deletes). Roles announced updates and deletes but not a new role; join
-- links and invitations nothing. Roles and join links now announce every
-- insert, update and delete; invitations every update (accepted, revoked,
-- renewed with a new token) and delete: an invitation is kept only once
-- read by its token, which a new one's nobody has read yet. The names
-- shown of who invited someone or last changed the join link are copies
-- too: renaming a member announces each of their organizations already
-- (their memberships' copies change, migration 00017); someone who has
-- since left is shown as they were for at most the cache's maximum age.
--
-- Each server also keeps, per user, the list of their organizations (the
-- organization switcher's). It goes with a notice of any organization in
-- it; an organization the user joins is not in it yet, so a new membership
-- now announces its user ("u:") too.
--
-- A member's list of their sessions in an organization (their account's
-- sessions page) is kept too. A session rewritten or deleted announces
-- itself already ("s:", migration 00012); a session that becomes a user's
-- (a login's new session, or one given a user) now announces the user's
-- list in that organization ("l:<organization>:<user>").
--
-- The console's pages of the outbox are kept as well: any change to the
-- outbox announces it ("x:outbox"), once per statement.
--
-- notify_entry_change took the organization from OLD, since it ran only
-- after updates and deletes; it now takes it from whichever row there is.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_entry_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'tenants'   THEN PERFORM pg_notify('atrium_entry', 't:' || OLD.id::text);
    WHEN 'users'     THEN PERFORM pg_notify('atrium_entry', 'u:' || OLD.id::text);
    WHEN 'operators' THEN PERFORM pg_notify('atrium_entry', 'o:' || OLD.id::text);
    -- memberships, roles, tenant_join_links
    ELSE                  PERFORM pg_notify('atrium_entry', 't:' || coalesce(OLD.tenant_id, NEW.tenant_id)::text);
    END CASE;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER roles_entry_change ON roles;
CREATE TRIGGER roles_entry_change AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER tenant_join_links_entry_change AFTER INSERT OR UPDATE OR DELETE ON tenant_join_links
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER invites_entry_change AFTER UPDATE OR DELETE ON invites
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();

-- +goose StatementBegin
CREATE FUNCTION notify_member_joined() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_notify('atrium_entry', 'u:' || NEW.user_id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER memberships_user_joined AFTER INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION notify_member_joined();

-- +goose StatementBegin
CREATE FUNCTION notify_session_listed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_notify('atrium_entry', 'l:' || NEW.tenant_id::text || ':' || NEW.user_id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sessions_listed_insert AFTER INSERT ON sessions
    FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION notify_session_listed();
CREATE TRIGGER sessions_listed_update AFTER UPDATE OF user_id ON sessions
    FOR EACH ROW WHEN (NEW.user_id IS NOT NULL AND OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION notify_session_listed();

-- +goose StatementBegin
CREATE FUNCTION notify_outbox_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_notify('atrium_entry', 'x:outbox');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER outbox_entry_change AFTER INSERT OR UPDATE OR DELETE ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_change();

-- +goose Down
DROP TRIGGER outbox_entry_change ON outbox;
DROP FUNCTION notify_outbox_change();
DROP TRIGGER sessions_listed_update ON sessions;
DROP TRIGGER sessions_listed_insert ON sessions;
DROP FUNCTION notify_session_listed();
DROP TRIGGER memberships_user_joined ON memberships;
DROP FUNCTION notify_member_joined();
DROP TRIGGER invites_entry_change ON invites;
DROP TRIGGER tenant_join_links_entry_change ON tenant_join_links;
DROP TRIGGER roles_entry_change ON roles;
CREATE TRIGGER roles_entry_change AFTER UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_entry_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'tenants'   THEN PERFORM pg_notify('atrium_entry', 't:' || OLD.id::text);
    WHEN 'users'     THEN PERFORM pg_notify('atrium_entry', 'u:' || OLD.id::text);
    WHEN 'operators' THEN PERFORM pg_notify('atrium_entry', 'o:' || OLD.id::text);
    ELSE                  PERFORM pg_notify('atrium_entry', 't:' || OLD.tenant_id::text); -- memberships, roles
    END CASE;
    RETURN NULL;
END $$;
-- +goose StatementEnd
