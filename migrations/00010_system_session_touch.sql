-- system_sessions learn when they were last written, so that an unmodified
-- console session is rewritten (to push back its idle timeout) at most once
-- a minute instead of on every request, as tenant sessions already are.

-- +goose Up
ALTER TABLE system_sessions ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- +goose Down
ALTER TABLE system_sessions DROP COLUMN updated_at;
