-- The members page lists an organization's open invitations. To keep that
-- list in memory per organization (orgKept) instead of reading it on every
-- view, a new invitation must announce its organization too: until now
-- only updates and deletes did (00022), since a new invitation's own link
-- could not have been read yet.

-- +goose Up
DROP TRIGGER invites_entry_change ON invites;
CREATE TRIGGER invites_entry_change AFTER INSERT OR UPDATE OR DELETE ON invites
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();

-- +goose Down
DROP TRIGGER invites_entry_change ON invites;
CREATE TRIGGER invites_entry_change AFTER UPDATE OR DELETE ON invites
    FOR EACH ROW EXECUTE FUNCTION notify_entry_change();
