-- A console session names its operator in a column, copied from the
-- session data on every save (as tenant sessions do with their user), so
-- that one query reads the session and its operator together, and removing
-- an operator removes their sessions with them.
--
-- Sessions saved before this migration have no operator in the column;
-- they are deleted, and operators signed in at the time sign in again.

-- +goose Up
DELETE FROM system_sessions WHERE namespace = 'console';
ALTER TABLE system_sessions ADD COLUMN operator_id uuid REFERENCES operators (id) ON DELETE CASCADE;
CREATE INDEX system_sessions_operator_idx ON system_sessions (operator_id) WHERE operator_id IS NOT NULL;

-- +goose Down
ALTER TABLE system_sessions DROP COLUMN operator_id;
