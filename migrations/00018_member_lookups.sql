-- Finding one member reads one index entry again, in an organization of any
-- size.
--
-- Migration 00017's directory index carried every column the member list
-- shows, user_id included, so that a page of the list is an index-only
-- scan. That made it the planner's choice for finding one member too: by
-- id (a member's page), by user (enter_tenant, for every entry the cache
-- does not hold, such as each step of a login) or by email. The planner
-- reckons an organization at the average size, a few members, and would
-- rather read a few index entries than one entry and its row; in an
-- organization of 10,000 members each such lookup read all 10,000 entries.
-- Measured with pgbench on 1,000 tenants plus one of 10,000 members:
-- enter_tenant for a member of the large one ran 2,100 times a second, and
-- 31,000 with this index (as for a member of a small one).
--
-- The list does not need user_id (a viewer's own row is told by the
-- membership's id), so the index leaves it out. Every lookup of one member
-- reads user_id, so this index alone cannot answer it: it goes through its
-- key (memberships_pkey, memberships_tenant_user_key or
-- memberships_user_id_idx) and one row. TestMemberLookups holds the index
-- to it.
--
-- Upgrading rebuilds the index, with writes to memberships blocked: 1.3 s
-- for a million memberships on the benchmark machine (193 MB before, 124 MB
-- after).

-- +goose Up
DROP INDEX memberships_directory_idx;
CREATE INDEX memberships_directory_idx ON memberships (tenant_id, name, email, id)
    INCLUDE (role, created_at, custom_role_id, mfa_enabled);

-- +goose Down
DROP INDEX memberships_directory_idx;
CREATE INDEX memberships_directory_idx ON memberships (tenant_id, name, email, id)
    INCLUDE (user_id, role, created_at, custom_role_id, mfa_enabled);
