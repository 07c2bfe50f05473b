-- Servers keep a signed-in operator's console entry (the session and the
-- operator) in memory too, beside the members' entries, so that a console
-- page view asks the database for its own reads only. As for the members'
-- (migration 00012), whatever could change such an entry announces itself
-- on atrium_entry when its transaction commits:
--   s:<token hash, hex>  a console session was rewritten or deleted
--                        (removing an operator deletes their sessions)
--   o:<operator id>      an operator's name or email changed, or they went
-- Servers that predate this migration do not know "o:" and drop everything
-- on it, which is safe.

-- +goose Up
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

CREATE TRIGGER system_sessions_entry_update AFTER UPDATE ON system_sessions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER system_sessions_entry_delete AFTER DELETE ON system_sessions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER operators_entry_change AFTER UPDATE ON operators FOR EACH ROW
    WHEN ((OLD.email, OLD.name) IS DISTINCT FROM (NEW.email, NEW.name))
    EXECUTE FUNCTION notify_entry_change();
CREATE TRIGGER operators_entry_delete AFTER DELETE ON operators FOR EACH ROW
    EXECUTE FUNCTION notify_entry_change();

-- +goose Down
DROP TRIGGER operators_entry_delete ON operators;
DROP TRIGGER operators_entry_change ON operators;
DROP TRIGGER system_sessions_entry_delete ON system_sessions;
DROP TRIGGER system_sessions_entry_update ON system_sessions;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_entry_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'tenants' THEN PERFORM pg_notify('atrium_entry', 't:' || OLD.id::text);
    WHEN 'users'   THEN PERFORM pg_notify('atrium_entry', 'u:' || OLD.id::text);
    ELSE                PERFORM pg_notify('atrium_entry', 't:' || OLD.tenant_id::text); -- memberships, roles
    END CASE;
    RETURN NULL;
END $$;
-- +goose StatementEnd
