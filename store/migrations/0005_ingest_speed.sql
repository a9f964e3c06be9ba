-- The host name search keeps no per-document column sizes (columnsize=0):
-- only FTS5's ranking functions read them, the search never ranks, and
-- keeping them cost one more row written for every host inserted. The
-- index is rebuilt from hosts; its triggers (0001) name the table, so they
-- write to the new one.
DROP TABLE hosts_search;
CREATE VIRTUAL TABLE hosts_search USING fts5 (name, content = 'hosts', content_rowid = 'id', tokenize = 'trigram',
	columnsize = 0);
INSERT INTO hosts_search (hosts_search) VALUES ('rebuild');
