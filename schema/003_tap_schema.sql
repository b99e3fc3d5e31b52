-- TAP_SCHEMA 1.1 (TAP 1.1, section 4). Its rows are written by `dfbs-vo db migrate` from tap/,
-- never by hand.
CREATE SCHEMA tap_schema;

CREATE TABLE tap_schema.schemas (
  schema_name  text PRIMARY KEY,
  utype        text,
  description  text,
  schema_index integer
);

CREATE TABLE tap_schema.tables (
  schema_name  text NOT NULL REFERENCES tap_schema.schemas (schema_name),
  table_name   text PRIMARY KEY,
  table_type   text NOT NULL CHECK (table_type IN ('table', 'view')),
  utype        text,
  description  text,
  table_index  integer
);

CREATE TABLE tap_schema.columns (
  table_name   text NOT NULL REFERENCES tap_schema.tables (table_name),
  column_name  text NOT NULL,
  utype        text,
  ucd          text,
  unit         text,
  description  text,
  datatype     text NOT NULL,
  arraysize    text,
  xtype        text,
  "size"       integer,
  principal    integer NOT NULL,
  indexed      integer NOT NULL,
  std          integer NOT NULL,
  column_index integer,
  PRIMARY KEY (table_name, column_name)
);

CREATE TABLE tap_schema.keys (
  key_id       text PRIMARY KEY,
  from_table   text NOT NULL REFERENCES tap_schema.tables (table_name),
  target_table text NOT NULL REFERENCES tap_schema.tables (table_name),
  utype        text,
  description  text
);

CREATE TABLE tap_schema.key_columns (
  key_id        text NOT NULL REFERENCES tap_schema.keys (key_id),
  from_column   text NOT NULL,
  target_column text NOT NULL
);
