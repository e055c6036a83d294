-- pgbench script for the PostgreSQL ceiling (bench W9, "ceiling P"): one single-row INSERT per
-- transaction (autocommit), the PostgreSQL analogue of ceiling B at 1 row/txn: a random UUID key
-- under a UNIQUE index and a studentSchoolAssociation-like JSON text body (~330 bytes).
-- Table (created by bench/run.sh): pgb_doc(id bigserial PRIMARY KEY, key uuid NOT NULL UNIQUE, body text NOT NULL)
\set s random(0, 49999)
\set e random(1, 2000000000)
INSERT INTO pgb_doc(key, body) VALUES (gen_random_uuid(), '{"id":"' || md5(:e::text) || '","studentReference":{"studentUniqueId":"P' || :s || '"},"schoolReference":{"schoolId":255901001},"entryDate":"2021-08-23","entryGradeLevelDescriptor":"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade","_etag":"' || :e || '","_lastModifiedDate":"2026-01-01T00:00:00Z"}');
