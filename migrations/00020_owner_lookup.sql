-- Locking an organization's owners reads its owners only.
--
-- Every change to an organization's members (a role changed, a member
-- removed, ownership handed over, an invitation sent, renewed or revoked)
-- first locks its owners' memberships (store's LockOwners), so that two
-- concurrent demotions cannot both see another owner remain. Without an
-- index of owners, that read every member of the organization and kept the
-- owners: in an organization of 10,000 members, 10,000 rows for one owner,
-- 3.6 ms. This partial index holds the owners alone, under the tenant's
-- key, in the order they are locked: 0.1 ms. TestLockOwnersReadsOwners
-- holds LockOwners to it.
--
-- Upgrading builds the index, with writes to memberships blocked: 0.1 s for
-- a million memberships on the benchmark machine.

-- +goose Up
CREATE INDEX memberships_owners_idx ON memberships (tenant_id, id) WHERE role = 'owner';

-- +goose Down
DROP INDEX memberships_owners_idx;
