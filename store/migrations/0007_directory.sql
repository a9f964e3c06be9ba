-- Directory sign-in (issue 17): people from Active Directory or LDAP get a
-- row in users, so sessions, the audit log and runs name them like anyone
-- else. Their role is the directory's (set at each sign-in), and they have
-- no password here.
--
-- A directory user is stored as "dir:<account name>". Local names cannot
-- hold a colon (ValidateUserName), so a directory "alice" and a local
-- "alice" are two rows that can never be confused, and every record that
-- names a user (audit actor, run requested_by) shows which one it was.
-- The triggers make the database itself hold to this, whatever the code.
-- Self-contained: it touches only users.

ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'directory'));
-- The entry's DN at the last sign-in, for the admin page and the log.
ALTER TABLE users ADD COLUMN directory_dn TEXT NOT NULL DEFAULT '';

CREATE TRIGGER users_source_name_insert BEFORE INSERT ON users
WHEN (NEW.source = 'directory') <> (substr(NEW.name, 1, 4) = 'dir:') OR (NEW.source = 'local' AND instr(NEW.name, ':') > 0)
BEGIN
	SELECT RAISE(ABORT, 'a directory user is named dir:<account>, and a local user holds no colon');
END;

CREATE TRIGGER users_source_name_update BEFORE UPDATE OF name, source ON users
WHEN (NEW.source = 'directory') <> (substr(NEW.name, 1, 4) = 'dir:') OR (NEW.source = 'local' AND instr(NEW.name, ':') > 0)
BEGIN
	SELECT RAISE(ABORT, 'a directory user is named dir:<account>, and a local user holds no colon');
END;
