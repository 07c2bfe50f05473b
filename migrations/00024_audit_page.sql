-- The first page of an organization's audit log (its log page's and the
-- operator console's page of it) is kept in memory by each server
-- (entryCache.audit) instead of read on every view. Events are never
-- changed once written, so the page changes only when one is added: each
-- new event announces its organization's log as "a:<tenant>" on
-- atrium_entry. PostgreSQL delivers one notice per transaction for the
-- same payload, however many events it adds. The organization's purge
-- announces the organization itself (tenants_entry_delete).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION notify_audit_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_notify('atrium_entry', 'a:' || NEW.tenant_id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_recorded AFTER INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION notify_audit_event();

-- +goose Down
DROP TRIGGER audit_events_recorded ON audit_events;
DROP FUNCTION notify_audit_event();
