-- Who may use wsusfix, their sessions, what they did, and stored settings.
-- Times are INTEGER unix milliseconds (UTC).

CREATE TABLE users (
	id                  INTEGER PRIMARY KEY,
	name                TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	-- Ranked: admin can do all an operator can, an operator all a viewer can.
	role                TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
	password_hash       TEXT    NOT NULL, -- argon2id, PHC string format
	disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	-- Sessions remember the epoch they began in; bumping it (password reset,
	-- disabling) ends every session of the user at its next request.
	session_epoch       INTEGER NOT NULL DEFAULT 1,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL,
	last_login_at       INTEGER
);

-- Server-side sessions (the scs store contract). token is the SHA-256 of
-- the cookie value, so a copy of the database holds no usable session.
CREATE TABLE sessions (
	token  TEXT    PRIMARY KEY,
	data   BLOB    NOT NULL,
	expiry INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_expiry ON sessions (expiry);

-- What people did, and whether it worked. Never passwords, tokens or
-- remote output.
CREATE TABLE audit_log (
	id         INTEGER PRIMARY KEY,
	at         INTEGER NOT NULL,
	actor      TEXT    NOT NULL, -- user name; '' when nobody is signed in; 'cli:<os user>' for commands
	client     TEXT    NOT NULL DEFAULT '', -- client IP address, or 'local' for commands
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL DEFAULT '',
	outcome    TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'denied', 'error')),
	detail     TEXT    NOT NULL DEFAULT '',
	request_id TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at     ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor  ON audit_log (actor, at DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC);

-- Append-only from the application's side: no code path can rewrite history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Settings entered on the admin pages. Secret values hold ciphertext
-- (v1:<key id>:<base64>) bound to their row and column.
CREATE TABLE settings (
	name       TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	updated_by TEXT    NOT NULL
) WITHOUT ROWID;
