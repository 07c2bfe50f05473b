-- Each membership carries a copy of its user's name and email, and whether
-- they have two-factor authentication on, so that an organization's member
-- list is read from its own rows, in order, from one index: the first 50
-- members by name are the first 50 entries of memberships_directory_idx
-- under the tenant's key, whatever the number of users of every other
-- organization. Before, the list joined the global users table and fetched
-- each member's user by key: a cost that grew with the users of all tenants
-- (three index levels and scattered leaves at a million users, two at a
-- thousand), and a sort of the whole membership. The security settings'
-- count of members without two-factor authentication looked up every
-- member's user the same way.
--
-- The copies are the database's to keep, never the server's:
--   - a membership gets its user's name, email and two-factor state when it
--     is inserted (memberships_profile_fill, whatever the INSERT said);
--   - a user's new name, email or two-factor state is written to all their
--     memberships in the same transaction (users_profile_copy, as the
--     owner, who may update memberships of every tenant for that one job);
--   - the server's role may write none of the copies: it inserts and
--     updates memberships by column grant.
-- A copy rewritten by a change to the user announces "t:" for each of the
-- user's organizations on atrium_entry (memberships_entry_change), besides
-- the user's own "u:"; such changes are rare and a dropped entry is read
-- again, so that stays.
--
-- Upgrading a populated database rewrites every membership in this one
-- transaction, with memberships locked: 32 s for a million on the benchmark
-- machine.

-- +goose Up
ALTER TABLE memberships ADD COLUMN name text, ADD COLUMN email text, ADD COLUMN mfa_enabled boolean;

-- The owner may update memberships across tenants, as it may read them
-- (owner_directory), for users_profile_copy; the server's role never gets
-- this.
CREATE POLICY owner_profile_copy ON memberships FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true);

UPDATE memberships m SET name = u.name, email = u.email, mfa_enabled = u.mfa_enabled_at IS NOT NULL
FROM users u WHERE u.id = m.user_id;
ALTER TABLE memberships ALTER COLUMN name SET NOT NULL, ALTER COLUMN email SET NOT NULL,
    ALTER COLUMN mfa_enabled SET NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION memberships_profile_fill() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT u.name, u.email, u.mfa_enabled_at IS NOT NULL INTO NEW.name, NEW.email, NEW.mfa_enabled
    FROM users u WHERE u.id = NEW.user_id;
    RETURN NEW;
END $$;

CREATE FUNCTION users_profile_copy() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE memberships SET name = NEW.name, email = NEW.email, mfa_enabled = NEW.mfa_enabled_at IS NOT NULL
    WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION users_profile_copy() FROM PUBLIC;

CREATE TRIGGER memberships_profile_fill BEFORE INSERT OR UPDATE OF user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_profile_fill();
CREATE TRIGGER users_profile_copy AFTER UPDATE OF name, email, mfa_enabled_at ON users FOR EACH ROW
    WHEN ((OLD.name, OLD.email, OLD.mfa_enabled_at IS NULL) IS DISTINCT FROM
          (NEW.name, NEW.email, NEW.mfa_enabled_at IS NULL))
    EXECUTE FUNCTION users_profile_copy();

-- The member list's order, with every column it shows, so a page of it is
-- an index-only scan that stops after the page (and so is the count of
-- members without two-factor authentication).
CREATE INDEX memberships_directory_idx ON memberships (tenant_id, name, email, id)
    INCLUDE (user_id, role, created_at, custom_role_id, mfa_enabled);

REVOKE INSERT, UPDATE ON memberships FROM atrium_app;
GRANT INSERT (tenant_id, id, user_id, role, custom_role_id, created_at) ON memberships TO atrium_app;
GRANT UPDATE (role, custom_role_id) ON memberships TO atrium_app;

-- +goose Down
REVOKE INSERT, UPDATE ON memberships FROM atrium_app;
GRANT INSERT, UPDATE ON memberships TO atrium_app;
DROP INDEX memberships_directory_idx;
DROP TRIGGER users_profile_copy ON users;
DROP TRIGGER memberships_profile_fill ON memberships;
DROP FUNCTION users_profile_copy(), memberships_profile_fill();
DROP POLICY owner_profile_copy ON memberships;
ALTER TABLE memberships DROP COLUMN name, DROP COLUMN email, DROP COLUMN mfa_enabled;
