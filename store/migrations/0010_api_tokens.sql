-- API tokens: a signed-in user makes them for scripts (PowerShell's
-- Invoke-RestMethod, curl). Only a SHA-256 of the secret is kept: the
-- secret is 256 random bits, so a fast hash is enough and a stolen
-- database holds nothing to present. A token's role is at most its
-- user's, and is read against the user's again at every use.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	hash         BLOB    NOT NULL UNIQUE,
	role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER,
	UNIQUE (user_id, name)
);
