-- Bulk host writes and the name search index.
--
-- The index keeps no per-document column sizes (columnsize=0): only
-- FTS5's ranking functions read them, the search never ranks, and keeping
-- them cost one more row written for every host inserted. It is rebuilt
-- from hosts.
--
-- New hosts enter the index from UpsertHosts, the only code that inserts
-- hosts, in one statement per transaction, instead of from a trigger row by
-- row: FTS5 flushes what it holds at every statement that writes to it, so
-- the trigger made it write and merge a segment for every few hundred
-- hosts, most of an import's time. Renames and deletes keep their triggers
-- (0001), which name the table and so write to the new one.
DROP TABLE hosts_search;
CREATE VIRTUAL TABLE hosts_search USING fts5 (name, content = 'hosts', content_rowid = 'id', tokenize = 'trigram',
	columnsize = 0);
INSERT INTO hosts_search (hosts_search) VALUES ('rebuild');
DROP TRIGGER hosts_search_insert;
