-- The DFBS catalogue: plates and the spectra extracted from them. Column names follow GAVO's
-- dfbsspec/dfbsplates where they mean the same; tap/dfbs.toml describes every published column.
CREATE SCHEMA dfbs;

CREATE TABLE dfbs.plates (
  plateid          text PRIMARY KEY,
  epoch            double precision,
  date_obs         timestamp,
  exptime          real,
  emulsion         text,
  ra_center        double precision CHECK (ra_center >= 0 AND ra_center < 360),
  dec_center       double precision CHECK (dec_center BETWEEN -90 AND 90),
  field_name       text,
  plate_number     text,
  wfpdb_id         text,
  naxis1           integer,
  naxis2           integer,
  wcs_header       text NOT NULL DEFAULT '',
  source_file      text,                       -- not published: a path on the ingesting machine
  checksum         text,
  n_spectra        integer NOT NULL DEFAULT 0,
  pipeline_version text,
  ingest_params    jsonb NOT NULL DEFAULT '{}',
  ingested_at      timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX plates_q3c ON dfbs.plates (q3c_ang2ipix(ra_center, dec_center));

CREATE TABLE dfbs.spectra (
  specid             text PRIMARY KEY,
  objectid           text NOT NULL,
  plate              text NOT NULL REFERENCES dfbs.plates (plateid) ON DELETE CASCADE,
  ra                 double precision NOT NULL CHECK (ra >= 0 AND ra < 360),
  dec                double precision NOT NULL CHECK (dec BETWEEN -90 AND 90),
  magb               real,
  magr               real,
  snr                real,
  sky                real,
  px_x               real,
  px_y               real,
  pos_ang            real,
  px_length          smallint,
  sp_class           text CHECK (sp_class IN ('OK', 'NL', 'U')),
  lam_min            double precision,
  lam_max            double precision,
  flux               real[] CHECK (flux IS NULL OR cardinality(flux) = 136),
  class_label        text CHECK (class_label IN ('star', 'm_star', 'carbon', 'hot_subdwarf',
                       'white_dwarf', 'cv', 'pn', 'uvx_galaxy', 'seyfert', 'qso')),
  class_prob         real CHECK (class_prob BETWEEN 0 AND 1),
  prob_star          real,
  prob_mstar         real,
  prob_carbon        real,
  prob_sd            real,
  prob_wd            real,
  prob_cv            real,
  prob_pn            real,
  prob_uvx           real,
  prob_sy            real,
  prob_qso           real,
  classifier         text,
  classifier_version text,
  anomaly_score      real,
  pipeline_version   text
);
-- Positional queries (ADQL CONTAINS/DISTANCE) go through q3c on this index.
CREATE INDEX spectra_q3c ON dfbs.spectra (q3c_ang2ipix(ra, dec));
CREATE INDEX spectra_plate ON dfbs.spectra (plate);
CREATE INDEX spectra_objectid ON dfbs.spectra (objectid);
CREATE INDEX spectra_class_label ON dfbs.spectra (class_label);
CREATE INDEX spectra_anomaly_score ON dfbs.spectra (anomaly_score);

GRANT USAGE ON SCHEMA dfbs TO dfbs_ingest;
GRANT SELECT, INSERT, UPDATE, DELETE ON dfbs.plates, dfbs.spectra TO dfbs_ingest;
