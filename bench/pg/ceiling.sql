-- Tables of the PostgreSQL ceilings (bench W9), created in a database of their own
-- (bench_ceiling) on the same PostgreSQL server edhub uses, and dropped after the ceilings.
--
-- pgb_doc: target of the pgbench single-row INSERT script (bench/pg/insert.sql).
CREATE TABLE pgb_doc(id bigserial PRIMARY KEY, key uuid NOT NULL UNIQUE, body text NOT NULL);
-- copy_ceiling: target of COPY of the same attendance events edhub bulk-loads (W8). Plain,
-- logged table: the identity of a studentSchoolAttendanceEvent as typed columns under the
-- primary key (a B-tree, so COPY pays for one index, as edhub pays for its identity index),
-- and the document as text (edhub stores bodies as text too). No other index.
CREATE TABLE copy_ceiling(
  student_unique_id text NOT NULL,
  school_id integer NOT NULL,
  school_year integer NOT NULL,
  session_name text NOT NULL,
  category text NOT NULL,
  event_date date NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (student_unique_id, school_id, school_year, session_name, category, event_date));
