"""Raw OOXML: the zip guard, sheet-XML scans, in-place patching, styles, value reads and safe writes."""
