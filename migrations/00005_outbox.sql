-- outbox keeps the emails of an installation without SMTP_URL (a dev setup):
-- invitations and reset links land here and the operator console shows them.
-- It is system-wide, like operators: no tenant_id, so no RLS policy, and only
-- the console reads it. The app role may add and read messages, never change
-- or delete them.

-- +goose Up
CREATE TABLE outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    to_email   text        NOT NULL CHECK (length(to_email) BETWEEN 3 AND 254),
    subject    text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 100000)
);

GRANT SELECT, INSERT ON outbox TO atrium_app;

-- +goose Down
DROP TABLE outbox;
