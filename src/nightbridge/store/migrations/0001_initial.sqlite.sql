-- nightbridge schema version 1 (SQLite). Frozen once released: change the schema in a new file.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    identifier TEXT NOT NULL,
    date BIGINT,
    natural_key TEXT,
    device TEXT,
    type TEXT,
    event_type TEXT,
    created_at TEXT,
    srv_created BIGINT NOT NULL,
    srv_modified BIGINT NOT NULL,
    is_valid BOOLEAN NOT NULL DEFAULT 1,
    assigned_identifier BOOLEAN NOT NULL DEFAULT 0,
    digest TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX documents_identifier ON documents (collection, identifier);
CREATE INDEX documents_date ON documents (collection, date);
CREATE INDEX documents_natural_key ON documents (collection, natural_key);
CREATE INDEX documents_srv_modified ON documents (collection, srv_modified);
CREATE INDEX documents_created_at ON documents (collection, created_at) WHERE created_at IS NOT NULL;
CREATE TABLE cursors (
    account TEXT NOT NULL,
    output TEXT NOT NULL,
    position_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (account, output)
);
CREATE TABLE pending (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    output TEXT NOT NULL,
    collection TEXT NOT NULL,
    docs TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX pending_account_output ON pending (account, output, id);
CREATE TABLE connector_status (
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    last_success_ms BIGINT,
    last_error_ms BIGINT,
    last_error_family TEXT,
    last_error_message TEXT,
    next_poll_ms BIGINT,
    newest_ms BIGINT,
    PRIMARY KEY (account, source)
);
CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    permissions TEXT NOT NULL,
    notes TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    access_token TEXT NOT NULL UNIQUE,
    notes TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
