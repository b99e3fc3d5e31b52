-- ADQL's ORDER BY ... DESC sorts NULLs last (src/adql/compile/mod.rs, `direction`): a spectrum
-- without an anomaly score must not come before the scores a `TOP n ... ORDER BY anomaly_score
-- DESC` asks for. A backward scan of an ascending index gives DESC NULLS FIRST, so with the index
-- of 002 that query would sort the whole table; this one is in the order the query reads (and
-- still serves ranges on the score).
DROP INDEX dfbs.spectra_anomaly_score;
CREATE INDEX spectra_anomaly_score ON dfbs.spectra (anomaly_score DESC NULLS LAST);
