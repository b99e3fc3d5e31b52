-- Subclasses (issue 7: sdB/sdO/sdA, C-H/C-R/C-N, starburst/AGN Markarian, ... "if they hold
-- up"): the subclass model (models/dfbs-subclass.onnx, training/train_subclass.py) gives each
-- labelled spectrum the most probable subclass within its class, for the classes whose
-- subclasses held up on the validation plates (models/README.md). NULL: no class label, a class
-- without published subclasses, or no subclass model.
ALTER TABLE dfbs.spectra
  ADD COLUMN subclass text,
  ADD COLUMN subclass_prob real CHECK (subclass_prob BETWEEN 0 AND 1);
