-- The photometric calibration of a plate against a reference catalogue (pipeline/photometry.rs):
-- the plate's 50 % completeness limit in B, the reference pairs the calibration curve was
-- fitted to, and the curve's robust scatter. NULL: no reference catalogue (magb instrumental).
ALTER TABLE dfbs.plates
  ADD COLUMN magb_limit real CHECK (magb_limit BETWEEN -2 AND 30),
  ADD COLUMN magb_calib_pairs integer CHECK (magb_calib_pairs >= 0),
  ADD COLUMN magb_calib_rms real CHECK (magb_calib_rms >= 0);
